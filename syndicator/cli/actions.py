"""Manual actions: `repush`, `cancel`, `reconcile`. Each needs a reason and records who."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, actor, fail, out, print_json
from syndicator.cli.format import one_line
from syndicator.cli.limits import IdArg, IdsArg
from syndicator.cli.monitor import (
    AsJson,
    BuyerOpt,
    DestOpt,
    SinceOpt,
    StateOpt,
    filters_from,
    opened,
)
from syndicator.cli.terminal import line, styled
from syndicator.domain.clock import utcnow
from syndicator.ops import actions as ops
from syndicator.ops.queries import find_tender
from syndicator.runtime.enqueue import broker_enqueuer

AsOpt = Annotated[str | None, typer.Option("--as", help="Who is acting (default: your OS user).")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (required; goes to the audit log).")]
CONFIRM_ABOVE = 5
OPTION = {"reason": "--reason", "actor": "--as", "remote id": "--published", "url": "--url"}


def _refuse_input(exc: ops.InvalidInput) -> None:
    """Malformed input is a usage error naming the option it came from."""
    fail(f"{OPTION.get(exc.field, exc.field)}: {exc.problem}", EXIT_INVALID)


def _report(result: ops.ActionResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_dict())
    else:
        out.print(result.message)


def repush(
    deliveries: IdsArg = None,
    all_matching: Annotated[
        bool,
        typer.Option("--all", help="Every failed / needs-reconcile delivery matching the filters."),
    ] = False,
    state: StateOpt = None,
    destination: DestOpt = None,
    buyer: BuyerOpt = None,
    since: SinceOpt = None,
    reason: ReasonOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also re-push a published delivery (it may appear twice)."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be re-pushed; change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help=f"Do not ask for confirmation above {CONFIRM_ABOVE}."),
    ] = False,
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """Send failed deliveries again: by id, or --all matching filters."""
    if bool(deliveries) == all_matching:
        fail(
            "give delivery ids, or --all with filters (--destination, --buyer, --since, --state)",
            EXIT_INVALID,
        )
    if not reason:
        fail("--reason is required: say why, for the audit log", EXIT_INVALID)
    settings, _, store = opened()
    who = actor(as_name)
    now = utcnow()
    if all_matching:
        filters = filters_from(state, destination, buyer, since)
        with store.sessions() as session:
            rows = ops.matching_for_repush(session, filters)
        if dry_run or (len(rows) > CONFIRM_ABOVE and not yes):
            table = Table(box=None, header_style="bold", pad_edge=False)
            for column in ("id", "tender", "destination", "state", "last error"):
                table.add_column(column)
            for row in rows[:200]:
                table.add_row(
                    str(row.id),
                    str(row.tender_id),
                    row.destination,
                    row.state,
                    one_line(row.last_error, 60),
                )
            if not as_json:
                out.print(table)
            if dry_run:
                if as_json:
                    print_json({"would_repush": [r.id for r in rows]})
                else:
                    out.print(f"{len(rows)} deliveries would be re-pushed (dry run: nothing changed)")
                return
            if not typer.confirm(f"Re-push these {len(rows)} deliveries?"):
                fail("nothing re-pushed", EXIT_FAILED)
        try:
            with broker_enqueuer(settings) as enqueue:
                result = ops.repush_matching(
                    store.sessions, filters, actor=who, reason=reason, now=now, enqueue=enqueue
                )
        except ops.InvalidInput as exc:
            _refuse_input(exc)
        _report(result, as_json)
        return
    assert deliveries is not None
    if dry_run:
        out.print(f"would re-push deliveries {', '.join(map(str, deliveries))} (dry run)")
        return
    problems = 0
    with broker_enqueuer(settings) as enqueue:
        for delivery_id in deliveries:
            try:
                result = ops.repush(
                    store.sessions,
                    delivery_id,
                    actor=who,
                    reason=reason,
                    now=now,
                    force=force,
                    enqueue=enqueue,
                )
                _report(result, as_json)
            except ops.InvalidInput as exc:
                _refuse_input(exc)
            except ops.OpsError as exc:
                problems += 1
                out.print(line(styled("refused:", "red"), " ", str(exc)))
    if problems:
        raise typer.Exit(EXIT_FAILED)


def cancel(
    reference: Annotated[str, typer.Argument(help="Tender id, reference, or buyer/reference.")],
    reason: ReasonOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """Cancel a tender's deliveries that have not reached a channel yet."""
    if not reason:
        fail("--reason is required: say why, for the audit log", EXIT_INVALID)
    _, _, store = opened()
    with store.sessions() as session:
        tender = find_tender(session, reference)
    if tender is None:
        fail(f"no tender {reference!r}", EXIT_FAILED)
    if not yes and not typer.confirm(
        f"Cancel the outstanding deliveries of {tender.buyer}/{tender.reference}?"
    ):
        fail("nothing cancelled", EXIT_FAILED)
    try:
        result = ops.cancel(store.sessions, str(tender.id), actor=actor(as_name), reason=reason, now=utcnow())
    except ops.InvalidInput as exc:
        _refuse_input(exc)
    except ops.OpsError as exc:
        fail(str(exc))
    _report(result, as_json)


def reconcile(
    delivery: IdArg,
    published: Annotated[
        str | None, typer.Option("--published", help="It is on the channel under this remote id.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Its public URL, with --published.")] = None,
    resend: Annotated[
        bool, typer.Option("--resend", help="It is not on the channel: send it again.")
    ] = False,
    reason: ReasonOpt = None,
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """Settle a delivery whose outcome was unknown: --published REMOTE_ID, or --resend."""
    if bool(published) == resend:
        fail("give exactly one of --published REMOTE_ID or --resend", EXIT_INVALID)
    if not reason:
        fail("--reason is required: say how you checked, for the audit log", EXIT_INVALID)
    settings, _, store = opened()
    try:
        with broker_enqueuer(settings) as enqueue:
            result = ops.reconcile(
                store.sessions,
                delivery,
                actor=actor(as_name),
                reason=reason,
                now=utcnow(),
                published_remote_id=published,
                url=url,
                resend=resend,
                enqueue=enqueue,
            )
    except ops.InvalidInput as exc:
        _refuse_input(exc)
    except ops.OpsError as exc:
        fail(str(exc))
    _report(result, as_json)


def register(app: typer.Typer) -> None:
    """Add the manual-action commands."""
    app.command("repush")(repush)
    app.command("cancel")(cancel)
    app.command("reconcile")(reconcile)
