"""The requests every Contracts Finder operation makes: the settings, the bearer token (fetched
once, renewed after a 401), the rate limit respected, and Contracts Finder's answers mapped to
the channel errors at this one boundary.

    any request: 401 -> drop the token, fetch another, once   403 + rate-limit page -> RateLimited,
    and no request at all for the next 5 minutes   403 otherwise -> AuthError   429 -> RateLimited
    5xx -> TransientError   read time-out: OutcomeUnknown after a POST, TransientError after a GET

`channel.py` builds the operations (draft, publish, read back, withdraw) on top.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from pydantic import Field, SecretStr, field_validator

from channels.contracts_finder import answers
from channels.contracts_finder.tokens import TokenCache
from syndicator.channel.base import AuthError, OutcomeUnknown, RateLimited, RejectedError, TransientError
from syndicator.channel.http import HttpChannel, HttpSettings, Response

MEDIA_TYPE = "application/json; charset=utf-8"
TOKEN = "Token"  # noqa: S105 - the endpoint's path, not a credential
PUBLIC_NOTICE_URL = "{base_url}/Notice/{id}"
MIN_SCRUBBED_TOKEN = 8  # shorter values are not tokens worth scrubbing (and would mangle text)


class ContractsFinderSettings(HttpSettings):
    """`[profiles.<profile>.contracts-finder]`: the API client Contracts Finder issued to the
    buying organisation, and what its notices say about where the work is."""

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    # Every EMSCU buyer is an East Midlands police body; Contracts Finder's regions are the UK's
    # ITL 1 regions ("East Midlands").
    region: str = Field(default="East Midlands", min_length=1)
    # Where a published notice is read by people; `{id}` is the notice's GUID.
    public_notice_url: str = PUBLIC_NOTICE_URL
    token_margin: float = Field(default=60.0, ge=0)  # stop using a token this long before it expires
    rate_limit_wait: float = Field(default=300.0, ge=0)  # the documented wait after a rate limit: 5 min

    @field_validator("public_notice_url")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            filled = value.format(id="0", base_url="http://x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{id}} and {{base_url}} may be used: {exc}") from None
        if filled == value or "{id}" not in value:
            raise ValueError("must contain {id}")
        return value


class ContractsFinderApi(HttpChannel):
    """An HTTP channel that speaks to Contracts Finder's API (the operations are in the subclass)."""

    settings: ContractsFinderSettings

    def __init__(
        self,
        settings: ContractsFinderSettings,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, session)
        self._clock = clock
        self._tokens = TokenCache(self._fetch_token, clock, settings.token_margin)
        self._quiet_lock = threading.Lock()
        self._quiet_until = float("-inf")

    def _public_url(self, notice_id: str) -> str:
        base = self.settings.base_url.rstrip("/")
        return self.settings.public_notice_url.format(base_url=base, id=notice_id)

    def _send(
        self, method: str, path: str, *, side_effect: bool, body: bytes | None = None, token: bool = True
    ) -> Response:
        """One API request: bearer token (fetched again once after a 401), the rate limit
        respected, read time-outs mapped by whether the request changes anything."""
        self._respect_quiet()
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = MEDIA_TYPE
        bearer = self._tokens.get() if token else None
        response = self._once(method, path, headers, body, bearer, side_effect)
        if response.status == 401 and bearer is not None:
            self._tokens.invalidate(bearer)
            response = self._once(method, path, headers, body, self._tokens.get(), side_effect)
        self._check_rate_limit(response)
        return response

    def _once(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        bearer: str | None,
        side_effect: bool,
    ) -> Response:
        if bearer is not None:
            headers = {**headers, "Authorization": f"bearer {bearer}"}  # the scheme as documented
        try:
            return self.request(method, path, data=body, headers=headers)
        except OutcomeUnknown as exc:
            if side_effect:
                raise
            raise TransientError(f"{exc.message} (a {method} changes nothing: safe to repeat)") from exc

    def _fetch_token(self) -> tuple[str, float]:
        """A new access token (client credentials grant)."""
        self._respect_quiet()
        secret = self.settings.client_secret.get_secret_value()
        try:
            response = self.request(
                "POST",
                TOKEN,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
                auth=(self.settings.client_id, secret),
            )
        except OutcomeUnknown as exc:  # asking for a token publishes nothing
            raise TransientError(f"{self.name} did not answer the token request: {exc.message}") from exc
        self._check_rate_limit(response)
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        if response.status in (400, 401, 403):
            code = answers.oauth_error(response)
            shown = f", {code}" if code else ""
            raise AuthError(
                f"{self.name} refused our client credentials (HTTP {response.status}{shown})", **common
            )
        if response.status >= 300:
            raise self._failure(response)
        token = answers.access_token(response)
        if token is None:
            raise TransientError(f"{self.name} answered the token request without a bearer token", **common)
        return token

    def _respect_quiet(self) -> None:
        with self._quiet_lock:
            remaining = self._quiet_until - self._clock()
        if remaining > 0:
            raise RateLimited(
                f"{self.name} asked for no requests for {self.settings.rate_limit_wait:g}s after its rate "
                f"limit; {remaining:.0f}s to go, nothing was sent",
                retry_after=remaining,
            )

    def _check_rate_limit(self, response: Response) -> None:
        if not answers.is_rate_limit_page(response):
            return
        wait = self.settings.rate_limit_wait
        with self._quiet_lock:
            self._quiet_until = max(self._quiet_until, self._clock() + wait)
        raise RateLimited(
            f"{self.name} is rate limiting us (HTTP 403, its rate-limit page): no request for {wait:g}s",
            retry_after=wait,
            status_code=response.status,
            excerpt=self.excerpt(response),
        )

    def _failure(self, response: Response) -> Exception:
        """The error for an answer the flow cannot use (HTTP status mapping, reasons attached)."""
        try:
            self.raise_for_status(response, answers.reasons(response))
        except (AuthError, RateLimited, RejectedError, TransientError) as exc:
            return exc
        return OutcomeUnknown(
            f"{self.name} answered HTTP {response.status}, which its API never does here",
            status_code=response.status,
            excerpt=self.excerpt(response),
        )

    def secret_values(self) -> list[str]:
        """The client secret, the Basic credentials made from it, and the tokens held lately."""
        values = super().secret_values()
        secret = self.settings.client_secret.get_secret_value()
        if secret:
            pair = f"{self.settings.client_id}:{secret}".encode()
            values.append(base64.b64encode(pair).decode("ascii"))
        values.extend(t for t in self._tokens.recent() if len(t) >= MIN_SCRUBBED_TOKEN)
        return values
