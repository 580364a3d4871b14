"""Structured logging (structlog): human-readable in a terminal, JSON lines in production
(`SYNDICATOR_LOG_FORMAT=json`). Delivery id, destination, attempt and task id are bound once
per task by the dispatcher and the tasks.

    structlog events ----------------------------\\
    stdlib records (uvicorn, celery, sqlalchemy) --> one renderer --> stderr, one event per line

In JSON every event is one object on one line, a traceback included, as the `exception` field
(frames without local variables: a request's locals can run to megabytes, and hold secrets).
The console format shows tracebacks without locals too.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.dev import ConsoleRenderer, RichTracebackFormatter
from structlog.processors import ExceptionRenderer, JSONRenderer
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor

from syndicator.config.settings import Settings

MAX_FRAMES = 30

# Libraries that may have given their loggers handlers of their own (uvicorn's default logging
# config does, and stops them propagating): their records must reach the one root handler.
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task")


def renderers(log_format: str, colors: bool) -> list[Processor]:
    """The processors that turn an event into its output line."""
    if log_format == "json":
        frames = ExceptionDictTransformer(show_locals=False, max_frames=MAX_FRAMES)
        return [ExceptionRenderer(frames), JSONRenderer()]
    traceback = RichTracebackFormatter(show_locals=False, max_frames=MAX_FRAMES, color_system=None)
    return [ConsoleRenderer(colors=colors, exception_formatter=traceback)]


def configure_logging(settings: Settings) -> None:
    """Configure structlog, and the standard library's root logger to write the same format."""
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    shared: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    finish = renderers(settings.log_format, sys.stderr.isatty())
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *shared, *finish],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers, library.propagate, library.disabled = [], True, False
