"""The overview's counts by destination and state: kept by triggers in the transaction of each
change, so they always equal a count of the deliveries table, before and after folding."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select, update

from syndicator.config.settings import Config
from syndicator.domain.states import State
from syndicator.intake.records import read_bytes
from syndicator.intake.submit import submit
from syndicator.ops.queries import Filters, channel_health, deliveries
from syndicator.runtime.wiring import Store, tender_context
from syndicator.store import counts
from syndicator.store.models import DeliveryCountRow, DeliveryRow, TenderRow
from tests.unit.records_factory import valued

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def counted(store: Store) -> dict[str, dict[str, int]]:
    """What a full count of the deliveries table says."""
    found: dict[str, dict[str, int]] = {}
    with store.sessions() as session:
        query = select(DeliveryRow.destination, DeliveryRow.state, func.count()).group_by(
            DeliveryRow.destination, DeliveryRow.state
        )
        for destination, state, n in session.execute(query):
            found.setdefault(destination, {})[state] = n
    return found


def kept(store: Store) -> dict[str, dict[str, int]]:
    with store.sessions() as session:
        return counts.by_destination(session)


def submit_tenders(store: Store, config: Config, *references: str) -> None:
    records = [valued("380000", reference=reference) for reference in references]
    parsed, problems = read_bytes(json.dumps(records).encode(), tender_context(config, date(2026, 11, 26)))
    assert not problems, problems
    submit(store.sessions, parsed, config.policy, config.thresholds, "test", NOW, lambda ids: None)


def test_counts_follow_inserts_state_changes_and_deletes(store: Store, config: Config) -> None:
    submit_tenders(store, config, "CNT-1", "CNT-2", "CNT-3")
    assert kept(store) == counted(store) != {}
    with store.sessions.begin() as session:  # a bulk change, and one row changing twice
        session.execute(update(DeliveryRow).values(state=State.SENDING.value))
        first = session.scalar(select(func.min(DeliveryRow.id)))
        session.execute(
            update(DeliveryRow).where(DeliveryRow.id == first).values(state=State.PUBLISHED.value)
        )
        session.execute(update(DeliveryRow).values(attempts=DeliveryRow.attempts + 1))  # no state change
    assert kept(store) == counted(store)
    with store.sessions.begin() as session:
        counts.compact(session)
        assert session.scalar(select(func.count()).select_from(DeliveryCountRow)) == sum(
            len(states) for states in counted(store).values()
        )
    assert kept(store) == counted(store)
    with store.sessions.begin() as session:  # a tender's deliveries go with it (cascade)
        session.execute(delete(TenderRow).where(TenderRow.reference == "CNT-2"))
    assert kept(store) == counted(store)


def test_a_rolled_back_change_leaves_the_counts_as_they_were(store: Store, config: Config) -> None:
    submit_tenders(store, config, "CNT-9")
    before = kept(store)
    with store.sessions() as session:
        session.execute(update(DeliveryRow).values(state=State.FAILED.value))
        session.rollback()
    assert kept(store) == before == counted(store)


def test_the_overview_shows_the_kept_counts(store: Store, config: Config) -> None:
    submit_tenders(store, config, "CNT-5")
    with store.sessions.begin() as session:
        counts.compact(session)
    with store.sessions() as session:
        health = {h.destination: h for h in channel_health(session, [], NOW)}
    expected = counted(store)
    assert {name: h.counts for name, h in health.items() if h.counts} == expected
    for name, states in expected.items():
        backlog = sum(n for state, n in states.items() if state in ("held", "pending", "retry_wait"))
        assert health[name].backlog == backlog


def test_a_filtered_list_counts_and_pages_like_the_table(store: Store, config: Config) -> None:
    submit_tenders(store, config, "CNT-20", "CNT-21")
    with store.sessions.begin() as session:
        first = session.scalar(select(func.min(DeliveryRow.id)))
        session.execute(update(DeliveryRow).where(DeliveryRow.id == first).values(state=State.FAILED.value))
    with store.sessions() as session:
        for filters in (
            Filters(),
            Filters(state="held"),
            Filters(destination="trade-press"),  # a family: all its publications
            Filters(state="held", destination="crystal"),
            Filters(destination="nowhere"),
            Filters(state="failed", buyer="emscu"),
        ):
            page = deliveries(session, filters, size=3)
            rows = [
                row
                for row in session.scalars(select(DeliveryRow).order_by(DeliveryRow.id.desc()))
                if (not filters.state or row.state == filters.state)
                and (
                    not filters.destination
                    or row.destination == filters.destination
                    or row.destination.startswith(f"{filters.destination}:")
                )
                and (not filters.buyer or row.buyer == filters.buyer)
            ]
            assert [item.id for item in page.items] == [row.id for row in rows[:3]], filters
            assert page.total == len(rows), filters
