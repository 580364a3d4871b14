"""Every page of the dashboard, read from the application's router, so a page added later is
audited without anyone listing it: each GET route except the API, its reference, metrics, the
health check and static files. A route with path parameters is visited once per value the seed
offers for them (`Seeded.parameters`); a parameter it has no value for is an error that says so.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.routing import APIRoute

# The API reference (Swagger UI at /docs, ReDoc at /redoc) is third-party UI served as it ships
# (ReDoc's contrast and focus rings themed in web/apidocs.py): not a dashboard page.
NOT_PAGES = ("/api", "/docs", "/redoc", "/openapi.json", "/metrics", "/healthz", "/static")
# Pages drawn without the dashboard's navigation, even for a person who is signed in: the sign-in
# page, and the printable transparency lists (documents to print or publish as they are).
PRINTABLE = {"/contracts/list.html", "/contracts/pcc.html"}  # documents: nothing to Tab to
SIGNED_OUT = {"/signin"} | PRINTABLE
# What a page shows that only a query (or a missing record) brings out: a filter with no match,
# the reconcile choices of an unknown outcome, and the error pages.
VARIANTS = [
    "/failed?state=needs_reconcile",
    "/tenders?search=no-such-tender",
    "/audit?actor=nobody",
    "/tenders/NO-SUCH-TENDER",
    "/failed?since=soon",
    "/contracts?quarter=2027-Q1",  # the seeded awards' contracts
    "/contracts/list.html?quarter=2027-Q1",
    "/contracts/pcc.html?buyer=northamptonshire-police",
]


PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")  # `{reference:path}` -> reference


@dataclass(frozen=True)
class Visit:
    """A path to open, and a name for its screenshot."""

    path: str

    @property
    def slug(self) -> str:
        """`/tenders/NOTTS-2026-0142` -> `tenders-notts-2026-0142`; `/` -> `overview`."""
        text = re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-")
        return text[:80] or "overview"


def page_routes(app: FastAPI) -> list[str]:
    """The paths (as declared, e.g. `/tenders/{reference:path}`) of the GET routes serving pages."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.16x copied included routers' routes into app.routes
        declared = [(r.path, r.methods) for r in app.routes if isinstance(r, APIRoute)]
    else:  # newer FastAPI keeps each included router whole: walk them
        declared = [
            (c.path, c.methods)
            for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute)
        ]
    return [path for path, methods in declared if "GET" in (methods or ()) and not path.startswith(NOT_PAGES)]


def fill(path: str, values: dict[str, str]) -> str:
    """A declared path with its parameters replaced by URL-quoted values."""
    return PARAMETER.sub(lambda slot: quote(values[slot.group(1)], safe=""), path)


def visits(app: FastAPI, parameters: dict[str, list[str]]) -> list[Visit]:
    """Every page route, filled in with the seed's values, then the VARIANTS."""
    found: list[Visit] = []
    for path in page_routes(app):
        names = PARAMETER.findall(path)
        missing = [n for n in names if not parameters.get(n)]
        if missing:
            raise LookupError(
                f"{path} takes {missing}: give tests/browser/seed.py Seeded.parameters "
                "a value to visit it with"
            )
        for values in itertools.product(*(parameters[n] for n in names)):
            found.append(Visit(fill(path, dict(zip(names, values, strict=True)))))
    return found + [Visit(path) for path in VARIANTS]
