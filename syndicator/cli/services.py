"""Long-running processes: `worker`, `beat`, `sandbox`."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from syndicator.channel.registry import build_channels
from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, err, fail, out
from syndicator.cli.terminal import line, styled
from syndicator.runtime.wiring import load, open_store, redacted_url
from syndicator.runtime.worker import alert_settings


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Worker processes.")] = 2,
    beat: Annotated[
        bool,
        typer.Option("--beat/--no-beat", help="Also run the sweeper schedule (one beat per deployment)."),
    ] = True,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    events: Annotated[
        bool,
        typer.Option("--events/--no-events", help="Send task events, for Flower or `celery events`."),
    ] = False,
) -> None:
    """Run a Celery worker (and, by default, the beat that runs the sweeper)."""
    from syndicator.runtime.celeryapp import QUEUE, beat_schedule_file, create_app, describe_broker

    settings, config = load()
    build_channels(config)  # fail now, not on the first delivery, if a channel is misconfigured
    alert_settings(config)
    open_store(settings, auto_upgrade="empty").dispose()
    app = create_app(settings)
    err.print(
        f"worker: database {redacted_url(settings.database_url)}, broker "
        f"{describe_broker(settings.broker_url)}, channel profile {config.profile}"
    )
    argv = [
        "worker",
        "-c",
        str(concurrency),
        "-Q",
        QUEUE,
        f"--loglevel={loglevel}",
        "-n",
        "syndicator@%h",
    ]
    if events:  # off by default: every task then publishes a few messages more to the broker
        argv.append("--task-events")
    if beat:
        schedule = beat_schedule_file(settings)
        schedule.parent.mkdir(parents=True, exist_ok=True)
        argv += ["-B", "-s", str(schedule)]
    app.worker_main(argv)


def beat(loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO") -> None:
    """Run only the beat (the sweeper's schedule): exactly one per deployment."""
    from syndicator.runtime.celeryapp import beat_schedule_file, create_app

    settings, _ = load()
    app = create_app(settings)
    schedule = beat_schedule_file(settings)
    schedule.parent.mkdir(parents=True, exist_ok=True)
    app.start(["beat", f"--loglevel={loglevel}", "-s", str(schedule)])


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="HTTP port for every channel but trade press (one path prefix each).")
    ] = 8900,
    smtp_port: Annotated[int, typer.Option(help="SMTP port for trade press.")] = 8925,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Where received notices are kept (default: DATA_DIR/sandbox)."),
    ] = None,
    files: Annotated[
        bool, typer.Option("--files/--no-files", help="Keep a copy of every notice on disk.")
    ] = True,
    delay: Annotated[
        list[str] | None, typer.Option("--delay", help="Publication delay, e.g. ted=5 (seconds).")
    ] = None,
    http_latency: Annotated[
        float, typer.Option(help="Seconds added before every channel's HTTP answer (simulated network).")
    ] = 0.0,
    smtp_latency: Annotated[
        float, typer.Option(help="Seconds added before every SMTP reply (simulated network).")
    ] = 0.0,
) -> None:
    """Run faithful local simulators of every channel until Ctrl-C."""
    from syndicator.config.settings import Settings
    from syndicator.sandbox.config import SandboxConfig
    from syndicator.sandbox.server import Sandbox

    data = data or Settings().data_dir / "sandbox"
    config = SandboxConfig(
        host=host,
        port=port,
        smtp_port=smtp_port,
        data_dir=data if files else None,
        http_latency=max(http_latency, 0.0),
        smtp_latency=max(smtp_latency, 0.0),
    )
    for item in delay or []:
        name, _, seconds = item.partition("=")
        try:
            config.publish_delay[name] = float(seconds)
        except ValueError:
            fail(f"--delay {item!r}: write CHANNEL=SECONDS, e.g. ted=5", EXIT_INVALID)
    box = Sandbox(config)
    try:
        box.start()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} / {smtp_port}: {exc.strerror or exc}", EXIT_FAILED)
    base = config.base_url()
    kept = f"notices kept in {data}/" if files else "notices kept in memory only"
    out.print(line(styled("Channel sandbox", "bold"), f" on {base} (SMTP {host}:{config.smtp_port}); {kept}"))
    for prefix, name in (
        ("/crystal", "crystal"),
        ("/bluelight", "bluelight"),
        ("/sem", "source-east-midlands"),
        ("/ted", "ted"),
        ("/find-a-tender", "find-a-tender"),
        ("/contracts-finder", "contracts-finder"),
    ):
        out.print(f"  {name:22} {base}{prefix}")
    out.print(f"  {'trade-press':22} smtp://{host}:{config.smtp_port}")
    out.print("credentials (sandbox only):")
    credentials = config.credentials()
    width = max(map(len, credentials)) + 1
    for label, value in credentials.items():
        out.print(f"  {label:{width}} {value}")
    out.print(f"received: {base}/_sandbox/received   faults: POST {base}/_sandbox/faults   Ctrl-C stops")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


def register(app: typer.Typer) -> None:
    """Add the process and channel commands."""
    app.command("worker")(worker)
    app.command("beat")(beat)
    app.command("sandbox")(sandbox)
