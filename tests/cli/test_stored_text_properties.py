"""Every command that prints stored text, fed arbitrary Unicode from the database (markup
brackets, escape sequences, bidi controls, NUL: SQLite keeps them all), exits 0 and writes no
raw control character; the --json forms give back exactly what was stored."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from syndicator.cli.app import app
from syndicator.domain.states import State
from syndicator.runtime.wiring import Store
from syndicator.store.models import AttemptRow, AuditRow, DeliveryRow, TenderRow
from tests.conftest import ROOT
from tests.services import empty_tables, migrated_store

HOSTILE = [
    "[/]",
    "[bold red]",
    "[link=https://evil.example]",
    "\x1b[2J",
    "\x1b]8;;https://evil.example\x1b\\",
    "\r",
    "\x00",
    "\x07",
    "\x9b31m",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u2028",
    ":warning:",
    "\\",
    "%s",
    "\n",
    "\t",
]
texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), max_size=8).map("".join),
)
COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["show", "1"],
    ["show", "1", "--json"],
    ["channels"],
    ["channels", "--json"],
    ["audit"],
    ["audit", "--json"],
    ["repush", "--all", "--dry-run", "--reason", "look first"],  # lists last errors
]
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
runner = CliRunner()


def raw_controls(output: str) -> list[str]:
    """Characters a terminal would act on instead of showing (newline and tab are layout)."""
    categories = {"Cc", "Cf", "Zl", "Zp", "Cs"}
    return [c for c in output if c not in "\n\t" and unicodedata.category(c) in categories]


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = migrated_store(f"sqlite:///{tmp_path_factory.mktemp('stored-text') / 'store.db'}")
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def environment(sqlite_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setenv("SYNDICATOR_DATABASE_URL", sqlite_store.engine.url.render_as_string(hide_password=False))
    patch.setenv("SYNDICATOR_CONFIG_DIR", str(ROOT / "config"))
    patch.setenv("SYNDICATOR_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    yield
    patch.undo()


def _store(store: Store, text: dict[str, str], state: str) -> None:
    empty_tables(store)
    with store.sessions.begin() as session:
        tender = TenderRow(
            id=1,
            buyer=text["buyer"],
            reference=text["reference"],
            title=text["title"],
            record={
                "estimated_value": {"amount": "60000.00", "vat_included": False},
                "contract_type": text["contract_type"],
                "procedure": text["procedure"],
            },
            content_hash="0" * 64,
            route={
                "destinations": [{"destination": "crystal", "reasons": [text["why"]]}],
                "not_advertised": text["not_advertised"] or None,
            },
            submitted_by=text["actor"],
            created_at=AT,
        )
        session.add(tender)
        session.flush()
        for number, destination in enumerate(("crystal", text["destination"]), start=1):
            session.add(
                DeliveryRow(
                    id=number,
                    tender_id=1,
                    buyer=text["buyer"],
                    destination=destination,
                    state=state,
                    key=f"key-{number}",
                    attempts=1,
                    remote_id=text["remote_id"],
                    remote_url=text["url"],
                    last_error=text["error"],
                    next_attempt_at=AT,
                    created_at=AT,
                    updated_at=AT,
                )
            )
            session.flush()
            session.add(
                AttemptRow(
                    delivery_id=number,
                    kind="send",
                    trigger="manual",
                    actor=text["actor"],
                    started_at=AT,
                    finished_at=AT,
                    duration_ms=5,
                    outcome="failed",
                    error_class="rejected",
                    status_code=422,
                    message=text["error"],
                    excerpt=text["excerpt"],
                    remote_id=text["remote_id"],
                )
            )
        session.add(
            AuditRow(
                at=AT,
                actor=text["actor"],
                action="repush",
                tender_id=1,
                delivery_id=1,
                reason=text["reason"],
                details={"note": text["reason"]},
            )
        )


FIELDS = [
    "buyer",
    "reference",
    "title",
    "contract_type",
    "procedure",
    "why",
    "not_advertised",
    "actor",
    "destination",
    "remote_id",
    "url",
    "error",
    "excerpt",
    "reason",
]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.fixed_dictionaries({name: texts for name in FIELDS}),
    state=st.sampled_from([s.value for s in State]),
)
def test_stored_text_is_printed_safely_by_every_command(
    sqlite_store: Store, environment: None, text: dict[str, str], state: str
) -> None:
    _store(sqlite_store, text, state)
    for command in COMMANDS:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert raw_controls(result.output) == [], (command, result.output)
    audit = json.loads(runner.invoke(app, ["audit", "--json"]).stdout)["audit"][0]
    assert (audit["reason"], audit["actor"]) == (text["reason"], text["actor"])
    shown = json.loads(runner.invoke(app, ["show", "1", "--json"]).stdout)
    assert shown["tender"]["title"] == text["title"]
    assert shown["deliveries"][0]["remote_id"] == text["remote_id"]
    assert shown["deliveries"][0]["timeline"][0]["excerpt"] == text["excerpt"]


def test_the_property_catches_a_raw_escape(tmp_path: Path) -> None:
    """The check above is not vacuous: an ESC, a bidi override and a C1 CSI are all caught."""
    assert raw_controls("a\x1b[2Jb\u202ec\x9b") == ["\x1b", "\u202e", "\x9b"]
    assert raw_controls("line\nnext\tcolumn [/] £ — ü") == []
