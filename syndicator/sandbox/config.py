"""The sandbox's own configuration: its credentials (printed at start, and the values the
shipped `sandbox` channel profile uses) and how long each channel takes to publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _default_delays() -> dict[str, float]:
    return {"bluelight": 3.0, "source-east-midlands": 3.0, "ted": 5.0, "find-a-tender": 3.0}


def _fts_keys() -> dict[str, str]:
    # Find a Tender issues one API key per contracting authority: one per shipped buyer.
    buyers = (
        "emscu",
        "nottinghamshire-police",
        "derbyshire-constabulary",
        "northamptonshire-police",
        "northamptonshire-opfcc",
    )
    return {buyer: f"sandbox-fts-key-{buyer}" for buyer in buyers}


@dataclass
class SandboxConfig:
    """Credentials, publication delays and where received notices are kept."""

    host: str = "127.0.0.1"
    port: int = 8900
    smtp_port: int = 8925
    data_dir: Path | None = Path("var/sandbox")
    public_base: str = ""  # URL prefix of published notices; defaults to http://host:port
    # Published sandbox credentials, printed at start; not secrets (nothing real behind them).
    crystal_token: str = "sandbox-crystal-token"  # noqa: S105
    bluelight_username: str = "emscu"
    bluelight_password: str = "sandbox-bluelight-password"  # noqa: S105
    sem_api_key: str = "sandbox-sem-key"
    ted_api_key: str = "sandbox-ted-key"
    # Mail from this envelope sender is the product's alert e-mails (channel `ops-alerts`), not
    # an advert: the `alerts.sender` of the shipped sandbox profile.
    alerts_sender: str = "syndicator@emscu.example.police.uk"
    fts_api_keys: dict[str, str] = field(default_factory=_fts_keys)  # organisation -> its key
    cf_client_id: str = "emscu-sandbox"  # Contracts Finder's API client (POST /Token, Basic auth)
    cf_client_secret: str = "sandbox-contracts-finder-secret"  # noqa: S105
    publish_delay: dict[str, float] = field(default_factory=_default_delays)
    # Simulated network distance: seconds added before every channel's HTTP answer and every
    # SMTP reply (a multi-line reply counts once), as if the portals were far from loopback.
    http_latency: float = 0.0
    smtp_latency: float = 0.0

    def base_url(self) -> str:
        """Where the sandbox's HTTP server answers."""
        return self.public_base or f"http://{self.host}:{self.port}"

    def delay(self, channel: str) -> float:
        """Seconds between receipt and publication on `channel`."""
        return self.publish_delay.get(channel, 0.0)

    def credentials(self) -> dict[str, str]:
        """The credentials to print at start."""
        return {
            "crystal token": self.crystal_token,
            "bluelight user": f"{self.bluelight_username}:{self.bluelight_password}",
            "source-east-midlands api key": self.sem_api_key,
            "ted api key": self.ted_api_key,
            **{f"find-a-tender key {name}": key for name, key in self.fts_api_keys.items()},
            "contracts-finder client": f"{self.cf_client_id}:{self.cf_client_secret}",
        }
