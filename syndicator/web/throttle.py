"""Throttling of failed sign-ins and bad API tokens, per client address (the `limits` library).

    failure --hit--> moving window per address --over the rate--> 429 with Retry-After

A token is 32 random bytes, so guessing one is hopeless anyway; the throttle keeps a client
that hammers the sign-in form or the API with bad tokens from costing a database look-up per
try. While an address is throttled every attempt from it is refused, a valid token too, so the
answers tell a guesser nothing. The window lives in this process (`memory://`) unless
SYNDICATOR_THROTTLE_STORAGE names a shared store (`redis://...`) for several web processes.
Behind a proxy, run uvicorn with proxy headers so the address is the client's, not the proxy's.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "syndicator-auth-failures"


class Throttle:
    """Counts authentication failures per client address and says when to refuse."""

    def __init__(self, rate: str, storage_uri: str) -> None:
        self.item: RateLimitItem = parse(rate)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def wait(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it may try now."""
        if self.limiter.test(self.item, NAMESPACE, client):
            return None
        reset = self.limiter.get_window_stats(self.item, NAMESPACE, client).reset_time
        return max(1, math.ceil(reset - time.time()))

    def failed(self, client: str) -> None:
        """Record one failed attempt from `client`."""
        self.limiter.hit(self.item, NAMESPACE, client)
