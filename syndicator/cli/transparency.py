"""The transparency lists a force publishes: `contracts-list` (quarterly, £25,000 and above)
and `pcc-publication` (a police and crime commissioner's specified information)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from syndicator.cli.common import EXIT_INVALID, err
from syndicator.cli.monitor import opened
from syndicator.domain.clock import utcnow
from syndicator.ops.contracts import Quarter, awards_of, contracts_list, pcc_lists
from syndicator.ops.lists import contracts_csv, contracts_html, contracts_ocds, pcc_csv, pcc_html

FORMATS = ("csv", "html", "json")


def _write(text: str) -> None:
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")


def contracts_list_command(
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, e.g. 2026-Q4.")],
    buyer: Annotated[str | None, typer.Option("--buyer", help="Only this member force.")] = None,
    output: Annotated[str, typer.Option("--format", help="csv, html or json (OCDS).")] = "csv",
) -> None:
    """Every contract of £25,000 or more current at the end of the quarter, per member force."""
    if output not in FORMATS:
        err.print(f"--format {output!r}: one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_INVALID)
    try:
        chosen = Quarter.parse(quarter)
    except ValueError as exc:
        err.print(f"--quarter: {exc}")
        raise typer.Exit(EXIT_INVALID) from None
    _, config, store = opened()
    if buyer and buyer not in config.buyers.ids:
        err.print(f"--buyer {buyer!r} is not a known buyer (known: {', '.join(sorted(config.buyers.ids))})")
        raise typer.Exit(EXIT_INVALID)
    now = utcnow()
    with store.sessions() as session:
        rows = contracts_list(session, chosen, buyer)
        awards = awards_of(session, sorted({row.tender_id for row in rows}))
    if output == "csv":
        _write(contracts_csv(rows))
    elif output == "html":
        _write(contracts_html(rows, chosen, config.buyers, now))
    else:
        _write(contracts_ocds(rows, awards, chosen, config.buyers, now))


def pcc_publication_command(
    buyer: Annotated[str, typer.Option("--buyer", help="The force or commissioner.")],
    output: Annotated[str, typer.Option("--format", help="csv or html.")] = "csv",
) -> None:
    """Invitations to tender over £10,000, contracts over £10,000, and contracts of £10,000 or less."""
    if output not in ("csv", "html"):
        err.print(f"--format {output!r}: one of csv, html")
        raise typer.Exit(EXIT_INVALID)
    _, config, store = opened()
    if buyer not in config.buyers.ids:
        err.print(f"--buyer {buyer!r} is not a known buyer (known: {', '.join(sorted(config.buyers.ids))})")
        raise typer.Exit(EXIT_INVALID)
    with store.sessions() as session:
        lists = pcc_lists(session, buyer, config.policy.vat_rate)
    _write(pcc_csv(lists) if output == "csv" else pcc_html(lists, config.buyers, utcnow()))


def register(app: typer.Typer) -> None:
    """Add the transparency commands."""
    app.command("contracts-list")(contracts_list_command)
    app.command("pcc-publication")(pcc_publication_command)
