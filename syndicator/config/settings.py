"""Settings from the environment (prefix `SYNDICATOR_`) and the TOML files in `config/`.

Environment: where the database and broker are, which config folder and channel profile to
use, and every secret. The TOML files hold what is not secret. `load_config` reads and checks
everything once at start-up; an invalid setting raises `ConfigError` naming file, key, problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from syndicator.config.buyers import Buyers, load_buyers
from syndicator.config.channels import ChannelsConfig, load_channels
from syndicator.routing.policy import RoutingPolicy, load_policy
from syndicator.routing.thresholds import Thresholds, load_thresholds

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def _default_config_dir() -> Path:
    local = Path("config")
    return local if (local / "routing.toml").is_file() else REPO_CONFIG


class Settings(BaseSettings):
    """Everything read from the environment."""

    model_config = SettingsConfigDict(env_prefix="SYNDICATOR_", extra="ignore")

    database_url: str = "sqlite:///var/syndicator.db"
    # The embedded default: a folder of message files under data_dir (no server to install).
    broker_url: str = "filesystem://"
    data_dir: Path = Path("var")
    config_dir: Path = _default_config_dir()
    channel_profile: str | None = None
    secret_key: SecretStr | None = None
    log_level: str = "INFO"
    log_format: str = "console"


@dataclass(frozen=True)
class Config:
    """The checked contents of `config/`."""

    buyers: Buyers
    policy: RoutingPolicy
    thresholds: Thresholds
    channels: ChannelsConfig
    profile: str


def load_config(settings: Settings) -> Config:
    """Read every TOML file; the first problem raises `ConfigError`."""
    folder = settings.config_dir
    channels = load_channels(folder / "channels.toml")
    profile = settings.channel_profile or channels.profile
    channels.profile_sections(profile)
    return Config(
        buyers=load_buyers(folder / "buyers.toml"),
        policy=load_policy(folder / "routing.toml"),
        thresholds=load_thresholds(folder / "thresholds.toml"),
        channels=channels,
        profile=profile,
    )
