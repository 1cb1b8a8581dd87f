"""Pages of satisfaction and key-account care: the surveys (write, switch on and off, send one
by hand), their results by customer, rep, region or product, the revisits owed to key
accounts, and the complaint rates per product or lot, with their Excel exports.

Views parse input and call one service (``surveys``, ``revisits``) or selector
(``selectors_surveys``); every rule lives there. An object out of the user's scope is a 403,
a missing one a 404; a service's refusal is shown as its message, on the form when it names
fields."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from foodflow.accounts.permissions import scoped
from foodflow.core.api import row_id
from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query, xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, perform, require, safe_next
from foodflow.crm.models import Customer

from . import revisits, selectors_surveys, surveys
from .forms_surveys import (
    RatesForm,
    ResultsForm,
    RevisitDoneForm,
    RevisitFilterForm,
    SurveyFilterForm,
    SurveyForm,
    SurveySendForm,
)
from .models import Revisit, Survey
from .permissions import MANAGE, VIEW, can_do_revisit, can_manage_surveys, can_view_complaints, revisits_in_scope
from .surveys import QUIET_DAYS

SURVEY_SORTS = {
    "name": ("name", "id"),
    "created": ("created_at", "id"),
    "sent": ("sent_count", "id"),
    "answered": ("answered_count", "id"),
}
REVISIT_SORTS = {
    "due": ("due_on", "id"),
    "customer": ("customer__name", "id"),
    "done": ("done_on", "id"),
}


def _posted(request):
    return request.POST if request.method == "POST" else None


def _survey_or_404(pk: int) -> Survey:
    return get_object_or_404(Survey, pk=pk)


# --- surveys -----------------------------------------------------------------------------------------


def _survey_search(request):
    """The survey list's filters and sort, read the same way by the page and by its export."""
    filters = SurveyFilterForm(request.GET)
    rows = Survey.objects.annotate(
        sent_count=Count("invitations"),
        answered_count=Count("invitations", filter=Q(invitations__answered_at__isnull=False)),
    )
    q, trigger, active = filters.value("q", ""), filters.value("trigger", ""), filters.value("active", "")
    if q:
        rows = rows.filter(name__icontains=q)
    if trigger:
        rows = rows.filter(trigger=trigger)
    if active in ("0", "1"):
        rows = rows.filter(is_active=active == "1")
    sort, ordering = ordering_from(request, SURVEY_SORTS, "-created")
    used = {key: value for key, value in (("q", q), ("trigger", trigger), ("active", active)) if value}
    return filters, used, sort, rows.order_by(*ordering)


@require(can_manage_surveys)
def surveys_view(request):
    filters, used, sort, rows = _survey_search(request)
    return render(
        request,
        "service/surveys.html",
        {
            "page": paginate(request, rows),
            "filters": filters,
            "filtered": bool(used),
            "sort": sort,
            "quiet_days": QUIET_DAYS,
            "export_query": export_query(request),
        },
    )


SURVEY_EXPORT_COLUMNS = (
    (gettext_lazy("Name"), lambda survey: survey.name),
    (gettext_lazy("Sent"), lambda survey: survey.get_trigger_display()),
    (gettext_lazy("Free questions"), lambda survey: len(survey.questions or [])),
    (gettext_lazy("Valid for (days)"), lambda survey: survey.valid_days),
    (gettext_lazy("Invitations"), lambda survey: survey.sent_count),
    (gettext_lazy("Answered"), lambda survey: survey.answered_count),
    (gettext_lazy("State"), lambda survey: _("Active") if survey.is_active else _("Inactive")),
    (gettext_lazy("Created on"), lambda survey: timezone.localtime(survey.created_at).date()),
)


@require(can_manage_surveys)
def surveys_export_view(request):
    _filters, used, sort, rows = _survey_search(request)
    return capped_xlsx_response(
        request,
        title=_("Satisfaction surveys"),
        columns=SURVEY_EXPORT_COLUMNS,
        rows=rows,
        filename="surveys",
        audit_action="service.surveys_exported",
        filters={**used, "sort": sort},
    )


def _survey_form_page(request, survey: Survey | None):
    form = SurveyForm(_posted(request), initial=SurveyForm.initial_of(survey) if survey else None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            saved = surveys.survey_save(
                by=request.user,
                survey=survey,
                name=values["name"],
                trigger=values["trigger"],
                questions=values["questions"],
                valid_days=values["valid_days"],
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The survey “%(name)s” was saved.") % {"name": saved.name})
            return redirect("service:surveys")
    return render(request, "service/survey_form.html", {"form": form, "survey": survey})


@require(can_manage_surveys)
def survey_new_view(request):
    return _survey_form_page(request, None)


@require(can_manage_surveys)
def survey_edit_view(request, pk: int):
    return _survey_form_page(request, _survey_or_404(pk))


@require_POST
@require(can_manage_surveys)
def survey_set_active_view(request, pk: int):
    survey = _survey_or_404(pk)
    active = request.POST.get("active") == "1"
    perform(
        request,
        lambda: surveys.survey_set_active(by=request.user, survey=survey, active=active),
        (_("The survey “%(name)s” is active: it is sent again.") if active else _("The survey “%(name)s” is off."))
        % {"name": survey.name},
    )
    return redirect(safe_next(request, reverse("service:surveys")))


def _customers_to_ask(user):
    customers = Customer.objects.exclude(status=Customer.Status.BLOCKED)
    return scoped(user, MANAGE, customers, owner="owner", unit="region").order_by("name", "pk")


@never_cache  # the link is shown once: no cache may keep it
@require(can_manage_surveys)
def survey_send_view(request):
    customers = _customers_to_ask(request.user)
    initial = {}
    if survey := row_id(request.GET.get("survey", "")):
        initial["survey"] = survey
    form = SurveySendForm(_posted(request), customers=customers, initial=initial)
    sent = None
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            sent = surveys.survey_send_manual(
                by=request.user, survey=values["survey"], customer=values["customer"], email=values["email"]
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            form = SurveySendForm(customers=customers, initial={"survey": values["survey"].pk})
    return render(
        request,
        "service/survey_send.html",
        {"form": form, "sent": sent, "quiet_days": QUIET_DAYS, "has_surveys": form.fields["survey"].queryset.exists()},
    )


# --- results -----------------------------------------------------------------------------------------

RESULT_GROUP_LABELS = {
    "customer": gettext_lazy("By customer"),
    "rep": gettext_lazy("By rep"),
    "region": gettext_lazy("By region"),
    "product": gettext_lazy("By product"),
}
RESULT_COLUMN_LABELS = {
    "customer": gettext_lazy("Customer"),
    "rep": gettext_lazy("Rep"),
    "region": gettext_lazy("Region"),
    "product": gettext_lazy("Product"),
}


def _results(request):
    form = ResultsForm(request.GET)
    date_from, date_to = form.range()
    by = form.group()
    results = selectors_surveys.survey_results(request.user, by=by, date_from=date_from, date_to=date_to)
    sort = request.GET.get("sort", "-sent")
    if sort.lstrip("-") not in selectors_surveys.RESULT_SORTS:
        sort = "-sent"
    results.rows = selectors_surveys.sort_results(results.rows, sort)
    return form, results, sort


@require(can_view_complaints)
def survey_results_view(request):
    form, results, sort = _results(request)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "service/survey_results.html",
        {
            "form": form,
            "results": results,
            "page": Paginator(results.rows, 50).get_page(request.GET.get("page")),
            "sort": sort,
            "groups": list(RESULT_GROUP_LABELS.items()),
            "group_label": RESULT_COLUMN_LABELS[results.by],
            "export_query": params.urlencode(),
            "can_manage_surveys": can_manage_surveys(request.user),
        },
    )


@require(can_view_complaints)
def survey_results_export_view(request):
    _form, results, sort = _results(request)
    columns = (
        (RESULT_COLUMN_LABELS[results.by], lambda row: row.label),
        (gettext_lazy("Code"), lambda row: row.code),
        (gettext_lazy("Sent"), lambda row: row.sent),
        (gettext_lazy("Answered"), lambda row: row.answered),
        (gettext_lazy("Response rate (%)"), lambda row: row.response_rate),
        (gettext_lazy("Average CSAT (1–5)"), lambda row: row.csat),
        (gettext_lazy("NPS"), lambda row: row.nps),
        (gettext_lazy("Promoters (9–10)"), lambda row: row.promoters),
        (gettext_lazy("Passives (7–8)"), lambda row: row.passives),
        (gettext_lazy("Detractors (0–6)"), lambda row: row.detractors),
    )
    results.total.label = _("Total (each invitation once)")
    return xlsx_response(
        request,
        title=_("Survey results"),
        columns=columns,
        rows=[*results.rows, results.total],
        filename=f"survey-results-{results.by}",
        audit_action="service.survey_results_exported",
        filters={
            "by": results.by,
            "from": results.date_from.isoformat(),
            "to": results.date_to.isoformat(),
            "sort": sort,
        },
    )


# --- complaint rates ---------------------------------------------------------------------------------


def _rates(request):
    form = RatesForm(request.GET)
    date_from, date_to = form.range()
    by = form.group()
    rows = selectors_surveys.complaint_rates(request.user, by=by, date_from=date_from, date_to=date_to)
    sort = request.GET.get("sort", "-rate")
    if sort.lstrip("-") not in selectors_surveys.RATE_SORTS:
        sort = "-rate"
    return form, by, date_from, date_to, selectors_surveys.sort_rates(rows, sort), sort


@require(can_view_complaints)
def complaint_rates_view(request):
    form, by, date_from, date_to, rows, sort = _rates(request)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "service/rates.html",
        {
            "form": form,
            "by": by,
            "date_from": date_from,
            "date_to": date_to,
            "page": Paginator(rows, 50).get_page(request.GET.get("page")),
            "sort": sort,
            "export_query": params.urlencode(),
        },
    )


@require(can_view_complaints)
def complaint_rates_export_view(request):
    _form, by, date_from, date_to, rows, sort = _rates(request)
    columns = [
        (gettext_lazy("SKU"), lambda row: row.code),
        (gettext_lazy("Product"), lambda row: row.label),
    ]
    if by == "lot":
        columns.append((gettext_lazy("Lot number"), lambda row: row.lot_number))
    columns += [
        (gettext_lazy("Complaints"), lambda row: row.complaints),
        (gettext_lazy("Delivered quantity"), lambda row: row.delivered),
        (gettext_lazy("Complaints per 1,000 units"), lambda row: row.rate),
    ]
    return xlsx_response(
        request,
        title=_("Complaint rates"),
        columns=columns,
        rows=rows,
        filename=f"complaint-rates-{by}",
        audit_action="service.complaint_rates_exported",
        filters={"by": by, "from": date_from.isoformat(), "to": date_to.isoformat(), "sort": sort},
    )


# --- revisits ----------------------------------------------------------------------------------------


def _sees_only_own(user) -> bool:
    from foodflow.accounts.permissions import perm_scope
    from foodflow.core.permissions import Scope

    return perm_scope(user, VIEW) == Scope.OWN


@dataclass(frozen=True)
class RevisitSearch:
    """What the revisit list was asked for."""

    filters: RevisitFilterForm
    only_own: bool
    mine: bool
    state: str
    reason: str
    q: str
    sort: str

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.reason or self.state != "open")

    def used(self) -> dict:
        """The filters as the audit entry of an export records them."""
        chosen = {"state": self.state, "who": "mine" if self.mine else "all", "reason": self.reason, "q": self.q}
        return {**{key: value for key, value in chosen.items() if value}, "sort": self.sort}


def _revisit_search(request):
    """The revisit list's filters and sort, read the same way by the page and by its export."""
    filters = RevisitFilterForm(request.GET)
    only_own = _sees_only_own(request.user)
    mine = only_own or request.GET.get("who", "mine" if only_own else "all") == "mine"
    state = filters.value("state", "open")
    reason, q = filters.value("reason", ""), (filters.value("q", "") or "").strip()
    rows = selectors_surveys.revisits_filtered(
        request.user,
        Revisit.objects.select_related("customer", "owner", "complaint"),
        state=state,
        mine=mine,
        reason=reason,
        q=q,
        today=timezone.localdate(),
    )
    sort, ordering = ordering_from(request, REVISIT_SORTS, "due")
    search = RevisitSearch(filters=filters, only_own=only_own, mine=mine, state=state, reason=reason, q=q, sort=sort)
    return search, rows.order_by(*ordering)


@require(can_view_complaints)
def revisits_view(request):
    search, rows = _revisit_search(request)
    today = timezone.localdate()
    page = paginate(request, rows)
    user = request.user
    entries = [
        {
            "revisit": revisit,
            "overdue": revisit.done_on is None and revisit.due_on < today,
            "form": RevisitDoneForm(auto_id=f"id_done_{revisit.pk}_%s")
            if revisit.done_on is None and can_do_revisit(user, revisit)
            else None,
        }
        for revisit in page
    ]
    return render(
        request,
        "service/revisits.html",
        {
            "page": page,
            "entries": entries,
            "filters": search.filters,
            "state": search.state,
            "mine": search.mine,
            "only_own": search.only_own,
            "filtered": search.filtered,
            "sort": search.sort,
            "today": today,
            "export_query": export_query(request),
        },
    )


REVISIT_EXPORT_COLUMNS = (
    (gettext_lazy("Due on"), lambda revisit: revisit.due_on),
    (gettext_lazy("Customer code"), lambda revisit: revisit.customer.code),
    (gettext_lazy("Customer"), lambda revisit: revisit.customer.name),
    (gettext_lazy("Reason"), lambda revisit: revisit.get_reason_display()),
    (gettext_lazy("Complaint"), lambda revisit: revisit.complaint.number if revisit.complaint else ""),
    (gettext_lazy("Owner"), lambda revisit: revisit.owner.display_name),
    (gettext_lazy("Done on"), lambda revisit: revisit.done_on),
    (gettext_lazy("Outcome"), lambda revisit: revisit.outcome),
)


@require(can_view_complaints)
def revisits_export_view(request):
    search, rows = _revisit_search(request)
    return capped_xlsx_response(
        request,
        title=_("Key-account revisits"),
        columns=REVISIT_EXPORT_COLUMNS,
        rows=rows,
        filename="revisits",
        audit_action="service.revisits_exported",
        filters=search.used(),
    )


@require_POST
@require(can_view_complaints)
def revisit_done_view(request, pk: int):
    revisit = Revisit.objects.select_related("customer").filter(pk=pk).first()
    if revisit is None:
        raise Http404
    if not revisits_in_scope(request.user, Revisit.objects.filter(pk=pk)).exists() or not can_do_revisit(
        request.user, revisit
    ):
        raise PermissionDenied
    form = RevisitDoneForm(request.POST)
    if not form.is_valid() and "on" in form.errors:
        messages.error(request, _("Enter the date as YYYY-MM-DD."))
        return redirect(safe_next(request, reverse("service:revisits")))
    values = form.cleaned_data
    perform(
        request,
        lambda: revisits.revisit_done(
            by=request.user,
            revisit=revisit,
            outcome=values.get("outcome") or "",
            kind=values.get("kind") or request.POST.get("kind", ""),
            on=values.get("on"),
        ),
        _("The revisit of %(customer)s is done; the call or visit is recorded with the customer.")
        % {"customer": revisit.customer.name},
    )
    return redirect(safe_next(request, reverse("service:revisits")))
