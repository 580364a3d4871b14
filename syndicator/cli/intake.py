"""Intake commands: `validate`, `route` and `submit` tender files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, actor, out, print_json
from syndicator.cli.terminal import line, styled
from syndicator.config.settings import Config
from syndicator.domain.clock import utcnow
from syndicator.intake.records import Parsed, read_file
from syndicator.intake.submit import Outcome, submit
from syndicator.routing.destinations import Route, route
from syndicator.runtime.wiring import load, open_store, route_check, tender_context

Files = Annotated[list[Path], typer.Argument(help="JSON files of one tender or an array of them.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def read_all(files: list[Path], config: Config) -> tuple[list[Parsed], list[str]]:
    """Every valid record of every file, and one line per problem."""
    context = tender_context(config, utcnow().date())
    parsed: list[Parsed] = []
    lines: list[str] = []
    for path in files:
        records, problems = read_file(path, context, route_check(config))
        parsed.extend(records)
        lines.extend(problem.line(str(path)) for problem in problems)
    return parsed, lines


def _report_problems(lines: list[str]) -> None:
    for problem in lines:  # they quote the files: what a file holds is shown, never obeyed
        out.print(problem)
    noun = "problem" if len(lines) == 1 else "problems"
    out.print(line(styled(f"{len(lines)} {noun}", "red"), "; nothing was changed"))


def validate(files: Files) -> None:
    """Check tender files; print one line per problem (FILE: record: field: message)."""
    _, config = load()
    parsed, lines = read_all(files, config)
    if lines:
        _report_problems(lines)
        raise typer.Exit(EXIT_INVALID)
    noun = "record" if len(parsed) == 1 else "records"
    out.print(line(styled("OK", "green"), f" {len(parsed)} {noun} valid"))


def _explain(plan: Route) -> None:
    count = len(plan.destinations)
    noun = "destination" if count == 1 else "destinations"
    out.print(line(styled(plan.reference, "bold"), f" ({plan.buyer}): {count} {noun}"))
    out.print(line(f"  law: {plan.law}"))
    if plan.primary:
        out.print(line(f"  primary: {plan.primary} (every other destination waits for its notice)"))
    if plan.not_advertised:
        out.print(f"  not advertised: {plan.not_advertised}")
    for entry in plan.destinations:
        after = styled(f" (after {entry.after})", "dim") if entry.after else ""
        out.print(line("  ", styled(entry.destination, "cyan"), after))
        for reason in entry.reasons:
            out.print(f"      {reason}")
    for warning in plan.warnings:
        out.print(line("  ", styled("warning:", "yellow"), f" {warning}"))
    out.print()


def route_command(files: Files, as_json: AsJson = False) -> None:
    """Explain which channels each tender must go to, and why (changes nothing)."""
    _, config = load()
    parsed, lines = read_all(files, config)
    if lines:
        _report_problems(lines)
        raise typer.Exit(EXIT_INVALID)
    plans = [route(p.tender, config.policy, config.thresholds) for p in parsed]
    if as_json:
        print_json(plans[0].as_dict() if len(plans) == 1 else [p.as_dict() for p in plans])
        return
    for plan in plans:
        _explain(plan)


def submit_command(
    files: Files,
    as_json: AsJson = False,
    as_name: Annotated[str | None, typer.Option("--as", help="Who is submitting.")] = None,
) -> None:
    """Validate, route and store tenders, then queue their deliveries."""
    from syndicator.runtime.enqueue import broker_enqueuer

    settings, config = load()
    parsed, lines = read_all(files, config)
    if lines:
        _report_problems(lines)
        raise typer.Exit(EXIT_INVALID)
    store = open_store(settings)
    with broker_enqueuer(settings) as enqueue:
        results = submit(
            store.sessions,
            parsed,
            config.policy,
            config.thresholds,
            actor(as_name),
            utcnow(),
            enqueue,
            batch_size=config.channels.engine.batch_size,
        )
    if as_json:
        print_json([result.as_dict() for result in results])
    else:
        for result in results:
            colour = {Outcome.CREATED: "green", Outcome.UNCHANGED: "cyan"}.get(result.outcome, "red")
            where = ", ".join(result.destinations) or "no channel"
            out.print(
                line(
                    styled(f"{result.outcome.value:9}", colour),
                    f" tender {result.tender_id} {result.buyer}/{result.reference} -> {where}",
                )
            )
            if result.outcome is not Outcome.CREATED or not result.destinations:
                out.print(f"          {result.message}")
    if any(result.outcome is Outcome.CONFLICT for result in results):
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add the intake commands to the application."""
    app.command("validate")(validate)
    app.command("route")(route_command)
    app.command("submit")(submit_command)
