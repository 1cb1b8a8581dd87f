"""Scheduled work of inventory. Each task takes plain values and calls one service."""

from datetime import date

from foodflow.core.tasks import background_task

from .watch import expiry_watch_run


@background_task()
def expiry_watch(on: str | None = None) -> dict:
    return expiry_watch_run(on=date.fromisoformat(on) if on else None)
