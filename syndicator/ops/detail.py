"""One tender as people see it: the record, its versions with what changed and the notices of
each, every delivery with its attempts. The one read model behind `syndicator show --json`,
`GET /api/tenders/{id}` and the tender page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndicator.ops.queries import attempts_of
from syndicator.store.models import AttemptRow, DeliveryRow, TenderRow, TenderVersionRow


def iso(when: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return when.astimezone(UTC).isoformat() if when else None


@dataclass
class TenderDetail:
    """One tender with its route, deliveries and every attempt."""

    tender: TenderRow
    deliveries: list[DeliveryRow]
    attempts: dict[int, list[AttemptRow]]
    versions: list[TenderVersionRow] = field(default_factory=list)

    def notices_of(self, version: int) -> list[DeliveryRow]:
        """The deliveries carrying one version, in the order they were created."""
        return [d for d in self.deliveries if d.version == version]

    def reasons(self) -> dict[str, dict[str, Any]]:
        """Route entry per destination: reasons and the gate it waits for."""
        return {e["destination"]: e for e in self.tender.route.get("destinations", [])}

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of `GET /api/tenders/{id}` (the shape of `syndicator show --json`)."""
        t = self.tender
        return {
            "tender": {
                "id": t.id,
                "reference": t.reference,
                "buyer": t.buyer,
                "title": t.title,
                "version": t.version,
                "submitted_by": t.submitted_by,
                "created_at": iso(t.created_at),
                "cancelled_at": iso(t.cancelled_at),
                "withdrawn_at": iso(t.withdrawn_at),
                "withdrawn_by": t.withdrawn_by,
                "withdrawal_reason": t.withdrawal_reason,
                "record": t.record,
            },
            "route": t.route,
            "versions": [self._version(v) for v in self.versions],
            "deliveries": [self._delivery(d) for d in self.deliveries],
        }

    def _version(self, v: TenderVersionRow) -> dict[str, Any]:
        return {
            "version": v.version,
            "submitted_by": v.submitted_by,
            "created_at": iso(v.created_at),
            "reason": v.reason,
            "kind": v.change_kind,
            "changes": v.changes,
            "notices": [
                {"delivery_id": d.id, "destination": d.destination, "notice": d.notice, "state": d.state}
                for d in self.notices_of(v.version)
            ],
        }

    def _delivery(self, d: DeliveryRow) -> dict[str, Any]:
        return {
            "id": d.id,
            "destination": d.destination,
            "notice": d.notice,
            "version": d.version,
            "state": d.state,
            "key": d.key,
            "revision": d.revision,
            "attempts": d.attempts,
            "identity": d.identity,
            "remote_id": d.remote_id,
            "url": d.remote_url,
            "publication_id": d.publication_id,
            "last_error": d.last_error,
            "next_attempt_at": iso(d.next_attempt_at),
            "published_at": iso(d.published_at),
            "media_type": d.media_type,
            "timeline": [
                {
                    "at": iso(a.started_at),
                    "finished_at": iso(a.finished_at),
                    "kind": a.kind,
                    "trigger": a.trigger,
                    "actor": a.actor,
                    "outcome": a.outcome,
                    "error_class": a.error_class,
                    "status_code": a.status_code,
                    "message": a.message,
                    "excerpt": a.excerpt,
                    "remote_id": a.remote_id,
                }
                for a in self.attempts.get(d.id, [])
            ],
        }


def tender_detail(session: Session, tender: TenderRow) -> TenderDetail:
    """Load everything the tender page and `GET /api/tenders/{id}` show."""
    rows = list(
        session.scalars(
            select(DeliveryRow).where(DeliveryRow.tender_id == tender.id).order_by(DeliveryRow.id)
        )
    )
    versions = list(
        session.scalars(
            select(TenderVersionRow)
            .where(TenderVersionRow.tender_id == tender.id)
            .order_by(TenderVersionRow.version)
        )
    )
    return TenderDetail(tender, rows, attempts_of(session, [r.id for r in rows]), versions)
