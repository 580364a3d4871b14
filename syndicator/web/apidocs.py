"""The API reference pages: Swagger UI at /docs and ReDoc at /redoc, served from the assets the
`fastapi-offline` package bundles (nothing is fetched from a CDN), under the same Content
Security Policy as every page: scripts and styles from this site only, so each page's set-up
lives in a static file instead of an inline script."""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-assets"


def swagger_page(title: str) -> str:
    """Swagger UI for /openapi.json (configured by /static/swagger-init.js)."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} API</title>"
        f"<link rel=icon href='{ASSETS_URL}/favicon.png'>"
        f"<link rel=stylesheet href='{ASSETS_URL}/swagger-ui.css'></head>"
        "<body><div id=swagger-ui></div>"
        f"<script src='{ASSETS_URL}/swagger-ui-bundle.js'></script>"
        "<script src='/static/swagger-init.js'></script></body></html>"
    )


def redoc_page(title: str) -> str:
    """ReDoc for /openapi.json; without search, which would run in a blob: worker the CSP refuses."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} API</title>"
        f"<link rel=icon href='{ASSETS_URL}/favicon.png'></head>"
        "<body><redoc spec-url='/openapi.json' disable-search></redoc>"
        f"<script src='{ASSETS_URL}/redoc.standalone.js'></script></body></html>"
    )
