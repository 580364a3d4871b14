"""/metrics in the Prometheus text format, computed from the database."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from tests.services import unavailable
from tests.web.conftest import Site


def samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value.replace("+Inf", "inf"))
    return found


def test_metrics_report_states_attempts_breakers_and_latency(site: Site) -> None:
    site.failed("M-1")
    site.clock.advance(seconds=40)
    site.published("M-2")
    answer = site.client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    text = answer.text
    for family, kind in (
        ("syndicator_deliveries", "gauge"),
        ("syndicator_attempts_total", "counter"),
        ("syndicator_oldest_due_age_seconds", "gauge"),
        ("syndicator_breaker_open", "gauge"),
        ("syndicator_submission_to_published_seconds", "histogram"),
    ):
        assert f"# TYPE {family} {kind}" in text
    got = samples(text)
    assert got['syndicator_deliveries{destination="crystal",state="failed"}'] == 1
    assert got['syndicator_deliveries{destination="crystal",state="published"}'] == 1
    assert got['syndicator_deliveries{destination="ted",state="pending"}'] == 0
    assert got['syndicator_attempts_total{destination="crystal",outcome="rejected"}'] == 1
    assert got['syndicator_attempts_total{destination="crystal",outcome="published"}'] == 1
    assert got['syndicator_breaker_open{destination="crystal"}'] == 0
    latency = "syndicator_submission_to_published_seconds"
    assert got[f'{latency}_count{{destination="crystal"}}'] == 1
    assert got[f'{latency}_bucket{{destination="crystal",le="+Inf"}}'] == 1
    # submitted and published at the same instant of the test clock: in the smallest bucket
    assert got[f'{latency}_bucket{{destination="crystal",le="5"}}'] == 1


def test_latency_buckets_and_oldest_due_age(site: Site) -> None:
    [slow] = site.engine.submit(__import__("tests.web.conftest", fromlist=["x"]).crystal_only("SLOW"))
    site.clock.advance(seconds=100)
    got = samples(site.client.get("/metrics").text)
    assert got['syndicator_oldest_due_age_seconds{destination="crystal"}'] == 100
    site.engine.dispatcher.deliver([slow])
    got = samples(site.client.get("/metrics").text)
    latency = "syndicator_submission_to_published_seconds"
    assert got[f'{latency}_bucket{{destination="crystal",le="60"}}'] == 0
    assert got[f'{latency}_bucket{{destination="crystal",le="120"}}'] == 1
    assert abs(got[f'{latency}_sum{{destination="crystal"}}'] - 100) < 0.01
    assert got['syndicator_oldest_due_age_seconds{destination="crystal"}'] == 0


def test_an_open_breaker_shows(site: Site) -> None:
    from syndicator.channel.base import TransientError

    site.channels["crystal"].sends.extend([TransientError("503", status_code=503)] * 10)
    from tests.web.conftest import crystal_only

    for n in range(6):
        site.engine.dispatcher.deliver(site.engine.submit(crystal_only(f"BR-{n}")))
    got = samples(site.client.get("/metrics").text)
    assert got['syndicator_breaker_open{destination="crystal"}'] == 1


def _scrape_with_data(site: Site) -> None:
    site.failed("P-1")
    site.clock.advance(seconds=40)
    site.published("P-2")


def test_the_text_format_parses_and_has_process_metrics(site: Site) -> None:
    _scrape_with_data(site)
    text = site.client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["syndicator_attempts"].type == "counter"
    assert families["syndicator_submission_to_published_seconds"].type == "histogram"
    assert "process_resident_memory_bytes" in families and "python_info" in families


def test_openmetrics_is_negotiated(site: Site) -> None:
    _scrape_with_data(site)
    answer = site.client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert answer.text.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(answer.text)}
    [sample] = [
        s
        for s in families["syndicator_attempts"].samples
        if s.labels == {"destination": "crystal", "outcome": "rejected"}
    ]
    assert sample.name == "syndicator_attempts_total" and sample.value == 1


def test_promtool_finds_nothing_to_complain_about(site: Site) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        # Debian's `prometheus` package; .ci/run installs it, so CI never skips this.
        unavailable("promtool is not installed (apt-get install prometheus)")
    assert promtool is not None
    _scrape_with_data(site)
    text = site.client.get("/metrics").text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr
