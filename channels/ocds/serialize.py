"""Deterministic JSON bytes for OCDS documents: the same document always gives the same bytes,
so a re-sent notice is byte-identical and golden files can be compared exactly.

    keys ........ in the order the builders inserted them (never sorted: the order is the contract)
    layout ...... two-space indent, one member per line, "\\n" at the end
    text ........ UTF-8, non-ASCII as itself; quotes, backslashes and control characters escaped
                  by json.dumps, so markup and JSON specials in tender text stay string content
    Decimal ..... money: a JSON number with exactly two decimals (380000.00), never via float
    datetime .... aware only: RFC 3339 (OCDS "date-time"), "Z" for UTC, else the offset given
    float ....... refused: no OCDS field we write is a binary fraction
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syndicator.channel.errors import RenderError

CENT = Decimal("0.01")


def instant(value: datetime) -> str:
    """An aware datetime as RFC 3339 (OCDS date-time), 'Z' for UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RenderError(f"{value.isoformat()} has no UTC offset")
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def money(value: Decimal) -> str:
    """A Decimal amount as a JSON number with exactly two decimals."""
    if not value.is_finite():
        raise RenderError(f"{value} is not an amount")
    try:
        return str(value.quantize(CENT))
    except InvalidOperation as exc:
        raise RenderError(f"{value} is too large to state in pence") from exc


def _encode(value: Any, depth: int) -> str:
    if isinstance(value, Mapping):
        inner = "\n" + "  " * (depth + 1)
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_encode(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{" + ",".join(members) + "\n" + "  " * depth + "}" if members else "{}"
    if isinstance(value, list | tuple):
        inner = "\n" + "  " * (depth + 1)
        elements = [inner + _encode(v, depth + 1) for v in value]
        return "[" + ",".join(elements) + "\n" + "  " * depth + "]" if elements else "[]"
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime):
        return json.dumps(instant(value))
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as OCDS JSON")


def dumps(document: Mapping[str, Any]) -> bytes:
    """Deterministic UTF-8 JSON (see the module docstring)."""
    text = _encode(document, 0) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 (nor JSON reader) can carry it
        raise RenderError(f"the notice holds text that is not Unicode: {exc.reason}") from exc
