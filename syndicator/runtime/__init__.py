"""Composition: settings to processes (Celery app, tasks, worker runtime, logs)."""
