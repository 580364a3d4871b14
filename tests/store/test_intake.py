"""Submitting tenders: one transaction per tender, enqueue after commit, idempotent resubmission."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from syndicator.config.settings import Config
from syndicator.domain.keys import delivery_key
from syndicator.domain.states import State
from syndicator.intake.records import Parsed, read_bytes
from syndicator.intake.submit import Outcome, submit
from syndicator.runtime.wiring import Store, tender_context
from syndicator.store.models import DeliveryRow, TenderRow
from tests.unit.records_factory import record, valued

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def parse(config: Config, *records: dict, today: date = date(2026, 11, 26)) -> list[Parsed]:
    parsed, problems = read_bytes(json.dumps(list(records)).encode(), tender_context(config, today))
    assert not problems, problems
    return parsed


def count(store: Store, model: type) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def deliveries(store: Store) -> dict[str, DeliveryRow]:
    with store.sessions() as session:
        return {row.destination: row for row in session.scalars(select(DeliveryRow))}


def test_a_tender_is_stored_with_one_delivery_per_destination(store: Store, config: Config) -> None:
    queued: list[list[int]] = []
    [result] = submit(
        store.sessions,
        parse(config, valued("50000", cpv=["45000000-7"])),
        config.policy,
        config.thresholds,
        "alice",
        NOW,
        queued.append,
    )
    assert result.outcome is Outcome.CREATED
    rows = deliveries(store)
    assert sorted(rows) == [
        "bluelight",
        "crystal",
        "find-a-tender",
        "source-east-midlands",
        "trade-press:construction-press",
    ]
    assert rows["find-a-tender"].state == State.PENDING  # PA2023: the primary, sent first
    assert {row.state for name, row in rows.items() if name != "find-a-tender"} == {State.HELD}
    assert rows["crystal"].key == delivery_key("emscu", "TEST-2026-0001", 1, "crystal")
    assert all(row.attempts == 0 for row in rows.values())
    assert queued == [[rows["find-a-tender"].id]]


@pytest.mark.parametrize(
    ("commenced", "primary"),
    [("2026-11-02", "find-a-tender"), ("2023-05-02", "find-a-tender"), ("2020-11-16", "ted")],
    ids=["pa2023", "pcr-uk", "ojeu"],
)
def test_the_primary_route_holds_the_others(
    store: Store, config: Config, commenced: str, primary: str
) -> None:
    queued: list[list[int]] = []
    submit(
        store.sessions,
        parse(config, valued("500000", procurement_commenced_on=commenced)),
        config.policy,
        config.thresholds,
        "a",
        NOW,
        queued.append,
    )
    rows = deliveries(store)
    assert rows[primary].state == State.PENDING
    held = [row for name, row in rows.items() if name != primary]
    assert held and all(
        row.state == State.HELD and row.gate == primary and row.next_attempt_at is None for row in held
    )
    assert queued == [[rows[primary].id]]


def test_enqueue_happens_after_commit(store: Store, config: Config) -> None:
    seen: list[int] = []

    def enqueue(ids: list[int]) -> None:
        with store.sessions() as other:  # another connection sees the committed rows
            seen.append(
                other.scalar(select(func.count()).select_from(DeliveryRow).where(DeliveryRow.id.in_(ids)))
                or 0
            )

    submit(
        store.sessions,
        parse(config, valued("50000")),
        config.policy,
        config.thresholds,
        "a",
        NOW,
        enqueue,
    )
    assert seen == [1]  # the primary; the others wait for its notice


def test_identical_resubmission_is_a_no_op(store: Store, config: Config) -> None:
    submit(store.sessions, parse(config, record()), config.policy, config.thresholds, "a", NOW)
    queued: list[list[int]] = []
    [again] = submit(
        store.sessions,
        parse(config, record()),
        config.policy,
        config.thresholds,
        "b",
        NOW,
        queued.append,
    )
    assert again.outcome is Outcome.UNCHANGED and "already submitted" in again.message
    assert count(store, TenderRow) == 1 and queued == []


def test_defaulted_publication_date_does_not_make_a_resubmission_different(
    store: Store, config: Config
) -> None:
    first = record(publication_date=..., submission_deadline="2027-03-01T12:00:00Z")
    submit(store.sessions, parse(config, first), config.policy, config.thresholds, "a", NOW)
    [again] = submit(
        store.sessions,
        parse(config, first, today=date(2026, 11, 27)),
        config.policy,
        config.thresholds,
        "a",
        NOW,
    )
    assert again.outcome is Outcome.UNCHANGED


def test_a_changed_record_with_the_same_reference_is_refused(store: Store, config: Config) -> None:
    submit(store.sessions, parse(config, record()), config.policy, config.thresholds, "a", NOW)
    [changed] = submit(
        store.sessions,
        parse(config, record(title="Another title")),
        config.policy,
        config.thresholds,
        "a",
        NOW,
    )
    assert changed.outcome is Outcome.CONFLICT and "syndicator amend" in changed.message
    assert count(store, TenderRow) == 1


def test_the_same_reference_for_another_buyer_is_a_different_tender(store: Store, config: Config) -> None:
    submit(
        store.sessions,
        parse(config, record(), record(buyer="derbyshire-constabulary")),
        config.policy,
        config.thresholds,
        "a",
        NOW,
    )
    assert count(store, TenderRow) == 2


def test_a_tender_not_advertised_is_recorded_without_deliveries(store: Store, config: Config) -> None:
    [result] = submit(
        store.sessions, parse(config, valued("9000")), config.policy, config.thresholds, "a", NOW
    )
    assert result.outcome is Outcome.CREATED and result.destinations == []
    assert "not advertised" in result.message
    assert count(store, TenderRow) == 1 and count(store, DeliveryRow) == 0


def test_stored_record_and_route(store: Store, config: Config) -> None:
    submit(store.sessions, parse(config, record()), config.policy, config.thresholds, "alice", NOW)
    with store.sessions() as session:
        row = session.scalars(select(TenderRow)).one()
    assert row.record["estimated_value"]["amount"] == "100000.00"
    assert row.route["destinations"][0]["destination"] == "find-a-tender"  # the primary first
    assert row.submitted_by == "alice" and row.created_at == NOW and row.version == 1
