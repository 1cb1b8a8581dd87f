"""Scheduled work of inventory. Each task takes plain values and calls one service."""

from datetime import date

from celery import shared_task

from .watch import expiry_watch_run


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def expiry_watch(on: str | None = None) -> dict:
    return expiry_watch_run(on=date.fromisoformat(on) if on else None)
