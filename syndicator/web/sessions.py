"""Browser sessions: a person signs in by pasting an API token and gets a random session cookie.

Only the cookie's SHA-256 is stored (a stolen database row does not sign anyone in). Each
session has its own CSRF token that every state-changing form must echo; a revoked token ends
its sessions at once, because every request re-reads the token row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from syndicator.store.models import ApiTokenRow, WebSessionRow
from syndicator.web.tokens import Principal, Role

COOKIE = "syndicator_session"
SIGNIN_COOKIE = "syndicator_signin"  # double-submit token of the sign-in form (login CSRF)


@dataclass(frozen=True)
class BrowserSession:
    """A signed-in browser: who, the CSRF token its forms carry, and a message to show once."""

    id: str
    principal: Principal
    csrf_token: str
    flash: str | None = None


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """A random URL-safe value (cookies, CSRF tokens)."""
    return secrets.token_urlsafe(32)


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison that treats a missing value as a mismatch."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def start(sessions: sessionmaker[Session], principal: Principal, now: datetime, lifetime: timedelta) -> str:
    """A new session for `principal`; returns the cookie value (shown to no one else)."""
    cookie = new_secret()
    with sessions.begin() as session:
        # Sign-ins are rare, so this is a cheap moment to forget sessions nobody ended.
        session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
        session.add(
            WebSessionRow(
                id=_digest(cookie),
                token_id=principal.token_id,
                csrf_token=new_secret(),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return cookie


def resolve(sessions: sessionmaker[Session], cookie: str | None, now: datetime) -> BrowserSession | None:
    """The live session a cookie stands for (not expired, its token not revoked), or None."""
    if not cookie or len(cookie) > 200:
        return None
    query = (
        select(WebSessionRow, ApiTokenRow)
        .join(ApiTokenRow, ApiTokenRow.id == WebSessionRow.token_id)
        .where(WebSessionRow.id == _digest(cookie))
    )
    with sessions() as session:
        found = session.execute(query).first()
    if found is None:
        return None
    row, token = found
    if row.expires_at <= now or token.revoked_at is not None:
        return None
    principal = Principal(token.id, token.name, Role(token.role))
    return BrowserSession(row.id, principal, row.csrf_token, row.flash)


def end(sessions: sessionmaker[Session], cookie: str | None) -> None:
    """Sign out: the session row is deleted, so the cookie is worthless even if kept."""
    if cookie:
        with sessions.begin() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == _digest(cookie)))


def set_flash(sessions: sessionmaker[Session], session_id: str, message: str) -> None:
    """A message for the next page this browser shows (after a redirect)."""
    with sessions.begin() as session:
        session.execute(
            update(WebSessionRow).where(WebSessionRow.id == session_id).values(flash=message[:2000])
        )


def clear_flash(sessions: sessionmaker[Session], session_id: str) -> None:
    """The message was shown."""
    with sessions.begin() as session:
        session.execute(update(WebSessionRow).where(WebSessionRow.id == session_id).values(flash=None))
