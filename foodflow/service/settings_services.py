"""The service desk's settings: the SLA of each severity, the desk's working hours and the
holidays (with make-up working days, 调休).

Deadlines are computed once, when a complaint is logged (``services.sla_deadlines``): a change
here applies to complaints logged afterwards and never moves the deadlines of complaints
already logged. The escalation run reads the warning minutes and the calendar each time it
runs, so those apply to every open complaint from the next run on.

Each change is validated here (the page, the API and the shell obey the same rules), done
under a row lock and written to the audit log."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import NotFoundError, ValidationFailed
from foodflow.core.permissions import require_unless_system

from .models import Holiday, ServiceHours, Severity, SlaPolicy
from .permissions import can_manage_sla

HOURS_PLACES = Decimal("0.01")
MAX_HOURS = Decimal("9999.99")  # SlaPolicy.*_hours: six digits, two of them decimals
MAX_WARN_MINUTES = 100_000
WEEKDAYS = range(7)  # Monday = 0


def _hours(value, field: str, errors: dict) -> Decimal | None:
    try:
        hours = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        errors[field] = [_("Enter a number of hours.")]
        return None
    if not hours.is_finite() or hours <= 0:
        errors[field] = [_("Enter more than 0 hours.")]
        return None
    if hours > MAX_HOURS:
        errors[field] = [_("At most %(max)s hours.") % {"max": MAX_HOURS}]
        return None
    if hours != hours.quantize(HOURS_PLACES):
        errors[field] = [_("At most two decimals.")]
        return None
    return hours.quantize(HOURS_PLACES)


def sla_policy_save(*, by, severity: str, response_hours, resolution_hours, warn_minutes) -> SlaPolicy:
    """Set the first response and resolution deadlines (business hours) of one severity, and
    how many business minutes before a deadline the desk is warned."""
    require_unless_system(by, can_manage_sla)
    if severity not in Severity.values:
        raise ValidationFailed(
            _("Not a known severity."), code="invalid_severity", fields={"severity": [_("Not a known severity.")]}
        )
    errors: dict = {}
    response = _hours(response_hours, "response_hours", errors)
    resolution = _hours(resolution_hours, "resolution_hours", errors)
    try:
        warn = int(str(warn_minutes).strip())
        if not 0 < warn <= MAX_WARN_MINUTES:
            raise ValueError
    except (TypeError, ValueError):
        errors["warn_minutes"] = [_("Enter a whole number of minutes, more than 0.")]
        warn = None
    if errors:
        raise ValidationFailed(_("Check the service level."), code="sla_invalid", fields=errors)
    if resolution < response:
        message = _("The resolution cannot be due before the first response.")
        raise ValidationFailed(message, code="resolution_before_response", fields={"resolution_hours": [message]})
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().filter(severity=severity).first()
        before = (
            {
                "response_hours": str(policy.response_hours),
                "resolution_hours": str(policy.resolution_hours),
                "warn_minutes": policy.warn_minutes,
            }
            if policy
            else {}
        )
        if policy is None:
            policy = SlaPolicy.objects.create(
                severity=severity, response_hours=response, resolution_hours=resolution, warn_minutes=warn
            )
        else:
            policy.response_hours, policy.resolution_hours, policy.warn_minutes = response, resolution, warn
            policy.save(update_fields=["response_hours", "resolution_hours", "warn_minutes"])
        after = {"response_hours": str(response), "resolution_hours": str(resolution), "warn_minutes": warn}
        audit_record(
            action="service.sla_saved",
            actor=by,
            obj=policy,
            changes={
                "severity": severity,
                **{key: [before.get(key), value] for key, value in after.items() if before.get(key) != value},
            },
        )
    return policy


def service_hours_current() -> ServiceHours:
    """The desk's hours (one row, made by a migration; the defaults if it is missing)."""
    return ServiceHours.objects.order_by("pk").first() or ServiceHours()


def service_hours_save(*, by, opens: time, closes: time, weekdays) -> ServiceHours:
    """When the desk works: the SLA clocks run only between ``opens`` and ``closes`` on these
    weekdays (0 = Monday), holidays excepted."""
    require_unless_system(by, can_manage_sla)
    errors: dict = {}
    codes: list[str] = []  # the first names the refusal

    def refuse(field: str, message: str, code: str) -> None:
        errors[field] = [message]
        codes.append(code)

    if not isinstance(opens, time):
        refuse("opens", _("Enter a time."), "hours_invalid")
    if not isinstance(closes, time):
        refuse("closes", _("Enter a time."), "hours_invalid")
    if not errors and closes <= opens:
        refuse("closes", _("The desk must close after it opens."), "closes_before_opens")
    try:
        days = sorted({int(day) for day in (weekdays or [])})
    except (TypeError, ValueError):
        days = [-1]
    if any(day not in WEEKDAYS for day in days):
        refuse("weekdays", _("Not a day of the week."), "hours_invalid")
    elif not days:
        refuse("weekdays", _("Choose at least one working day."), "no_working_day")
    if errors:
        raise ValidationFailed(_("Check the service hours."), code=codes[0], fields=errors)
    with transaction.atomic():
        hours = ServiceHours.objects.select_for_update().order_by("pk").first()
        before = {"opens": "", "closes": "", "weekdays": []}
        if hours is None:
            hours = ServiceHours.objects.create(opens=opens, closes=closes, weekdays=days)
        else:
            before = {"opens": f"{hours.opens:%H:%M}", "closes": f"{hours.closes:%H:%M}", "weekdays": hours.weekdays}
            hours.opens, hours.closes, hours.weekdays = opens, closes, days
            hours.save(update_fields=["opens", "closes", "weekdays"])
        after = {"opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}", "weekdays": days}
        audit_record(
            action="service.hours_saved",
            actor=by,
            obj=hours,
            changes={key: [before[key], value] for key, value in after.items() if before[key] != value},
        )
    return hours


def holiday_add(*, by, day: date, name: str, is_workday: bool = False) -> Holiday:
    """A public holiday (the desk is closed), or with ``is_workday`` a make-up working day on
    a weekend (调休: the desk works). One entry per day."""
    require_unless_system(by, can_manage_sla)
    name = (name or "").strip()
    errors: dict = {}
    if not isinstance(day, date):
        errors["day"] = [_("Enter a date.")]
    if not name:
        errors["name"] = [_("Name the holiday.")]
    elif len(name) > Holiday._meta.get_field("name").max_length:
        errors["name"] = [_("At most %(max)s characters.") % {"max": Holiday._meta.get_field("name").max_length}]
    if errors:
        raise ValidationFailed(_("Check the holiday."), code="holiday_invalid", fields=errors)
    taken = _("%(day)s is in the calendar already.") % {"day": day.isoformat()}
    try:
        with transaction.atomic():
            if Holiday.objects.filter(day=day).exists():
                raise ValidationFailed(taken, code="holiday_exists", fields={"day": [taken]})
            holiday = Holiday.objects.create(day=day, name=name, is_workday=bool(is_workday))
            audit_record(
                action="service.holiday_added",
                actor=by,
                obj=holiday,
                changes={"day": day.isoformat(), "name": name, "is_workday": bool(is_workday)},
            )
    except IntegrityError as exc:  # another user added the same day meanwhile
        raise ValidationFailed(taken, code="holiday_exists", fields={"day": [taken]}) from exc
    return holiday


def holiday_delete(*, by, holiday: Holiday) -> None:
    """Remove a day from the calendar (complaints logged before keep their deadlines)."""
    require_unless_system(by, can_manage_sla)
    with transaction.atomic():
        locked = Holiday.objects.select_for_update().filter(pk=holiday.pk).first()
        if locked is None:
            raise NotFoundError(_("This day is not in the calendar any more."), code="holiday_not_found")
        audit_record(
            action="service.holiday_deleted",
            actor=by,
            obj=locked,
            changes={"day": locked.day.isoformat(), "name": locked.name, "is_workday": locked.is_workday},
        )
        locked.delete()
