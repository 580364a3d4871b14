"""The Celery application: broker from settings, reliability options, and the beat schedule
that runs the sweeper.

Reliability (ARCHITECTURE.md section 1): acks_late + reject_on_worker_lost, so a message is
only acknowledged once its task ran; prefetch 1; hard and soft time limits below the delivery
lease (a `deliver` task returns once its batch is claimed and on the I/O threads, so the sends
themselves are bounded by the lease watchdog in `runtime/worker.py`, ARCHITECTURE.md section 6);
the Redis visibility timeout far above both (a task must never be redelivered while it still
runs). Long waits are never Celery countdowns: they live in the database and the sweeper wakes
them.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from syndicator.config.settings import Settings, load_config
from syndicator.runtime import folder_broker

DELIVER = "syndicator.deliver"
POLL = "syndicator.poll"
SWEEP = "syndicator.sweep"
QUEUE = "syndicator"


def _transport_options(settings: Settings, lease: float) -> dict[str, object]:
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://", "redis+socket://")):
        # Far above the time limit plus HTTP time-outs: never redeliver a running task.
        return {"visibility_timeout": max(3600, int(lease * 4))}
    if url.startswith("filesystem://"):
        folder_broker.install()  # messages renamed into place, never read half-written
        # The embedded broker: messages are files in one folder that every process shares. Its
        # exchange tables go under it too: kombu's default is ./control, in whatever folder the
        # process happened to start.
        folder = Path(settings.data_dir) / "broker"
        (folder / "control").mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.1,
        }
    return {}


def beat_schedule_file(settings: Settings) -> Path:
    """Where beat keeps its schedule state: under the data folder, never the working folder."""
    return Path(settings.data_dir) / "celerybeat-schedule"


def create_app(settings: Settings | None = None) -> Celery:
    """A configured Celery app with the syndicator's tasks registered."""
    from syndicator.runtime import tasks

    settings = settings or Settings()
    config = load_config(settings)
    engine = config.channels.engine
    lease = engine.lease.total_seconds()
    app = Celery("syndicator", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=lease * 0.9,
        task_soft_time_limit=lease * 0.8,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options=_transport_options(settings, lease),
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,  # our structured logs go to stderr as they are
        worker_send_task_events=False,
        beat_schedule_filename=str(beat_schedule_file(settings)),
        beat_schedule={
            "sweep": {
                "task": SWEEP,
                "schedule": engine.sweep_interval.total_seconds(),
                "options": {"expires": max(engine.sweep_interval.total_seconds() * 3, 5)},
            }
        },
    )
    app.syndicator_settings = settings
    tasks.register(app)
    return app


def describe_broker(url: str) -> str:
    """The broker URL with credentials hidden."""
    return str(maybe_sanitize_url(url))
