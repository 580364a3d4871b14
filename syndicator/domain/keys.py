"""Deterministic identifiers: the idempotency key fixed when a delivery is created, and the
ids derived from it that channels need (TED wants version-4-shaped UUIDs).

The same inputs always give the same key, so a retried, re-pushed or raced delivery presents
the same identity to the channel every time (ARCHITECTURE.md section 4).
"""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("6f1c9e0a-3d4b-5e8f-9a21-7c3b5d2e4f60")


def delivery_key(buyer: str, reference: str, version: int, destination: str) -> str:
    """The idempotency key of one tender version on one destination."""
    name = f"{buyer}\x1f{reference}\x1f{version}\x1f{destination}"
    return str(uuid.uuid5(_NAMESPACE, name))


def uuid4_shaped(*parts: str) -> str:
    """A lower-case UUID with version 4 and RFC 4122 variant bits, derived from `parts`.

    eForms requires notice and procedure identifiers matching
    ^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$ (BT-701, BT-04);
    deriving them instead of drawing them at random keeps re-sends identical.
    """
    digest = bytearray(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def ted_notice_id(key: str) -> str:
    """TED notice identifier (BT-701) of the delivery with idempotency key `key`."""
    return uuid4_shaped("ted-notice", key)


def procedure_id(buyer: str, reference: str) -> str:
    """TED procedure identifier (BT-04): the same for every notice of one tender."""
    return uuid4_shaped("procedure", buyer, reference)
