"""`syndicator sandbox`: one process serving every channel simulator on loopback, the HTTP
channels under path prefixes on one port and trade press as an SMTP sink, plus the control
and inspection endpoints used by tests, the demo and training.

    /crystal/...  /bluelight/...  /sem/...  /ted/...      the channels' own APIs
    /find-a-tender/...  /contracts-finder/...
    POST/GET/DELETE /_sandbox/faults                       inject / list / clear faults
    GET/DELETE /_sandbox/received                          what was received / forget it
    GET /_sandbox/notices/<channel>/<remote id>            one stored notice, as received
    POST /_sandbox/delays                                  publication delays per channel
    POST/DELETE /_sandbox/find-a-tender/notices            notices published by someone else
    GET /                                                  a page listing received notices
"""

from __future__ import annotations

import html
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.faults import AUTH, MODES, Fault, Faults
from syndicator.sandbox.ledger import Ledger

MAX_BODY = 10 * 1024 * 1024
ALIASES = {"sem": "source-east-midlands", "alerts": "ops-alerts", "fts": "find-a-tender"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the client's delayed
    # ACK adds ~40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the ledger and the files are the record."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        parts = urlsplit(self.path)
        path = parts.path
        try:
            if path.startswith("/_sandbox/") or path == "/":
                response = sandbox.control(self.command, path, dict(parse_qsl(parts.query)), self._body())
                self._send(response)
                return
            simulator = sandbox.simulator_for(path)
            if simulator is None:
                self._body()
                self._send(SandboxResponse.json(404, {"error": f"no channel at {path}"}))
                return
            fault = sandbox.faults.take(simulator.channel)
            if fault is not None and fault.mode == "down":
                self._drop()
                return
            request = SandboxRequest(
                method=self.command,
                path=path[len(simulator.prefix) :] or "/",
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self._body(),
            )
            answer = sandbox.answer(simulator, request, fault)
            if sandbox.config.http_latency > 0:  # the simulated network; control paths answer at once
                time.sleep(sandbox.config.http_latency)
            self._send(answer)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a simulator bug must not kill the sandbox; show it
            self._send(SandboxResponse.json(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"}))

    def _drop(self) -> None:
        """Reset the connection without answering (the `down` fault)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, response: SandboxResponse) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (time-out fault)
            self.close_connection = True


class Sandbox:
    """Every simulator, the shared ledger and faults, and the servers that expose them."""

    def __init__(
        self,
        config: SandboxConfig,
        simulators: Callable[[SandboxConfig, Ledger], Sequence[Simulator]] | None = None,
        *,
        smtp: bool = True,
    ) -> None:
        from syndicator.sandbox.simulators import http_simulators

        self.config = config
        self.ledger = Ledger(config.data_dir)
        self.faults = Faults()
        self.simulators = list((simulators or http_simulators)(config, self.ledger))
        self._with_smtp = smtp
        self._http: _Server | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Any = None

    def simulator_for(self, path: str) -> Simulator | None:
        """The simulator whose prefix the path is under."""
        for simulator in self.simulators:
            if path == simulator.prefix or path.startswith(simulator.prefix + "/"):
                return simulator
        return None

    def answer(self, simulator: Simulator, request: SandboxRequest, fault: Fault | None) -> SandboxResponse:
        """The simulator's answer, bent by the pending fault if there is one."""
        if fault is None:
            return simulator.handle(request)
        if fault.mode == "error-503":
            return SandboxResponse.json(503, {"error": "service unavailable (injected fault)"})
        if fault.mode == "rate-limit-429":
            return SandboxResponse.json(
                429,
                {"error": "too many requests (injected fault)"},
                **{"Retry-After": str(fault.retry_after)},
            )
        if fault.mode == "reject-422":
            return simulator.reject(request, "rejected by an injected fault")
        if fault.mode in AUTH:
            return simulator.refuse_credentials(request, AUTH[fault.mode])
        response = simulator.handle(request)  # timeout: store it, then answer too late
        time.sleep(fault.delay)
        return response

    # -- control and inspection ------------------------------------------------------------

    def control(self, method: str, path: str, query: dict[str, str], body: bytes) -> SandboxResponse:
        """The `/_sandbox/...` endpoints."""
        if path == "/" and method == "GET":
            return SandboxResponse(200, self._index().encode("utf-8"), "text/html; charset=utf-8")
        if path == "/_sandbox/health":
            return SandboxResponse.json(200, {"status": "ok", "channels": self.channels()})
        if path == "/_sandbox/received":
            if method == "DELETE":
                self.ledger.clear()
                return SandboxResponse.json(200, {"cleared": True})
            channel = ALIASES.get(query.get("channel", ""), query.get("channel"))
            return SandboxResponse.json(
                200, {"notices": [e.summary() for e in self.ledger.entries(channel or None)]}
            )
        if path == "/_sandbox/faults":
            return self._faults(method, query, body)
        if path.startswith("/_sandbox/notices/") and method == "GET":
            return self._notice(path.removeprefix("/_sandbox/notices/"))
        if path == "/_sandbox/delays" and method == "POST":
            try:
                changes = {ALIASES.get(k, k): float(v) for k, v in json.loads(body or b"{}").items()}
            except (ValueError, TypeError, AttributeError):
                return SandboxResponse.json(400, {"error": 'send {"<channel>": seconds, ...}'})
            self.config.publish_delay.update(changes)
            return SandboxResponse.json(200, {"publish_delay": self.config.publish_delay})
        for simulator in self.simulators:
            below = f"/_sandbox/{simulator.channel}/"
            if path.startswith(below):
                answer = simulator.control(method, path[len(below) :], query, body)
                if answer is not None:
                    return answer
        return SandboxResponse.json(404, {"error": f"no control endpoint {method} {path}"})

    def _faults(self, method: str, query: dict[str, str], body: bytes) -> SandboxResponse:
        if method == "GET":
            return SandboxResponse.json(200, {"faults": self.faults.pending()})
        if method == "DELETE":
            self.faults.clear(ALIASES.get(query.get("channel", ""), query.get("channel")) or None)
            return SandboxResponse.json(200, {"faults": self.faults.pending()})
        try:
            spec = json.loads(body or b"{}")
            channel = ALIASES.get(spec["channel"], spec["channel"])
            count = int(spec.get("count", 1))
            fault = Fault(
                mode=spec["mode"],
                retry_after=int(spec.get("retry_after", 2)),
                delay=float(spec.get("delay", 35.0)),
            )
            if channel not in self.channels():
                raise ValueError(f"unknown channel {channel!r}; known: {', '.join(self.channels())}")
            if not 1 <= count <= 10_000:
                raise ValueError("count must be between 1 and 10000")
            self.faults.add(channel, fault, count)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            usage = f'send {{"channel", "mode" (one of {", ".join(MODES)}), "count"}}'
            return SandboxResponse.json(400, {"error": f"{exc}; {usage}"})
        return SandboxResponse.json(201, {"faults": self.faults.pending()})

    def _notice(self, rest: str) -> SandboxResponse:
        channel, _, remote_id = rest.partition("/")
        entry = self.ledger.by_remote_id(ALIASES.get(channel, channel), unquote(remote_id))
        if entry is None:
            return SandboxResponse.json(404, {"error": f"no notice {remote_id!r} on {channel}"})
        kind = {"xml": "application/xml", "json": "application/json", "eml": "text/plain"}
        return SandboxResponse(
            200,
            entry.body,
            kind.get(entry.extension, "application/octet-stream") + "; charset=utf-8",
        )

    def notice_url(self, channel: str, remote_id: str) -> str:
        """A generic public URL for a stored notice (used by the SMTP sink)."""
        return f"{self.config.base_url()}/_sandbox/notices/{channel}/{quote(remote_id, safe='')}"

    def channels(self) -> list[str]:
        """Every channel the sandbox simulates (faults can be injected into each)."""
        from syndicator.sandbox.smtp import ALERTS, CHANNEL

        names = [s.channel for s in self.simulators]
        return [*names, CHANNEL, ALERTS] if self._with_smtp else names

    def _index(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    e["channel"],
                    e["tender_reference"],
                    e["remote_id"],
                    e["status"],
                    e["times_received"],
                    e["copies"],
                )
            )
            + (f'<td><a href="{html.escape(e["url"])}">open</a></td>' if e["url"] else "<td></td>")
            + "</tr>"
            for e in (entry.summary() for entry in self.ledger.entries())
        )
        return (
            "<!doctype html><meta charset=utf-8><title>Channel sandbox</title>"
            "<style>body{font:14px system-ui;margin:2em}td,th{padding:.2em .8em;text-align:left}</style>"
            f"<h1>Channel sandbox</h1><p>Channels: {', '.join(self.channels())}. "
            "JSON: <a href=/_sandbox/received>/_sandbox/received</a></p>"
            "<table><tr><th>channel<th>tender<th>notice<th>status<th>received<th>copies<th></tr>"
            f"{rows}</table>"
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in background threads."""
        self._http = _Server((self.config.host, self.config.port), self)
        self.config.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="sandbox-http", daemon=True)
        self._thread.start()
        if self._with_smtp:
            from syndicator.sandbox.smtp import SmtpSink

            self._smtp = SmtpSink(self.config, self.ledger, self.faults)
            self._smtp.start()

    def stop(self) -> None:
        """Stop every server."""
        if self._smtp is not None:
            self._smtp.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
