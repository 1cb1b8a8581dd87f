"""The daily expiry watch: expire what is past its date, warn about what is close to it."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.accounts.permissions import has_perm
from foodflow.core.notifications import notify

from .models import ExpiryAlert, Reservation
from .notifications import LOT_NEAR_EXPIRY
from .permissions import STOCK_MANAGE
from .selectors import lots_near_expiry
from .services import lots_expire_due


def planners() -> list:
    return [
        user
        for user in User.objects.filter(is_active=True, roles__isnull=False).distinct()
        if has_perm(user, STOCK_MANAGE)
    ]


def expiry_watch_run(*, on: date | None = None) -> dict:
    """Idempotent: a lot is announced once per day however often this runs."""
    on = on or timezone.localdate()
    expired = lots_expire_due(on=on)
    recipients_base = planners()
    warned = 0
    for item in lots_near_expiry(on=on):
        try:
            with transaction.atomic():
                ExpiryAlert.objects.create(lot=item.lot, day=on)
                owners = {
                    r.owner
                    for r in Reservation.objects.select_related("owner").filter(
                        lot=item.lot, status=Reservation.Status.ACTIVE, owner__isnull=False
                    )
                }
                notify(
                    recipients=[*recipients_base, *owners],
                    kind=LOT_NEAR_EXPIRY,
                    params={
                        "lot": item.lot.lot_number,
                        "product": item.lot.product.name,
                        "days": item.days_left,
                        "on_hand": item.on_hand,
                        "reserved": item.reserved,
                        "expiry": item.lot.expiry_date.isoformat(),
                    },
                    url=reverse("inventory:lot_detail", args=[item.lot.pk]),
                )
                warned += 1
        except IntegrityError:
            continue  # announced already today
    return {"expired": expired, "warned": warned}
