"""Production logs: one JSON object per line, a traceback as a field without local variables,
for structlog events and for the standard library's records (uvicorn, celery) alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from syndicator.config.settings import Settings
from syndicator.runtime.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


def _fail_with_a_big_local() -> None:
    payload = "x" * 1_000_000  # noqa: F841  (a local that must never reach the log)
    raise RuntimeError("boom")


def _configure(log_format: str) -> None:
    configure_logging(Settings(log_format=log_format, _env_file=None))  # type: ignore[call-arg]


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_per_line_with_the_traceback_as_a_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _configure("json")
    try:
        _fail_with_a_big_local()
    except RuntimeError as exc:
        structlog.get_logger("test").error("request failed", path="/x", exc_info=exc)
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        event = json.loads(line)
        [error] = event["exception"]
        assert error["exc_type"] == "RuntimeError" and error["exc_value"] == "boom"
        assert any(frame["name"] == "_fail_with_a_big_local" for frame in error["frames"])
        assert "locals" not in json.dumps(event) and len(line) < 20_000
    assert json.loads(lines[1])["logger"] == "uvicorn.error"


@pytest.mark.usefixtures("restore_logging")
def test_console_tracebacks_show_no_local_variables(capsys: pytest.CaptureFixture[str]) -> None:
    _configure("console")
    try:
        _fail_with_a_big_local()
    except RuntimeError as exc:
        structlog.get_logger("test").error("request failed", exc_info=exc)
    text = capsys.readouterr().err
    assert "RuntimeError" in text and "boom" in text
    assert "xxxxxxxxxx" not in text and len(text) < 50_000
