"""Scheduled work of after-sales: each task takes plain values and calls one service."""

from celery import shared_task


@shared_task
def sla_escalate() -> dict:
    from .services import complaints_escalate_due

    return complaints_escalate_due()


@shared_task
def surveys_after_delivery() -> int:
    from .surveys import surveys_send_after_delivery

    return surveys_send_after_delivery()


@shared_task
def revisits_plan() -> int:
    from .revisits import revisits_plan_routine

    return revisits_plan_routine()
