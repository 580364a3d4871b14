"""What every command shares: consoles, the acting person, and clean failure."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # piped or captured: don't squeeze tables into 80 columns
    out = Console(highlight=False, soft_wrap=True, width=160)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_INVALID = 2  # bad input or usage
EXIT_FAILED = 1  # the action could not be done (conflict, refused, not found)
EXIT_ENVIRONMENT = 3  # configuration, database or broker problem


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print a one-line error and exit."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


def actor(name: str | None) -> str:
    """The person acting: `--as NAME`, else the operating-system user."""
    if name:
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
