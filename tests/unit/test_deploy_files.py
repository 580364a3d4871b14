"""The deployment examples in `deploy/` are valid and run commands that really exist."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from syndicator.cli.app import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMMAND = typer.main.get_command(app)


def parses(argv: list[str]) -> None:
    """The syndicator command line `argv` (after the program name) parses without error."""
    command: Any = COMMAND
    args = list(argv)
    while hasattr(command, "commands"):  # a group: descend into the named subcommand
        name = args.pop(0)
        assert name in command.commands, f"no command {name!r}"
        command = command.commands[name]
    command.make_context(command.name or "", args)


def test_compose_file_is_valid_and_runs_real_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "worker", "beat", "web"} <= set(services)
    commands = [s["command"] for s in services.values() if s.get("command", [None])[0] == "syndicator"]
    assert len(commands) == 4
    for command in commands:
        parses(command[1:])
    assert services["worker"]["deploy"]["replicas"] >= 1 and "--no-beat" in services["worker"]["command"]


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_systemd_units_are_valid_and_run_real_commands(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    argv = shlex.split(parser["Service"]["ExecStart"])
    assert argv[0].endswith("/syndicator")
    parses(argv[1:])
    assert parser["Service"]["EnvironmentFile"] == "/etc/tender-syndicator/env"


def test_exactly_one_beat_and_workers_without_beat() -> None:
    units = {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.service")}
    assert sum(" beat" in text.split("ExecStart=")[1].splitlines()[0] for text in units.values()) == 1
    assert all("--no-beat" in t for n, t in units.items() if "worker" in n)


def test_workers_are_stopped_through_their_main_process() -> None:
    # SIGTERM to the main process only: its pool processes finish and record their sends.
    unit = (DEPLOY / "systemd" / "tender-syndicator-worker@.service").read_text()
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.read_string(unit)
    assert parser["Service"]["KillMode"] == "mixed"
    assert parser["Service"]["KillSignal"] == "SIGTERM"
