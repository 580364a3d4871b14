"""Reading award records from JSON: one award or an array, validated as strictly as tenders,
every failure a `Problem` naming the record and the field (`FILE: record: field.path: message`).

The checks that need the stored tender (it exists and is not withdrawn, the lots are its lots,
the decision is not before its deadline, the standstill) are the award use-case's
(`syndicator.intake.award.check`), reported in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syndicator.domain.award import Award
from syndicator.intake.records import MAX_RECORDS, Problem, decode, label_of, problems_of, read_raw


@dataclass(frozen=True)
class ParsedAward:
    """An award that passed the record checks, with the record as given."""

    award: Award
    raw: dict[str, Any]
    label: str


def validate_award(item: Any, label: str) -> ParsedAward | list[Problem]:
    """Validate one decoded award record."""
    if not isinstance(item, dict):
        return [Problem(label, "(record)", "must be a JSON object")]
    try:
        return ParsedAward(Award.model_validate(item), item, label)
    except ValidationError as exc:
        return problems_of(label, exc)


def validate_awards(data: Any) -> tuple[list[ParsedAward], list[Problem]]:
    """One award object or a non-empty array of them."""
    items = data if isinstance(data, list) else [data]
    if isinstance(data, list) and not data:
        return [], [Problem("(file)", "(records)", "the array is empty; nothing to do")]
    if len(items) > MAX_RECORDS:
        return [], [Problem("(file)", "(records)", f"holds {len(items)} records; at most {MAX_RECORDS}")]
    parsed: list[ParsedAward] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        result = validate_award(item, label_of(index, item))
        if isinstance(result, list):
            problems.extend(result)
            continue
        key = (result.award.buyer, result.award.reference)
        if key in seen:
            problems.append(
                Problem(result.label, "reference", "the same tender is awarded twice in this file")
            )
            continue
        seen.add(key)
        parsed.append(result)
    return parsed, problems


def read_awards(path: Path) -> tuple[list[ParsedAward], list[Problem]]:
    """Read and validate a JSON file of award records."""
    raw, problems = read_raw(path)
    if raw is None:
        return [], problems
    return read_award_bytes(raw)


def read_award_bytes(raw: bytes) -> tuple[list[ParsedAward], list[Problem]]:
    """Validate JSON bytes of award records (a file or a request body)."""
    data, problems = decode(raw)
    if problems:
        return [], problems
    return validate_awards(data)
