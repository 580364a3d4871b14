"""Bounds of numeric options: a number the store cannot hold is a usage error naming the
option, never an overflow deep in the database driver."""

from __future__ import annotations

from typing import Annotated

import typer

MAX_ID = 2**63 - 1  # ids are 64-bit (BIGINT on PostgreSQL, INTEGER on SQLite)
MAX_LIMIT = 1000  # rows per page or listing
MAX_PAGE = MAX_ID // MAX_LIMIT  # so that the row offset of any page is a 64-bit number too

LimitOpt = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="Rows per page.")]
PageOpt = Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Page number.")]
IdsArg = Annotated[
    list[int] | None,
    typer.Argument(min=1, max=MAX_ID, help="Delivery ids (see `syndicator status`)."),
]
IdArg = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The needs_reconcile delivery's id.")]
