"""A tender's life after submission: `amend` (the next version, with its notices on every
destination) and `withdraw` (cancellation notices wherever the advert is)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, actor, err, out, print_json
from syndicator.cli.intake import read_all
from syndicator.cli.terminal import line, styled
from syndicator.domain.clock import utcnow
from syndicator.intake.amend import amend
from syndicator.intake.lifecycle import LifecycleError, StepResult
from syndicator.intake.withdraw import withdraw
from syndicator.runtime.enqueue import broker_enqueuer
from syndicator.runtime.wiring import load, open_store

AsOpt = Annotated[str | None, typer.Option("--as", help="Who is acting (default: your OS user).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
KINDS = ("change", "correction")


def refused(error: LifecycleError, label: str) -> None:
    for problem in error.problems:
        err.print(f"{label}: {problem}")
    raise typer.Exit(EXIT_FAILED if error.not_found else EXIT_INVALID)


def report(result: StepResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_dict())
        return
    verb = {
        "amend": "amended",
        "withdraw": "withdrawn",
        "award": "awarded",
        "contract-signed": "contract signed",
    }[result.action]
    out.print(
        line(
            styled(f"{result.buyer}/{result.reference}", "bold"),
            f" {verb}: version {result.version} (tender {result.tender_id})",
        )
    )
    if result.changes:
        out.print("changed:")
        for change in result.changes:
            before = change["before"] if change["before"] is not None else "(none)"
            after = change["after"] if change["after"] is not None else "(removed)"
            out.print(f"  {change['label']}: {_short(before)} -> {_short(after)}")
    if result.steps:
        out.print("what each destination gets:")
        for step in result.steps:
            out.print(f"  {step['destination']:34} {step['text']}")
    else:
        out.print("no destination carries it: nothing to send")
    for warning in result.warnings:
        out.print(line(styled("warning:", "yellow"), f" {warning}"))


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def amend_command(
    file: Annotated[Path, typer.Argument(help="The full changed tender record (same buyer and reference).")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required; goes on the notices).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="change (of the procurement) or correction (of an error).")
    ] = "change",
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """Store a changed record as the tender's next version and send its notices everywhere."""
    if kind not in KINDS:
        err.print(f"{file}: --kind {kind!r}: one of {', '.join(KINDS)}")
        raise typer.Exit(EXIT_INVALID)
    if not reason or not reason.strip():
        err.print(f"{file}: --reason is required: say why the tender changes")
        raise typer.Exit(EXIT_INVALID)
    settings, config = load()
    parsed, lines = read_all([file], config)
    if lines:
        for line in lines:
            print(line)
        raise typer.Exit(EXIT_INVALID)
    if len(parsed) != 1:
        err.print(f"{file}: holds {len(parsed)} records; amend one tender at a time")
        raise typer.Exit(EXIT_INVALID)
    store = open_store(settings)
    try:
        with broker_enqueuer(settings) as enqueue:
            result = amend(
                store.sessions,
                parsed[0],
                reason=reason,
                correction=kind == "correction",
                policy=config.policy,
                thresholds=config.thresholds,
                actor=actor(as_name),
                now=utcnow(),
                enqueue=enqueue,
            )
    except LifecycleError as exc:
        refused(exc, str(file))
    report(result, as_json)


def withdraw_command(
    reference: Annotated[str, typer.Argument(help="The tender's reference.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer whose tender it is.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required; goes on the notices).")
    ] = None,
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """End a procurement: cancellation notices wherever the advert is, unsent notices cancelled."""
    if not reason or not reason.strip():
        err.print(f"{reference}: --reason is required: say why the tender is withdrawn")
        raise typer.Exit(EXIT_INVALID)
    settings, _ = load()
    store = open_store(settings)
    try:
        with broker_enqueuer(settings) as enqueue:
            result = withdraw(
                store.sessions,
                buyer=buyer,
                reference=reference,
                reason=reason,
                actor=actor(as_name),
                now=utcnow(),
                enqueue=enqueue,
            )
    except LifecycleError as exc:
        refused(exc, f"{buyer}/{reference}")
    report(result, as_json)


def register(app: typer.Typer) -> None:
    """Add the lifecycle commands."""
    app.command("amend")(amend_command)
    app.command("withdraw")(withdraw_command)
