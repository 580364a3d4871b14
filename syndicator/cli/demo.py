"""`syndicator demo`."""

from __future__ import annotations

from typing import Annotated

import typer

from syndicator.cli.common import out


def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep everything running afterwards, until Ctrl-C.")
    ] = False,
) -> None:
    """Run the whole product on this machine: sandbox, worker, sweeper, dashboard, example tenders."""
    from rich.console import Console

    from syndicator.demo.run import run_demo

    # The demo's own console reads markup in its fixed messages (the commands' consoles never
    # do); piped into a log (CI, `make demo | tee`), rich would assume 80 columns and cut tables.
    console = Console(highlight=False) if out.is_terminal else Console(highlight=False, width=160)
    raise typer.Exit(run_demo(console, keep))


def register(app: typer.Typer) -> None:
    """Add the demo command."""
    app.command("demo")(demo)
