"""Pages of process monitoring: the time spent in each stage, the documents over their stage's
target now, where time is lost (by stage, person or region) and the monthly trend, with their
Excel exports; and the page of the stage targets.

Views parse input and call ``monitoring``'s selectors, narrowed to the viewer's data scope
(``scope_reps`` with the process permission), or its one service, ``stage_targets_save``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.errors import DomainError
from foodflow.core.exports import xlsx_response
from foodflow.core.forms import StyledFormMixin
from foodflow.core.views import require

from . import monitoring
from .permissions import VIEW_PROCESS, can_manage_schemes, can_view_process, scope_reps

TABS = ("stages", "breaches", "bottlenecks", "trend")
TABLES = TABS  # each tab exports its table
GROUP_LABELS = {
    "stage": gettext_lazy("By stage"),
    "person": gettext_lazy("By person"),
    "region": gettext_lazy("By region"),
}
GROUP_COLUMNS = {
    "stage": gettext_lazy("Stage"),
    "person": gettext_lazy("Owner"),
    "region": gettext_lazy("Region"),
}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RangeForm(StyledFormMixin, forms.Form):
    """The range of the passages (both days included), the last 90 days if not given; a
    value that does not parse is ignored."""

    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DATE)

    def range(self):
        self.is_valid()
        default_from, default_to = monitoring.default_range()
        date_from = self.cleaned_data.get("date_from") or default_from
        date_to = self.cleaned_data.get("date_to") or default_to
        return (date_to, date_from) if date_from > date_to else (date_from, date_to)


def _choice(request, name: str, allowed: tuple[str, ...]) -> str:
    value = request.GET.get(name, "")
    return value if value in allowed else allowed[0]


def _query(request, **changes) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@require(can_view_process)
def monitoring_view(request):
    date_from, date_to = RangeForm(request.GET).range()
    tab = _choice(request, "tab", TABS)
    by = _choice(request, "by", monitoring.BOTTLENECK_GROUPS)
    reps = scope_reps(request.user, VIEW_PROCESS)
    stages = monitoring.stage_durations(reps, date_from, date_to)
    breaches = monitoring.breaches_now(reps)
    over_now: dict[str, int] = {}
    for breach in breaches:
        over_now[breach.stage.code] = over_now.get(breach.stage.code, 0) + 1
    passages = sum(row.passages for row in stages)
    within = sum(row.within for row in stages)
    context = {
        "tab": tab,
        "by": by,
        "date_from": date_from,
        "date_to": date_to,
        "stages": [(row, over_now.get(row.code, 0)) for row in stages],
        "passages": passages,
        "compliance": monitoring.percent(within, passages),
        "breach_count": len(breaches),
        "groups": list(GROUP_LABELS.items()),
        "group_column": GROUP_COLUMNS[by],
        "export_query": _query(request, table=tab),
        "can_manage_schemes": can_manage_schemes(request.user),
    }
    if tab == "breaches":
        stage = monitoring.STAGE_BY_CODE.get(request.GET.get("stage", ""))
        shown = [breach for breach in breaches if breach.stage == stage] if stage else breaches
        context["stage_filter"] = stage
        context["page"] = Paginator(shown, 50).get_page(request.GET.get("page"))
    elif tab == "bottlenecks":
        rows = monitoring.bottlenecks(reps, date_from, date_to, by, breaches=breaches)
        context["page"] = Paginator(rows, 50).get_page(request.GET.get("page"))
    elif tab == "trend":
        context["trend"] = monitoring.trend(reps)
        context["months"] = context["trend"][0].months if context["trend"] else []
    return render(request, "analytics/monitoring.html", context)


def _stage_columns():
    return [
        (gettext_lazy("Stage code"), lambda row: row.code),
        (gettext_lazy("Stage"), lambda row: row.label),
        (gettext_lazy("Target (hours)"), lambda row: row.target_hours),
        (gettext_lazy("Passages"), lambda row: row.passages),
        (gettext_lazy("Median (hours)"), lambda row: row.median_hours),
        (gettext_lazy("90th percentile (hours)"), lambda row: row.p90_hours),
        (gettext_lazy("Within target (%)"), lambda row: row.within_rate),
        (gettext_lazy("Over target"), lambda row: row.breaches),
        (gettext_lazy("Hours over target"), lambda row: row.overstay_hours),
    ]


def _breach_columns(request):
    return [
        (gettext_lazy("Stage"), lambda row: row.stage.label),
        (gettext_lazy("Document"), lambda row: row.label),
        (gettext_lazy("Customer"), lambda row: row.customer.name if row.customer else ""),
        (gettext_lazy("Owner"), lambda row: row.owner.display_name if row.owner else ""),
        (gettext_lazy("Region"), lambda row: row.region.name if row.region else ""),
        (gettext_lazy("Entered the stage at"), lambda row: timezone.localtime(row.entered_at).replace(tzinfo=None)),
        (gettext_lazy("Hours in the stage"), lambda row: row.hours),
        (gettext_lazy("Target (hours)"), lambda row: row.target_hours),
        (gettext_lazy("Hours over target"), lambda row: row.overstay_hours),
        (gettext_lazy("Link"), lambda row: request.build_absolute_uri(row.url)),
    ]


def _bottleneck_columns(by: str):
    return [
        (GROUP_COLUMNS[by], lambda row: row.label),
        (gettext_lazy("Passages"), lambda row: row.passages),
        (gettext_lazy("Over target"), lambda row: row.breaches),
        (gettext_lazy("Over target (%)"), lambda row: row.breach_rate),
        (gettext_lazy("Hours over target"), lambda row: row.overstay_hours),
        (gettext_lazy("Over target now"), lambda row: row.now),
        (gettext_lazy("Hours over target now"), lambda row: row.now_overstay_hours),
        (gettext_lazy("Hours lost in all"), lambda row: row.lost_hours),
    ]


def _trend_columns(months):
    columns = [(gettext_lazy("Stage"), lambda row: row.stage.label)]
    for index, month in enumerate(months):
        columns.append(
            (
                _("%(month)s median (hours)") % {"month": f"{month:%Y-%m}"},
                lambda row, index=index: row.cells[index][1].median_hours,
            )
        )
    return columns


@require(can_view_process)
def monitoring_export_view(request):
    date_from, date_to = RangeForm(request.GET).range()
    table = _choice(request, "table", TABLES)
    by = _choice(request, "by", monitoring.BOTTLENECK_GROUPS)
    reps = scope_reps(request.user, VIEW_PROCESS)
    filters = {"table": table, "from": date_from.isoformat(), "to": date_to.isoformat()}
    if table == "stages":
        title, columns = _("Time in each stage"), _stage_columns()
        rows = monitoring.stage_durations(reps, date_from, date_to)
    elif table == "breaches":
        stage = monitoring.STAGE_BY_CODE.get(request.GET.get("stage", ""))
        title, columns = _("Over target now"), _breach_columns(request)
        rows = monitoring.breaches_now(reps, stages=[stage] if stage else None)
        filters = {"table": table, "stage": stage.code if stage else ""}
    elif table == "bottlenecks":
        title, columns = _("Bottlenecks"), _bottleneck_columns(by)
        rows = monitoring.bottlenecks(reps, date_from, date_to, by)
        filters["by"] = by
    else:
        rows = monitoring.trend(reps)
        title, columns = _("Monthly trend"), _trend_columns(rows[0].months if rows else [])
        filters = {"table": table}
    return xlsx_response(
        request,
        title=title,
        columns=columns,
        rows=rows,
        filename=f"process-monitoring-{table}",
        audit_action="analytics.monitoring_exported",
        filters=filters,
    )


# --- stage targets ------------------------------------------------------------------------------------


class StageTargetsForm(StyledFormMixin, forms.Form):
    """A target (hours) and an alert flag per stage. Hours are parsed as text: whether they are
    whole, positive and at most a year is the service's rule, shown back on the field."""

    def __init__(self, *args, settings: dict[str, monitoring.StageSetting], **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = settings
        for code, setting in settings.items():
            prefix = self.prefix_of(code)
            self.fields[f"{prefix}-hours"] = forms.CharField(
                label=setting.stage.label,
                initial=setting.target_hours,
                max_length=8,
                widget=forms.NumberInput(
                    attrs={"min": 1, "max": monitoring.MAX_TARGET_HOURS, "step": 1, "data-testid": f"hours-{code}"}
                ),
            )
            self.fields[f"{prefix}-alert"] = forms.BooleanField(
                label=_("Alert the owner"),
                required=False,
                initial=setting.alert_owner,
                widget=forms.CheckboxInput(attrs={"data-testid": f"alert-{code}"}),
            )

    @staticmethod
    def prefix_of(code: str) -> str:
        return code.replace(".", "-")

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            code: (data.get(f"{self.prefix_of(code)}-hours"), data.get(f"{self.prefix_of(code)}-alert", False))
            for code in self.settings
        }

    def rows(self):
        return [
            {
                "setting": setting,
                "hours": self[f"{self.prefix_of(code)}-hours"],
                "alert": self[f"{self.prefix_of(code)}-alert"],
            }
            for code, setting in self.settings.items()
        ]

    def show_error(self, error: DomainError) -> None:
        for code, problems in error.fields.items():
            name = f"{self.prefix_of(code)}-hours"
            for problem in problems:
                self.add_error(name if name in self.fields else None, str(problem))
        self.add_error(None, error.message)


@require(can_manage_schemes)
def stage_targets_view(request):
    settings = monitoring.stage_settings()
    form = StageTargetsForm(request.POST if request.method == "POST" else None, settings=settings)
    if request.method == "POST" and form.is_valid():
        try:
            changed = monitoring.stage_targets_save(by=request.user, values=form.values())
        except DomainError as error:
            form.show_error(error)
        else:
            messages.success(request, _("Stage targets saved: %(count)s changed.") % {"count": changed})
            return redirect("analytics:stage_targets")
    return render(
        request,
        "analytics/monitoring_targets.html",
        {"form": form, "rows": form.rows(), "most": monitoring.MAX_TARGET_HOURS},
        status=400 if form.is_bound and form.errors else 200,
    )


urlpatterns = [
    path("monitoring/", monitoring_view, name="monitoring"),
    path("monitoring/export/", monitoring_export_view, name="monitoring_export"),
    path("monitoring/targets/", stage_targets_view, name="stage_targets"),
]
