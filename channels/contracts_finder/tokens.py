"""Contracts Finder's bearer token, fetched once and shared by the worker's I/O threads.

`POST /Token` (client credentials) answers a token that lives `expires_in` seconds (3600 in
the documentation's sample). The cache hands out the same token until shortly before it
expires; one thread fetches while the others wait for it, so a burst of deliveries asks for one
token, not one each (every request counts towards the service's rate limit). A 401 from the API
drops the token it was sent with, and the next caller fetches a fresh one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Fetch = Callable[[], tuple[str, float]]  # -> (access token, seconds it lives)
Clock = Callable[[], float]  # monotonic seconds


@dataclass(frozen=True)
class Token:
    """One access token and when (on the cache's clock) it stops being handed out."""

    value: str
    good_until: float


class TokenCache:
    """A thread-safe, single-flight cache of one access token."""

    def __init__(self, fetch: Fetch, clock: Clock, margin: float) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: Token | None = None
        # Tokens to scrub from anything shown (a refused one may still be echoed back), under a
        # lock of their own: the fetch runs under `_lock` and maps its own errors, scrubbed.
        self._recent: deque[str] = deque(maxlen=4)
        self._recent_lock = threading.Lock()

    def get(self) -> str:
        """The current token, fetched when there is none or it is about to expire."""
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.good_until:
                value, lifetime = self._fetch()
                # Stop using a token `margin` seconds before the service stops accepting it,
                # but always use a fresh one at least once, however short its life.
                token = Token(value, self._clock() + max(lifetime - self._margin, 0.0))
                self._token = token
                with self._recent_lock:
                    self._recent.append(value)
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget `value` (refused with a 401), unless another thread already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def recent(self) -> list[str]:
        """The last few tokens this cache fetched, so they can be scrubbed from anything shown."""
        with self._recent_lock:
            return list(self._recent)
