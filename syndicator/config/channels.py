"""The non-secret channel configuration in `config/channels.toml`: engine pacing, retry,
circuit breaker and polling policies per destination, and the endpoint profiles.

A destination's own policy section (`[retry.ted]`) replaces the default one
(`[retry.default]`); profile sections are validated later by each adapter's own settings
model (see `syndicator.channel.registry`), so a typo in one fails at start-up with its key.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from syndicator.config.files import ConfigError, Duration, read_toml, validate

DEFAULT = "default"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineConfig(_Section):
    """How the engine paces itself."""

    sweep_interval: Duration = timedelta(seconds=2)
    lease: Duration = timedelta(minutes=3)
    requeue_after: Duration = timedelta(seconds=30)
    batch_size: int = Field(default=20, ge=1, le=500)
    concurrency: int = Field(default=8, ge=1, le=128)
    # Notices that follow the primary destination's go this long after it accepted its notice,
    # published or not (PCR 2015 reg 52(2): 48 hours after the official journal's receipt).
    gate_fallback: Duration = Field(
        default=timedelta(hours=48), validation_alias=AliasChoices("gate_fallback", "ted_gate_fallback")
    )


class RetryConfig(_Section):
    """Waits between attempts (the first attempt is immediate), with +/- jitter; a 429 waits
    at least its Retry-After, up to `max_retry_after` (asked for longer, the delivery fails)."""

    schedule: list[Duration] = Field(min_length=0, max_length=50)
    jitter: float = Field(default=0.2, ge=0, le=0.9)
    max_retry_after: Duration = timedelta(hours=24)


class BreakerConfig(_Section):
    """Consecutive failures that pause a channel, and for how long."""

    failures: int = Field(default=5, ge=1)
    cooldown: Duration = timedelta(minutes=2)


class PollingConfig(_Section):
    """Waits between status checks of a notice accepted but not yet published."""

    schedule: list[Duration] = Field(min_length=1)
    give_up_after: Duration = timedelta(days=7)


class ChannelsConfig(_Section):
    """The whole of `channels.toml`."""

    profile: str = "sandbox"
    engine: EngineConfig = EngineConfig()
    retry: dict[str, RetryConfig]
    breaker: dict[str, BreakerConfig]
    polling: dict[str, PollingConfig]
    profiles: dict[str, dict[str, dict[str, Any]]]

    @field_validator("retry", "breaker", "polling")
    @classmethod
    def _has_default(cls, value: dict[str, Any]) -> dict[str, Any]:
        if DEFAULT not in value:
            raise ValueError(f"needs a [{DEFAULT}] section")
        return value

    def retry_for(self, destination: str) -> RetryConfig:
        """The retry policy of a destination (trade-press:x uses trade-press's)."""
        return self.retry.get(_family(destination), self.retry[DEFAULT])

    def breaker_for(self, destination: str) -> BreakerConfig:
        """The circuit-breaker settings of a destination."""
        return self.breaker.get(_family(destination), self.breaker[DEFAULT])

    def polling_for(self, destination: str) -> PollingConfig:
        """The polling schedule of a destination."""
        return self.polling.get(_family(destination), self.polling[DEFAULT])

    def profile_sections(self, name: str) -> dict[str, dict[str, Any]]:
        """The endpoint sections of one profile."""
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError("channels.toml", f"profiles.{name}", f"no such profile (known: {known})")
        return self.profiles[name]


def _family(destination: str) -> str:
    return destination.split(":", 1)[0]


def load_channels(path: Path) -> ChannelsConfig:
    """Read `channels.toml`."""
    return validate(ChannelsConfig, read_toml(path), str(path))
