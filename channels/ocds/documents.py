"""OCDS documents (release-schema.json definition Document), and the one a national advert
needs: the official-journal notice it follows.

PCR 2015 reg 52(3)-(4): a national advert may not appear before the notice on the primary
destination (TED for procedures begun there, Find a Tender otherwise) and must state the date
that notice was sent. OCDS 1.1 has no field of its own for either, so the notice is listed as a
document whose description says which notice it is and when it was dispatched. Nothing here
knows which destination is primary: everything comes from the `NoticeRef` the core gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels.ocds.codelists import DocumentType
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender

# What an official-journal notice of each kind is, as an OCDS document type and in words.
NOTICE_DOCUMENT = {
    NoticeKind.CONTRACT: (DocumentType.TENDER_NOTICE, "Contract notice"),
    NoticeKind.CHANGE: (DocumentType.TENDER_NOTICE, "Change notice"),
    NoticeKind.CANCELLATION: (DocumentType.CANCELLATION_DETAILS, "Cancellation notice"),
    NoticeKind.AWARD: (DocumentType.AWARD_NOTICE, "Contract award notice"),
    NoticeKind.CONTRACT_DETAILS: (DocumentType.CONTRACT_NOTICE, "Contract details notice"),
}


def document(
    document_id: str,
    kind: DocumentType,
    title: str,
    *,
    description: str | None = None,
    url: str | None = None,
    published: datetime | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """One Document, fields in a fixed order."""
    found: dict[str, Any] = {"id": document_id, "documentType": str(kind), "title": title}
    if description is not None:
        found["description"] = description
    if url is not None:
        found["url"] = url
    if published is not None:
        found["datePublished"] = published
    found["language"] = language
    return found


def tender_documents(tender: Tender) -> list[dict[str, Any]]:
    """The buyer's page for the tender documents, when the record gives one."""
    if not tender.documents_url:
        return []
    url = tender.documents_url
    return [document("tender-documents", DocumentType.TENDER_NOTICE, "Tender documents", url=url)]


def primary_notice(ref: NoticeRef) -> dict[str, Any]:
    """The primary destination's notice this one follows: which notice it is (its publication
    number, else the identity we gave it, else the destination's own id), when it was sent, and
    where it is published once it is."""
    kind, words = NOTICE_DOCUMENT[ref.kind]
    name = ref.title or ref.destination
    known_as = ref.identity or ref.remote_id
    parts = [f"{name} notice {known_as}" if known_as else f"{name} notice"]
    if ref.dispatched_at is not None:
        parts.append(f"dispatched on {ref.dispatched_at.astimezone(UTC).date().isoformat()}")
    if ref.publication_id:
        parts.append(f"published as {ref.publication_id}")
    return document(
        f"{ref.destination}-{ref.kind.value}-v{ref.version}",
        kind,
        f"{words} sent to {name}",
        description=", ".join(parts),
        url=ref.url,
        published=ref.published_at,
    )
