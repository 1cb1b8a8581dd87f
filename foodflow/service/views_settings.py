"""The service settings page (administrators: ``service.manage_sla``): the SLA table edited
in place, the desk's working hours, and the holiday calendar with make-up working days.

Each form posts to its own view, which parses it and calls one service of
``settings_services``. A refusal shows the page again with the form's errors (400); a change
goes back to the page with a message. Deadlines of complaints already logged never move: the
page says so."""

from __future__ import annotations

from django.contrib import messages
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from foodflow.core.errors import DomainError
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, perform, require, safe_next

from . import settings_services
from .forms_settings import HolidayFilterForm, HolidayForm, ServiceHoursForm, SlaPolicyForm
from .models import Holiday, Severity, SlaPolicy
from .permissions import can_manage_sla
from .services import FALLBACK_SLA

# the most urgent first, as the desk reads them
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
FALLBACK_WARN_MINUTES = 60
HOLIDAY_SORTS = {"day": ("day",), "name": ("name", "day")}
DEFAULT_HOLIDAY_SORT = "day"


def _sla_form(severity: str, policy: SlaPolicy | None, data=None) -> SlaPolicyForm:
    if policy is not None:
        initial = {
            "response_hours": policy.response_hours,
            "resolution_hours": policy.resolution_hours,
            "warn_minutes": policy.warn_minutes,
        }
    else:
        response, resolution = FALLBACK_SLA[severity]
        initial = {"response_hours": response, "resolution_hours": resolution, "warn_minutes": FALLBACK_WARN_MINUTES}
    return SlaPolicyForm(data, initial=initial, severity=severity, severity_label=Severity(severity).label)


def _hours_form(data=None) -> ServiceHoursForm:
    hours = settings_services.service_hours_current()
    return ServiceHoursForm(
        data, initial={"opens": hours.opens, "closes": hours.closes, "weekdays": list(hours.weekdays)}
    )


def _settings_page(request, *, sla_form=None, hours_form=None, holiday_form=None, status: int = 200):
    """The page, with the form that failed (bound, with its errors) in place of its blank one."""
    policies = {policy.severity: policy for policy in SlaPolicy.objects.all()}
    sla_rows = []
    for severity in SEVERITIES:
        form = sla_form if sla_form is not None and sla_form.severity == severity else None
        sla_rows.append(
            {
                "severity": severity,
                "label": Severity(severity).label,
                "configured": severity in policies,
                "form": form or _sla_form(severity, policies.get(severity)),
            }
        )
    years = sorted(
        set(Holiday.objects.annotate(year=ExtractYear("day")).values_list("year", flat=True)),
        reverse=True,
    )
    filters = HolidayFilterForm(request.GET, years=years)
    values = filters.values()
    holidays = Holiday.objects.all()
    if values["year"] is not None:
        holidays = holidays.filter(day__year=values["year"])
    if values["kind"] == "holiday":
        holidays = holidays.filter(is_workday=False)
    elif values["kind"] == "workday":
        holidays = holidays.filter(is_workday=True)
    sort, ordering = ordering_from(request, HOLIDAY_SORTS, DEFAULT_HOLIDAY_SORT)
    page = paginate(request, holidays.order_by(*ordering))
    # a deletion comes back to the same filters and page
    back = urlencode({"next": request.get_full_path()})
    rows = [
        {
            "holiday": holiday,
            "modal_id": f"modal-delete-holiday-{holiday.pk}",
            "subject": f"{holiday.day:%Y-%m-%d} · {holiday.name}",
            "delete_url": f"{reverse('service:holiday_delete', args=[holiday.pk])}?{back}",
        }
        for holiday in page
    ]
    return render(
        request,
        "service/settings.html",
        {
            "sla_rows": sla_rows,
            "hours_form": hours_form or _hours_form(),
            "holiday_form": holiday_form or HolidayForm(),
            "filters": filters,
            "filtered": values["year"] is not None or bool(values["kind"]),
            "page": page,
            "holidays": rows,
            "sort": sort,
        },
        status=status,
    )


def _to_settings(request, anchor: str):
    return redirect(f"{safe_next(request, reverse('service:settings'))}#{anchor}")


@require(can_manage_sla)
def settings_view(request):
    return _settings_page(request)


@require_POST
@require(can_manage_sla)
def sla_save_view(request, severity: str):
    if severity not in Severity.values:
        raise Http404
    form = _sla_form(severity, SlaPolicy.objects.filter(severity=severity).first(), request.POST)
    if form.is_valid():
        values = form.cleaned_data
        try:
            settings_services.sla_policy_save(by=request.user, severity=severity, **values)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request,
                _("The service level of %(severity)s complaints is saved; it applies to complaints logged from now on.")
                % {"severity": Severity(severity).label},
            )
            return _to_settings(request, "sla")
    return _settings_page(request, sla_form=form, status=400)


@require_POST
@require(can_manage_sla)
def hours_save_view(request):
    form = _hours_form(request.POST)
    if form.is_valid():
        values = form.cleaned_data
        try:
            settings_services.service_hours_save(by=request.user, **values)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The service hours are saved; they apply to complaints logged from now on."))
            return _to_settings(request, "hours")
    return _settings_page(request, hours_form=form, status=400)


@require_POST
@require(can_manage_sla)
def holiday_add_view(request):
    form = HolidayForm(request.POST)
    if form.is_valid():
        values = form.cleaned_data
        try:
            holiday = settings_services.holiday_add(by=request.user, **values)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request, _("%(day)s %(name)s is in the calendar.") % {"day": holiday.day, "name": holiday.name}
            )
            return _to_settings(request, "holidays")
    return _settings_page(request, holiday_form=form, status=400)


@require_POST
@require(can_manage_sla)
def holiday_delete_view(request, pk: int):
    holiday = get_object_or_404(Holiday, pk=pk)
    label = f"{holiday.day} {holiday.name}"
    perform(
        request,
        lambda: settings_services.holiday_delete(by=request.user, holiday=holiday),
        _("%(holiday)s is removed from the calendar.") % {"holiday": label},
    )
    return _to_settings(request, "holidays")
