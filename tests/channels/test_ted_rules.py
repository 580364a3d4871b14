"""TED's own business rules (the eForms SDK 1.15.1 Schematron that the Central Validation
Service runs) applied to every notice the adapter renders: the shipped examples, and variants
that reach the branches the examples do not (each procedure, lots without descriptions, no
duration, a preferred publication date, markup); for each of them the contract notice, a
change notice, and both withdrawals that are notices (a `cancel` change notice before the
deadline, a subtype-29 award notice without a winner after it) and the award notice (every
lot awarded, and lot 1 not awarded). Only the LAWFULNESS warning
that every UK buyer gets (BR-BT-00514-0310: GBR is not a lawful TED country) is expected.

Needs ../shared/standards/eforms/rules (skipped when absent, never in CI) and the PyPI package
saxonche, which `setup.sh` installs into a venv kept in the pytest cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from channels.ted.channel import TedChannel, TedSettings
from syndicator.channel.base import RenderError
from syndicator.config.settings import Config
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from tests.channels.awards import award_of
from tests.channels.eras import ojeu_examples
from tests.channels.ted_scenarios import award_job, cancellation_job, change_job, not_awarded
from tests.conftest import contract, render_context, shared_standards


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


pytestmark = pytest.mark.slow

EXPECTED_WARNING = "BR-BT-00514-0310"  # LAWFULNESS: a GBR organisation (FACTS.md section 0)
DOCS = "https://emscu.example.police.uk/tenders/variant"


@pytest.fixture(scope="session")
def rules(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(venv python, check.py), after running setup.sh once per session."""
    folder = shared_standards() / "eforms" / "rules"
    cache = getattr(request.config, "cache", None)
    venv = (cache.mkdir("eforms-rules") if cache else tmp_path_factory.mktemp("eforms-rules")) / "venv"
    env = {**os.environ, "EFORMS_RULES_VENV": str(venv), "PYTHON": sys.executable}
    setup = subprocess.run(
        ["bash", str(folder / "setup.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    assert setup.returncode == 0, f"setup.sh failed:\n{setup.stdout}\n{setup.stderr}"
    return venv / "bin" / "python", folder / "check.py"


def _variant(tender: Tender, **changes: Any) -> Tender:
    return Tender.model_validate({**tender.model_dump(mode="json"), **changes})


def _notices(config: Config, examples: dict[str, Tender]) -> dict[str, Tender]:
    """Every example TED can carry, and variants covering the other branches of the builder."""
    notices = dict(examples)
    notices.update(
        {
            "variant-negotiated-lots": _variant(examples["it-software"], documents_url=DOCS),
            "variant-below-threshold": _variant(examples["below-threshold"], documents_url=DOCS),
            "variant-dialogue": _variant(examples["agency-staff"], procedure="competitive-dialogue"),
            "variant-restricted-lots": _variant(examples["it-managed-service"], procedure="restricted"),
            "variant-no-duration": _variant(examples["construction-works"], duration_months=None),
            "variant-markup": _variant(
                examples["anpr-cameras"],
                title='ANPR <b>cameras</b> & "poles" ]]> £5k — Zürich 東京',
                description="Supply of <script>x</script> &amp; poles.\n\nCafé ]]> £1,000.",
            ),
        }
    )
    notices["variant-preferred-date"] = examples["anpr-cameras"].model_copy(
        update={"publication_date": date(2026, 12, 14)}
    )
    return notices


def _later_notices(config: Config, name: str, tender: Tender) -> dict[str, Job]:
    """The change notice, both withdrawal notices and the award notice of a tender (and for the
    examples, an award with lot 1 not awarded), with hostile reasons for the variant that
    carries markup."""
    hostile = 'Withdrawn <b>now</b> & "quoted" ]]> \x07 £1,000 — Zürich'
    reason = {"reason": hostile} if name == "variant-markup" else {}
    return {
        "change": change_job(config, name, tender),
        "cancel": cancellation_job(config, tender, "cancel", **reason),
        "no-award": cancellation_job(config, tender, "after-deadline", **reason),
        "award": award_job(config, tender),
        **(
            {}
            if name.startswith("variant")
            else {"not-awarded": award_job(config, tender, not_awarded(award_of(tender, signed=True)))}
        ),
    }


def test_every_rendered_notice_passes_teds_business_rules(
    config: Config, examples: dict[str, Tender], rules: tuple[Path, Path], tmp_path: Path
) -> None:
    python, check = rules
    channel = TedChannel(
        TedSettings(base_url="https://enotices2.test", api_key="k", author_email="a@b.example")
    )
    files, refused = [], []
    for name, tender in _notices(config, examples).items():
        try:
            rendered = channel.render(contract(tender), render_context(config, tender, "ted"))
        except RenderError:
            refused.append(name)
            continue
        path = tmp_path / f"{name}.xml"
        path.write_bytes(rendered.body)
        files.append(path)
        for form, job in _later_notices(config, name, tender).items():
            later = channel.render(job.notice, job.context)
            assert later.operation is None, f"{name}-{form} is not a notice"
            path = tmp_path / f"{name}-{form}.xml"
            path.write_bytes(later.body)
            files.append(path)
    # The call-off never goes to TED; the example without documents_url cannot (BT-15).
    assert sorted(refused) == ["below-threshold", "framework-call-off"]
    # 7 examples and 7 variants: contract, change, cancel, no award, award; and for the 7
    # examples an award with a lot not awarded.
    assert len(files) == 14 * 5 + 7
    roots = [path.read_bytes().split(b"\n", 2)[1].split(b" ", 1)[0] for path in files]
    assert roots.count(b"<ContractAwardNotice") == 14 * 2 + 7
    # One call for every file: compiling the subtype's rules costs seconds, checking ms.
    result = subprocess.run(
        [str(python), str(check), "--warnings", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert not [line for line in report.splitlines() if line.startswith("ERRORS")], report
    passed = [line for line in report.splitlines() if line.startswith("OK ")]
    assert len(passed) == len(files), report
    warnings = [line for line in report.splitlines() if line.strip().startswith("WARN")]
    assert len(warnings) == len(files), report  # exactly the one LAWFULNESS warning each
    assert all(EXPECTED_WARNING in line and "LAWFULNESS" in line for line in warnings), report
