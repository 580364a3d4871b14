"""The bare baseline: the fastest thing that could possibly deliver, on the same broker, worker
concurrency and sandbox. A Celery task that sends one pre-rendered request (HTTP POST, or the
e-mail for trade press) and counts itself done. No database, no rendering, no retries.

    celery -A bench.baseline worker -c 2 -Q bench-baseline              (processes)
    celery -A bench.baseline worker -P threads -c 16 -Q bench-baseline  (threads: the network run)

Each thread keeps its own HTTP session (kept-alive connections, as the product's clients do);
an e-mail is one SMTP connection per message, as a plain `smtplib` script sends it.
"""

from __future__ import annotations

import base64
import os
import smtplib
import threading

import redis
import requests
from celery import Celery

QUEUE = "bench-baseline"
DONE_KEY = "bench:baseline:done"

app = Celery("bench_baseline", broker=os.environ.get("SYNDICATOR_BROKER_URL", "redis://127.0.0.1:6379/14"))
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
_local = threading.local()
_counter = redis.Redis.from_url(app.conf.broker_url)


@app.task(name="bench.baseline.send")
def send(
    kind: str, target: str, headers: dict[str, str], body_b64: str, envelope: list[str] | None = None
) -> None:
    """One pre-rendered delivery: an HTTP POST, or an SMTP send for trade press."""
    body = base64.b64decode(body_b64)
    if kind == "http":
        if not hasattr(_local, "session"):
            _local.session = requests.Session()
        _local.session.post(target, data=body, headers=headers, timeout=(5, 30)).raise_for_status()
    else:
        host, port = target.split(":")
        assert envelope is not None
        with smtplib.SMTP(host, int(port), timeout=30) as smtp:
            smtp.sendmail(envelope[0], envelope[1:], body)
    _counter.incr(DONE_KEY)
