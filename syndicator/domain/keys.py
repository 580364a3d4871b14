"""Deterministic identifiers: the idempotency key fixed when a delivery is created, and a way
for channels to derive other ids from it (some, like TED, want version-4-shaped UUIDs).

The same inputs always give the same key, so a retried, re-pushed or raced delivery presents
the same identity to the channel every time (ARCHITECTURE.md section 4).
"""

from __future__ import annotations

import hashlib
import uuid

from syndicator.domain.notices import NoticeKind

_NAMESPACE = uuid.UUID("6f1c9e0a-3d4b-5e8f-9a21-7c3b5d2e4f60")


def delivery_key(
    buyer: str,
    reference: str,
    version: int,
    destination: str,
    kind: NoticeKind = NoticeKind.CONTRACT,
    part: str | None = None,
) -> str:
    """The idempotency key of one notice (kind, tender version, part) on one destination.

    A contract notice's key is the one the first release gave every advert, so adverts sent
    before notices had kinds keep their identity."""
    name = f"{buyer}\x1f{reference}\x1f{version}\x1f{destination}"
    if kind is not NoticeKind.CONTRACT:
        name += f"\x1f{kind.value}"
    if part:
        name += f"\x1f{part}"
    return str(uuid.uuid5(_NAMESPACE, name))


def uuid4_shaped(*parts: str) -> str:
    """A lower-case UUID with version 4 and RFC 4122 variant bits, derived from `parts`.

    Deriving identifiers instead of drawing them at random keeps re-sends identical."""
    digest = bytearray(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))
