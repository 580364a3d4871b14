"""Awards: `validate-award`, `award`, `contract-signed` and `standstill`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from syndicator.cli.common import EXIT_INVALID, actor, err, out
from syndicator.cli.lifecycle import refused, report
from syndicator.cli.terminal import line, styled
from syndicator.domain.clock import utcnow
from syndicator.domain.standstill import may_enter_into, standstill_ends
from syndicator.intake.award import AwardProblems, award, contract_signed
from syndicator.intake.award_records import read_awards
from syndicator.intake.lifecycle import LifecycleError
from syndicator.runtime.enqueue import broker_enqueuer
from syndicator.runtime.wiring import load, open_store

AsOpt = Annotated[str | None, typer.Option("--as", help="Who is acting (default: your OS user).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AwardFile = Annotated[Path, typer.Argument(help="A JSON file of one award record or an array of them.")]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"{option} {text!r}: write a date as YYYY-MM-DD")
        raise typer.Exit(EXIT_INVALID) from None


def validate_award(file: AwardFile) -> None:
    """Check award files; print one line per problem (FILE: record: field: message)."""
    parsed, problems = read_awards(file)
    if problems:
        for problem in problems:
            out.print(problem.line(str(file)))
        raise typer.Exit(EXIT_INVALID)
    noun = "record" if len(parsed) == 1 else "records"
    out.print(line(styled("OK", "green"), f" {len(parsed)} award {noun} valid"))


def award_command(file: AwardFile, as_name: AsOpt = None, as_json: AsJson = False) -> None:
    """Store awards and send their notices (award notice, then contract details when signed)."""
    settings, config = load()
    parsed, problems = read_awards(file)
    if problems:
        for problem in problems:
            out.print(problem.line(str(file)))
        raise typer.Exit(EXIT_INVALID)
    store = open_store(settings)
    failed = False
    with broker_enqueuer(settings) as enqueue:
        for item in parsed:
            try:
                result = award(
                    store.sessions,
                    item,
                    actor=actor(as_name),
                    now=utcnow(),
                    vat_rate=config.policy.vat_rate,
                    enqueue=enqueue,
                )
            except AwardProblems as exc:
                for problem in exc.problems:
                    out.print(problem.line(str(file)))
                failed = True
                continue
            except LifecycleError as exc:
                for text in exc.problems:
                    err.print(f"{file}: {item.label}: {text}")
                failed = True
                continue
            report(result, as_json)
    if failed:
        raise typer.Exit(EXIT_INVALID)


def contract_signed_command(
    reference: Annotated[str, typer.Argument(help="The tender's reference.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer whose tender it is.")],
    on: Annotated[str, typer.Option("--on", help="The day the contract was signed (YYYY-MM-DD).")],
    lot: Annotated[
        int | None, typer.Option("--lot", help="The lot (left out for an undivided tender).")
    ] = None,
    as_name: AsOpt = None,
    as_json: AsJson = False,
) -> None:
    """Record that a lot's contract was signed, and send its contract details notice."""
    signed_on = _day(on, "--on")
    settings, _ = load()
    store = open_store(settings)
    try:
        with broker_enqueuer(settings) as enqueue:
            result = contract_signed(
                store.sessions,
                buyer=buyer,
                reference=reference,
                lot=lot,
                signed_on=signed_on,
                actor=actor(as_name),
                now=utcnow(),
                enqueue=enqueue,
            )
    except LifecycleError as exc:
        refused(exc, f"{buyer}/{reference}")
    report(result, as_json)


def standstill(
    published_on: Annotated[
        str, typer.Option("--published-on", help="The day the award notice was published.")
    ],
    explain: Annotated[
        bool, typer.Option("--explain", help="Also say when the contract may be signed.")
    ] = False,
) -> None:
    """The last day of the standstill for a contract award notice published that day (PA2023 s.51)."""
    day = _day(published_on, "--published-on")
    out.print(standstill_ends(day).isoformat())
    if explain:
        err.print(f"the contract may be entered into from {may_enter_into(day).isoformat()}")


def register(app: typer.Typer) -> None:
    """Add the award commands."""
    app.command("validate-award")(validate_award)
    app.command("award")(award_command)
    app.command("contract-signed")(contract_signed_command)
    app.command("standstill")(standstill)
