"""Deterministic JSON text for Contracts Finder, with money as JSON numbers.

Contracts Finder's Notice model types `ValueLow` and `ValueHigh` as "decimal number"
(https://www.contractsfinder.service.gov.uk/apidocumentation/ResourceModel?modelName=NoticeImport),
so amounts travel as numbers. The standard library can only write numbers from floats, and money
is never a float here: this encoder writes a `Decimal` as its exact digits ("380000.00") and
everything else as `json.dumps` would with `indent=2` and `ensure_ascii=False`, keys in the order
given. Strings go through `json.dumps`, so quotes, backslashes and control characters are escaped
by the standard library, never by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

INDENT = "  "


def encode(value: Any) -> str:
    """`value` as JSON text (two-space indentation, UTF-8 characters unescaped)."""
    return _encode(value, 0)


def _encode(value: Any, level: int) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number JSON can carry")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    inner, outer = INDENT * (level + 1), INDENT * level
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        members = (
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_encode(v, level + 1)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(members) + f"\n{outer}}}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        items = (f"{inner}{_encode(item, level + 1)}" for item in value)
        return "[\n" + ",\n".join(items) + f"\n{outer}]"
    raise TypeError(f"{type(value).__name__} is not JSON")
