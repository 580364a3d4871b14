"""Celery entry point: `celery -A worker worker`. Builds the app from settings, nothing else."""

from syndicator.runtime.celeryapp import create_app

app = create_app()
