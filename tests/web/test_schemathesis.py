"""schemathesis against the real application over PostgreSQL: every documented operation, with
all of schemathesis's checks (no 500; every status, header and body as described; documented
constraints enforced; valid data accepted; authentication not ignored), positive and negative
data, a fixed seed. New operations are covered as soon as they are in /openapi.json.

The store is seeded with a token per role and deliveries in several states, and the examples
the description gives (ids 1 and 2, reference TEST-...) point at that data, so authorised paths
run, not only 401s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from syndicator.config.settings import Config
from syndicator.runtime.wiring import Store
from tests.web.conftest import Site, build_site

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# POST /api/tenders: a record can match the Tender schema and still break a rule JSON Schema
# cannot state (the deadline after the publication date, lot values adding up, TED needing
# documents_url); the answer is then 422 with the problems, which is right.
SETTINGS = """
seed = 20261126

[headers]
Authorization = "Bearer {token}"

[generation]
max-examples = {examples}
database = "none"
deterministic = true

[[operations]]
include-name = "POST /api/tenders"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""


@pytest.fixture
def api_site(pg_store: Store, config: Config) -> Iterator[Site]:
    # schemathesis sends wrong tokens on purpose, far more than the throttle allows from one
    # address (test_contract.py tests the throttle itself)
    site = build_site(pg_store, config, auth_failures="100000/minute")
    site.failed("SEED-FAILED")
    site.unknown("SEED-UNKNOWN")
    site.published("SEED-PUBLISHED")
    yield site
    site.engine.dispatcher.close()


def failures(site: Site, role: str, examples: int) -> list[str]:
    """Every failure schemathesis finds with the token of `role`, one line each."""
    config = SchemathesisConfig.from_str(SETTINGS.format(token=site.tokens[role], examples=examples))
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", site.client.app, headers=site.auth("viewer"), config=config
    )
    found: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        found.append(
                            f"{event.recorder.label}: {check.name}: {failure.title}: {failure.message}"
                            f"\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"error: {event!r}")
    return sorted(set(found))


@pytest.mark.parametrize(("role", "examples"), [("operator", 15), ("viewer", 5)])
def test_the_api_does_what_its_description_says(api_site: Site, role: str, examples: int) -> None:
    found = failures(api_site, role, examples)
    assert not found, "\n\n".join(found)
