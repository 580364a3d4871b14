"""`Idempotency-Key` for `POST /api/tenders`: the first answer to a key is stored per token;
the same key with the same body gets that answer again (even if the world changed since);
the same key with a different body is refused, because it is almost always a client bug.

A race between two requests with one key is settled by the unique (token, key) constraint:
the loser answers with whatever the winner stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syndicator.store.models import IdempotencyRow

MAX_KEY = 200


@dataclass(frozen=True)
class Stored:
    """A stored answer, and whether it was stored for this very request body."""

    status_code: int
    body: Any
    same_request: bool


def request_hash(method: str, path: str, body: bytes) -> str:
    """What identifies a request for replay purposes."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def lookup(sessions: sessionmaker[Session], token_id: int, key: str, digest: str) -> Stored | None:
    """The answer stored for (token, key), if any."""
    with sessions() as session:
        row = session.scalars(
            select(IdempotencyRow).where(IdempotencyRow.token_id == token_id, IdempotencyRow.key == key)
        ).first()
    if row is None:
        return None
    return Stored(row.status_code, row.response, row.request_hash == digest)


def remember(
    sessions: sessionmaker[Session],
    token_id: int,
    key: str,
    digest: str,
    status_code: int,
    body: Any,
    now: datetime,
) -> Stored:
    """Store an answer; if another request stored one first, that one wins and is returned."""
    try:
        with sessions.begin() as session:
            session.add(
                IdempotencyRow(
                    key=key,
                    token_id=token_id,
                    request_hash=digest,
                    status_code=status_code,
                    response=body,
                    created_at=now,
                )
            )
    except IntegrityError:
        earlier = lookup(sessions, token_id, key, digest)
        if earlier is not None:
            return earlier
        raise
    return Stored(status_code, body, True)
