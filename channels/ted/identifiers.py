"""The identifiers a TED notice carries, derived from ours so every re-send is identical.

    delivery key --uuid4_shaped--> BT-701 notice id   (new for every notice: contract, change,
                                                       cancellation, award)
    buyer + reference ----------> BT-04 procedure id  (the same for every notice of one tender)
    notice id + BT-757 version -> businessId          `{notice id}-{version}`, e.g. `...-01`

eForms requires both ids to be lower-case UUID v4 (SDK 1.15 fields.json pattern); TED accepts a
businessId once, ever, and never changes it (FACTS.md section 5). A later notice refers to an
earlier one by its businessId (BT-758, efac:Changes).
"""

from __future__ import annotations

from syndicator.channel.base import RenderError
from syndicator.domain.keys import uuid4_shaped

MAX_VERSION = 99  # BT-757 runs from 01 to 99


def notice_id(key: str) -> str:
    """TED notice identifier (BT-701) of the delivery with idempotency key `key`."""
    return uuid4_shaped("ted-notice", key)


def procedure_id(buyer: str, reference: str) -> str:
    """TED procedure identifier (BT-04): the same for every notice of one tender."""
    return uuid4_shaped("procedure", buyer, reference)


def version(revision: int) -> str:
    """BT-757: the notice version, two digits; a refused notice is re-sent with the next."""
    if not 1 <= revision <= MAX_VERSION:
        raise RenderError(f"TED notice versions run from 01 to 99 (BT-757); got {revision}")
    return f"{revision:02d}"


def business_id(notice: str, notice_version: str) -> str:
    """eNotices2's businessId of a notice: `{BT-701}-{BT-757}`."""
    return f"{notice}-{notice_version}"


def split_business_id(value: str) -> tuple[str, str]:
    """(notice id, version) of a businessId; ValueError when it is not one."""
    notice, sep, notice_version = value.rpartition("-")
    if not sep or len(notice_version) != 2 or not notice_version.isdigit() or len(notice) != 36:
        raise ValueError(f"{value!r} is not a TED businessId ({{notice id}}-{{version}})")
    return notice, notice_version
