"""API tokens: create (shown once), list, revoke, and look up by the token a client sends.

Only the SHA-256 of a token is stored. A token is 32 random bytes, so a fast hash is enough
(there is nothing to brute-force as there would be with a password); the stored hash is
compared in constant time after the indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syndicator.store.models import ApiTokenRow

PREFIX = "syn_"  # makes a leaked token recognisable to secret scanners
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}")
# Writing last_used_at on every request would make every read a write; a minute is precise enough.
TOUCH_EVERY = timedelta(minutes=1)


class Role(StrEnum):
    """What a token may do; each role can do everything the ones before it can."""

    VIEWER = "viewer"  # read everything
    OPERATOR = "operator"  # also re-push, cancel, reconcile and submit tenders
    ADMIN = "admin"  # also manage tokens

    @property
    def rank(self) -> int:
        """Position in the order viewer < operator < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may."""
        return self.rank >= needed.rank


class TokenError(Exception):
    """A token cannot be created or revoked, with the reason a person should read."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name (the audit actor) and role."""

    token_id: int
    name: str
    role: Role

    def allows(self, needed: Role) -> bool:
        """Whether this caller may do what `needed` may."""
        return self.role.allows(needed)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    sessions: sessionmaker[Session], name: str, role: Role | str, now: datetime
) -> tuple[ApiTokenRow, str]:
    """A new token row and the token itself (which is never stored and cannot be shown again)."""
    name = name.strip()
    if not NAME.fullmatch(name):
        raise TokenError(
            "a token name is 1-100 letters, digits, spaces or . _ @ - and starts with a letter or digit"
        )
    try:
        chosen = Role(role)
    except ValueError:
        raise TokenError(f"no role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(name=name, role=chosen.value, token_hash=hash_token(token), created_at=now)
    try:
        with sessions.begin() as session:
            session.add(row)
    except IntegrityError:
        raise TokenError(f"a token named {name!r} exists already (names are kept after revoking)") from None
    return row, token


def list_tokens(session: Session) -> list[ApiTokenRow]:
    """Every token, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))


def revoke_token(sessions: sessionmaker[Session], name: str, now: datetime) -> ApiTokenRow:
    """Stop a token working at once (its browser sessions end with it)."""
    with sessions.begin() as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).first()
        if row is None:
            raise TokenError(f"no token named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = now
        return row


def authenticate(sessions: sessionmaker[Session], token: str, now: datetime) -> Principal | None:
    """The principal a presented token stands for, or None (unknown or revoked)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    with sessions() as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
            return None
        principal = Principal(row.id, row.name, Role(row.role))
        last = row.last_used_at
    if last is None or now - last >= TOUCH_EVERY:
        touch(sessions, principal.token_id, now)
    return principal


def touch(sessions: sessionmaker[Session], token_id: int, now: datetime) -> None:
    """Record that a token was used."""
    with sessions.begin() as session:
        session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))
