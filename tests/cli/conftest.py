"""The CLI as a user runs it: a real `syndicator` process over a fresh SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "SYNDICATOR_DATABASE_URL": f"sqlite:///{tmp_path}/syndicator.db",
        "SYNDICATOR_DATA_DIR": str(tmp_path / "var"),
        "SYNDICATOR_BROKER_URL": "filesystem://",
        "SYNDICATOR_CONFIG_DIR": str(ROOT / "config"),
        "COLUMNS": "200",
    }

    def invoke(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "syndicator", *args],
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
        )
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    return invoke
