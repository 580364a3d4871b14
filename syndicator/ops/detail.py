"""One tender as people see it: the record, its versions with what changed and the notices of
each, every delivery with its attempts. The one read model behind `syndicator show --json`,
`GET /api/tenders/{id}` and the tender page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndicator.ops.queries import attempts_of
from syndicator.store.models import AttemptRow, AwardRow, DeliveryRow, TenderRow, TenderVersionRow


def _day(when: date | None) -> str | None:
    return when.isoformat() if when else None


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
    award: AwardRow | None = None

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
            "awards": self.awards(),
            "deliveries": [self._delivery(d) for d in self.deliveries],
        }

    def awards(self) -> list[dict[str, Any]]:
        """One entry per lot of the award (empty before the award)."""
        award = self.award
        if award is None:
            return []
        found = []
        for entry in award.record.get("lots", []):
            contract = entry.get("contract") or {}
            found.append(
                {
                    "lot": entry.get("lot"),
                    "outcome": entry.get("outcome"),
                    "reason": entry.get("reason"),
                    "suppliers": entry.get("suppliers", []),
                    "value": entry.get("value"),
                    "contract": {"start": contract.get("start"), "end": contract.get("end")}
                    if contract
                    else None,
                    "decision_date": award.decision_date.isoformat(),
                    "award_notice_published_on": _day(award.award_notice_published_on),
                    "standstill_ends": _day(award.standstill_ends),
                    "signed_on": contract.get("signed_on"),
                }
            )
        return found

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
            "part": d.part,
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
    award = session.scalars(select(AwardRow).where(AwardRow.tender_id == tender.id)).first()
    return TenderDetail(tender, rows, attempts_of(session, [r.id for r in rows]), versions, award)
