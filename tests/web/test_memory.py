"""A large body cannot make the web server hold it: the real server (`syndicator serve`, uvicorn)
is sent 200 MB bodies, and its peak memory (VmHWM) must not grow by more than the body limit.

    anonymous, chunked               401 before the body is read
    anonymous, Content-Length 200 MB 401 or 413 at once
    with a token, chunked            413 as soon as MAX_BODY_BYTES have arrived
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicator.config.settings import REPO_CONFIG
from syndicator.domain.clock import utcnow
from syndicator.domain.limits import MAX_BODY_BYTES
from syndicator.web.tokens import create_token
from tests.services import migrated_store

pytestmark = pytest.mark.slow

SENT = 200 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_memory(pid: int) -> int:
    """The process's high-water resident set size in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


class Server:
    """`syndicator serve` in a child process, over an SQLite store with one operator token."""

    def __init__(self, tmp: Path) -> None:
        url = f"sqlite:///{tmp / 'store.db'}"
        store = migrated_store(url)
        _, self.token = create_token(store.sessions, "otto.operator", "operator", utcnow())
        store.dispose()
        self.port = free_port()
        env = os.environ | {
            "SYNDICATOR_DATABASE_URL": url,
            "SYNDICATOR_CONFIG_DIR": str(REPO_CONFIG),
            "SYNDICATOR_DATA_DIR": str(tmp / "var"),
            "SYNDICATOR_LOG_FORMAT": "json",
        }
        command = [str(Path(sys.executable).parent / "syndicator"), "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                status, _ = self.request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(self.process.stderr.read().decode() if self.process.stderr else "")
            time.sleep(0.2)
        raise AssertionError("the server did not answer /healthz")

    def request(self, head: bytes, chunks: int = 0) -> tuple[int, bytes]:
        """Send `head`, then up to `chunks` 1 MB chunks (chunked encoding) until the server answers."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(head)
            for _ in range(chunks):
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is here: the server stopped reading
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                except (BrokenPipeError, ConnectionResetError):
                    break
            answer = b""
            try:
                while not _complete(answer) and (data := sock.recv(65536)):
                    answer += data
            except ConnectionResetError:
                pass
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        return status, answer.partition(b"\r\n\r\n")[2]

    def post_head(self, token: str | None, length: int | None = None) -> bytes:
        lines = ["POST /api/tenders HTTP/1.1", "Host: x", "Content-Type: application/json"]
        lines += [f"Authorization: Bearer {token}"] if token else []
        lines += [f"Content-Length: {length}"] if length is not None else ["Transfer-Encoding: chunked"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _complete(answer: bytes) -> bool:
    """Whether `answer` holds the whole response: its head and as much body as it announced
    (the body may arrive in a later packet than the head)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    running.process.terminate()
    running.process.wait(timeout=30)


def test_large_bodies_do_not_grow_the_server_by_more_than_the_limit(server: Server) -> None:
    # warm up every path the test takes, so what grows afterwards is the bodies' doing
    server.request(server.post_head(server.token, 2) + b"[]")
    server.request(server.post_head(None, 2) + b"[]")
    before = peak_memory(server.process.pid)

    status, body = server.request(server.post_head(None), chunks=SENT // len(CHUNK))
    assert status == 401 and "token" in json.loads(body)["error"]
    status, _ = server.request(server.post_head(None, SENT), chunks=SENT // len(CHUNK))
    assert status in (401, 413)
    assert peak_memory(server.process.pid) - before < MAX_BODY_BYTES

    status, body = server.request(server.post_head(server.token), chunks=SENT // len(CHUNK))
    assert status == 413 and "larger than" in json.loads(body)["error"]
    # with a token the body is read, and refused as soon as it passes the limit
    assert peak_memory(server.process.pid) - before < 2 * MAX_BODY_BYTES
