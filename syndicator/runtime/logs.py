"""Structured logging (structlog): human-readable in a terminal, JSON lines in production
(`SYNDICATOR_LOG_FORMAT=json`). Delivery id, destination, attempt and task id are bound once
per task by the dispatcher and the tasks."""

from __future__ import annotations

import logging
import sys

import structlog

from syndicator.config.settings import Settings


def configure_logging(settings: Settings) -> None:
    """Configure structlog and the standard library's root logger."""
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
