"""Which notice each destination gets when a procurement moves on: a new version (submission
or amendment), a withdrawal, or a notice that can no longer follow its predecessor. Pure: it
reads what the store holds and says what to create, supersede and cancel; `schedule` writes it.

    a new version V, per destination D (route order, the primary first):
      D's unsent notices (held, pending, retry_wait, failed) ........... superseded, never sent
      nothing on D is (or may be) live .................................. contract notice vV
      a notice on D is live or with the channel ......................... change notice vV, after it
      D is no longer on the route but carries the advert ............... change notice vV, and a warning
    every notice that follows the primary (contract, change, award) waits for the primary's notice
    of this plan; a notice waits for the previous one on D until it is published.

    a withdrawal, per destination D:
      D's unsent notices ................................................ cancelled
      a notice on D is (or may be) live ................................. cancellation notice, after it
        (at once when D can stop a notice it has not published yet, e.g. TED's stop-publication)

    an award, per destination D that carries the advert and declares award notices:
      award notice, after D's latest notice (the primary's first, the others following it);
      when the primary's award notice states the contracts' conclusion (TED; Find a Tender
      under the PCR), every award notice waits until every awarded contract is signed (no
      national notice before the journal's, PCR 2015 reg. 52)
    a signed contract, per destination D that carries the award and declares contract details:
      contract details notice for that contract, after D's award notice; and when it was the
      last contract to be signed, the award notice on every D that waited for that
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from syndicator.domain.notices import FOLLOWS_PRIMARY, Carrier, NoticeKind
from syndicator.domain.states import CARRIED, ENDED, UNSENT, State

Carriers = Callable[[str], Carrier]


@dataclass(frozen=True)
class Existing:
    """A delivery already in the store."""

    id: int
    destination: str
    kind: NoticeKind
    version: int
    state: State
    gate_id: int | None = None


@dataclass(frozen=True)
class NewNotice:
    """A delivery to create."""

    destination: str
    kind: NoticeKind
    version: int
    previous: int | None = None  # the notice on the same destination this one follows
    waits_previous: bool = False  # held until `previous` is published
    follows_primary: bool = False  # held until the primary's new notice in this plan is published
    gate_id: int | None = None  # held until this (already stored) primary notice is published
    part: str | None = None  # which contract a contract details notice is about

    @property
    def held(self) -> bool:
        """Whether it waits for anything before it may be sent."""
        return self.waits_previous or self.follows_primary or self.gate_id is not None


@dataclass(frozen=True)
class Step:
    """What one destination gets, in a sentence for the person who asked."""

    destination: str
    kind: NoticeKind | None  # None: nothing is sent there
    text: str

    def as_dict(self) -> dict[str, str | None]:
        """The JSON form."""
        return {
            "destination": self.destination,
            "notice": self.kind.value if self.kind else None,
            "text": self.text,
        }


@dataclass
class Plan:
    """What to write to the store for one step of a procurement's life."""

    version: int
    primary: str | None = None
    create: list[NewNotice] = field(default_factory=list)
    supersede: list[int] = field(default_factory=list)
    cancel: list[int] = field(default_factory=list)
    repoint: list[tuple[int, int | None]] = field(default_factory=list)  # (held, new previous)
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # kinds a destination cannot carry: refuse

    def ordered(self) -> list[NewNotice]:
        """The primary's notice first: the others' gates point at it."""
        return sorted(self.create, key=lambda notice: notice.destination != self.primary)


def _by_destination(existing: Iterable[Existing]) -> dict[str, list[Existing]]:
    found: dict[str, list[Existing]] = {}
    for row in sorted(existing, key=lambda row: row.id):
        found.setdefault(row.destination, []).append(row)
    return found


def _carried(rows: Sequence[Existing]) -> Existing | None:
    """The latest notice this destination has, or may have (published or with the channel)."""
    live = [row for row in rows if row.state in CARRIED]
    return live[-1] if live else None


def _waiting(previous: Existing | None) -> str:
    if previous is None or previous.state is State.PUBLISHED:
        return ""
    return (
        f", after the {previous.kind.value} notice v{previous.version} there "
        f"({previous.state.value}) is published"
    )


def plan_version(
    existing: Iterable[Existing],
    route: Sequence[str],
    primary: str | None,
    version: int,
    carriers: Carriers,
) -> Plan:
    """Notices for version `version` of a tender routed to `route` (the first submission when
    nothing exists yet, an amendment otherwise)."""
    by_destination = _by_destination(existing)
    plan = Plan(version)
    destinations = list(dict.fromkeys([*route, *by_destination]))
    if primary in destinations:
        destinations.remove(primary)
        destinations.insert(0, primary)
    primary_sends = False
    for destination in destinations:
        rows = by_destination.get(destination, [])
        plan.supersede += [row.id for row in rows if row.state in UNSENT]
        carried = _carried(rows)
        if destination not in route and carried is None:
            if rows:
                plan.steps.append(
                    Step(destination, None, "no longer required; its unsent notice is superseded")
                )
            continue
        kind = NoticeKind.CHANGE if carried is not None else NoticeKind.CONTRACT
        if kind not in carriers(destination).notices:
            plan.problems.append(f"{destination} cannot carry a {kind.value} notice")
            continue
        follows = primary_sends and destination != primary and kind in FOLLOWS_PRIMARY
        notice = NewNotice(
            destination,
            kind,
            version,
            previous=carried.id if carried else None,
            waits_previous=carried is not None and carried.state is not State.PUBLISHED,
            follows_primary=follows,
        )
        plan.create.append(notice)
        if destination == primary:
            primary_sends = True
            plan.primary = primary
        text = f"{kind.value} notice v{version}" + _waiting(carried)
        if follows:
            text += f", once {primary} has published its notice"
        if destination not in route:
            plan.warnings.append(
                f"{destination} is no longer required by the routing rules; "
                "it keeps its advert and gets this change"
            )
            text += " (no longer required by the rules; it keeps its advert)"
        plan.steps.append(Step(destination, kind, text))
    return plan


def plan_withdrawal(existing: Iterable[Existing], version: int, carriers: Carriers) -> Plan:
    """Cancellation notices wherever the advert is (or is about to be), unsent notices cancelled."""
    plan = Plan(version)
    for destination, rows in _by_destination(existing).items():
        plan.cancel += [row.id for row in rows if row.state in UNSENT]
        carried = _carried(rows)
        if carried is None:
            if any(row.state in UNSENT for row in rows):
                plan.steps.append(
                    Step(destination, None, "nothing was published there; unsent notices cancelled")
                )
            continue
        carrier = carriers(destination)
        if NoticeKind.CANCELLATION not in carrier.notices:
            plan.warnings.append(
                f"{destination} cannot carry a cancellation notice: withdraw the advert there by hand"
            )
            plan.steps.append(
                Step(destination, None, "cannot carry a cancellation notice: withdraw it by hand")
            )
            continue
        stoppable = carrier.stops_unpublished and carried.state is State.SUBMITTED
        waits = carried.state is not State.PUBLISHED and not stoppable
        plan.create.append(
            NewNotice(
                destination, NoticeKind.CANCELLATION, version, previous=carried.id, waits_previous=waits
            )
        )
        text = f"cancellation notice v{version}"
        text += ", stopping the notice it has not published yet" if stoppable else _waiting(carried)
        plan.steps.append(Step(destination, NoticeKind.CANCELLATION, text))
    return plan


def plan_unblocked(existing: Iterable[Existing], held: Existing, carriers: Carriers) -> Plan:
    """A held notice whose previous notice on its destination will never be published (failed,
    superseded or cancelled): it follows the latest notice still live there instead, or, when
    nothing is, a change becomes the contract notice of its version and a cancellation has
    nothing left to cancel. The failed predecessor is superseded: this notice replaces it."""
    rows = [row for row in existing if row.destination == held.destination]
    plan = Plan(held.version)
    plan.supersede += [row.id for row in rows if row.state is State.FAILED and row.id < held.id]
    carried = _carried([row for row in rows if row.id != held.id])
    if carried is not None:
        plan.repoint.append((held.id, carried.id))
        plan.steps.append(Step(held.destination, held.kind, f"now follows delivery {carried.id}"))
    elif held.kind is NoticeKind.CHANGE:
        plan.supersede.append(held.id)
        if NoticeKind.CONTRACT in carriers(held.destination).notices:
            plan.create.append(
                NewNotice(held.destination, NoticeKind.CONTRACT, held.version, gate_id=held.gate_id)
            )
            plan.steps.append(Step(held.destination, NoticeKind.CONTRACT, f"contract notice v{held.version}"))
    elif held.kind is NoticeKind.CANCELLATION:
        plan.cancel.append(held.id)
        plan.steps.append(Step(held.destination, None, "nothing left to cancel"))
    else:
        plan.repoint.append((held.id, None))
        plan.steps.append(Step(held.destination, held.kind, "no longer waits for an earlier notice"))
    return plan


def _live_kinds(rows: Sequence[Existing]) -> set[NoticeKind]:
    return {row.kind for row in rows if row.state in CARRIED}


def plan_award(
    existing: Iterable[Existing],
    version: int,
    primary: str | None,
    carriers: Carriers,
    all_signed: bool = False,
) -> Plan:
    """Award notices wherever the advert is (not where it was withdrawn): the primary's first.
    A destination whose award notice states the conclusion of the contracts gets it once
    `all_signed` (every awarded contract signed)."""
    plan = Plan(version)
    by_destination = _by_destination(existing)
    destinations = list(by_destination)
    if primary in destinations:
        destinations.remove(primary)
        destinations.insert(0, primary)
    primary_sends = False
    if not all_signed and primary in by_destination and carriers(primary).award_after_signature:
        return _deferred(plan, by_destination, destinations, primary, carriers)
    for destination in destinations:
        rows = by_destination[destination]
        carried = _carried(rows)
        if carried is None or NoticeKind.CANCELLATION in _live_kinds(rows):
            continue
        carrier = carriers(destination)
        if NoticeKind.AWARD not in carrier.notices:
            plan.steps.append(Step(destination, None, "does not carry award notices"))
            continue
        if carrier.award_after_signature and not all_signed:
            plan.steps.append(
                Step(destination, None, "award notice once every awarded contract is signed (it states when)")
            )
            continue
        follows = primary_sends and destination != primary
        plan.create.append(
            NewNotice(
                destination,
                NoticeKind.AWARD,
                version,
                previous=carried.id,
                waits_previous=carried.state is not State.PUBLISHED,
                follows_primary=follows,
            )
        )
        if destination == primary:
            primary_sends, plan.primary = True, primary
        text = f"award notice v{version}" + _waiting(carried)
        if follows:
            text += f", once {primary} has published its award notice"
        plan.steps.append(Step(destination, NoticeKind.AWARD, text))
    return plan


def plan_contract_details(
    existing: Iterable[Existing],
    version: int,
    part: str,
    primary: str | None,
    carriers: Carriers,
    all_signed: bool = False,
) -> Plan:
    """A contract details notice for one signed contract wherever the award notice is; when
    `all_signed`, the award notice where it waited for the signatures."""
    existing = list(existing)
    plan = _awards_after_signature(existing, version, primary, carriers) if all_signed else Plan(version)
    by_destination = _by_destination(existing)
    destinations = list(by_destination)
    if primary in destinations:
        destinations.remove(primary)
        destinations.insert(0, primary)
    primary_sends = False
    for destination in destinations:
        rows = by_destination[destination]
        # The award notice this destination carries, or is about to (sent with the award).
        awards = [row for row in rows if row.kind is NoticeKind.AWARD and row.state not in ENDED]
        if not awards or NoticeKind.CONTRACT_DETAILS not in carriers(destination).notices:
            continue
        if any(new.destination == destination for new in plan.create):
            continue
        carried = awards[-1]
        follows = primary_sends and destination != primary
        plan.create.append(
            NewNotice(
                destination,
                NoticeKind.CONTRACT_DETAILS,
                version,
                previous=carried.id,
                waits_previous=carried.state is not State.PUBLISHED,
                follows_primary=follows,
                part=part,
            )
        )
        if destination == primary:
            primary_sends, plan.primary = True, primary
        plan.steps.append(
            Step(
                destination,
                NoticeKind.CONTRACT_DETAILS,
                f"contract details notice ({part})" + _waiting(carried),
            )
        )
    return plan


def _deferred(
    plan: Plan,
    by_destination: dict[str, list[Existing]],
    destinations: list[str],
    primary: str,
    carriers: Carriers,
) -> Plan:
    """Nothing yet: the primary's award notice states when each contract was concluded, and
    the others follow it."""
    for destination in destinations:
        rows = by_destination[destination]
        if _carried(rows) is None or NoticeKind.CANCELLATION in _live_kinds(rows):
            continue
        if NoticeKind.AWARD not in carriers(destination).notices:
            plan.steps.append(Step(destination, None, "does not carry award notices"))
            continue
        text = "award notice once every awarded contract is signed"
        if destination != primary:
            text += f", after {primary}'s (which states when each was concluded)"
        plan.steps.append(Step(destination, None, text))
    return plan


def _awards_after_signature(
    existing: list[Existing], version: int, primary: str | None, carriers: Carriers
) -> Plan:
    """The award notices that waited for every contract to be signed, now due: wherever the
    advert is and no award notice is yet."""
    awarded = {row.destination for row in existing if row.kind is NoticeKind.AWARD and row.state not in ENDED}
    if primary is None or primary in awarded or not carriers(primary).award_after_signature:
        waiting = {row.destination for row in existing if carriers(row.destination).award_after_signature}
    else:
        waiting = {row.destination for row in existing}
    destinations = waiting - awarded
    return plan_award(
        [row for row in existing if row.destination in destinations],
        version,
        primary,
        carriers,
        all_signed=True,
    )
