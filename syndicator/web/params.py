"""The parameter types every route uses, so a new endpoint gets the shared limits
(syndicator.domain.limits), their description in /openapi.json, and a 422 naming the parameter,
by declaring `page: Page = 1` instead of `page: int = 1`.

    Page, Size        1..MAX_PAGE, 1..MAX_PAGE_SIZE (an offset never overflows)
    FilterText        at most FILTER_TEXT characters, no control characters (PostgreSQL refuses NUL)
    StateFilter       one of the delivery states
    Since             a duration (2h, 3d), a date or an RFC 3339 date-time
    RowId             a path id that fits a bigint
    TenderRef         an id, a reference or buyer/reference
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from syndicator.domain import limits
from syndicator.domain.states import State
from syndicator.ops.periods import DURATION_PATTERN

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/_.\-]*$"
REMOTE_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x1f\x7f-\x9f]*$"
# One line of text with one visible character at least: a reason is printed later in terminals
# and pages, where a newline or an escape would let it rewrite other lines.
REASON_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


def reason_text(value: str) -> str:
    """A reason within the shared limits, trimmed; the checks REASON_PATTERN describes, in order."""
    if len(value) > limits.REASON:
        raise ValueError(f"must be at most {limits.REASON} characters")
    if found := limits.control_character(value):
        raise ValueError(f"contains the control character {found}: write one line of plain text")
    if not value.strip():
        raise ValueError("must not be blank: say why, for the audit log")
    return value.strip()


def since_syntax(text: str) -> str:
    """Exactly what the description promises: a duration, a date, or a date-time with an offset."""
    if len(text) > limits.SINCE_TEXT:
        raise ValueError(f"must be at most {limits.SINCE_TEXT} characters")
    if re.fullmatch(DURATION_PATTERN, text):
        return text
    try:
        if _DATE.fullmatch(text):
            date.fromisoformat(text)
            return text
        if _DATE_TIME.fullmatch(text):
            # Python reads at most microseconds; RFC 3339 allows any number of fraction digits.
            head, dot, rest = text.upper().partition(".")
            if dot:
                digits = re.match(r"[0-9]+", rest)
                assert digits is not None
                rest = digits.group()[:6] + rest[digits.end() :]
            datetime.fromisoformat(head + dot + rest)
            return text
    except ValueError:
        pass
    raise ValueError("must be a duration such as 2h or 3d, a date (2026-11-26) or a date-time with an offset")


FilterField = Annotated[
    str, StringConstraints(max_length=limits.FILTER_TEXT, pattern=limits.NO_CONTROL_PATTERN)
]
SinceText = Annotated[
    str,
    AfterValidator(since_syntax),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN, "maxLength": limits.SINCE_TEXT},
                {"type": "string", "format": "date", "maxLength": limits.SINCE_TEXT},
                {"type": "string", "format": "date-time", "maxLength": limits.SINCE_TEXT},
            ],
            "description": "Created since: a duration ago (30m, 2h, 3d), a date, or a date-time.",
        }
    ),
]
AttentionState = Literal["failed", "needs_reconcile"]

Page = Annotated[int, Query(ge=1, le=limits.MAX_PAGE, description="Page number, from 1.")]
Size = Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE, description="Items per page.")]
FilterText = Annotated[FilterField | None, Query()]
StateFilter = Annotated[State | None, Query(description="Only this state.")]
Since = Annotated[SinceText | None, Query()]
# The dashboard's filter forms send blank fields; the same limits, with "" meaning no filter.
FormFilter = Annotated[str, Query(max_length=limits.FILTER_TEXT, pattern=limits.NO_CONTROL_PATTERN)]

RowId = Annotated[int, Path(ge=1, le=limits.MAX_ID, description="The row's id.")]
TenderRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=limits.REFERENCE_PATH,
        pattern=REFERENCE_PATTERN,
        description="The tender's id, its reference (the newest if two buyers share it), or buyer/reference.",
    ),
]


Reason = Annotated[
    str,
    AfterValidator(reason_text),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": limits.REASON,
            "pattern": REASON_PATTERN,
            "description": "Why, for the audit log and the notices: one line, not blank.",
        }
    ),
]
