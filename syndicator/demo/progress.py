"""What the demo shows while deliveries move: a bar per destination with its states, and the
final table of every tender x destination."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import func, select

from syndicator.cli.format import STATE_STYLE, one_line
from syndicator.domain.states import State
from syndicator.runtime.wiring import Store
from syndicator.store.models import DeliveryRow, TenderRow

SETTLED = {State.PUBLISHED, State.FAILED, State.NEEDS_RECONCILE, State.CANCELLED}
ORDER = ["published", "submitted", "sending", "pending", "retry_wait", "held", "failed", "needs_reconcile"]


def counts(store: Store) -> dict[str, Counter[str]]:
    """Deliveries per destination and state."""
    query = select(DeliveryRow.destination, DeliveryRow.state, func.count()).group_by(
        DeliveryRow.destination, DeliveryRow.state
    )
    found: dict[str, Counter[str]] = {}
    with store.sessions() as session:
        for destination, state, n in session.execute(query):
            found.setdefault(destination, Counter())[state] = n
    return found


def settled(snapshot: dict[str, Counter[str]]) -> bool:
    """Every delivery is published, failed, waiting for reconciliation or cancelled."""
    return all(state in SETTLED for states in snapshot.values() for state in states)


def _summary(states: Counter[str]) -> str:
    parts = [
        f"[{STATE_STYLE.get(s, 'white')}]{states[s]} {s.replace('_', ' ')}[/]" for s in ORDER if states[s]
    ]
    return "  ".join(parts)


def watch(
    store: Store, console: Console, until: Callable[[dict[str, Counter[str]]], bool], timeout: float
) -> bool:
    """Live bars until `until(snapshot)` holds; False on time-out."""
    progress = Progress(
        TextColumn("{task.fields[name]:<38}"),
        BarColumn(bar_width=30),
        TextColumn("{task.completed:>3}/{task.total:<3}"),
        TextColumn("{task.fields[summary]}"),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}
    deadline = time.monotonic() + timeout
    with progress:
        while True:
            snapshot = counts(store)
            for destination in sorted(snapshot):
                states = snapshot[destination]
                done = sum(n for s, n in states.items() if s in SETTLED)
                if destination not in tasks:
                    tasks[destination] = progress.add_task(
                        "", name=destination, summary="", total=sum(states.values())
                    )
                progress.update(
                    tasks[destination], completed=done, total=sum(states.values()), summary=_summary(states)
                )
            if snapshot and until(snapshot):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.4)


def final_table(store: Store) -> Table:
    """Every tender x destination with state, attempts and remote reference."""
    table = Table(header_style="bold", box=None, pad_edge=False, padding=(0, 2, 0, 0))
    for column in ("tender", "destination", "state", "tries", "remote reference / last error"):
        table.add_column(column, no_wrap=column != "remote reference / last error")
    query = (
        select(TenderRow.reference, DeliveryRow)
        .join(TenderRow, TenderRow.id == DeliveryRow.tender_id)
        .order_by(TenderRow.id, DeliveryRow.id)
    )
    with store.sessions() as session:
        rows = session.execute(query).all()
    for reference, delivery in rows:
        detail = delivery.remote_url or delivery.remote_id or ""
        if delivery.state in (State.FAILED, State.NEEDS_RECONCILE):
            detail = one_line(delivery.last_error, 80)
        detail = escape(detail)
        style = STATE_STYLE.get(delivery.state, "white")
        table.add_row(
            reference, delivery.destination, f"[{style}]{delivery.state}[/]", str(delivery.attempts), detail
        )
    return table
