"""Scheduled work of after-sales: each task takes plain values and calls one service."""

from foodflow.core.tasks import background_task


@background_task()
def sla_escalate() -> dict:
    from .services import complaints_escalate_due

    return complaints_escalate_due()


@background_task()
def surveys_after_delivery() -> int:
    from .surveys import surveys_send_after_delivery

    return surveys_send_after_delivery()


@background_task()
def revisits_plan() -> int:
    from .revisits import revisits_plan_routine

    return revisits_plan_routine()


@background_task()
def recall_notices_resend_owed() -> int:
    from .recall_notices import recall_notices_resend

    return recall_notices_resend()
