"""Scheduled work of analysis and performance: each task takes plain values and calls one service."""

from foodflow.core.tasks import background_task


@background_task()
def overstay_alerts() -> int:
    from .monitoring import overstay_alerts_send

    return overstay_alerts_send()


@background_task()
def monthly_report() -> int:
    from .report import monthly_report_send

    return monthly_report_send()
