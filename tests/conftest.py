"""Fixtures every test layer shares: the shipped configuration, the example tenders, and a
fixed render context so rendered notices are deterministic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syndicator.channel.base import RenderContext
from syndicator.channel.registry import family, names, title
from syndicator.config.settings import REPO_CONFIG, Config, Settings, load_config
from syndicator.domain.award import Award
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Tender
from syndicator.intake.records import read_file
from syndicator.notices.context import Job, build, sketch
from syndicator.routing.destinations import route
from syndicator.runtime.wiring import tender_context

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
TODAY = date(2026, 11, 26)
DISPATCHED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The ids channels that choose their own would have given sketched earlier notices (a change or
# cancellation names its target by it), in each channel's own format.
SKETCHED_REMOTE_IDS = {"crystal": "CRY-{:06d}", "bluelight": "BL-2026-{:06d}"}


def sketched_remote_id(destination: str, number: int) -> str | None:
    """A plausible channel id for the `number`-th sketched notice (None: the key names it)."""
    pattern = SKETCHED_REMOTE_IDS.get(family(destination))
    return pattern.format(number) if pattern else None


def shared_standards() -> Path:
    """`../shared/standards` (or $SYNDICATOR_SHARED_DIR/standards), or skip (never in CI)."""
    import os

    folder = Path(os.environ.get("SYNDICATOR_SHARED_DIR", SHARED)) / "standards"
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is missing in CI")
        pytest.skip(f"{folder} is not on this machine (reference standards live beside the project)")
    return folder


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped configuration."""
    return load_config(Settings(config_dir=REPO_CONFIG, _env_file=None))  # type: ignore[call-arg]


def load_examples(config: Config) -> dict[str, Tender]:
    """Every shipped example tender by file stem."""
    context = tender_context(config, TODAY)
    found = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        parsed, problems = read_file(path, context)
        assert not problems, problems
        for item in parsed:
            found[path.stem if len(parsed) == 1 else item.tender.reference] = item.tender
    return found


@pytest.fixture(scope="session")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped example tenders, validated as of a fixed date."""
    return load_examples(config)


def contract(tender: Tender) -> Notice:
    """The contract notice (the advert) of a tender's first version."""
    return Notice(NoticeKind.CONTRACT, tender)


def render_context(
    config: Config,
    tender: Tender,
    destination: str,
    *,
    revision: int = 1,
    kind: NoticeKind = NoticeKind.CONTRACT,
    previous: Tender | None = None,
) -> RenderContext:
    """The context the engine would build for `destination`, at a fixed dispatch time: built
    by the product's own context builder over a sketch of the earlier notices."""
    return render_job(config, tender, destination, revision=revision, kind=kind, previous=previous).context


def render_job(
    config: Config,
    tender: Tender,
    destination: str,
    *,
    revision: int = 1,
    kind: NoticeKind = NoticeKind.CONTRACT,
    previous: Tender | None = None,
    reason: str | None = None,
    correction: bool = False,
    award: Award | None = None,
    part: str | None = None,
    standstill_ends: date | None = None,
) -> Job:
    """The notice and context the engine would build (see `render_context`)."""
    plan = route(tender, config.policy, config.thresholds)
    procurement, delivery_id = sketch(
        tender,
        destination,
        DISPATCHED_AT,
        primary=plan.primary,
        kind=kind,
        previous=previous,
        reason=reason,
        correction=correction,
        names=names,
        route=plan.as_dict(),
        award=award,
        part=part,
        standstill_ends=standstill_ends,
        remote_ids=sketched_remote_id,
    )
    if revision != 1:
        row = procurement.row(delivery_id)
        procurement.rows[procurement.rows.index(row)] = replace(row, revision=revision)
    return build(
        procurement,
        delivery_id,
        DISPATCHED_AT,
        buyers=config.buyers,
        vat_rate=config.policy.vat_rate,
        titles=title,
    )


def routed_examples(
    config: Config, examples: dict[str, Tender], family: str
) -> list[tuple[str, Tender, str]]:
    """(example name, tender, destination) for every example routed to a channel family."""
    found = []
    for name, tender in examples.items():
        for destination in route(tender, config.policy, config.thresholds).names():
            if destination.split(":", 1)[0] == family:
                found.append((name, tender, destination))
    return found


# -- databases -------------------------------------------------------------------------------

from collections.abc import Iterator  # noqa: E402

from syndicator.runtime.wiring import Store  # noqa: E402
from tests.services import empty_tables, fresh_postgres_database, migrated_store  # noqa: E402


@pytest.fixture(scope="session")
def _postgresql_store() -> Iterator[Store]:
    for url in fresh_postgres_database():
        store = migrated_store(url)
        yield store
        store.dispose()


@pytest.fixture(scope="session")
def _sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = migrated_store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}")
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty, migrated status store: SQLite and PostgreSQL."""
    chosen: Store = request.getfixturevalue(f"_{request.param}_store")
    empty_tables(chosen)
    yield chosen


@pytest.fixture
def pg_store(_postgresql_store: Store) -> Iterator[Store]:
    """An empty, migrated PostgreSQL store (for behaviour that only PostgreSQL has)."""
    empty_tables(_postgresql_store)
    yield _postgresql_store
