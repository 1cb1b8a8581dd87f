"""Pages of targets and KPI appraisal. (Helper B.)

The targets page shows the targets of one period the viewer may see against their actual
revenue (``targets.targets_progress``) with a form to set one; the KPI pages list the scorecards
of a period, show one with its metrics, its state actions, its rewards and penalties and its
review meetings, edit the schemes, let colleagues rate each other's teamwork and show a rep's
appraisal history. Views parse input and call one service of ``targets`` or ``kpi``; every rule
lives there. An object out of the viewer's scope is a 403, a missing one a 404."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from foodflow.accounts.models import OrgUnit, User
from foodflow.catalog.models import Category
from foodflow.core.api import row_id
from foodflow.core.errors import DomainError
from foodflow.core.exports import xlsx_response
from foodflow.core.forms import StyledFormMixin, form_show_error
from foodflow.core.views import Action, ordering_from, paginate, perform, require, safe_next

from . import kpi, targets
from .models import KpiMetric, KpiScheme, PeriodKind, RewardPenalty, SalesTarget, Scorecard, TeamworkRating
from .permissions import (
    can_appraise,
    can_manage_schemes,
    can_manage_targets,
    can_rate_teamwork,
    can_see_schemes,
    can_see_scorecards,
    can_view_sales,
)

Holder = SalesTarget.Holder


def _posted(request):
    return request.POST if request.method == "POST" else None


def _errors_as_messages(request, form) -> None:
    """The errors of a form posted from another page, as messages ("label: error") for that page."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _period_url(name: str, period: str, start: date) -> str:
    """A page of periods (targets, scorecards, teamwork) at ``period`` starting on ``start``."""
    return f"{reverse(name)}?period={period}&start={start.isoformat()}"


# --- the period picker ---------------------------------------------------------------------------


def _period_from(params, *, default: str = PeriodKind.MONTH) -> tuple[str, date]:
    """The ``period`` kind and the ``start`` of the period asked, the current one by default; a
    date inside a period stands for that period."""
    period = params.get("period", default)
    if period not in PeriodKind.values:
        period = default
    try:
        day = date.fromisoformat(params.get("start", ""))
    except ValueError:
        day = timezone.localdate()
    return period, targets.period_of(day, period)


def _picker(period: str, start: date) -> dict:
    starts = targets.period_starts(period)
    if start not in starts:
        starts = sorted({*starts, start}, reverse=True)
    return {
        "period": period,
        "start": start,
        "end": targets.period_end(period, start),
        "period_label": targets.period_name(period, start),
        "kinds": PeriodKind.choices,
        "starts": [(day, targets.period_name(period, day)) for day in starts],
    }


# --- targets -------------------------------------------------------------------------------------


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return f"{obj.get_kind_display()} · {obj.name}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class TargetForm(StyledFormMixin, forms.Form):
    holder = forms.ChoiceField(label=pgettext_lazy("sales target", "For"), choices=Holder.choices)
    rep = UserChoiceField(label=gettext_lazy("Rep"), queryset=User.objects.none(), required=False)
    unit = UnitChoiceField(label=gettext_lazy("Team or region"), queryset=OrgUnit.objects.none(), required=False)
    category = CategoryChoiceField(label=gettext_lazy("Product line"), queryset=Category.objects.none(), required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("Revenue target (VAT included)"), min_value=Decimal("0.01"), decimal_places=2
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, holders: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = holders["reps"]
        self.fields["unit"].queryset = (holders["teams"] | holders["regions"]).order_by("path")
        self.fields["category"].queryset = holders["lines"]
        allowed = [Holder.REP, Holder.TEAM, Holder.REGION]
        if holders["company"]:
            allowed = [Holder.COMPANY, Holder.REGION, Holder.TEAM, Holder.REP, Holder.PRODUCT_LINE]
        self.fields["holder"].choices = [(value, label) for value, label in Holder.choices if value in allowed]


def _targets_context(request):
    period, start = _period_from(request.GET)
    rows = targets.targets_progress(request.user, period, start)
    return period, start, rows


@require(can_view_sales)
def targets_view(request):
    period, start, rows = _targets_context(request)
    holders = targets.holders_to_set(request.user)
    form = None
    if can_manage_targets(request.user):
        initial = {}
        edit = request.GET.get("edit", "")
        if edit_pk := row_id(edit):
            found = next((row.target for row in rows if row.target.pk == edit_pk), None)
            if found is not None:
                initial = {
                    "holder": found.holder,
                    "rep": found.rep_id,
                    "unit": found.unit_id,
                    "category": found.category_id,
                    "amount": found.amount,
                    "note": found.note,
                }
        form = TargetForm(holders=holders, initial=initial)
    deletable = {row.target.pk for row in rows if targets.may_manage(request.user, row.target)}
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("edit", None)
    return render(
        request,
        "analytics/targets.html",
        {
            **_picker(period, start),
            "page": Paginator(rows, 50).get_page(request.GET.get("page")),
            "form": form,
            "deletable": deletable,
            "definitions": targets.DEFINITIONS,
            "elapsed": targets.elapsed(period, start, timezone.localdate()),
            "export_query": params.urlencode(),
        },
    )


@require_POST
@require(can_manage_targets)
def target_set_view(request):
    period, start = _period_from(request.POST)
    holders = targets.holders_to_set(request.user)
    form = TargetForm(request.POST, holders=holders)
    back = _period_url("analytics:targets", period, start)
    if form.is_valid():
        values = form.cleaned_data
        try:
            targets.target_set(
                by=request.user,
                holder=values["holder"],
                period=period,
                period_start=start,
                amount=values["amount"],
                rep=values["rep"],
                unit=values["unit"],
                category=values["category"],
                note=values["note"],
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The target was saved."))
            return redirect(back)
    _errors_as_messages(request, form)
    return redirect(back)


@require_POST
@require(can_manage_targets)
def target_delete_view(request, pk: int):
    target = get_object_or_404(SalesTarget, pk=pk)
    if not targets.may_manage(request.user, target):
        raise PermissionDenied  # a target out of the data scope is refused, not only messaged
    back = _period_url("analytics:targets", target.period, target.period_start)
    perform(request, lambda: targets.target_delete(by=request.user, target=target), _("The target was deleted."))
    return redirect(safe_next(request, back))


@require(can_view_sales)
def targets_export_view(request):
    period, start, rows = _targets_context(request)
    holders = dict(Holder.choices)
    columns = [
        (pgettext_lazy("sales target", "Kind"), lambda row: str(holders[row.target.holder])),
        (pgettext_lazy("sales target", "For"), lambda row: row.label),
        (gettext_lazy("Period"), lambda row: targets.period_name(period, start)),
        (pgettext_lazy("sales target", "Target"), lambda row: row.amount),
        (pgettext_lazy("sales target", "Actual"), lambda row: row.actual),
        (pgettext_lazy("sales target", "Completion (%)"), lambda row: row.completion_pct),
        (pgettext_lazy("sales target", "Gap"), lambda row: row.gap),
        (gettext_lazy("Time elapsed (%)"), lambda row: row.elapsed_pct),
        (pgettext_lazy("sales target", "Pace (%)"), lambda row: row.pace_pct),
        (
            pgettext_lazy("sales target", "On track"),
            lambda row: "" if row.on_track is None else (_("yes") if row.on_track else _("no")),
        ),
        (gettext_lazy("Forecast to period end"), lambda row: row.forecast),
        (gettext_lazy("Forecast completion (%)"), lambda row: row.forecast_pct),
        (gettext_lazy("Note"), lambda row: row.target.note),
    ]
    return xlsx_response(
        request,
        title=_("Sales targets"),
        columns=columns,
        rows=rows,
        filename=f"sales-targets-{targets.period_name(period, start)}",
        audit_action="analytics.targets_exported",
        filters={"period": period, "start": start.isoformat()},
    )


# --- scorecards ----------------------------------------------------------------------------------


SCORECARD_SORTS = {
    "rep": ("rep__full_name", "rep__username", "id"),
    "total": ("total", "id"),
    "state": ("state", "id"),
}


class ComputeForm(StyledFormMixin, forms.Form):
    scheme = forms.ModelChoiceField(label=gettext_lazy("KPI scheme"), queryset=KpiScheme.objects.none())

    def __init__(self, *args, period: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = KpiScheme.objects.filter(is_active=True, period=period)


def _scorecards(request):
    period, start = _period_from(request.GET, default=PeriodKind.QUARTER)
    rows = kpi.scorecards_visible(request.user).filter(period=period, period_start=start)
    sort, ordering = ordering_from(request, SCORECARD_SORTS, "rep")
    return period, start, rows.order_by(*ordering), sort


@require(can_see_scorecards)
def scorecards_view(request):
    period, start, rows, sort = _scorecards(request)
    params = request.GET.copy()
    params.pop("page", None)
    compute = ComputeForm(period=period) if can_appraise(request.user) else None
    return render(
        request,
        "analytics/kpi_scorecards.html",
        {
            **_picker(period, start),
            "page": paginate(request, rows),
            "sort": sort,
            "compute_form": compute,
            "has_schemes": compute is not None and compute.fields["scheme"].queryset.exists(),
            "can_appraise": can_appraise(request.user),
            "can_see_schemes": can_see_schemes(request.user),
            "can_rate": can_rate_teamwork(request.user),
            "export_query": params.urlencode(),
            "definitions": kpi.DEFINITIONS,
        },
    )


@require_POST
@require(can_appraise)
def scorecards_compute_view(request):
    period, start = _period_from(request.POST, default=PeriodKind.QUARTER)
    form = ComputeForm(request.POST, period=period)
    back = _period_url("analytics:scorecards", period, start)
    if not form.is_valid():
        messages.error(request, _("Choose an active KPI scheme of this period kind."))
        return redirect(back)
    perform(
        request,
        lambda: kpi.scorecards_compute(by=request.user, scheme=form.cleaned_data["scheme"], period_start=start),
        lambda done: (
            _("%(count)s scorecards were computed; %(final)s final ones were left as they are.")
            % {"count": len(done.cards), "final": done.skipped_final}
        ),
    )
    return redirect(back)


@require(can_see_scorecards)
def scorecards_export_view(request):
    period, start, rows, sort = _scorecards(request)
    labels = dict(KpiMetric.choices)
    columns = [
        (gettext_lazy("Rep"), lambda card: card.rep.display_name),
        (gettext_lazy("Team"), lambda card: card.rep.org_unit.name if card.rep.org_unit else ""),
        (gettext_lazy("Period"), lambda card: targets.period_name(card.period, card.period_start)),
        (gettext_lazy("KPI scheme"), lambda card: card.scheme.name),
        (gettext_lazy("State"), lambda card: card.get_state_display()),
    ]
    for metric in KpiMetric.values:
        columns.append(
            (
                f"{labels[metric]} · {_('value')}",
                lambda card, m=metric: (card.results.get(m) or {}).get("value"),
            )
        )
        columns.append(
            (
                f"{labels[metric]} · {_('score')}",
                lambda card, m=metric: _decimal((card.results.get(m) or {}).get("score")),
            )
        )
    columns.append((gettext_lazy("Total score"), lambda card: card.total))
    return xlsx_response(
        request,
        title=_("KPI scorecards"),
        columns=columns,
        rows=rows.iterator(),
        filename=f"kpi-scorecards-{targets.period_name(period, start)}",
        audit_action="analytics.scorecards_exported",
        filters={"period": period, "start": start.isoformat(), "sort": sort},
    )


def _decimal(value):
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RewardForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RewardPenalty.Kind.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), min_value=Decimal("0"), decimal_places=2, required=False, initial=Decimal("0")
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)
    decided_on = forms.DateField(label=gettext_lazy("Decided on"), widget=DAY)


class MeetingForm(StyledFormMixin, forms.Form):
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DAY)
    attendees = forms.CharField(label=gettext_lazy("Attendees"), max_length=300, required=False)
    comments = forms.CharField(label=gettext_lazy("Comments"), widget=forms.Textarea(attrs={"rows": 3}))
    agreed_actions = forms.CharField(
        label=gettext_lazy("Agreed actions"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    follow_up_on = forms.DateField(label=gettext_lazy("Follow up on"), widget=DAY, required=False)


def _scorecard_or_403(request, pk: int) -> Scorecard:
    card = get_object_or_404(Scorecard.objects.select_related("rep", "rep__org_unit", "scheme"), pk=pk)
    if not kpi.may_see_rep(request.user, card.rep_id):
        raise PermissionDenied
    return card


def _scorecard_page(request, card: Scorecard, *, reward_form=None, meeting_form=None, status: int = 200):
    appraiser = kpi.appraisable(request.user, card.rep)
    actions = []
    if appraiser:
        if card.state != Scorecard.State.FINAL:
            actions.append(
                Action(
                    "recompute",
                    gettext_lazy("Compute again"),
                    "ti-refresh",
                    url=reverse("analytics:scorecard_recompute", args=[card.pk]),
                    confirm=card.state == Scorecard.State.REVIEWED,
                    explanation=gettext_lazy("The figures are read again; the scorecard goes back to draft."),
                )
            )
        if card.state == Scorecard.State.DRAFT:
            actions.append(
                Action(
                    "review",
                    gettext_lazy("Mark reviewed"),
                    "ti-eye-check",
                    url=reverse("analytics:scorecard_review", args=[card.pk]),
                )
            )
        if card.state == Scorecard.State.REVIEWED:
            actions.append(
                Action(
                    "finalise",
                    gettext_lazy("Finalise"),
                    "ti-lock",
                    "btn-success",
                    url=reverse("analytics:scorecard_finalise", args=[card.pk]),
                    confirm=True,
                    confirm_class="btn-success",
                    explanation=gettext_lazy(
                        "A final scorecard is never computed again and the rep is told. Finalise it?"
                    ),
                )
            )
    return render(
        request,
        "analytics/scorecard.html",
        {
            "card": card,
            "period_label": targets.period_name(card.period, card.period_start),
            "results": kpi.result_rows(card),
            "rewards": card.rewards.order_by("-decided_on", "-pk"),
            "meetings": card.meetings.order_by("-held_on", "-pk"),
            "actions": actions,
            "appraiser": appraiser,
            "reward_form": reward_form
            or (RewardForm(initial={"decided_on": timezone.localdate()}) if appraiser else None),
            "meeting_form": meeting_form
            or (MeetingForm(initial={"held_on": timezone.localdate()}) if appraiser else None),
            "definitions": kpi.DEFINITIONS,
        },
        status=status,
    )


@require(can_see_scorecards)
def scorecard_view(request, pk: int):
    return _scorecard_page(request, _scorecard_or_403(request, pk))


def _scorecard_step(request, pk: int, call, success):
    card = _scorecard_or_403(request, pk)
    perform(request, lambda: call(card), success)
    return redirect(reverse("analytics:scorecard", args=[card.pk]))


@require_POST
@require(can_appraise)
def scorecard_recompute_view(request, pk: int):
    return _scorecard_step(
        request,
        pk,
        lambda card: kpi.scorecard_compute(
            by=request.user, rep=card.rep, scheme=card.scheme, period_start=card.period_start
        ),
        _("The scorecard was computed again."),
    )


@require_POST
@require(can_appraise)
def scorecard_review_view(request, pk: int):
    return _scorecard_step(
        request,
        pk,
        lambda card: kpi.scorecard_review(by=request.user, scorecard=card),
        _("The scorecard is reviewed."),
    )


@require_POST
@require(can_appraise)
def scorecard_finalise_view(request, pk: int):
    return _scorecard_step(
        request,
        pk,
        lambda card: kpi.scorecard_finalise(by=request.user, scorecard=card),
        _("The scorecard is final."),
    )


def _reward_record(request, rep, values: dict, scorecard: Scorecard | None = None):
    """``RewardForm``'s cleaned data recorded for ``rep``; an amount left empty is zero."""
    return kpi.reward_record(
        by=request.user,
        rep=rep,
        kind=values["kind"],
        amount=values["amount"] if values["amount"] is not None else Decimal("0"),
        reason=values["reason"],
        decided_on=values["decided_on"],
        scorecard=scorecard,
    )


def _scorecard_record(request, pk: int, form_class, form_name: str, record, success):
    """Post a form of the scorecard page: ``record(card, cleaned_data)`` then back to the card, or
    the page again (400) with the form and its errors."""
    card = _scorecard_or_403(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            record(card, form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, success)
            return redirect(reverse("analytics:scorecard", args=[card.pk]))
    return _scorecard_page(request, card, status=400, **{form_name: form})


@require_POST
@require(can_appraise)
def scorecard_reward_view(request, pk: int):
    return _scorecard_record(
        request,
        pk,
        RewardForm,
        "reward_form",
        lambda card, values: _reward_record(request, card.rep, values, scorecard=card),
        _("The reward or penalty was recorded."),
    )


@require_POST
@require(can_appraise)
def scorecard_meeting_view(request, pk: int):
    return _scorecard_record(
        request,
        pk,
        MeetingForm,
        "meeting_form",
        lambda card, values: kpi.meeting_record(by=request.user, scorecard=card, **values),
        _("The review meeting was recorded."),
    )


# --- schemes -------------------------------------------------------------------------------------

DEFAULT_ITEMS = {
    KpiMetric.SALES: ("40", [[100, 100], [90, 80], [80, 60], [60, 40]]),
    KpiMetric.COLLECTION: ("20", [[95, 100], [90, 80], [80, 60], [60, 30]]),
    KpiMetric.NEW_CUSTOMERS: ("10", [[5, 100], [3, 80], [1, 60]]),
    KpiMetric.SATISFACTION: ("10", [[4.5, 100], [4, 80], [3.5, 60], [3, 40]]),
    KpiMetric.TEAMWORK: ("10", [[4.5, 100], [4, 80], [3.5, 60], [3, 40]]),
    KpiMetric.COMPLIANCE: ("10", [[95, 100], [90, 80], [80, 60], [60, 30]]),
}
BAND_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:[:=,→]|->)?\s*(-?\d+(?:\.\d+)?)\s*$")


def bands_text(bands) -> str:
    return "\n".join(f"{lowest}: {points}" for lowest, points in bands)


def bands_parse(text: str) -> list:
    """Bands from lines of "lowest value: score"; ValueError names the first line it cannot read."""
    bands = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        found = BAND_LINE.match(line)
        if not found:
            raise ValueError(line.strip())
        bands.append([found.group(1), found.group(2)])
    return bands


class SchemeForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    period = forms.ChoiceField(label=gettext_lazy("Appraisal period"), choices=PeriodKind.choices)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    note = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(KpiMetric.choices)
        for metric in KpiMetric.values:
            self.fields[f"weight_{metric}"] = forms.DecimalField(
                label=labels[metric],
                required=False,
                min_value=Decimal("0"),
                max_value=Decimal("100"),
                decimal_places=2,
                help_text=gettext_lazy("Weight in %; empty: not in this scheme."),
            )
            self.fields[f"bands_{metric}"] = forms.CharField(
                label=gettext_lazy("Bands"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=gettext_lazy("One band a line, “lowest value: score”, the highest first."),
            )
        for name in self.fields:  # StyledFormMixin styled only the fields declared on the class
            if name.startswith("weight_"):
                self.fields[name].widget.attrs["class"] = "form-control"
            elif name.startswith("bands_"):
                self.fields[name].widget.attrs["class"] = "form-control font-monospace"

    @property
    def metric_rows(self):
        labels = dict(KpiMetric.choices)
        return [
            (metric, labels[metric], kpi.METRIC_DEFINITIONS[metric], self[f"weight_{metric}"], self[f"bands_{metric}"])
            for metric in KpiMetric.values
        ]

    def items(self) -> list:
        items = []
        for metric in KpiMetric.values:
            weight = self.cleaned_data.get(f"weight_{metric}")
            if weight in (None, Decimal("0")):
                continue
            try:
                bands = bands_parse(self.cleaned_data.get(f"bands_{metric}", ""))
            except ValueError as error:
                self.add_error(
                    f"bands_{metric}", _("This line is not “lowest value: score”: %(line)s") % {"line": error}
                )
                continue
            items.append((metric, weight, bands))
        return items

    @staticmethod
    def initial_of(scheme: KpiScheme | None) -> dict:
        if scheme is None:
            initial = {"period": PeriodKind.QUARTER, "is_active": True}
            for metric, (weight, bands) in DEFAULT_ITEMS.items():
                initial[f"weight_{metric}"] = weight
                initial[f"bands_{metric}"] = bands_text(bands)
            return initial
        initial = {"name": scheme.name, "period": scheme.period, "is_active": scheme.is_active, "note": scheme.note}
        for metric, (_weight, bands) in DEFAULT_ITEMS.items():
            initial[f"bands_{metric}"] = bands_text(bands)
        for item in scheme.items.all():
            initial[f"weight_{item.metric}"] = item.weight
            initial[f"bands_{item.metric}"] = bands_text(item.bands)
        return initial


@require(can_see_schemes)
def kpi_schemes_view(request):
    schemes = KpiScheme.objects.prefetch_related("items").order_by("-is_active", "name")
    return render(
        request,
        "analytics/kpi_schemes.html",
        {
            "page": paginate(request, schemes),
            "can_manage": can_manage_schemes(request.user),
            "metric_labels": dict(KpiMetric.choices),
            "definitions": kpi.DEFINITIONS,
        },
    )


def _scheme_form_page(request, scheme: KpiScheme | None):
    form = SchemeForm(_posted(request), initial=SchemeForm.initial_of(scheme))
    if request.method == "POST" and form.is_valid():
        items = form.items()
        if form.is_valid():  # the bands read
            values = form.cleaned_data
            fields = {
                "name": values["name"],
                "period": values["period"],
                "items": items,
                "note": values["note"],
                "is_active": values["is_active"],
            }
            try:
                if scheme is None:
                    saved = kpi.scheme_create(by=request.user, **fields)
                else:
                    saved = kpi.scheme_update(by=request.user, scheme=scheme, **fields)
            except DomainError as error:
                form_show_error(form, error)
            else:
                messages.success(request, _("The KPI scheme “%(name)s” was saved.") % {"name": saved.name})
                return redirect("analytics:kpi_schemes")
    return render(request, "analytics/kpi_scheme_form.html", {"form": form, "scheme": scheme})


@require(can_manage_schemes)
def kpi_scheme_new_view(request):
    return _scheme_form_page(request, None)


@require(can_manage_schemes)
def kpi_scheme_edit_view(request, pk: int):
    return _scheme_form_page(request, get_object_or_404(KpiScheme, pk=pk))


# --- teamwork ------------------------------------------------------------------------------------


class RatingForm(StyledFormMixin, forms.Form):
    rep = forms.IntegerField(widget=forms.HiddenInput)
    score = forms.TypedChoiceField(
        label=gettext_lazy("Score"), coerce=int, choices=[(value, str(value)) for value in range(1, 6)]
    )
    comment = forms.CharField(label=gettext_lazy("Comment"), max_length=300, required=False)


@require(can_rate_teamwork)
def teamwork_view(request):
    period, start = _period_from(request.GET, default=PeriodKind.QUARTER)
    colleagues = kpi.colleagues_to_rate(request.user)
    given = {
        rating.rep_id: rating
        for rating in TeamworkRating.objects.filter(
            rater=request.user, period=period, period_start=start, rep__in=colleagues
        )
    }
    page = paginate(request, colleagues, per_page=50)
    rows = [{"rep": rep, "rating": given.get(rep.pk)} for rep in page]
    return render(
        request,
        "analytics/kpi_teamwork.html",
        {**_picker(period, start), "page": page, "rows": rows, "scores": range(1, 6)},
    )


@require_POST
@require(can_rate_teamwork)
def teamwork_rate_view(request):
    period, start = _period_from(request.POST, default=PeriodKind.QUARTER)
    back = _period_url("analytics:teamwork", period, start)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a score from 1 to 5."))
        return redirect(safe_next(request, back))
    rep = get_object_or_404(User, pk=form.cleaned_data["rep"])
    perform(
        request,
        lambda: kpi.teamwork_rate(
            by=request.user,
            rep=rep,
            period=period,
            period_start=start,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        ),
        _("Your rating of %(name)s was saved.") % {"name": rep.display_name},
    )
    return redirect(safe_next(request, back))


# --- a rep's history ------------------------------------------------------------------------------


@require(can_see_scorecards)
def rep_history_view(request, rep_id: int):
    rep = get_object_or_404(User.objects.select_related("org_unit"), pk=rep_id)
    if not kpi.may_see_rep(request.user, rep.pk):
        raise PermissionDenied
    appraiser = kpi.appraisable(request.user, rep)
    cards = list(kpi.scorecards_of(rep))
    return render(
        request,
        "analytics/kpi_history.html",
        {
            "rep": rep,
            "cards": [(card, targets.period_name(card.period, card.period_start)) for card in cards],
            "rewards": paginate(request, kpi.rewards_of(rep), per_page=50),
            "meetings": kpi.meetings_of(rep)[:50],
            "reward_form": RewardForm(initial={"decided_on": timezone.localdate()}) if appraiser else None,
            "appraiser": appraiser,
        },
    )


@require_POST
@require(can_appraise)
def rep_reward_view(request, rep_id: int):
    rep = get_object_or_404(User, pk=rep_id)
    if not kpi.may_see_rep(request.user, rep.pk):
        raise PermissionDenied
    form = RewardForm(request.POST)
    back = reverse("analytics:rep_history", args=[rep.pk])
    if not form.is_valid():
        _errors_as_messages(request, form)
        return redirect(back)
    perform(request, lambda: _reward_record(request, rep, form.cleaned_data), _("The reward or penalty was recorded."))
    return redirect(back)


urlpatterns: list = [
    path("targets/", targets_view, name="targets"),
    path("targets/set/", target_set_view, name="target_set"),
    path("targets/<int:pk>/delete/", target_delete_view, name="target_delete"),
    path("targets/export/", targets_export_view, name="targets_export"),
    path("kpi/", scorecards_view, name="scorecards"),
    path("kpi/compute/", scorecards_compute_view, name="scorecards_compute"),
    path("kpi/export/", scorecards_export_view, name="scorecards_export"),
    path("kpi/<int:pk>/", scorecard_view, name="scorecard"),
    path("kpi/<int:pk>/compute/", scorecard_recompute_view, name="scorecard_recompute"),
    path("kpi/<int:pk>/review/", scorecard_review_view, name="scorecard_review"),
    path("kpi/<int:pk>/finalise/", scorecard_finalise_view, name="scorecard_finalise"),
    path("kpi/<int:pk>/reward/", scorecard_reward_view, name="scorecard_reward"),
    path("kpi/<int:pk>/meeting/", scorecard_meeting_view, name="scorecard_meeting"),
    path("kpi/schemes/", kpi_schemes_view, name="kpi_schemes"),
    path("kpi/schemes/new/", kpi_scheme_new_view, name="kpi_scheme_new"),
    path("kpi/schemes/<int:pk>/", kpi_scheme_edit_view, name="kpi_scheme_edit"),
    path("kpi/teamwork/", teamwork_view, name="teamwork"),
    path("kpi/teamwork/rate/", teamwork_rate_view, name="teamwork_rate"),
    path("kpi/rep/<int:rep_id>/", rep_history_view, name="rep_history"),
    path("kpi/rep/<int:rep_id>/reward/", rep_reward_view, name="rep_reward"),
]
