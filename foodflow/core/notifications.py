"""Notifications: an in-app inbox for everyone, e-mail for those who want it.

Every "notify" of every domain goes through ``notify()``. Each kind is declared once with its
texts; they are rendered in each recipient's own language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .models import Notification, NotificationPreference
from .tasks import notification_send_email


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: Any
    title: Any
    body: Any = ""
    email_by_default: bool = True


KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    KINDS[kind.code] = kind
    return kind


ACCOUNT_LOCKED = register_kind(
    NotificationKind(
        code="account_locked",
        label=_("An account was locked after failed logins"),
        title=_("Account %(username)s is locked"),
        body=_("%(failures)s failed logins in a row locked the account %(username)s. Unlock it in user management."),
    )
)
WELCOME = register_kind(
    NotificationKind(
        code="welcome",
        label=_("Welcome message"),
        title=_("Welcome to FoodFlow, %(name)s"),
        body=_("Your account is ready. Your roles: %(roles)s."),
        email_by_default=False,
    )
)


def wants_email(user, kind: NotificationKind) -> bool:
    if not user.email:
        return False
    pref = NotificationPreference.objects.filter(user=user, kind=kind.code).values_list("email", flat=True).first()
    return kind.email_by_default if pref is None else pref


def notify(*, recipients: Iterable, kind: NotificationKind, params: dict | None = None, url: str = "") -> list:
    """Create one inbox entry per recipient, in their language; e-mails go after commit."""
    params = params or {}
    created = []
    with transaction.atomic():
        for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
            with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
                title = str(kind.title) % params
                body = str(kind.body) % params if kind.body else ""
            email = wants_email(user, kind)
            note = Notification.objects.create(
                recipient=user, kind=kind.code, title=title[:200], body=body, url=url, email_due=email
            )
            created.append(note)
            if email:
                transaction.on_commit(lambda pk=note.pk: notification_send_email.delay(pk))
    return created


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preferences_set(*, user, email_kinds: Iterable[str]) -> None:
    chosen = set(email_kinds)
    with transaction.atomic():
        for code in KINDS:
            NotificationPreference.objects.update_or_create(user=user, kind=code, defaults={"email": code in chosen})
