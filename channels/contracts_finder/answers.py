"""Reading Contracts Finder's answers: tokens, created and looked-up notice ids, published
notices, validation errors, and its rate-limit page.

The service is ASP.NET Web API: its JSON samples write members in camelCase, its model pages in
PascalCase. Members are matched case-insensitively here so that either spelling reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syndicator.channel.http import Response

GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
MAX_REASONS = 20


def member(document: Any, name: str) -> Any:
    """`document[name]`, whatever the case of the member's name; None if absent."""
    if not isinstance(document, Mapping):
        return None
    wanted = name.lower()
    return next((value for key, value in document.items() if str(key).lower() == wanted), None)


def is_rate_limit_page(response: Response) -> bool:
    """Contracts Finder's "too many requests": HTTP 403 with an HTML page saying the request
    rate limit may have been exceeded, after which no request should be made for 5 minutes
    (https://www.contractsfinder.service.gov.uk/apidocumentation/Authentication). A 403 without
    those words (a JSON "denied" answer) is a refusal of our credentials."""
    return response.status == 403 and "rate limit" in response.text().lower()


def oauth_error(response: Response) -> str | None:
    """The token endpoint's OAuth 2.0 error code (RFC 6749 section 5.2), e.g. invalid_client."""
    code = member(response.json(), "error")
    return str(code) if isinstance(code, str) and code else None


def access_token(response: Response) -> tuple[str, float] | None:
    """(access token, seconds it lives) from a token answer, or None if it is not one."""
    document = response.json()
    token, lifetime, kind = (member(document, n) for n in ("access_token", "expires_in", "token_type"))
    if not isinstance(token, str) or not token or str(kind).lower() != "bearer":
        return None
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        return None
    return token, float(lifetime)


def _error_text(error: Any) -> str | None:
    if isinstance(error, str):
        return error.strip() or None
    if not isinstance(error, Mapping):
        return None
    message = next((member(error, n) for n in ("message", "description", "error") if member(error, n)), None)
    where = next(
        (member(error, n) for n in ("location", "field", "propertyName", "key") if member(error, n)), None
    )
    if not message:
        return None
    return f"{where}: {message}" if where else str(message)


def reasons(response: Response) -> list[str]:
    """The errors of a ServiceResponse `{code, errors}` (validation failures answer HTTP 400 with
    one), each as "where: message" when the error says where; [] if the body is not one."""
    document = response.json()
    errors = member(document, "errors")
    if isinstance(errors, str | Mapping):
        errors = [errors]
    found = (
        [text for text in (_error_text(e) for e in errors or []) if text] if isinstance(errors, list) else []
    )
    if not found:
        message = member(document, "message")  # ASP.NET's own `{"message": ...}` answers
        if isinstance(message, str) and message:
            found = [message]
    return found[:MAX_REASONS]


def guid(value: Any) -> str | None:
    """A notice GUID, lower-cased, or None."""
    return value.lower() if isinstance(value, str) and GUID.fullmatch(value) else None


def created_id(response: Response) -> str | None:
    """The GUID create_draft_notice assigned: the body itself (a JSON string, as Draft/Notice/Copy
    answers) or its `noticeId` / `id` member. The exact shape is [unconfirmed]."""
    document = response.json()
    if isinstance(document, str):
        return guid(document)
    return guid(member(document, "noticeId")) or guid(member(document, "id"))


def looked_up(response: Response, identifier: str) -> list[str]:
    """The GUIDs of notices whose Identifier is exactly `identifier` (the Lookup matches every
    Identifier that *begins* with the text given)."""
    document = response.json()
    if not isinstance(document, list):
        return []
    found = []
    for item in document:
        notice_id = guid(member(item, "id"))
        if notice_id and member(item, "identifier") == identifier and notice_id not in found:
            found.append(notice_id)
    return found


@dataclass(frozen=True)
class Published:
    """What get_published_notice says about one notice (a FullNotice)."""

    notice_id: str
    identifier: str | None
    is_published: bool
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    # The FullNotice's `awardedDate` [unconfirmed member]: set once an award is published
    # against the notice (whether it is the decision's day or the publication's is unknown).
    awarded_at: datetime | None = None

    @property
    def withdrawn(self) -> bool:
        """Withdrawn from the public site."""
        return self.withdrawn_at is not None


def when(value: Any) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime (no offset: read as UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def published(response: Response) -> Published | None:
    """The FullNotice in a get_published_notice answer, or None if the body is not one."""
    document = response.json()
    notice_id = guid(member(document, "id"))
    flag = member(document, "isPublished")
    if notice_id is None or not isinstance(flag, bool):
        return None
    inner = member(document, "notice")
    found = member(inner, "identifier")
    reason = member(document, "withdrawnReason")
    return Published(
        notice_id=notice_id,
        identifier=found if isinstance(found, str) else None,
        is_published=flag,
        published_at=when(member(inner, "publishedDate")),
        withdrawn_at=when(member(document, "withdrawnDate")),
        withdrawn_reason=reason if isinstance(reason, str) else None,
        awarded_at=when(member(document, "awardedDate")),
    )
