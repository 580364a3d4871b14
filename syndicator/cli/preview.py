"""`syndicator preview`: the exact bytes a notice would be sent as, without sending anything.

The notice is built by the same context builder the worker uses: against the stored earlier
notices when the tender is in the store, otherwise against a sketch of them (the previous
version from `--previous`, the earlier notices published now).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from syndicator.channel.base import ChannelError
from syndicator.channel.registry import ADAPTERS, build_channel, family, names, title
from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, err, fail
from syndicator.cli.intake import read_all
from syndicator.config.settings import Config, Settings
from syndicator.domain.clock import utcnow
from syndicator.domain.keys import delivery_key
from syndicator.domain.notices import ChangeKind, NoticeKind
from syndicator.domain.states import State
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job, Procurement, Row, Version, build, load, sketch
from syndicator.routing.destinations import route
from syndicator.runtime.wiring import load as load_settings
from syndicator.store.models import TenderRow

KINDS = [NoticeKind.CONTRACT.value, NoticeKind.CHANGE.value, NoticeKind.CANCELLATION.value]


def _one(path: Path, config: Config, reference: str | None, option: str) -> Tender:
    parsed, lines = read_all([path], config)
    if lines:
        for line in lines:
            print(line)
        raise typer.Exit(EXIT_INVALID)
    chosen = [p for p in parsed if reference in (None, p.tender.reference)]
    if len(chosen) != 1:
        fail(f"{option}: the file holds several records: pick one with --reference", EXIT_INVALID)
    return chosen[0].tender


def _placeholder_id(destination: str, number: int) -> str:
    """The channel's id of a sketched earlier notice: a preview cannot know the real one (the
    portal chose it), so it says so where the id goes."""
    return f"PREVIEW-{destination}-{number}"


def _stored(settings: Settings, tender: Tender) -> Procurement | None:
    """The tender's procurement from the store, when there is a store holding it."""
    from sqlalchemy import select

    from syndicator.runtime.wiring import open_store

    try:
        store = open_store(settings, auto_upgrade=False)
    except Exception:  # no database, or one at another schema: preview needs none
        return None
    try:
        with store.sessions() as session:
            tender_id = session.scalar(
                select(TenderRow.id).where(
                    TenderRow.buyer == tender.buyer, TenderRow.reference == tender.reference
                )
            )
            return load(session, [tender_id])[tender_id] if tender_id is not None else None
    except Exception:
        return None
    finally:
        store.dispose()


def _extend(
    procurement: Procurement,
    tender: Tender,
    target: str,
    kind: NoticeKind,
    reason: str | None,
    correction: bool,
) -> int:
    """Add the notice to preview to a stored procurement: a change carries the file's record as
    the next version; a cancellation carries the current version."""
    version = max(procurement.versions)
    if kind is NoticeKind.CHANGE:
        version += 1
        change = ChangeKind.CORRECTION if correction else ChangeKind.UPDATE
        procurement.versions[version] = Version(tender.model_dump(mode="json"), reason, change.value)
    elif kind is NoticeKind.CANCELLATION:
        procurement.withdrawal_reason = procurement.withdrawal_reason or reason
    delivery_id = max((row.id for row in procurement.rows), default=0) + 1
    key = delivery_key(tender.buyer, tender.reference, version, target, kind)
    procurement.rows.append(Row(delivery_id, target, kind, version, State.PENDING, key))
    return delivery_id


def preview(
    file: Annotated[Path, typer.Argument(help="A tender JSON file.")],
    channel: Annotated[str | None, typer.Option("--channel", help=f"One of: {', '.join(ADAPTERS)}.")] = None,
    destination: Annotated[
        str | None, typer.Option("--destination", help="e.g. trade-press:construction-press")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Which record, when the file holds several.")
    ] = None,
    notice: Annotated[
        str, typer.Option("--notice", help=f"The notice kind: {', '.join(KINDS)}.")
    ] = "contract",
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The version a change follows, when the tender is not in the store."),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (change and cancellation).")] = None,
    correction: Annotated[
        bool, typer.Option("--correction", help="A change that corrects an error.")
    ] = False,
) -> None:
    """Print exactly the bytes a notice would be sent as, without sending anything."""
    target = destination or channel
    if not target:
        fail("say which: --channel NAME or --destination NAME", EXIT_INVALID)
    if family(target) not in ADAPTERS:
        fail(f"no channel {target!r}; channels: {', '.join(ADAPTERS)}", EXIT_INVALID)
    if notice not in KINDS:
        fail(f"--notice {notice!r}: one of {', '.join(KINDS)}", EXIT_INVALID)
    kind = NoticeKind(notice)
    settings, config = load_settings()
    tender = _one(file, config, reference, "FILE")
    plan = route(tender, config.policy, config.thresholds)
    if target == "trade-press":
        presses = [n for n in plan.names() if family(n) == "trade-press"]
        if len(presses) != 1:
            fail("say which publication: --destination trade-press:<publication>", EXIT_INVALID)
        target = presses[0]
    if target not in plan.names():
        err.print(
            f"note: {target} is not on this tender's route ({', '.join(plan.names()) or 'not advertised'})"
        )
    now = utcnow()
    stored = _stored(settings, tender) if previous is None else None
    if stored is not None:
        delivery_id = _extend(stored, tender, target, kind, reason, correction)
        procurement = stored
        err.print(f"against the stored notices of tender {stored.tender_id}")
    else:
        earlier = _one(previous, config, reference, "--previous") if previous else None
        procurement, delivery_id = sketch(
            tender,
            target,
            now,
            primary=plan.primary,
            kind=kind,
            previous=earlier,
            reason=reason or ("(preview)" if kind is not NoticeKind.CONTRACT else None),
            correction=correction,
            names=names,
            route=plan.as_dict(),
            remote_ids=_placeholder_id,
        )
    job: Job = build(
        procurement, delivery_id, now, buyers=config.buyers, vat_rate=config.policy.vat_rate, titles=title
    )
    adapter = build_channel(config, family(target))
    try:
        if kind not in adapter.notices:
            raise ChannelError(f"it does not carry {kind.value} notices")
        rendered = adapter.render(job.notice, job.context)
    except ChannelError as exc:
        fail(f"{target} cannot carry this {kind.value} notice: {exc.message}", EXIT_FAILED)
    size = len(rendered.body)
    err.print(f"{target}: {kind.value} notice v{job.notice.version}, {rendered.media_type}, {size} bytes")
    sys.stdout.buffer.write(rendered.body)
    if not rendered.body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")


def register(app: typer.Typer) -> None:
    """Add `preview`."""
    app.command("preview")(preview)
