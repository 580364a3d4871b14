"""Data for the page audits: the shipped example tenders plus one tender per delivery state, so
every badge, action form, timeline, message and empty state a page can show is on some page.

    held, submitted     NOTTS-2026-0142 (routed to TED: TED accepted it, the rest wait for it)
    pending, superseded EMSCU-2026-0500 (amended before it left: two versions)
    sending             EMSCU-2026-0501 (a worker holds it)
    retry_wait          EMSCU-2026-0504 (a 503), BL-2026-0601..0605 (five Bluelight 502s in a
                        row open its circuit breaker)
    published           the other examples, and EMSCU-2026-0502 (re-pushed by hand, then live)
    failed              EMSCU-2026-0420         needs_reconcile   EMSCU-2026-0421
    cancelled           EMSCU-2026-0503 (cancelled with a reason)
    not advertised      DERBYS-2026-0101 (below every threshold)
    awarded             EMSCU-FW-2026-0023 (signed), NORTHANTS-2026-0058 (lot 2 not awarded)

The engine, ops and token functions make every row, as in production: nothing is written by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from syndicator.channel.base import OutcomeUnknown, RejectedError, TransientError
from syndicator.domain.states import State
from syndicator.intake.amend import amend
from syndicator.intake.award import award
from syndicator.intake.award_records import read_awards
from syndicator.intake.records import read_bytes
from syndicator.ops import actions
from syndicator.runtime.wiring import tender_context
from syndicator.store.models import DeliveryRow, TenderRow
from syndicator.store.transitions import claim
from syndicator.web.tokens import create_token, revoke_token
from tests.conftest import EXAMPLES
from tests.unit.records_factory import valued
from tests.web.conftest import NAMES, Site, crystal_only

AWARDS = EXAMPLES / "awards" / "notts-2026-0142.json"

# A reference as long as the record allows (64 characters) and a documents address with no
# natural break: the worst case for a narrow screen.
LONG_REFERENCE = "EMSCU-2026-0999-REPLACEMENT-BODY-WORN-VIDEO-AND-DOCKING-STATIONS"
LONG_URL = (
    "https://emscu.example.police.uk/procurement/tenders/2026/EMSCU-2026-0999/documents/"
    "invitation-to-tender-and-specification-pack-version-3-final.zip"
)


@dataclass
class Seeded:
    """The seeded site and what the tests look up in it."""

    site: Site
    failed_delivery: int
    failed_reference: str
    references: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)

    def parameters(self) -> dict[str, list[str]]:
        """Values to visit for each path parameter a page route may have: every seeded tender
        whose page differs in kind (a page route with a parameter not named here fails its test,
        which asks for a value to be added)."""
        with self.site.store.sessions() as session:
            ids = {t.reference: str(t.id) for t in session.scalars(select(TenderRow))}
        return {
            "reference": self.references,
            "tender_id": [ids[r] for r in self.references],
            "delivery_id": [str(self.failed_delivery)],
            "output": ["html"],  # the printable lists (CSV and JSON are not pages)
        }


def _examples() -> list[dict]:
    found: list[dict] = []
    for path in sorted(EXAMPLES.glob("*.json")):
        loaded = json.loads(path.read_text())
        found.extend(loaded if isinstance(loaded, list) else [loaded])
    return found


def _deliver(site: Site, ids: list[int]) -> None:
    if ids:
        site.engine.dispatcher.deliver(ids)


def seed_every_state(site: Site) -> Seeded:
    """Fill `site` through the engine; returns where each state can be found."""
    engine, crystal, bluelight = site.engine, site.channels["crystal"], site.channels["bluelight"]
    for record in _examples():  # held (behind TED), submitted, published, not advertised
        _deliver(site, engine.submit(record))

    crystal.sends.append(
        RejectedError(
            "lot 2 has no title (HTTP 422)",
            status_code=422,
            excerpt='{"errors": [{"field": "lots[1].title", "message": "is required"}]}',
        )
    )
    title = "Body-worn video cameras and docking stations"
    [failed] = engine.submit(crystal_only("EMSCU-2026-0420", title=title))
    _deliver(site, [failed])

    crystal.sends.append(OutcomeUnknown("read timed out after 30 s", status_code=None))
    _deliver(site, engine.submit(crystal_only("EMSCU-2026-0421", title="Custody suite cleaning")))

    engine.submit(crystal_only("EMSCU-2026-0500", title="Fleet telematics units"))  # pending
    # amended before it left: version 1 superseded, version 2 pending (a versions table to show)
    amended = crystal_only("EMSCU-2026-0500", title="Fleet telematics units and installation")
    parsed, problems = read_bytes(
        json.dumps(amended).encode(), tender_context(site.config, site.clock().date())
    )
    assert not problems, problems
    amend(
        site.store.sessions,
        parsed[0],
        reason="installation added at the fleet manager's request",
        correction=False,
        policy=site.config.policy,
        thresholds=site.config.thresholds,
        actor=NAMES["operator"],
        now=site.clock(),
    )
    [sending] = engine.submit(crystal_only("EMSCU-2026-0501", title="Interview recording equipment"))
    with site.store.sessions.begin() as session:  # a worker holds it: claimed, not finished
        claim(session, [sending], "worker:seed", site.clock(), timedelta(minutes=5), [])

    crystal.sends.append(RejectedError("buyer id unknown (HTTP 400)", status_code=400))
    [repushed] = engine.submit(crystal_only("EMSCU-2026-0502", title="Forensic consumables"))
    _deliver(site, [repushed])
    operator = NAMES["operator"]
    actions.repush(
        site.store.sessions, repushed, actor=operator, reason="buyer id corrected", now=site.clock()
    )
    _deliver(site, [repushed])

    crystal.sends.append(TransientError("service unavailable (HTTP 503)", status_code=503))
    _deliver(site, engine.submit(crystal_only("EMSCU-2026-0504", title="Drone batteries")))
    crystal.sends.clear()

    cancelled = "EMSCU-2026-0503"
    engine.submit(crystal_only(cancelled, title="Horse transport vehicles"))
    actions.cancel(
        site.store.sessions, cancelled, actor=operator, reason="withdrawn by the buyer", now=site.clock()
    )

    for n in range(1, 6):  # five 502s in a row open Bluelight's circuit breaker
        bluelight.sends.append(TransientError("bad gateway (HTTP 502)", status_code=502))
        record = valued("15000", reference=f"BL-2026-060{n}", title=f"Stab vest covers, batch {n}")
        _deliver(site, engine.submit(record))

    # Awards: every lot awarded and signed (a call-off), and a lot not awarded; the Contracts
    # page lists their contracts (2027-Q1) and the tender pages show them.
    records, problems = read_awards(AWARDS)
    assert not problems, problems
    for item in records:
        if item.award.reference in ("EMSCU-FW-2026-0023", "NORTHANTS-2026-0058"):
            award(
                site.store.sessions,
                item,
                actor=operator,
                now=site.clock(),
                vat_rate=site.config.policy.vat_rate,
            )

    long = crystal_only(LONG_REFERENCE, title="Replacement body-worn video", documents_url=LONG_URL)
    _deliver(site, engine.submit(long))

    _, _ = create_token(site.store.sessions, "old-portal-integration", "operator", site.clock())
    revoke_token(site.store.sessions, "old-portal-integration", site.clock())

    with site.store.sessions() as session:
        states = {row.state: row.id for row in session.scalars(select(DeliveryRow).order_by(DeliveryRow.id))}
    missing = {s.value for s in State} - set(states)
    assert not missing, f"the seed has no delivery in {sorted(missing)}"
    return Seeded(
        site=site,
        failed_delivery=failed,
        failed_reference="EMSCU-2026-0420",
        references=[
            "NOTTS-2026-0142",
            "EMSCU-2026-0420",
            "EMSCU-2026-0421",
            "EMSCU-2026-0500",
            "EMSCU-2026-0501",
            "EMSCU-2026-0502",
            "EMSCU-2026-0504",
            cancelled,
            "DERBYS-2026-0101",
            "EMSCU-FW-2026-0023",
            "NORTHANTS-2026-0058",
            LONG_REFERENCE,
        ],
        states=states,
    )
