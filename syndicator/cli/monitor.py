"""Watching deliveries: `status`, `show`, `channels`, `audit`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from syndicator.cli.common import EXIT_FAILED, fail, out, print_json
from syndicator.cli.format import age, one_line, parse_since, stamp, state_text, until
from syndicator.cli.limits import LimitOpt, PageOpt
from syndicator.cli.terminal import line, styled
from syndicator.config.settings import Config, Settings
from syndicator.domain.clock import utcnow
from syndicator.domain.states import State
from syndicator.ops.detail import tender_detail
from syndicator.ops.queries import Filters, audit, channel_health, deliveries, find_tender
from syndicator.runtime.wiring import Store, load, open_store

StateOpt = Annotated[str | None, typer.Option("--state", help="Only this state (e.g. failed).")]
DestOpt = Annotated[
    str | None,
    typer.Option("--destination", help="Only this destination; 'trade-press' matches every publication."),
]
BuyerOpt = Annotated[str | None, typer.Option("--buyer", help="Only this buyer id.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Created since: 2h, 3d, or an ISO date.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def opened() -> tuple[Settings, Config, Store]:
    """Settings, configuration and the store (schema created on an empty database)."""
    settings, config = load()
    return settings, config, open_store(settings, auto_upgrade="empty")


def filters_from(
    state: str | None,
    destination: str | None,
    buyer: str | None,
    since: str | None,
    search: str | None = None,
) -> Filters:
    """Command-line options to query filters, refusing nonsense with a clear message."""
    if state and state not in {s.value for s in State}:
        fail(f"--state {state!r} is not a state; states: {', '.join(s.value for s in State)}", 2)
    try:
        when = parse_since(since, utcnow()) if since else None
    except ValueError as exc:
        fail(f"--since: {exc}", 2)
    return Filters(state=state, destination=destination, buyer=buyer, since=when, search=search)


def status(
    state: StateOpt = None,
    destination: DestOpt = None,
    buyer: BuyerOpt = None,
    since: SinceOpt = None,
    search: Annotated[str | None, typer.Option("--search", help="Part of a reference or title.")] = None,
    limit: LimitOpt = 50,
    page: PageOpt = 1,
    as_json: AsJson = False,
) -> None:
    """Every tender x destination with state, attempts, last error and remote reference."""
    _, _, store = opened()
    filters = filters_from(state, destination, buyer, since, search)
    now = utcnow()
    with store.sessions() as session:
        result = deliveries(session, filters, page, limit)
    if as_json:
        print_json(
            {
                "deliveries": [d.as_dict() | {"tender_reference": d.tender_reference} for d in result.items],
                "counts": result.counts,
                "total": result.total,
                "page": page,
                "pages": result.pages,
            }
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in (
        "id",
        "tender",
        "buyer",
        "destination",
        "notice",
        "state",
        "tries",
        "age",
        "remote / last error",
    ):
        table.add_column(column, overflow="fold" if column == "remote / last error" else "ellipsis")
    for d in result.items:
        detail = d.url or d.remote_id or ""
        if d.state in (State.FAILED, State.NEEDS_RECONCILE, State.RETRY_WAIT) and d.last_error:
            detail = one_line(d.last_error)
        if d.state == State.RETRY_WAIT:
            detail = f"next {until(d.next_attempt_at, now)}: {detail}"
        table.add_row(
            str(d.id),
            d.tender_reference,
            d.buyer,
            d.destination,
            f"{d.notice} v{d.version}",
            state_text(d.state),
            str(d.attempts),
            age(d.created_at, now),
            detail,
        )
    out.print(table if result.items else "no deliveries match")
    summary: list[str | Text] = []
    for s, n in sorted(result.counts.items()):
        summary += [", " if summary else "", state_text(s), f" {n}"]
    out.print(
        line(f"\n{result.total} deliveries: ", *(summary or ["none"]))
        + (f"  (page {page} of {result.pages})" if result.pages > 1 else "")
    )


def show(
    reference: Annotated[str, typer.Argument(help="Tender id, reference, or buyer/reference.")],
    as_json: AsJson = False,
) -> None:
    """A tender, its route with reasons, and every delivery's attempt timeline."""
    _, _, store = opened()
    now = utcnow()
    with store.sessions() as session:
        tender = find_tender(session, reference)
        if tender is None:
            fail(
                f"no tender {reference!r} (try `syndicator status --search {reference}`)",
                EXIT_FAILED,
            )
        detail = tender_detail(session, tender)
        rows, timeline = detail.deliveries, detail.attempts
    if as_json:
        print_json(detail.as_dict())
        return
    value = tender.record["estimated_value"]
    out.print(line(styled(tender.reference, "bold"), " — ", tender.title))
    out.print(
        line(
            f"tender {tender.id}, buyer {tender.buyer}, £{Decimal(value['amount']):,.2f} "
            f"{'incl.' if value.get('vat_included') else 'excl.'} VAT, {tender.record['contract_type']}, "
            f"{tender.record['procedure']}; submitted {stamp(tender.created_at)} by {tender.submitted_by}",
            styled(f"; cancelled {stamp(tender.cancelled_at)}", "red") if tender.cancelled_at else "",
        )
    )
    if tender.withdrawn_at:
        out.print(
            line(
                styled(f"withdrawn {stamp(tender.withdrawn_at)}", "red"),
                f" by {tender.withdrawn_by or ''}: {tender.withdrawal_reason or ''}",
            )
        )
    if tender.route.get("not_advertised"):
        out.print(f"not advertised: {tender.route['not_advertised']}")
    if detail.versions:
        out.print()
        out.print(styled("versions", "bold"))
    for version in detail.versions:
        why = f": {version.reason}" if version.reason else ""
        kind = f" ({version.change_kind})" if version.change_kind else ""
        out.print(f"  v{version.version} {stamp(version.created_at)} by {version.submitted_by}{kind}{why}")
        for change in version.changes:
            before = one_line(change.get("before") or "(none)", 50)
            after = one_line(change.get("after") or "(removed)", 50)
            out.print(f"      {change.get('label')}: {before} -> {after}")
        notices = ", ".join(
            f"{d.destination} {d.notice} {d.state}" for d in detail.notices_of(version.version)
        )
        out.print(f"      notices: {notices or 'none'}")
    if detail.award is not None:
        out.print()
        out.print(styled("award", "bold"))
        for entry in detail.awards():
            label = f"lot {entry['lot']}" if entry["lot"] is not None else "the contract"
            who = ", ".join(s["name"] for s in entry["suppliers"]) or entry.get("reason") or ""
            dates = [f"decided {entry['decision_date']}"]
            if entry["standstill_ends"]:
                dates.append(f"standstill ends {entry['standstill_ends']}")
            if entry["signed_on"]:
                dates.append(f"signed {entry['signed_on']}")
            out.print(f"  {label}: {entry['outcome']} {who} ({'; '.join(dates)})")
    reasons = {e["destination"]: e["reasons"] for e in tender.route["destinations"]}
    for row in rows:
        out.print()
        out.print(
            line(
                styled(row.destination, "bold cyan"),
                f" {row.notice} v{row.version}  ",
                state_text(row.state),
                f"  delivery {row.id}, {row.attempts} attempt(s)",
                f", {row.remote_url or row.remote_id}" if row.remote_id else "",
            )
        )
        for reason in reasons.get(row.destination, []):
            out.print(f"  why: {reason}")
        if row.state == State.RETRY_WAIT:
            out.print(f"  next attempt {until(row.next_attempt_at, now)} ({stamp(row.next_attempt_at)})")
        if row.last_error and row.state != State.PUBLISHED:
            out.print(line("  ", styled("last error:", "red"), " ", row.last_error))
        table = Table(box=None, show_header=bool(timeline[row.id]), pad_edge=False, padding=(0, 2, 0, 2))
        for column in ("when (UTC)", "what", "by", "outcome", "code", "detail"):
            table.add_column(column, overflow="fold")
        for a in timeline[row.id]:
            who = a.actor if a.trigger == "manual" else "auto"
            table.add_row(
                stamp(a.started_at),
                a.kind,
                who or "",
                a.outcome,
                str(a.status_code or ""),
                line(
                    one_line(a.message, 60),
                    styled("\n" + one_line(" ".join(a.excerpt.split()), 60), "dim") if a.excerpt else "",
                ),
            )
        if timeline[row.id]:
            out.print(table)


def channels(as_json: AsJson = False) -> None:
    """Per destination: breaker, backlog, oldest due, last success and last failure."""
    _, config, store = opened()
    now = utcnow()
    with store.sessions() as session:
        health = channel_health(session, config.policy.destinations(), now)
    if as_json:
        print_json({"channels": [h.as_dict() for h in health]})
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in (
        "destination",
        "breaker",
        "backlog",
        "oldest due",
        "published",
        "failed",
        "reconcile",
        "last success",
        "last failure",
    ):
        table.add_column(column)
    for h in health:
        is_open = h.breaker == "open"
        breaker = styled(f"open {until(h.open_until, now)}", "red") if is_open else styled("closed", "green")
        table.add_row(
            h.destination,
            breaker,
            str(h.backlog),
            age(h.oldest_due, now),
            str(h.counts.get("published", 0)),
            str(h.counts.get("failed", 0)),
            str(h.counts.get("needs_reconcile", 0)),
            age(h.last_success, now) + (" ago" if h.last_success else ""),
            (age(h.last_failure, now) + " ago: " + one_line(h.last_error, 40)) if h.last_failure else "",
        )
    out.print(table)


def audit_command(
    actor: Annotated[str | None, typer.Option("--actor", help="Only this person.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="repush, cancel, reconcile-published, ...")
    ] = None,
    since: SinceOpt = None,
    limit: LimitOpt = 50,
    as_json: AsJson = False,
) -> None:
    """Manual actions: who did what, when and why."""
    _, _, store = opened()
    when = filters_from(None, None, None, since).since
    with store.sessions() as session:
        rows = audit(session, actor=actor, action=action, since=when, limit=limit)
    if as_json:
        print_json(
            {
                "audit": [
                    {
                        "at": r.at.isoformat(),
                        "actor": r.actor,
                        "action": r.action,
                        "tender_id": r.tender_id,
                        "delivery_id": r.delivery_id,
                        "reason": r.reason,
                        "details": r.details,
                    }
                    for r in rows
                ]
            }
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("when (UTC)", "who", "action", "tender", "delivery", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            stamp(r.at),
            r.actor,
            r.action,
            str(r.tender_id or ""),
            str(r.delivery_id or ""),
            r.reason or "",
        )
    out.print(table if rows else "no manual actions recorded")


def register(app: typer.Typer) -> None:
    """Add the monitoring commands."""
    app.command("status")(status)
    app.command("show")(show)
    app.command("channels")(channels)
    app.command("audit")(audit_command)
