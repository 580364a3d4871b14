"""The one place a delivery becomes something to render: its `Notice` (kind, the tender version
it carries, why it was made, what changed, the award) and its `RenderContext` (buyer, dispatch time, and
the receipts of the earlier notices of the same procurement on this destination and on the
primary one). Used by the worker, `syndicator preview` and the tests alike.

    Procurement (versions + every delivery of one tender) --build(row, now)--> Job(notice, context)

`load` reads procurements from the store in four queries per batch; `preview` builds one in
memory for a record that is not (or not yet) in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, bindparam, select

from syndicator.channel.base import RenderContext
from syndicator.config.buyers import Buyers
from syndicator.domain.award import Award
from syndicator.domain.changes import diff
from syndicator.domain.notices import ChangeKind, Notice, NoticeKind, NoticeRef
from syndicator.domain.states import CARRIED, State
from syndicator.domain.tender import Tender
from syndicator.store.models import AwardRow, DeliveryRow, TenderRow, TenderVersionRow
from syndicator.store.transitions import Executor

Titles = Callable[[str], str]  # a destination's name as people know it


@dataclass(frozen=True)
class Version:
    """One version of a tender as the render needs it."""

    record: dict[str, Any]  # the JSON form, as stored
    reason: str | None = None
    change_kind: str | None = None
    parsed: Tender | None = None  # the record as a model, when the caller already holds it
    route: dict[str, Any] = field(default_factory=dict)  # the route this version was sent on

    def tender(self) -> Tender:
        """The record as a model (validated when it was accepted; read back as is)."""
        return self.parsed if self.parsed is not None else Tender.model_validate(self.record)


@dataclass(frozen=True)
class Row:
    """One delivery of the procurement, with the receipts a later notice may quote."""

    id: int
    destination: str
    kind: NoticeKind
    version: int
    state: State
    key: str
    revision: int = 1
    gate_id: int | None = None
    identity: str | None = None
    remote_id: str | None = None
    url: str | None = None
    publication_id: str | None = None
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    part: str | None = None


@dataclass
class Procurement:
    """A tender's versions and deliveries: everything its notices are rendered from."""

    tender_id: int
    buyer: str
    reference: str
    primary: str | None
    versions: dict[int, Version]
    rows: list[Row] = field(default_factory=list)
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    award: dict[str, Any] | None = None  # the award record as stored
    standstill_ends: date | None = None

    def row(self, delivery_id: int) -> Row:
        """One delivery by id."""
        return next(row for row in self.rows if row.id == delivery_id)


@dataclass(frozen=True)
class Job:
    """A delivery ready to render."""

    notice: Notice
    context: RenderContext


def _ref(row: Row, titles: Titles) -> NoticeRef:
    return NoticeRef(
        destination=row.destination,
        kind=row.kind,
        version=row.version,
        state=row.state.value,
        key=row.key,
        identity=row.identity,
        remote_id=row.remote_id,
        url=row.url,
        publication_id=row.publication_id,
        dispatched_at=row.submitted_at,
        published_at=row.published_at,
        title=titles(row.destination),
    )


def _carried(rows: Iterable[Row], destination: str, before: int) -> list[Row]:
    return [r for r in rows if r.destination == destination and r.id < before and r.state in CARRIED]


def build(
    procurement: Procurement,
    delivery_id: int,
    now: datetime,
    *,
    buyers: Buyers,
    vat_rate: Decimal,
    titles: Titles,
) -> Job:
    """The notice and context of one delivery of `procurement`, dispatched at `now`."""
    row = procurement.row(delivery_id)
    history = _carried(procurement.rows, row.destination, row.id)
    version = procurement.versions[row.version]
    tender = version.tender()
    notice = Notice(kind=row.kind, tender=tender, version=row.version)
    if row.kind is NoticeKind.CHANGE:
        carried = procurement.versions.get(history[-1].version) if history else None
        notice = Notice(
            kind=row.kind,
            tender=tender,
            version=row.version,
            reason=version.reason,
            correction=version.change_kind == ChangeKind.CORRECTION.value,
            changes=diff(carried.record, version.record) if carried else (),
        )
    elif row.kind in (NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS):
        notice = Notice(
            kind=row.kind,
            tender=tender,
            version=row.version,
            award=Award.model_validate(procurement.award) if procurement.award else None,
            part=row.part,
            standstill_ends=procurement.standstill_ends,
        )
    elif row.kind is NoticeKind.CANCELLATION:
        notice = Notice(
            kind=row.kind,
            tender=tender,
            version=row.version,
            reason=procurement.withdrawal_reason,
            withdrawn_at=procurement.withdrawn_at,
        )
    gate = next((r for r in procurement.rows if r.id == row.gate_id), None) if row.gate_id else None
    primary: list[Row] = []
    if procurement.primary and procurement.primary != row.destination:
        primary = _carried(procurement.rows, procurement.primary, 1 << 62)
    context = RenderContext(
        key=row.key,
        destination=row.destination,
        buyer=buyers.get(procurement.buyer),
        review_body=buyers.review_body,
        dispatched_at=now,
        revision=row.revision,
        vat_rate=vat_rate,
        history=tuple(_ref(r, titles) for r in history),
        follows=_ref(gate, titles) if gate is not None else None,
        primary=tuple(_ref(r, titles) for r in primary),
        regime=version.route.get("regime"),
        above_threshold=version.route.get("above_threshold"),
    )
    return Job(notice, context)


Names = Callable[[str, str], tuple[str | None, str | None]]  # (destination, key) -> (identity, remote id)
# (destination, sketched row number) -> an id the channel might have given an earlier notice it
# chose the id of itself (Crystal, Bluelight): the sketch cannot know it, and a change or
# cancellation names its target by it.
RemoteIds = Callable[[str, int], str | None]


def _no_names(destination: str, key: str) -> tuple[str | None, str | None]:
    return None, None


def sketch(
    tender: Tender,
    destination: str,
    now: datetime,
    *,
    primary: str | None = None,
    kind: NoticeKind = NoticeKind.CONTRACT,
    previous: Tender | None = None,
    reason: str | None = None,
    correction: bool = False,
    names: Names = _no_names,
    route: dict[str, Any] | None = None,
    award: Award | None = None,
    part: str | None = None,
    standstill_ends: date | None = None,
    remote_ids: RemoteIds | None = None,
) -> tuple[Procurement, int]:
    """A procurement in memory, for a record not in the store (`syndicator preview`, golden
    tests): the earlier notices a `kind` notice to `destination` would follow, published at
    `now`, and the delivery to render. A change or cancellation without `previous` refers to a
    contract notice of the same record. `remote_ids` fills in the channel's id of an earlier
    notice where `names` cannot derive it."""
    from syndicator.domain.keys import delivery_key

    latest = 2 if previous is not None or kind is NoticeKind.CHANGE else 1
    first = previous or tender
    versions = {1: Version(first.model_dump(mode="json"), parsed=first, route=route or {})}
    if latest == 2:
        change_kind = ChangeKind.CORRECTION if correction else ChangeKind.UPDATE
        versions[2] = Version(tender.model_dump(mode="json"), reason, change_kind.value, tender, route or {})
    procurement = Procurement(0, tender.buyer, tender.reference, primary, versions)
    if kind is NoticeKind.CANCELLATION:
        procurement.withdrawn_at, procurement.withdrawal_reason = now, reason
    if award is not None:
        procurement.award = award.model_dump(mode="json")
        procurement.standstill_ends = standstill_ends

    def add(
        where: str,
        notice: NoticeKind,
        version: int,
        state: State,
        gate: int | None = None,
        part: str | None = None,
    ) -> int:
        key = delivery_key(tender.buyer, tender.reference, version, where, notice, part)
        identity, remote_id = names(where, key)
        number = len(procurement.rows) + 1
        if remote_id is None and remote_ids is not None and state in CARRIED:
            remote_id = remote_ids(where, number)
        live = state is State.PUBLISHED
        row = Row(
            id=number,
            destination=where,
            kind=notice,
            version=version,
            state=state,
            key=key,
            gate_id=gate,
            identity=identity,
            remote_id=remote_id,
            submitted_at=now if state in CARRIED else None,
            published_at=now if live else None,
            part=part,
        )
        procurement.rows.append(row)
        return row.id

    follows = primary is not None and primary != destination and kind is not NoticeKind.CANCELLATION
    gate = None
    # What each kind follows on a destination: the advert, and for contract details the award.
    before = {
        NoticeKind.CONTRACT: [],
        NoticeKind.CHANGE: [NoticeKind.CONTRACT],
        NoticeKind.CANCELLATION: [NoticeKind.CONTRACT],
        NoticeKind.AWARD: [NoticeKind.CONTRACT],
        NoticeKind.CONTRACT_DETAILS: [NoticeKind.CONTRACT, NoticeKind.AWARD],
    }[kind]
    if follows and primary:
        for earlier in before:
            add(primary, earlier, 1, State.PUBLISHED)
        gate = add(primary, kind, latest, State.SUBMITTED, part=part)
    for earlier in before:
        add(destination, earlier, 1, State.PUBLISHED)
    return procurement, add(destination, kind, latest, State.PENDING, gate, part)


def route_primary(route: Mapping[str, Any]) -> str | None:
    """The primary destination a stored route names (routes stored before it was named say
    it through the other destinations' `after`)."""
    if route.get("primary"):
        return str(route["primary"])
    return next((str(e["after"]) for e in route.get("destinations", []) if e.get("after")), None)


_T, _V, _D = TenderRow, TenderVersionRow, DeliveryRow
_IDS: BindParameter[Any] = bindparam("tender_ids", expanding=True)
# Built once, executed with the ids: building and hashing them anew was a sixth of a claim.
_TENDERS = select(_T.id, _T.buyer, _T.reference, _T.route, _T.withdrawn_at, _T.withdrawal_reason).where(
    _T.id.in_(_IDS)
)
_VERSIONS = select(_V.tender_id, _V.version, _V.record, _V.reason, _V.change_kind, _V.route).where(
    _V.tender_id.in_(_IDS)
)
_AWARDS = select(AwardRow.tender_id, AwardRow.record, AwardRow.standstill_ends).where(
    AwardRow.tender_id.in_(_IDS)
)
_DELIVERIES = (
    select(
        _D.tender_id,
        _D.id,
        _D.destination,
        _D.notice,
        _D.version,
        _D.state,
        _D.key,
        _D.revision,
        _D.gate_id,
        _D.identity,
        _D.remote_id,
        _D.remote_url,
        _D.publication_id,
        _D.submitted_at,
        _D.published_at,
        _D.part,
    )
    .where(_D.tender_id.in_(_IDS))
    .order_by(_D.id)
)


def load(session: Executor, tender_ids: Sequence[int]) -> dict[int, Procurement]:
    """The procurements of `tender_ids`, with every version, award and delivery (four queries)."""
    if not tender_ids:
        return {}
    ids = {"tender_ids": list(tender_ids)}
    found: dict[int, Procurement] = {}
    for t in session.execute(_TENDERS, ids):
        found[t.id] = Procurement(
            t.id, t.buyer, t.reference, route_primary(t.route), {}, [], t.withdrawn_at, t.withdrawal_reason
        )
    for v in session.execute(_VERSIONS, ids):
        found[v.tender_id].versions[v.version] = Version(v.record, v.reason, v.change_kind, route=v.route)
    for a in session.execute(_AWARDS, ids):
        found[a.tender_id].award, found[a.tender_id].standstill_ends = a.record, a.standstill_ends
    for d in session.execute(_DELIVERIES, ids):
        found[d.tender_id].rows.append(
            Row(
                d.id,
                d.destination,
                NoticeKind(d.notice),
                d.version,
                State(d.state),
                d.key,
                d.revision,
                d.gate_id,
                d.identity,
                d.remote_id,
                d.remote_url,
                d.publication_id,
                d.submitted_at,
                d.published_at,
                d.part,
            )
        )
    return found


class ContextBuilder:
    """Builds jobs for claimed deliveries from configuration and the store."""

    def __init__(self, buyers: Buyers, vat_rate: Decimal, titles: Titles) -> None:
        self.buyers = buyers
        self.vat_rate = vat_rate
        self.titles = titles

    def job(self, procurement: Procurement, delivery_id: int, now: datetime) -> Job:
        """One delivery's job."""
        return build(
            procurement, delivery_id, now, buyers=self.buyers, vat_rate=self.vat_rate, titles=self.titles
        )

    def jobs(self, session: Executor, deliveries: Sequence[tuple[int, int]], now: datetime) -> dict[int, Job]:
        """Jobs for (delivery id, tender id) pairs, loading each procurement once."""
        procurements = load(session, sorted({tender_id for _, tender_id in deliveries}))
        return {
            delivery_id: self.job(procurements[tender_id], delivery_id, now)
            for delivery_id, tender_id in deliveries
        }
