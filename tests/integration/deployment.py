"""A whole deployment for integration tests: a fresh PostgreSQL database, Redis as the broker,
real `celery -A worker worker` processes (started and SIGKILLed like in production), and the
sandbox in this process. Schedules are short (from a test channels.toml) so nothing sleeps long.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select

from syndicator.config.settings import Settings, load_config
from syndicator.intake.records import read_bytes
from syndicator.intake.submit import submit
from syndicator.runtime.celeryapp import DELIVER, create_app
from syndicator.runtime.wiring import Store, open_store, tender_context
from syndicator.sandbox.profile import Timings, write_config
from syndicator.sandbox.server import Sandbox
from syndicator.store.models import AttemptRow, DeliveryRow, TenderRow

ROOT = Path(__file__).resolve().parents[2]

TIMINGS = Timings(
    sweep_interval="0.5s",
    lease="6s",
    requeue_after="2s",
    batch_size=10,
    retry=("0.5s", "1s", "1s", "1s", "1s", "1s", "5s"),
    breaker_failures=3,
    breaker_cooldown="3s",
    polling=("0.3s", "0.5s"),
    read_timeout=1.5,
)


class Deployment:
    """Everything a scenario needs, and helpers to drive and observe it."""

    def __init__(self, tmp: Path, database_url: str, redis_url: str, sandbox: Sandbox) -> None:
        self.tmp = tmp
        self.sandbox = sandbox
        config_dir = write_config(tmp / "config", sandbox.config, TIMINGS, profile="test")
        self.env = {
            **os.environ,
            "SYNDICATOR_DATABASE_URL": database_url,
            "SYNDICATOR_BROKER_URL": redis_url,
            "SYNDICATOR_CONFIG_DIR": str(config_dir),
            "SYNDICATOR_DATA_DIR": str(tmp / "var"),
            "SYNDICATOR_LOG_FORMAT": "json",
        }
        self.settings = Settings(
            database_url=database_url,
            broker_url=redis_url,
            config_dir=config_dir,
            data_dir=tmp / "var",
        )
        self.config = load_config(self.settings)
        self.store: Store = open_store(self.settings)
        self.app = create_app(self.settings)
        self.redis = redis.Redis.from_url(redis_url)
        self.redis.flushdb()
        self.workers: list[subprocess.Popen[bytes]] = []

    # -- processes -------------------------------------------------------------------------

    def start_worker(
        self, *, beat: bool = True, concurrency: int = 2, name: str = "w"
    ) -> subprocess.Popen[bytes]:
        """A real Celery worker process (with the sweeper's beat unless told otherwise)."""
        log = (self.tmp / f"{name}-{len(self.workers)}.log").open("wb")
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "-c",
            str(concurrency),
            "-Q",
            "syndicator",
            "-n",
            f"{name}{len(self.workers)}@%h",
            "--loglevel=INFO",
        ]
        if beat:
            argv += ["-B", "-s", str(self.tmp / f"beat-{len(self.workers)}")]
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Kill a worker and all its children at once (SIGKILL: no clean-up of any kind)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=20)

    def stop(self) -> None:
        """Stop every worker and release connections."""
        for process in self.workers:
            if process.poll() is None:
                self.kill(process)
        self.store.dispose()
        self.app.close()

    # -- driving ---------------------------------------------------------------------------

    def submit(self, *records: dict[str, Any], enqueue: bool = True) -> list[int]:
        """Submit records the way the CLI does; returns the tender ids."""
        parsed, problems = read_bytes(
            json.dumps(list(records)).encode(), tender_context(self.config, date.today())
        )
        assert not problems, problems
        send = (lambda ids: self.app.send_task(DELIVER, args=[ids])) if enqueue else None
        from syndicator.domain.clock import utcnow

        results = submit(
            self.store.sessions,
            parsed,
            self.config.policy,
            self.config.thresholds,
            "tester",
            utcnow(),
            send,
        )
        return [r.tender_id for r in results]

    # -- observing -------------------------------------------------------------------------

    def deliveries(self, tender_ids: list[int] | None = None) -> list[DeliveryRow]:
        with self.store.sessions() as session:
            query = select(DeliveryRow).order_by(DeliveryRow.id)
            if tender_ids is not None:
                query = query.where(DeliveryRow.tender_id.in_(tender_ids))
            return list(session.scalars(query))

    def attempts(self, delivery_id: int) -> list[AttemptRow]:
        with self.store.sessions() as session:
            query = select(AttemptRow).where(AttemptRow.delivery_id == delivery_id).order_by(AttemptRow.id)
            return list(session.scalars(query))

    def tender(self, tender_id: int) -> TenderRow:
        with self.store.sessions() as session:
            row = session.get(TenderRow, tender_id)
            assert row is not None
            return row

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
        """Poll until `predicate()` holds; fail with the current delivery states otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        states = [(d.id, d.destination, d.state, d.attempts, d.last_error) for d in self.deliveries()]
        logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("w*.log")))
        raise AssertionError(f"timed out waiting for {what}; deliveries: {states}\nworker logs:\n{logs}")

    def all_in(self, states: set[str], tender_ids: list[int] | None = None) -> Callable[[], bool]:
        """A predicate: every delivery (of these tenders) is in one of `states`."""
        return lambda: (
            all(d.state in states for d in self.deliveries(tender_ids)) and bool(self.deliveries(tender_ids))
        )
