"""The demo: the real product end to end on its embedded defaults (SQLite, a folder broker) or
on SYNDICATOR_DATABASE_URL / SYNDICATOR_BROKER_URL when they are set.

    sandbox (this process) <-- worker + beat (child process) <-- filesystem or Redis broker
                                      |                               ^
                                   SQLite / PostgreSQL  <--  submit (this process)
    web application (child process) --^

It injects a few faults (Crystal answers 503 twice, Bluelight rate-limits once, Source East
Midlands rejects one notice), submits the shipped example tenders (Find a Tender first for the
Procurement Act 2023 ones, TED first for the one commenced before 2021; Derbyshire's own tool
publishes its Find a Tender notices, which the product adopts), shows the deliveries move, then
clears the fault, re-pushes the rejected advert and shows it published. Then the rest of a
procurement's life (syndicator/demo/story.py): a deadline extended, a tender withdrawn, a
tender awarded, and the quarter's contracts list.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import requests
from rich.console import Console
from sqlalchemy import select

from syndicator.config.settings import REPO_CONFIG, Config, Settings, load_config
from syndicator.demo import story
from syndicator.demo.processes import Child, free_port, wait_for_port
from syndicator.demo.progress import counts, final_table, settled, watch
from syndicator.domain.clock import utcnow
from syndicator.domain.states import State
from syndicator.intake.records import read_file
from syndicator.intake.submit import submit
from syndicator.ops import actions as ops
from syndicator.ops.contracts import Quarter
from syndicator.runtime.celeryapp import DELIVER, create_app
from syndicator.runtime.wiring import Store, open_store, route_check, tender_context
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.profile import Timings, write_config
from syndicator.sandbox.server import Sandbox
from syndicator.store.models import DeliveryRow

EXAMPLES = REPO_CONFIG.parent / "examples"
TIMINGS = Timings(
    sweep_interval="1s",
    lease="30s",
    requeue_after="5s",
    retry=("2s", "3s", "5s", "10s", "20s"),
    polling=("1s", "1s", "2s"),
    breaker_failures=5,
    breaker_cooldown="10s",
)
DELAYS = {"bluelight": 2.0, "source-east-midlands": 2.0, "ted": 4.0, "find-a-tender": 2.0}
FAULTS = [
    {"channel": "crystal", "mode": "error-503", "count": 2},
    {"channel": "bluelight", "mode": "rate-limit-429", "count": 1, "retry_after": 3},
    {"channel": "source-east-midlands", "mode": "reject-422", "count": 1},
]
SETTLE_TIMEOUT = 75.0


class Demo:
    """One run of the demo; `close()` stops everything it started."""

    def __init__(self, console: Console, keep: bool) -> None:
        self.console = console
        self.keep = keep
        base = Settings()
        self.embedded = "SYNDICATOR_DATABASE_URL" not in os.environ
        self.folder = Path(base.data_dir) / "demo"
        if self.embedded and self.folder.exists():
            shutil.rmtree(self.folder)  # a fresh demo every time: its own folder only
        self.folder.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.children: list[Child] = []
        self.sandbox: Sandbox | None = None
        self.store: Store | None = None

    # -- set-up ----------------------------------------------------------------------------

    def start(self) -> tuple[Settings, dict[str, str]]:
        """Sandbox, configuration, store, worker and web application."""
        box = SandboxConfig(
            port=free_port(8900),
            smtp_port=free_port(8925),
            data_dir=self.folder / "sandbox",
            publish_delay=dict(DELAYS),
        )
        self.sandbox = Sandbox(box)
        self.sandbox.start()
        config_dir = write_config(self.folder / "config", box, TIMINGS, source=self.base.config_dir)
        database = os.environ.get("SYNDICATOR_DATABASE_URL", f"sqlite:///{self.folder / 'syndicator.db'}")
        broker = os.environ.get("SYNDICATOR_BROKER_URL", "filesystem://")
        settings = Settings(
            database_url=database, broker_url=broker, config_dir=config_dir, data_dir=self.folder
        )
        env = {
            **os.environ,
            "SYNDICATOR_DATABASE_URL": database,
            "SYNDICATOR_BROKER_URL": broker,
            "SYNDICATOR_CONFIG_DIR": str(config_dir),
            "SYNDICATOR_DATA_DIR": str(self.folder),
            "SYNDICATOR_LOG_FORMAT": "json",
        }
        self.store = open_store(settings)
        self.children.append(Child("worker", ["worker", "-c", "2"], env, self.folder / "worker.log"))
        return settings, env

    def start_web(self, env: dict[str, str]) -> tuple[str | None, str | None]:
        """The dashboard and a demo operator token (None when the web app cannot start)."""
        port = free_port(8000)
        token = _create_token(env)
        web = Child("web", ["serve", "--port", str(port)], env, self.folder / "web.log")
        self.children.append(web)
        if not wait_for_port(port, 20) or not web.alive():
            self.console.print(f"[yellow]the web application did not start; see {web.log}[/]")
            return None, token
        return f"http://127.0.0.1:{port}", token

    def close(self) -> None:
        """Stop the web application, the worker and the sandbox."""
        for child in reversed(self.children):
            child.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self.store is not None:
            self.store.dispose()

    # -- the story -------------------------------------------------------------------------

    def run(self) -> int:
        """Everything the demo shows; returns the exit status."""
        say = self.console.print
        say("[bold]tender-syndicator demo[/]: the real queue, worker, sweeper and channels, on this machine")
        settings, env = self.start()
        assert self.sandbox is not None and self.store is not None
        sandbox_url = self.sandbox.config.base_url()
        where = (
            "embedded SQLite + folder broker" if self.embedded else "SYNDICATOR_DATABASE_URL / _BROKER_URL"
        )
        say(f"  store and broker: {where} (data in {self.folder}/)")
        say(f"  channel sandbox:  {sandbox_url} (SMTP {self.sandbox.config.smtp_port})")
        dashboard, token = self.start_web(env)
        if dashboard:
            say(f"  dashboard:        {dashboard}")
        for fault in FAULTS:
            requests.post(f"{sandbox_url}/_sandbox/faults", json=fault, timeout=5).raise_for_status()
        say(
            "  faults injected:  Crystal answers 503 twice, Bluelight rate-limits once (Retry-After 3 s), "
            "Source East Midlands rejects one notice\n"
        )
        config = self._submit(settings)
        adopted = story.buyers_own_notices(self.store, config, sandbox_url)
        if adopted:
            say(
                f"  Derbyshire's own e-tendering tool published {len(adopted)} notice(s) on Find a Tender "
                "(fts_mode = adopt): the product adopts them instead of sending its own"
            )
        say(
            "\n[bold]Deliveries[/] (the official journal first: Find a Tender under the Procurement Act "
            "2023, TED for the procurement commenced before 2021; the other adverts wait for it)"
        )
        if not watch(self.store, self.console, settled, SETTLE_TIMEOUT):
            return self._stuck()
        say()
        say(final_table(self.store))
        rejected = self._repush(settings)
        if not self._later_life(settings, config):
            return self._stuck()
        self._next_steps(dashboard, token, sandbox_url)
        if self.keep:
            say("\n[bold]--keep[/]: everything stays up; Ctrl-C stops it.")
            threading.Event().wait()
        return 0 if rejected is not None else 1

    def _submit(self, settings: Settings) -> Config:
        config = load_config(settings)
        context, check = tender_context(config, utcnow().date()), route_check(config)
        app = create_app(settings)
        assert self.store is not None
        try:
            for path in sorted(EXAMPLES.glob("*.json")):
                parsed, problems = read_file(path, context, check)
                if problems:
                    raise SystemExit(
                        f"the shipped example {path.name} is invalid: {problems[0].line(path.name)}"
                    )
                [result] = submit(
                    self.store.sessions,
                    parsed,
                    config.policy,
                    config.thresholds,
                    "demo",
                    utcnow(),
                    lambda ids: app.send_task(DELIVER, args=[ids]),
                )
                where = ", ".join(result.destinations) or f"not advertised ({result.not_advertised})"
                self.console.print(
                    f"  submitted {result.buyer}/{result.reference} [dim]{result.outcome.value}[/] -> {where}"
                )
        finally:
            app.close()
        return config

    def _later_life(self, settings: Settings, config: Config) -> bool:
        """Amend, withdraw, award, then the contracts list; False when deliveries do not settle."""
        assert self.store is not None
        say = self.console.print
        app = create_app(settings)
        enqueue = lambda ids: app.send_task(DELIVER, args=[ids])  # noqa: E731
        try:
            say("\n[bold]A procurement's life[/]: a deadline extended, a tender withdrawn")
            story.amend_and_withdraw(self.store, config, enqueue, self.console)
            if not watch(self.store, self.console, settled, SETTLE_TIMEOUT):
                return False
            say("\n[bold]The award[/] (examples/awards/): the award notice, then the standstill")
            start = story.award_one(
                self.store, config, EXAMPLES / "awards" / "notts-2026-0142.json", enqueue, self.console
            )
            if not watch(self.store, self.console, settled, SETTLE_TIMEOUT):
                return False
        finally:
            app.close()
        if start is not None:
            quarter = Quarter(start.year, (start.month - 1) // 3 + 1)
            say()
            say(story.contracts_table(self.store, quarter))
            say(f"  (as a page or OCDS: syndicator contracts-list --quarter {quarter} --format html|json)")
        return True

    def _repush(self, settings: Settings) -> int | None:
        assert self.store is not None and self.sandbox is not None
        with self.store.sessions() as session:
            failed = session.scalars(select(DeliveryRow).where(DeliveryRow.state == State.FAILED)).first()
        if failed is None:
            self.console.print("[yellow]nothing was rejected this time, so there is nothing to re-push[/]")
            return None
        requests.delete(f"{self.sandbox.config.base_url()}/_sandbox/faults", timeout=5)
        self.console.print(
            f"\n[bold]Re-push[/]: the sandbox fault is cleared; re-pushing delivery {failed.id} "
            f"({failed.destination}) as an operator would (`syndicator repush {failed.id} --reason ...`)"
        )
        app = create_app(settings)
        try:
            ops.repush(
                self.store.sessions,
                failed.id,
                actor="demo",
                reason="fault cleared in the sandbox",
                now=utcnow(),
                enqueue=lambda ids: app.send_task(DELIVER, args=[ids]),
            )
        finally:
            app.close()
        done = watch(self.store, self.console, settled, 30)
        with self.store.sessions() as session:
            row = session.get(DeliveryRow, failed.id)
        state = row.state if row else "?"
        colour = "green" if state == State.PUBLISHED else "red"
        self.console.print(
            f"delivery {failed.id} is now [{colour}]{state}[/]"
            + (f" at {row.remote_url}" if row and row.remote_url else "")
        )
        return failed.id if done and state == State.PUBLISHED else None

    def _next_steps(self, dashboard: str | None, token: str | None, sandbox_url: str) -> None:
        say = self.console.print
        database = (
            f"sqlite:///{self.folder / 'syndicator.db'}" if self.embedded else "$SYNDICATOR_DATABASE_URL"
        )
        say("\n[bold]Where to look next[/]")
        if dashboard and token:
            say(f"  dashboard     {dashboard}  (sign in with the demo operator token: {token})")
        say(f"  sandbox       {sandbox_url}/  and  {sandbox_url}/_sandbox/received (what each channel got)")
        say(f"  files         {self.folder / 'sandbox'}/<channel>/ (every notice as received)")
        command = _command()
        say(f"  status        SYNDICATOR_DATABASE_URL={database} {command} status")
        say(f"  one tender    SYNDICATOR_DATABASE_URL={database} {command} show NOTTS-2026-0142")
        if not self.keep:
            say("  (run `syndicator demo --keep` to keep everything running for the browser)")

    def _stuck(self) -> int:
        self.console.print(f"[red]deliveries did not settle within {SETTLE_TIMEOUT:.0f} s[/]")
        for child in self.children:
            self.console.print(f"--- {child.name} ({'running' if child.alive() else 'exited'}), {child.log}:")
            self.console.print(child.tail(), markup=False)
        assert self.store is not None
        self.console.print(json.dumps({d: dict(c) for d, c in counts(self.store).items()}, indent=1))
        return 1


def _command() -> str:
    """How to run `syndicator` from here: the virtual environment's script when it is not on PATH."""
    script = Path(sys.executable).parent / "syndicator"
    if shutil.which("syndicator") == str(script) or not script.exists():
        return "syndicator"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else str(script)


def _create_token(env: dict[str, str]) -> str | None:
    """A demo operator token, made the way an admin would (`syndicator tokens create`)."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "syndicator",
            "tokens",
            "create",
            "--name",
            f"demo-{int(time.time())}",
            "--role",
            "operator",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = made.stdout.strip().splitlines()
    return lines[-1].strip() if made.returncode == 0 and lines else None


def _interrupt(signum: int, frame: FrameType | None) -> Any:
    raise KeyboardInterrupt


def run_demo(console: Console, keep: bool) -> int:
    """Run the demo; Ctrl-C (or SIGTERM) at any point stops everything it started."""
    signal.signal(signal.SIGTERM, _interrupt)
    demo = Demo(console, keep)
    try:
        return demo.run()
    except KeyboardInterrupt:
        console.print("\nstopping...")
        return 130
    finally:
        demo.close()
        console.print("demo stopped: worker, web application and sandbox are down")
