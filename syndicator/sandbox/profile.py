"""A `channels.toml` that points every adapter at a running sandbox, with engine timings chosen
by the caller: the demo (visible retries within a minute), the integration tests (seconds) and
the benchmark (no waiting at all) each write one into their own config folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from syndicator.config.settings import REPO_CONFIG
from syndicator.sandbox.config import SandboxConfig


@dataclass(frozen=True)
class Timings:
    """Engine pacing and policies, as written into `channels.toml`."""

    sweep_interval: str = "1s"
    lease: str = "30s"
    requeue_after: str = "5s"
    batch_size: int = 20
    concurrency: int = 8
    gate_fallback: str = "48h"
    retry: tuple[str, ...] = ("2s", "4s", "8s", "15s", "30s", "1m", "2m")
    jitter: float = 0.1
    breaker_failures: int = 5
    breaker_cooldown: str = "10s"
    polling: tuple[str, ...] = ("1s", "2s")
    give_up_after: str = "10m"
    read_timeout: float = 5.0
    extra: dict[str, str] = field(default_factory=dict)  # more keys per section, e.g. {"crystal": "x = 1"}


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def channels_toml(box: SandboxConfig, timings: Timings, profile: str = "sandbox") -> str:
    """The text of a channels.toml for `box` (which must already know its ports)."""
    http, smtp = box.base_url(), box.smtp_port
    t = timings
    extra = t.extra
    fts_keys = "\n".join(f'{buyer} = "{key}"' for buyer, key in box.fts_api_keys.items())
    return f"""# Written for a sandbox at {http} (SMTP {smtp}); generated, not edited by hand.
profile = "{profile}"

[engine]
sweep_interval = "{t.sweep_interval}"
lease = "{t.lease}"
requeue_after = "{t.requeue_after}"
batch_size = {t.batch_size}
concurrency = {t.concurrency}
gate_fallback = "{t.gate_fallback}"

[retry.default]
schedule = {_list(t.retry)}
jitter = {t.jitter}

[breaker.default]
failures = {t.breaker_failures}
cooldown = "{t.breaker_cooldown}"

[polling.default]
schedule = {_list(t.polling)}
give_up_after = "{t.give_up_after}"

[profiles.{profile}.crystal]
base_url = "{http}/crystal"
token = "{box.crystal_token}"
read_timeout = {t.read_timeout}
{extra.get("crystal", "")}
[profiles.{profile}.bluelight]
base_url = "{http}/bluelight"
username = "{box.bluelight_username}"
password = "{box.bluelight_password}"
read_timeout = {t.read_timeout}
{extra.get("bluelight", "")}
[profiles.{profile}.source-east-midlands]
base_url = "{http}/sem"
api_key = "{box.sem_api_key}"
ocid_prefix = "ocds-emsx01"
read_timeout = {t.read_timeout}
{extra.get("source-east-midlands", "")}
[profiles.{profile}.ted]
base_url = "{http}/ted"
api_key = "{box.ted_api_key}"
author_email = "emscu.tenders@example.police.uk"
public_notice_url = "{{base_url}}/notice/{{publication_id}}"
read_timeout = {t.read_timeout}
{extra.get("ted", "")}
[profiles.{profile}.find-a-tender]
base_url = "{http}/find-a-tender"
public_url = "{http}/find-a-tender"
read_timeout = {t.read_timeout}
{extra.get("find-a-tender", "")}
[profiles.{profile}.find-a-tender.key]
{fts_keys}

[profiles.{profile}.contracts-finder]
base_url = "{http}/contracts-finder"
client_id = "{box.cf_client_id}"
client_secret = "{box.cf_client_secret}"
read_timeout = {t.read_timeout}
{extra.get("contracts-finder", "")}
[profiles.{profile}.trade-press]
smtp_host = "{box.host}"
smtp_port = {smtp}
starttls = false
sender = "EMSCU adverts <adverts@emscu.example.police.uk>"
timeout = {t.read_timeout}
{extra.get("trade-press", "")}
[profiles.{profile}.trade-press.desks]
construction-press = "tenders@construction-press.example"
police-technology-press = "adverts@police-technology-press.example"
recruitment-press = "classified@recruitment-press.example"

[profiles.{profile}.alerts]
smtp_host = "{box.host}"
smtp_port = {smtp}
starttls = false
sender = "tender-syndicator <syndicator@emscu.example.police.uk>"
to = ["ops@emscu.example.police.uk"]
group_window = "5s"
"""


def write_config(
    folder: Path,
    box: SandboxConfig,
    timings: Timings,
    *,
    source: Path = REPO_CONFIG,
    profile: str = "sandbox",
) -> Path:
    """A config folder: `source`'s buyers, routing and thresholds, and a sandbox channels.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("buyers.toml", "routing.toml", "thresholds.toml"):
        (folder / name).write_bytes((source / name).read_bytes())
    (folder / "channels.toml").write_text(channels_toml(box, timings, profile), encoding="utf-8")
    return folder
