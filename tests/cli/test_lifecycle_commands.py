"""`syndicator amend`, `withdraw`, `show` and `preview --notice` as a user runs them: real
processes over an SQLite store (no worker: nothing is sent), exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLES

EXAMPLE = EXAMPLES / "it-software.json"  # bluelight, crystal, source-east-midlands, trade press


def _changed(tmp_path: Path, **changes: object) -> Path:
    record = json.loads(EXAMPLE.read_text()) | changes
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(record))
    return path


def test_amend_stores_the_next_version_and_says_what_each_destination_gets(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("submit", str(EXAMPLE)).returncode == 0
    original = json.loads(EXAMPLE.read_text())
    changed = _changed(tmp_path, submission_deadline="2027-02-26T12:00:00Z")
    result = run(
        "amend", str(changed), "--reason", "Deadline extended at suppliers' request", "--as", "alice"
    )
    assert result.returncode == 0, result.stderr
    assert "version 2" in result.stdout
    assert f"Submission deadline: {original['submission_deadline']} -> 2027-02-26T12:00:00Z" in result.stdout
    assert "contract notice v2" in result.stdout  # nothing had left yet: v2 replaces v1
    shown = json.loads(run("show", original["reference"], "--json").stdout)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["versions"][1]["reason"] == "Deadline extended at suppliers' request"
    assert {(d["notice"], d["version"], d["state"]) for d in shown["deliveries"]} >= {
        ("contract", 1, "superseded"),
        ("contract", 2, "pending"),
    }
    status = json.loads(run("status", "--json").stdout)
    assert {(d["notice"], d["version"]) for d in status["deliveries"]} == {("contract", 1), ("contract", 2)}


def test_amend_refuses_with_one_line_per_problem_and_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    unknown = run("amend", str(EXAMPLE), "--reason", "x")
    assert unknown.returncode == 1 and "has no tender" in unknown.stderr
    run("submit", str(EXAMPLE))
    same = run("amend", str(EXAMPLE), "--reason", "x")
    assert same.returncode == 2 and "nothing changed" in same.stderr
    no_reason = run("amend", str(_changed(tmp_path, title="New title")))
    assert no_reason.returncode == 2 and "--reason is required" in no_reason.stderr
    invalid = run("amend", str(_changed(tmp_path, title="")), "--reason", "x")
    assert invalid.returncode == 2 and "title: must not be empty" in invalid.stdout


def test_withdraw_ends_the_procurement_and_then_refuses_amendments(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(EXAMPLE))
    reference = json.loads(EXAMPLE.read_text())["reference"]
    buyer = json.loads(EXAMPLE.read_text())["buyer"]
    result = run("withdraw", reference, "--buyer", buyer, "--reason", "Budget withdrawn", "--as", "bob")
    assert result.returncode == 0, result.stderr
    assert "withdrawn" in result.stdout and "nothing was published there" in result.stdout
    shown = json.loads(run("show", reference, "--json").stdout)
    assert (
        shown["tender"]["withdrawn_by"] == "bob"
        and shown["tender"]["withdrawal_reason"] == "Budget withdrawn"
    )
    assert {d["state"] for d in shown["deliveries"]} == {"cancelled"}
    again = run("amend", str(_changed(tmp_path, title="Too late")), "--reason", "x")
    assert again.returncode == 2 and "was withdrawn" in again.stderr
    audit = json.loads(run("audit", "--json").stdout)["audit"]
    assert [(a["action"], a["actor"]) for a in audit] == [("withdraw", "bob")]


def test_preview_prints_a_change_notice_against_a_previous_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    changed = _changed(tmp_path, submission_deadline="2027-02-26T12:00:00Z")
    result = run(
        "preview",
        str(changed),
        "--channel",
        "crystal",
        "--notice",
        "change",
        "--previous",
        str(EXAMPLE),
        "--reason",
        "Deadline extended",
    )
    assert result.returncode == 0, result.stderr
    assert "change notice v2" in result.stderr
    assert "Deadline extended" in result.stdout
