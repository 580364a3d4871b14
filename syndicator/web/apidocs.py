"""The API reference pages: Swagger UI at /docs and ReDoc at /redoc, served from the assets the
`fastapi-offline` package bundles (nothing is fetched from a CDN), under the same Content
Security Policy as every page: scripts and styles from this site only, so each page's set-up
lives in a static file instead of an inline script."""

from __future__ import annotations

import json
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


# ReDoc's default greys and code red are below WCAG AA contrast (4.5:1) on its backgrounds:
# darker ones, each at least 4.5:1 on white and on the tinted response panels.
REDOC_THEME = json.dumps(
    {
        "colors": {
            "text": {"primary": "#1f2328", "secondary": "#4a5056"},
            # a response tab's text is on the black panel, or on white when selected: colours
            # at least 4.5:1 on both
            "responses": {
                "success": {"tabTextColor": "#1e8728"},
                "error": {"tabTextColor": "#e02a20"},
                "redirect": {"tabTextColor": "#a36900"},
                "info": {"tabTextColor": "#517b8d"},
            },
        },
        "typography": {"code": {"color": "#9b1c1c"}, "links": {"color": "#0b57d0"}},
        "schema": {"typeNameColor": "#4a5056", "typeTitleColor": "#4a5056", "nestedBackground": "#fafafa"},
        "rightPanel": {"backgroundColor": "#000000", "textColor": "#ffffff"},
    },
    separators=(",", ":"),
)
# ReDoc draws its section headings (h5) in the text colour at half opacity, which no theme
# colour brings to 4.5:1: drawn opaque in the secondary colour instead.
# ReDoc's own focus ring is 1 px and the side menu's scroll container clips it: a 3 px ring
# drawn inside each control keeps focus visible (WCAG 2.4.7) everywhere on the page. The
# "API docs by Redocly" advert at the menu's foot sits half outside that container (its ring cut
# off whatever its style) is hidden.
REDOC_STYLE = (
    "<style>redoc h5{opacity:1!important;color:#4a5056!important}"
    "redoc :focus{outline:3px solid #1d70b8!important;outline-offset:-3px!important}"
    "redoc a[href*=redocly]{display:none!important}</style>"
)


def redoc_page(title: str) -> str:
    """ReDoc for /openapi.json; without search, which would run in a blob: worker the CSP refuses."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} API</title>"
        f"<link rel=icon href='{ASSETS_URL}/favicon.png'>{REDOC_STYLE}</head>"
        f"<body><redoc spec-url='/openapi.json' disable-search theme='{REDOC_THEME}'></redoc>"
        f"<script src='{ASSETS_URL}/redoc.standalone.js'></script></body></html>"
    )
