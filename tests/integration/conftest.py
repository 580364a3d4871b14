"""Integration fixtures: a real sandbox on loopback (HTTP and SMTP) and adapters pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from syndicator.channel.base import Channel
from syndicator.channel.registry import channel_class
from syndicator.config.settings import Config
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.server import Sandbox

FAST_DELAYS = {"bluelight": 0.3, "source-east-midlands": 0.3, "ted": 0.5, "find-a-tender": 0.3}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A running sandbox with short publication delays and its files under tmp_path."""
    box = Sandbox(
        SandboxConfig(
            port=0,
            smtp_port=free_port(),
            data_dir=tmp_path / "sandbox",
            publish_delay=dict(FAST_DELAYS),
        )
    )
    box.start()
    yield box
    box.stop()


def sandbox_url(box: Sandbox) -> str:
    """The sandbox's HTTP root."""
    return box.config.base_url()


def adapter_for(config: Config, box: Sandbox, channel: str, **overrides: Any) -> Channel:
    """The adapter for `channel`, configured from the shipped sandbox profile, aimed at `box`."""
    values = dict(config.channels.profile_sections("sandbox")[channel])
    if "base_url" in values:
        prefix = "/" + values["base_url"].rstrip("/").rsplit("/", 1)[-1]
        values["base_url"] = sandbox_url(box) + prefix
    if "smtp_port" in values:
        values["smtp_port"] = box.config.smtp_port
    values.update(overrides)
    cls = channel_class(channel)
    return cls(cls.settings_model.model_validate(values))


def inject(box: Sandbox, channel: str, mode: str, count: int = 1, **extra: Any) -> None:
    """Queue a fault through the sandbox's own HTTP control endpoint."""
    answer = requests.post(
        sandbox_url(box) + "/_sandbox/faults",
        json={"channel": channel, "mode": mode, "count": count, **extra},
        timeout=5,
    )
    answer.raise_for_status()


def received(box: Sandbox, channel: str | None = None) -> list[dict[str, Any]]:
    """`GET /_sandbox/received`, over HTTP."""
    params = {"channel": channel} if channel else {}
    answer = requests.get(sandbox_url(box) + "/_sandbox/received", params=params, timeout=5)
    answer.raise_for_status()
    notices: list[dict[str, Any]] = answer.json()["notices"]
    return notices
