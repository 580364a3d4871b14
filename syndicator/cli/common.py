"""What every command shares: consoles (safe for any text: see `terminal`), the acting person,
and clean failure."""

from __future__ import annotations

import getpass
import os
from typing import Any, NoReturn

import typer

from syndicator.cli.terminal import SafeConsole, json_text, line, styled

out = SafeConsole(soft_wrap=True)
if not out.is_terminal:  # piped or captured: don't squeeze tables into 80 columns
    out = SafeConsole(soft_wrap=True, width=160)
err = SafeConsole(stderr=True, soft_wrap=True)

EXIT_INVALID = 2  # bad input or usage
EXIT_FAILED = 1  # the action could not be done (conflict, refused, not found)
EXIT_ENVIRONMENT = 3  # configuration, database or broker problem


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print a one-line error and exit."""
    err.print(line(styled("error:", "bold red"), " ", message))
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
    print(json_text(data))
