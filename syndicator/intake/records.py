"""Reading tender records from JSON and turning every failure into a `Problem` that names
the record and the field, so that no traceback ever reaches a user.

    bytes --json--> object | [objects] --Tender.model_validate--> Tender | [Problem, ...]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syndicator.domain.tender import Tender, TenderContext

# Checks that need more than the record (e.g. what its route requires): (field, message) pairs.
Check = Callable[[Tender], list[tuple[str, str]]]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_RECORDS = 10_000

_GENERIC = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this record (check the spelling)",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "enum": "must be one of: {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "too_long": "must hold at most {max_length} items",
}


@dataclass(frozen=True)
class Problem:
    """One reason a record was refused: where it is and what is wrong."""

    record: str
    field: str
    message: str

    def line(self, source: str) -> str:
        """The one-line form `FILE: record: field: message`."""
        return f"{source}: {self.record}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """The JSON form used by the HTTP API."""
        return {"record": self.record, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Parsed:
    """A record that passed validation, with the record as given."""

    tender: Tender
    raw: dict[str, Any]


def field_path(location: tuple[int | str, ...]) -> str:
    """('lots', 0, 'title') -> 'lots[0].title'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(record)"


def _message(error: Any) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in _GENERIC:
        try:
            return _GENERIC[kind].format(**context)
        except (KeyError, IndexError):
            return _GENERIC[kind]
    return str(error["msg"])


def problems_of(label: str, exc: ValidationError) -> list[Problem]:
    """A pydantic validation error as one `Problem` per field (any record model)."""
    problems = []
    for error in exc.errors(include_url=False):
        location = tuple(error["loc"])
        named = (error.get("ctx") or {}).get("field")
        path = str(named) if named else field_path(location)
        problems.append(Problem(label, path, _message(error)))
    return problems


def label_of(index: int, item: Any) -> str:
    """How a record is named in problem lines: its reference, else its position."""
    reference = item.get("reference") if isinstance(item, dict) else None
    if isinstance(reference, str) and 0 < len(reference) <= 64 and reference.isprintable():
        return reference
    return f"#{index + 1}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping numbers exact (Decimal) and refusing NaN and Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def validate_object(
    item: Any, context: TenderContext, label: str, check: Check | None = None
) -> Parsed | list[Problem]:
    """Validate one decoded record."""
    if not isinstance(item, dict):
        return [Problem(label, "(record)", "must be a JSON object")]
    try:
        tender = Tender.model_validate(item, context=context)
    except ValidationError as exc:
        return problems_of(label, exc)
    found = check(tender) if check else []
    return [Problem(label, f, m) for f, m in found] if found else Parsed(tender, item)


def validate_document(
    data: Any, context: TenderContext, check: Check | None = None
) -> tuple[list[Parsed], list[Problem]]:
    """Validate a decoded document: one record object or a non-empty array of them."""
    items = data if isinstance(data, list) else [data]
    if isinstance(data, list) and not data:
        return [], [Problem("(file)", "(records)", "the array is empty; nothing to do")]
    if len(items) > MAX_RECORDS:
        return [], [Problem("(file)", "(records)", f"holds {len(items)} records; at most {MAX_RECORDS}")]
    parsed: list[Parsed] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for index, item in enumerate(items):
        label = label_of(index, item)
        result = validate_object(item, context, label, check)
        if isinstance(result, list):
            problems.extend(result)
            continue
        key = (result.tender.buyer, result.tender.reference)
        if key in seen:
            problems.append(Problem(label, "reference", f"repeats record {seen[key]} of the same buyer"))
            continue
        seen[key] = label
        parsed.append(result)
    return parsed, problems


def read_raw(path: Path) -> tuple[bytes | None, list[Problem]]:
    """A file's bytes, or the one problem that stopped reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem("(file)", "(file)", f"is {size} bytes; at most {MAX_FILE_BYTES}")]
        return path.read_bytes(), []
    except FileNotFoundError:
        return None, [Problem("(file)", "(file)", "no such file")]
    except IsADirectoryError:
        return None, [Problem("(file)", "(file)", "is a directory, not a JSON file")]
    except OSError as exc:
        return None, [Problem("(file)", "(file)", f"cannot be read: {exc.strerror or exc}")]


def decode(raw: bytes) -> tuple[Any, list[Problem]]:
    """JSON bytes as data (numbers exact), or the one problem that stopped decoding them."""
    try:
        return loads(raw.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        return None, [Problem("(file)", "(json)", "is not UTF-8 text")]
    except json.JSONDecodeError as exc:
        return None, [
            Problem("(file)", "(json)", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        ]
    except (ValueError, RecursionError) as exc:
        return None, [Problem("(file)", "(json)", f"malformed JSON: {exc}")]


def read_file(
    path: Path, context: TenderContext, check: Check | None = None
) -> tuple[list[Parsed], list[Problem]]:
    """Read and validate a JSON file of tender records."""
    raw, problems = read_raw(path)
    if raw is None:
        return [], problems
    return read_bytes(raw, context, check)


def read_bytes(
    raw: bytes, context: TenderContext, check: Check | None = None
) -> tuple[list[Parsed], list[Problem]]:
    """Validate JSON bytes (a file's content or an HTTP request body)."""
    data, problems = decode(raw)
    if problems:
        return [], problems
    return validate_document(data, context, check)
