"""Scheduled work of after-sales: each task takes plain values and calls one service."""

from celery import shared_task


@shared_task
def sla_escalate() -> dict:
    from .services import complaints_escalate_due

    return complaints_escalate_due()
