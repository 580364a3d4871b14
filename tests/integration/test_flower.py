"""Ops watch Celery with Flower: a worker started with `syndicator worker --events` sends task
events, and Flower pointed at the syndicator's broker (as the README shows) lists the
syndicator's tasks in its API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from syndicator.sandbox.server import Sandbox
from tests.integration.conftest import free_port
from tests.integration.deployment import ROOT, Deployment
from tests.services import fresh_postgres_database, redis_url
from tests.unit.records_factory import valued

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def deployment(tmp_path: Path, sandbox: Sandbox) -> Iterator[Deployment]:
    broker = redis_url()
    for database in fresh_postgres_database():
        built = Deployment(tmp_path, database, broker, sandbox)
        try:
            yield built
        finally:
            built.stop()


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def _tasks(port: int) -> dict[str, Any]:
    answer = requests.get(f"http://127.0.0.1:{port}/api/tasks", timeout=5)
    answer.raise_for_status()
    tasks: dict[str, Any] = answer.json()
    return tasks


def test_flower_sees_the_syndicators_tasks(deployment: Deployment, tmp_path: Path) -> None:
    port = free_port()
    broker = deployment.env["SYNDICATOR_BROKER_URL"]
    # The README's command: Flower pointed at the syndicator's broker (its API open, as on a
    # host where only ops can reach the port). Flower would also switch events on in running
    # workers by itself; told not to, it sees only what `--events` makes the worker send.
    flower = _start(
        [
            *[sys.executable, "-m", "celery", f"--broker={broker}", "flower"],
            *["--address=127.0.0.1", f"--port={port}", "--enable_events=false"],
        ],
        {**deployment.env, "FLOWER_UNAUTHENTICATED_API": "true"},
        tmp_path / "flower.log",
    )
    worker = _start(
        [sys.executable, "-m", "syndicator", "worker", "--events", "--concurrency", "1"],
        deployment.env,
        tmp_path / "worker.log",
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert time.monotonic() < deadline and flower.poll() is None, _logs(tmp_path)
            time.sleep(0.3)
        deployment.submit(valued("60000", procedure="framework-call-off", submission_deadline=...))
        names: set[str] = set()
        while not {"syndicator.deliver", "syndicator.sweep"} <= names:
            assert time.monotonic() < deadline, f"Flower saw {names or 'no tasks'}\n{_logs(tmp_path)}"
            assert worker.poll() is None and flower.poll() is None, _logs(tmp_path)
            names = {task.get("name") for task in _tasks(port).values()}
            time.sleep(0.5)
    finally:
        _stop(worker)
        _stop(flower)


def _answers(port: int) -> bool:
    """Flower answers HTTP (its task list may still be empty)."""
    try:
        requests.get(f"http://127.0.0.1:{port}/api/tasks", timeout=2)
    except requests.ConnectionError:
        return False
    return True


def _logs(folder: Path) -> str:
    return "\n".join(
        f"--- {name}:\n" + (folder / name).read_text(errors="replace")[-3000:]
        for name in ("worker.log", "flower.log")
    )
