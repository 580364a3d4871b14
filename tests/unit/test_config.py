"""Invalid configuration fails at start-up naming the file, the key and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syndicator.config.files import ConfigError, parse_duration
from syndicator.config.settings import REPO_CONFIG, Config, Settings, load_config


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, target)
    return target


def load(folder: Path, profile: str | None = None):
    return load_config(Settings(config_dir=folder, channel_profile=profile))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_shipped_configuration_loads(folder: Path) -> None:
    config = load(folder)
    assert config.profile == "sandbox"
    assert "emscu" in config.buyers.ids


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "problem"),
    [
        ("routing.toml", 'vat_rate = "0.20"', 'vat_rate = "twenty"', "vat_rate", "decimal"),
        ("routing.toml", 'above = "10000.00"', 'abov = "10000.00"', "rule[0].abov", "unknown key"),
        (
            "routing.toml",
            'at_least = "25000.00"\nexcluded',
            "excluded",
            "rule[1]",
            "exactly one of",
        ),
        (
            "thresholds.toml",
            "from = 2014-01-01",
            "from = 2014-02-01",
            "period[1].from",
            "does not follow",
        ),
        (
            "thresholds.toml",
            'basis = "net"',
            'basis = "nett"',
            "period[0].basis",
            "'net' or 'gross'",
        ),
        ("buyers.toml", 'postcode = "NG5 8PP"', 'postcode = "X"', "emscu.postcode", "at least 5"),
        (
            "channels.toml",
            'lease = "3m"',
            'lease = "three minutes"',
            "engine.lease",
            "not a duration",
        ),
        (
            "channels.toml",
            "[breaker.default]",
            "[breaker.normal]",
            "breaker",
            "needs a [default] section",
        ),
        (
            "channels.toml",
            'profile = "sandbox"',
            'profile = "staging"',
            "profiles.staging",
            "no such profile",
        ),
    ],
)
def test_bad_values_name_file_key_and_problem(
    folder: Path, file: str, old: str, new: str, key: str, problem: str
) -> None:
    edit(folder / file, old, new)
    with pytest.raises(ConfigError) as caught:
        load(folder)
    assert caught.value.file.endswith(file)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_toml_syntax_errors_are_reported(folder: Path) -> None:
    (folder / "routing.toml").write_text("vat_rate = \n")
    with pytest.raises(ConfigError, match=r"routing.toml: \(syntax\)"):
        load(folder)


def test_a_missing_file_is_reported(folder: Path) -> None:
    (folder / "buyers.toml").unlink()
    with pytest.raises(ConfigError, match=r"buyers.toml: \(file\): not found"):
        load(folder)


def test_profile_from_the_environment(folder: Path) -> None:
    assert load(folder, "production").profile == "production"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("5s", 5), ("5m", 300), ("2h", 7200), ("7d", 604800), (30, 30)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["5 minutes", "-5s", "", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_max_retry_after_is_read_per_destination(config: Config) -> None:
    from datetime import timedelta

    from syndicator.config.channels import RetryConfig

    assert config.channels.retry_for("crystal").max_retry_after == timedelta(hours=24)
    assert RetryConfig(schedule=["5s"], max_retry_after="2h").max_retry_after == timedelta(hours=2)
