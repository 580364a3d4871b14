"""The `syndicator` command as a new user runs it: real processes, exit codes, output, and
never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT


def test_validate_accepts_every_shipped_example(run) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", *map(str, sorted(EXAMPLES.glob("*.json"))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 records valid" in result.stdout


def test_validate_prints_one_line_per_problem_and_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads((EXAMPLES / "anpr-cameras.json").read_text())
    bad.update(buyer="nobody", title="")
    bad["estimated_value"]["amount"] = "1.234"
    (tmp_path / "bad.json").write_text(json.dumps([bad, {"reference": "X"}]))
    result = run("validate", str(tmp_path / "bad.json"))
    assert result.returncode == 2
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(tmp_path))]
    assert f"{tmp_path}/bad.json: NOTTS-2026-0142: buyer: 'nobody' is not a known buyer" in result.stdout
    assert any(": NOTTS-2026-0142: title: must not be empty" in line for line in lines)
    assert any(
        ": NOTTS-2026-0142: estimated_value.amount: has more than 2 decimal places" in line for line in lines
    )
    assert any(": X: title: is required" in line for line in lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{", "malformed JSON"),
        ("[]", "the array is empty"),
        ('"x"', "must be a JSON object"),
    ],
)
def test_broken_files_get_a_line(run, tmp_path: Path, content: str | None, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    result = run("validate", str(path))
    assert result.returncode == 2 and message in result.stdout


def test_route_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("route", str(EXAMPLES / "anpr-cameras.json"), "--json")
    assert result.returncode == 0
    plan = json.loads(result.stdout)
    assert plan["destinations"][0] == {
        "destination": "find-a-tender",
        "reasons": plan["destinations"][0]["reasons"],
        "after": None,
    }
    assert {d["after"] for d in plan["destinations"][1:]} == {"find-a-tender"}
    assert plan["not_advertised"] is None
    assert (plan["regime"], plan["primary"], plan["above_threshold"]) == ("pa2023", "find-a-tender", True)
    legacy = json.loads(run("route", str(EXAMPLES / "ted-legacy.json"), "--json").stdout)
    assert (legacy["regime"], legacy["primary"]) == ("ojeu", "ted")


def test_route_explains_in_sentences(run) -> None:  # type: ignore[no-untyped-def]
    result = run("route", str(EXAMPLES / "below-threshold.json"))
    assert "not advertised: net value £8,500.00 does not exceed £10,000.00" in result.stdout


def test_submit_is_idempotent_and_status_shows_the_deliveries(run) -> None:  # type: ignore[no-untyped-def]
    first = run("submit", str(EXAMPLES / "it-software.json"), "--as", "alice")
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    assert "find-a-tender, bluelight, crystal, source-east-midlands" in first.stdout
    again = run("submit", str(EXAMPLES / "it-software.json"))
    assert again.returncode == 0 and "unchanged" in again.stdout and "nothing to do" in again.stdout
    status = run("status", "--json")
    data = json.loads(status.stdout)
    assert data["counts"] == {"pending": 1, "held": 4}  # the others wait for Find a Tender
    keys = {"tender_reference", "buyer", "destination", "state", "attempts", "last_error", "remote_id", "url"}
    assert keys <= set(data["deliveries"][0])


def test_submitting_a_changed_record_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "it-software.json"))
    changed = json.loads((EXAMPLES / "it-software.json").read_text()) | {"title": "Something else"}
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    result = run("submit", str(tmp_path / "changed.json"))
    assert result.returncode == 1 and "syndicator amend" in result.stdout


def test_preview_prints_exactly_what_would_be_sent(run) -> None:  # type: ignore[no-untyped-def]
    result = run("preview", str(EXAMPLES / "it-managed-service.json"), "--channel", "ted")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith("<?xml") and '<cbc:SubTypeCode listName="notice-subtype">16' in result.stdout
    )
    assert "application/xml" in result.stderr
    press = run(
        "preview",
        str(EXAMPLES / "construction-works.json"),
        "--destination",
        "trade-press:construction-press",
    )
    assert "X-Tender-Reference: northamptonshire-opfcc/NORTHANTS-OPFCC-2026-0009" in press.stdout


def test_preview_refuses_what_a_channel_cannot_carry(run) -> None:  # type: ignore[no-untyped-def]
    result = run("preview", str(EXAMPLES / "framework-call-off.json"), "--channel", "ted")
    assert result.returncode == 1 and "ted cannot carry this" in result.stderr


def test_invalid_configuration_names_file_key_and_problem(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    text = (config / "routing.toml").read_text().replace('vat_rate = "0.20"', 'vat_rate = "lots"')
    (config / "routing.toml").write_text(text)
    result = run("validate", str(EXAMPLES / "it-software.json"), SYNDICATOR_CONFIG_DIR=str(config))
    assert result.returncode == 3
    assert "configuration error:" in result.stderr and "routing.toml: vat_rate:" in result.stderr


def test_missing_production_secret_is_reported_at_start_up(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "preview",
        str(EXAMPLES / "framework-call-off.json"),
        "--channel",
        "crystal",
        SYNDICATOR_CHANNEL_PROFILE="production",
    )
    assert result.returncode == 3 and "profiles.production.crystal.token" in result.stderr


def test_manual_actions_need_a_reason(run) -> None:  # type: ignore[no-untyped-def]
    assert run("repush", "1").returncode == 2
    assert "--reason is required" in run("repush", "1").stderr
    assert run("cancel", "X").returncode == 2


def test_repush_refuses_what_cannot_be_repushed(run) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "framework-call-off.json"))
    result = run("repush", "1", "--reason", "try")
    assert result.returncode == 1 and "only failed or needs_reconcile" in result.stdout


def test_cancel_and_audit(run) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "framework-call-off.json"))
    result = run("cancel", "EMSCU-FW-2026-0023", "--reason", "withdrawn by the buyer", "--yes", "--as", "bob")
    assert result.returncode == 0 and "1 deliveries of EMSCU-FW-2026-0023 cancelled" in result.stdout
    audit = json.loads(run("audit", "--json").stdout)["audit"]
    assert audit[0]["actor"] == "bob" and audit[0]["action"] == "cancel"
    assert audit[0]["reason"] == "withdrawn by the buyer"
    shown = run("show", "EMSCU-FW-2026-0023")
    assert "cancelled" in shown.stdout


def test_text_that_looks_like_markup_is_shown_as_it_is(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = json.loads((EXAMPLES / "framework-call-off.json").read_text()) | {
        "title": "[red]Urgent[/red] call-off"
    }
    (tmp_path / "markup.json").write_text(json.dumps(record))
    run("submit", str(tmp_path / "markup.json"))
    shown = run("show", "EMSCU-FW-2026-0023")
    assert "[red]Urgent[/red] call-off" in shown.stdout


def _store_sql(tmp_path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Write into the command's SQLite store directly: text as a channel or an older version left it."""
    import sqlite3

    with sqlite3.connect(tmp_path / "syndicator.db") as db:
        for sql, values in statements:
            db.execute(sql, values)


def test_stored_text_is_never_markup_or_a_link(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "framework-call-off.json"))
    cancelled = run("cancel", "EMSCU-FW-2026-0023", "--reason", "x [/]", "--yes")
    assert cancelled.returncode == 0, cancelled.stderr
    audit = run("audit")
    assert audit.returncode == 0, audit.stderr
    assert "x [/]" in audit.stdout
    link = "[link=https://evil.example]click[/link]"
    _store_sql(tmp_path, ("UPDATE deliveries SET remote_id = ?, remote_url = ?", ("SEM-1 [/]", link)))
    shown = run("show", "EMSCU-FW-2026-0023")
    assert shown.returncode == 0, shown.stderr
    assert link in shown.stdout and "\x1b]8;" not in shown.stdout  # literal, not an OSC 8 hyperlink
    status = run("status")
    assert status.returncode == 0 and link in status.stdout


def test_control_characters_in_a_reason_are_refused(run) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "framework-call-off.json"))
    for reason in ("hide \x1b[8m this", "two\nlines", "right\u202eto left"):
        result = run("cancel", "EMSCU-FW-2026-0023", "--reason", reason, "--yes")
        assert result.returncode == 2, result.stderr
        assert "--reason: contains the control character U+" in result.stderr
    assert "\x1b" not in result.stderr
    assert json.loads(run("audit", "--json").stdout)["audit"] == []  # nothing was done
    as_name = run("cancel", "EMSCU-FW-2026-0023", "--reason", "ok", "--as", "eve\x1b[2J", "--yes")
    assert as_name.returncode == 2 and "--as: contains the control character U+001B" in as_name.stderr
    published = run("reconcile", "1", "--published", "BL-1\u202e", "--reason", "seen on the portal")
    assert published.returncode == 2
    assert "--published: contains the control character U+202E" in published.stderr


def test_stored_control_characters_are_printed_visibly(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLES / "framework-call-off.json"))
    hostile = "ok\x1b[2K\rforged line\u202e\x9b31m"
    _store_sql(
        tmp_path,
        (
            "INSERT INTO audit_log (at, actor, action, reason, details) VALUES (?, ?, ?, ?, ?)",
            ("2026-12-01 09:00:00.000000", "mallory\x07", "repush", hostile, "{}"),
        ),
        ("UPDATE deliveries SET last_error = ?, state = 'failed'", (hostile,)),
    )
    for command in (["audit"], ["show", "EMSCU-FW-2026-0023"], ["status"], ["channels"]):
        result = run(*command)
        assert result.returncode == 0, result.stderr
        raw = [c for c in result.stdout if c not in "\n\t" and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F)]
        assert raw == [] and "\u202e" not in result.stdout, command
    assert "ok\\x1b[2K\\x0dforged line\\u202e\\x9b31m" in run("audit").stdout
    as_json = run("audit", "--json")
    assert "\x1b" not in as_json.stdout and "\u202e" not in as_json.stdout
    assert json.loads(as_json.stdout)["audit"][0]["reason"] == hostile  # escaped, not altered


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["status", "--page", "99999999999999999999"], "--page"),
        (["status", "--limit", "99999999999999999999"], "--limit"),
        (["status", "--page", "0"], "--page"),
        (["audit", "--limit", "99999999999999999999"], "--limit"),
        (["repush", "99999999999999999999", "--reason", "x"], "deliveries"),
        (["reconcile", "99999999999999999999", "--resend", "--reason", "x"], "delivery"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(run, args: list[str], words: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--since", "99999999d"],
        ["status", "--since", "999999999999d"],
        ["audit", "--since", "0001-01-01T00:00:00+14:00"],
    ],
)
def test_a_period_further_back_than_the_calendar_means_everything(run, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    # The same reading as the dashboard and the API (syndicator.ops.periods): never a crash.
    run("submit", str(EXAMPLES / "it-software.json"))
    result = run(*args)
    assert result.returncode == 0 and "internal error" not in result.stderr, result.stderr
    if args[0] == "status":
        assert "no deliveries match" not in result.stdout


@pytest.mark.parametrize("reference", ["99999999999999999999", "²", "٣"])
def test_a_reference_that_is_no_id_is_just_not_found(run, reference: str) -> None:  # type: ignore[no-untyped-def]
    for args in (["show", reference], ["cancel", reference, "--reason", "x", "--yes"]):
        result = run(*args)
        assert result.returncode == 1 and "no tender" in result.stderr, result.stderr


def test_commands_leave_nothing_in_the_working_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("submit", str(EXAMPLES / "it-software.json")).returncode == 0
    # The store is where SYNDICATOR_DATABASE_URL says; everything else under SYNDICATOR_DATA_DIR.
    assert sorted(os.listdir(tmp_path)) == ["syndicator.db", "var"]
    assert (tmp_path / "var" / "broker" / "control").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["worker", "--concurrency", "1"], ["beat"]])
def test_worker_and_beat_keep_their_files_under_the_data_dir(tmp_path: Path, command: list[str]) -> None:
    import time

    checkout, data = tmp_path / "checkout", tmp_path / "data"
    checkout.mkdir()
    env = {
        **os.environ,
        "SYNDICATOR_DATABASE_URL": f"sqlite:///{tmp_path}/syndicator.db",
        "SYNDICATOR_DATA_DIR": str(data),
        "SYNDICATOR_BROKER_URL": "filesystem://",
        "SYNDICATOR_CONFIG_DIR": str(ROOT / "config"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicator", *command],
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(data.glob("celerybeat-schedule*")) and process.poll() is None:
            assert time.monotonic() < deadline, "no beat schedule under the data dir within 60 s"
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert os.listdir(checkout) == []
