"""Building the `RenderContext` of each claimed delivery: the buyer, the review body, the
dispatch time, and, for adverts that follow a TED notice, that notice's id and dispatch date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from syndicator.channel.base import RenderContext, TedReference
from syndicator.config.settings import Config
from syndicator.domain.keys import ted_notice_id
from syndicator.domain.tender import Tender
from syndicator.store.models import DeliveryRow
from syndicator.store.transitions import Claimed, Executor


class ContextBuilder:
    """Makes render contexts from configuration and the store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.ted = config.policy.ted.destination

    def ted_references(self, session: Executor, tender_ids: set[int]) -> dict[int, TedReference]:
        """The TED delivery of each tender that has one."""
        if not tender_ids:
            return {}
        rows = session.execute(
            select(DeliveryRow.tender_id, DeliveryRow.key, DeliveryRow.submitted_at).where(
                DeliveryRow.tender_id.in_(tender_ids), DeliveryRow.destination == self.ted
            )
        )
        return {
            row.tender_id: TedReference(ted_notice_id(row.key), row.submitted_at)
            for row in rows
            if row.submitted_at is not None
        }

    def build(
        self, tender: Tender, claimed: Claimed, now: datetime, ted: TedReference | None
    ) -> RenderContext:
        """The context of one delivery."""
        return RenderContext(
            key=claimed.key,
            destination=claimed.destination,
            buyer=self.config.buyers.get(tender.buyer),
            review_body=self.config.buyers.review_body,
            dispatched_at=now,
            revision=claimed.revision,
            ted=ted if claimed.gate == self.ted else None,
            vat_rate=self.config.policy.vat_rate,
        )

    def for_claims(
        self,
        session: Executor,
        claimed: Sequence[Claimed],
        tenders: dict[int, Tender],
        now: datetime,
    ) -> dict[int, RenderContext]:
        """Contexts for a claimed batch, with one query for the TED references."""
        gated = {c.tender_id for c in claimed if c.gate == self.ted}
        references = self.ted_references(session, gated)
        return {c.id: self.build(tenders[c.tender_id], c, now, references.get(c.tender_id)) for c in claimed}
