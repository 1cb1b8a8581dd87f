"""Scheduled work of the CRM: each task takes plain values and calls one service."""

from datetime import date

from foodflow.core.tasks import background_task

from .reminders import revisit_reminders_run, stale_research_reminders_run
from .services import customers_retier


@background_task()
def retier_customers(on: str | None = None) -> dict:
    return customers_retier(on=date.fromisoformat(on) if on else None)


@background_task()
def revisit_reminders(on: str | None = None) -> dict:
    return revisit_reminders_run(on=date.fromisoformat(on) if on else None)


@background_task()
def stale_research_reminders(on: str | None = None) -> dict:
    return stale_research_reminders_run(on=date.fromisoformat(on) if on else None)
