"""`syndicator demo` as a newcomer runs it: embedded defaults only (no PostgreSQL, no Redis, no
network), finished on its own well inside two minutes, exit 0, nothing left running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def processes_in(folder: Path) -> list[int]:
    """PIDs of processes whose working directory is `folder` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_make_demo_path_runs_end_to_end_on_embedded_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    # Point any accidental use of a server at a closed port: the demo must not need one.
    env |= {
        "SYNDICATOR_TEST_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "syndicator", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert elapsed < 120, f"the demo took {elapsed:.0f} s"
    assert "Traceback" not in output
    assert "embedded SQLite + folder broker" in output
    assert "faults injected" in output
    assert "rejected" in output or "failed" in output
    assert "is now published" in output
    assert "syndicator status" in output
    assert (tmp_path / "var" / "demo" / "syndicator.db").exists()
    time.sleep(1)
    assert processes_in(tmp_path) == [], "the demo left processes running"
