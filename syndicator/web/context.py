"""What every route needs (settings, configuration, store, enqueue, clock, templates), built
once by `create_app` and reached through `request.app.state`: no module-level globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.templating import Jinja2Templates

from syndicator.config.settings import Config, Settings
from syndicator.domain.clock import Clock
from syndicator.runtime.wiring import Store
from syndicator.web.options import WebOptions
from syndicator.web.throttle import Throttle

Enqueue = Callable[[list[int]], None]


@dataclass
class Web:
    """The web application's dependencies."""

    settings: Settings
    config: Config
    store: Store
    enqueue: Enqueue  # never raises: a lost wake-up is re-sent by the sweeper
    clock: Clock
    options: WebOptions
    templates: Jinja2Templates
    throttle: Throttle

    def destinations(self) -> list[str]:
        """Every destination the routing policy can produce, in its order."""
        return self.config.policy.destinations()

    def buyers(self) -> list[str]:
        """Every known buyer id, sorted."""
        return sorted(self.config.buyers.ids)


def web(request: Request) -> Web:
    """FastAPI dependency: the application's `Web`."""
    found: Web = request.app.state.web
    return found
