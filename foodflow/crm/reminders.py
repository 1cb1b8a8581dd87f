"""Daily reminders: each rep's revisits, each researcher's stale records. Once per person
and day however often the job runs."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.core.models import Notification
from foodflow.core.notifications import notify

from .models import Activity
from .notifications import REVISITS_DUE, STALE_RESEARCH
from .selectors import stale_records


def _already_told(user, kind, on: date) -> bool:
    return Notification.objects.filter(recipient=user, kind=kind.code, created_at__date=on).exists()


def revisit_reminders_run(*, on: date | None = None) -> dict:
    on = on or timezone.localdate()
    due = Activity.objects.filter(next_revisit__lte=on, revisit_done_at__isnull=True)
    told = 0
    for user in User.objects.filter(pk__in=due.values("owner_id"), is_active=True):
        with transaction.atomic():
            if _already_told(user, REVISITS_DUE, on):
                continue
            mine = due.filter(owner=user)
            notify(
                recipients=[user],
                kind=REVISITS_DUE,
                url=reverse("crm:revisits"),
                params={"count": mine.count(), "overdue": mine.filter(next_revisit__lt=on).count()},
            )
            told += 1
    return {"reps_reminded": told}


def stale_research_reminders_run(*, on: date | None = None) -> dict:
    on = on or timezone.localdate()
    owners: dict[int, int] = {}
    for records in stale_records(on=on).values():
        for record in records:
            owners[record.owner_id] = owners.get(record.owner_id, 0) + 1
    told = 0
    for user in User.objects.filter(pk__in=owners, is_active=True):
        with transaction.atomic():
            if not _already_told(user, STALE_RESEARCH, on):
                notify(
                    recipients=[user], kind=STALE_RESEARCH, params={"count": owners[user.pk]}, url=reverse("crm:stale")
                )
                told += 1
    return {"owners_reminded": told}
