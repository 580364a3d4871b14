"""A self-contained API reference page built from the OpenAPI description (no CDN assets)."""

from __future__ import annotations

from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else schema.get("type", "")


def api_reference(spec: dict[str, Any]) -> str:
    """HTML listing every operation: method, path, summary, parameters and bodies."""
    rows = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            params = "".join(
                f"<li><code>{escape(p['name'])}</code> ({escape(p.get('in', ''))})"
                f"{' required' if p.get('required') else ''}</li>"
                for p in operation.get("parameters", [])
            )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            body_text = (
                f"<p>Body: <code>{escape(_schema_name(body.get('schema', {})))}</code></p>" if body else ""
            )
            answers = ", ".join(escape(code) for code in operation.get("responses", {}))
            rows.append(
                f"<section class='card'><h2><code>{method.upper()} {escape(path)}</code></h2>"
                f"<p>{escape(operation.get('summary', ''))}</p>"
                f"<p>{escape(operation.get('description', ''))}</p>"
                + (f"<ul>{params}</ul>" if params else "")
                + body_text
                + f"<p class='muted'>Answers: {answers}</p></section>"
            )
    info = spec.get("info", {})
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{escape(info.get('title', 'API'))} API</title>"
        "<link rel=stylesheet href='/static/app.css'><main class='page'>"
        f"<h1>{escape(info.get('title', 'API'))} API</h1>"
        "<p>Send <code>Authorization: Bearer &lt;token&gt;</code>. "
        "The machine-readable description is at <a href='/openapi.json'>/openapi.json</a>.</p>"
        + "".join(rows)
        + "</main></html>"
    )
