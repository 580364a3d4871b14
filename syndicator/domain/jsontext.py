"""Deterministic JSON text: keys in the order built, two-space indent, non-ASCII as is, and
Decimal money written with exactly two decimals as a JSON number (json.dumps would need a float,
which cannot hold every pence value exactly)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def _encode(value: Any, depth: int) -> str:
    pad = "  " * (depth + 1)
    if isinstance(value, dict):
        members = [
            f"\n{pad}{json.dumps(str(k), ensure_ascii=False)}: {_encode(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{" + ",".join(members) + "\n" + "  " * depth + "}" if members else "{}"
    if isinstance(value, list | tuple):
        elements = [f"\n{pad}{_encode(v, depth + 1)}" for v in value]
        return "[" + ",".join(elements) + "\n" + "  " * depth + "]" if elements else "[]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not an amount")
        return str(value.quantize(CENT))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(document: Any) -> str:
    """`document` as deterministic JSON text, ending with a newline."""
    return _encode(document, 0) + "\n"
