"""The web application's own settings, from the environment like `syndicator.config.settings.Settings`
(prefix `SYNDICATOR_`): kept here so that processes without a web server never read them."""

from __future__ import annotations

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebOptions(BaseSettings):
    """What only `syndicator serve` reads."""

    model_config = SettingsConfigDict(env_prefix="SYNDICATOR_", extra="ignore")

    # /metrics is open to the scraper by default; false asks for a viewer token like the API.
    metrics_public: bool = True
    # Mark the session cookie Secure (also done for any request that arrived over https).
    cookie_secure: bool = False
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Failed sign-ins and bad API tokens allowed per client address (a `limits` rate string),
    # and where the counts live: memory:// (this process) or redis://... (shared by processes).
    auth_failures: str = "10/minute"
    throttle_storage: str = "memory://"

    @field_validator("auth_failures")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 10/minute") from None
        return value
