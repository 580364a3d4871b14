"""The benchmark's machinery: a fresh PostgreSQL database, a Redis database, the sandbox and
Celery workers as separate processes (so nothing shares this script's interpreter), and
measuring a process tree's resident memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from syndicator.config.settings import Settings, load_config
from syndicator.demo.processes import free_port, wait_for_port
from syndicator.runtime.wiring import Store, open_store
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.profile import Timings, write_config

ROOT = Path(__file__).resolve().parents[1]
# Channels that publish some time after accepting a notice: in the benchmark, at once.
PUBLISHING = ("bluelight", "source-east-midlands", "ted", "find-a-tender")
TIMINGS = Timings(
    sweep_interval="2s",  # as deployed (config/channels.toml)
    lease="10s",
    requeue_after="10s",
    batch_size=20,
    concurrency=8,
    polling=("0s", "0.2s", "0.5s"),
    retry=("1s", "2s", "5s"),
    read_timeout=30.0,
)


@contextlib.contextmanager
def database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database for one benchmark run, dropped afterwards."""
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"syndicator_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Process:
    """A child process in its own group, logging to a file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Signal the whole group; SIGKILL whatever is left after `timeout`."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._log.close()

    def rss_bytes(self) -> int:
        """Resident memory of the process and all its descendants."""
        return sum(_rss(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        for child in children.read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def _cpu(pid: int) -> float:
    """User + system CPU seconds used so far by one process (from /proc)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def pids_of(*patterns: str) -> list[int]:
    """Processes whose command line contains one of `patterns`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if any(pattern in command for pattern in patterns):
                    found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds spent by each part of the system (a function listing its processes)."""

    def __init__(self, parts: dict[str, Any]) -> None:
        self.parts = parts
        self.before = {pid: _cpu(pid) for finder in parts.values() for pid in finder()}

    def stop(self) -> dict[str, float]:
        used = {}
        for name, finder in self.parts.items():
            used[name] = round(sum(_cpu(pid) - self.before.get(pid, 0.0) for pid in set(finder())), 2)
        return used


def _listening(port: int) -> bool:
    """True while something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Bench:
    """One benchmark environment: store, broker, sandbox and the means to start workers."""

    def __init__(self, database_url: str, redis_url: str, folder: Path, concurrency: int) -> None:
        self.folder = folder
        self.concurrency = concurrency
        folder.mkdir(parents=True, exist_ok=True)
        self.redis = redis.Redis.from_url(redis_url)
        self.redis.flushdb()
        self.box = SandboxConfig(
            port=free_port(18900),
            smtp_port=free_port(18925),
            data_dir=None,
            publish_delay={name: 0 for name in PUBLISHING},
        )
        config_dir = write_config(folder / "config", self.box, TIMINGS)
        self.env = {
            **os.environ,
            "SYNDICATOR_DATABASE_URL": database_url,
            "SYNDICATOR_BROKER_URL": redis_url,
            "SYNDICATOR_CONFIG_DIR": str(config_dir),
            "SYNDICATOR_DATA_DIR": str(folder / "var"),
            "SYNDICATOR_LOG_FORMAT": "json",
            "SYNDICATOR_LOG_LEVEL": "WARNING",
        }
        self.settings = Settings(
            database_url=database_url, broker_url=redis_url, config_dir=config_dir, data_dir=folder / "var"
        )
        self.config = load_config(self.settings)  # once: the product's intake loads it once too
        self.store: Store = open_store(self.settings, pool_size=4, max_overflow=4)
        self.http_latency = self.smtp_latency = 0.0
        self.sandbox = self._start_sandbox()

    def _start_sandbox(self) -> Process:
        delays = [a for name in PUBLISHING for a in ("--delay", f"{name}=0")]
        sandbox = Process(
            [
                sys.executable,
                "-m",
                "syndicator",
                "sandbox",
                "--port",
                str(self.box.port),
                "--smtp-port",
                str(self.box.smtp_port),
                "--no-files",
                *delays,
                "--http-latency",
                str(self.http_latency),
                "--smtp-latency",
                str(self.smtp_latency),
            ],
            self.env,
            self.folder / "sandbox.log",
        )
        if not wait_for_port(self.box.port, 30) or not wait_for_port(self.box.smtp_port, 30):
            raise RuntimeError(f"the sandbox did not start; see {self.folder / 'sandbox.log'}")
        return sandbox

    def restart_sandbox(self, http_latency: float = 0.0, smtp_latency: float = 0.0) -> None:
        """A fresh sandbox on the same ports, `http_latency` s before every HTTP answer and
        `smtp_latency` s before every SMTP reply (the simulated distance to the portals)."""
        self.sandbox.stop()
        deadline = time.monotonic() + 30
        while _listening(self.box.port) or _listening(self.box.smtp_port):
            if time.monotonic() > deadline:
                raise RuntimeError("the old sandbox still holds its ports")
            time.sleep(0.1)
        self.http_latency, self.smtp_latency = http_latency, smtp_latency
        self.sandbox = self._start_sandbox()

    def product_worker(self, beat: bool = True) -> Process:
        """A real `celery -A worker worker` (as in production), with the sweeper's beat."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "-c",
            str(self.concurrency),
            "-Q",
            "syndicator",
            "-n",
            f"bench{time.monotonic_ns()}@%h",
            "--loglevel=WARNING",
        ]
        if beat:
            argv += ["-B", "-s", str(self.folder / f"beat-{time.monotonic_ns()}")]
        worker = Process(argv, self.env, self.folder / "worker.log")
        self.wait_ready(worker)
        return worker

    def baseline_worker(self, threads: int = 0) -> Process:
        """The bare baseline's worker: same broker and processes; or, with `threads`, one worker
        on Celery's threads pool running that many tasks (sends) at once."""
        pool = ["-P", "threads", "-c", str(threads)] if threads else ["-c", str(self.concurrency)]
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.baseline",
            "worker",
            *pool,
            "-Q",
            "bench-baseline",
            "-n",
            f"baseline{time.monotonic_ns()}@%h",
            "--loglevel=WARNING",
        ]
        worker = Process(argv, self.env, self.folder / "baseline.log")
        self.wait_ready(worker, children=0 if threads else self.concurrency)
        return worker

    def wait_ready(self, worker: Process, timeout: float = 60, children: int | None = None) -> None:
        """Until the worker's pool processes exist (its children) and have settled."""
        deadline = time.monotonic() + timeout
        wanted = self.concurrency if children is None else children
        while time.monotonic() < deadline:
            if wanted == 0 and worker.process.poll() is None:
                time.sleep(4)  # a threads pool has no children to wait for: let it connect
                return
            if len(_descendants(worker.pid)) >= wanted:
                time.sleep(1.5)
                return
            time.sleep(0.2)
        raise RuntimeError("a worker did not start; see the logs in " + str(self.folder))

    def meter(self, *workers: Process) -> CpuMeter:
        """CPU accounting of this script, the sandbox, the workers, PostgreSQL and Redis."""
        return CpuMeter(
            {
                "bench": lambda: [os.getpid()],
                "sandbox": lambda: [self.sandbox.pid],
                "workers": lambda: [p for w in workers for p in (w.pid, *_descendants(w.pid))],
                "postgres": lambda: pids_of("postgres:"),
                "redis": lambda: pids_of("redis-server"),
            }
        )

    def sandbox_url(self) -> str:
        return self.box.base_url()

    def clear_sandbox(self) -> None:
        requests.delete(self.sandbox_url() + "/_sandbox/received", timeout=10)
        requests.delete(self.sandbox_url() + "/_sandbox/faults", timeout=10)

    def close(self) -> None:
        self.sandbox.stop()
        self.store.dispose()
