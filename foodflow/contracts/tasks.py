"""Scheduled work of contracts: each task takes plain values and calls one service."""

from datetime import date

from foodflow.core.tasks import background_task


@background_task()
def risk_evaluate(on: str | None = None) -> dict:
    from .risk import risk_evaluate as evaluate

    outcome = evaluate(on=date.fromisoformat(on) if on else None)
    return {"raised": outcome.raised, "kept": outcome.kept, "resolved": outcome.resolved}
