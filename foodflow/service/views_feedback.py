"""Pages of the feedback channel: the suggestion list (and its export), submitting a
suggestion, the suggestion page with the manager's actions (take under review, accept or
reject with the decision, mark implemented), and the monthly summary (and its export).

Everyone with the feedback area submits and reads suggestions; only those who may manage
suggestions act on them and read the summary. Views parse input and call one service of
``feedback``; its refusal is shown as its message, on the form when it names fields."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from foodflow.accounts.models import User
from foodflow.core.errors import DomainError
from foodflow.core.exports import xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, perform, require
from foodflow.crm.selectors import customers_visible

from . import feedback
from .forms_feedback import DecideForm, ImplementedForm, MonthForm, ReviewForm, SuggestionFilterForm, SuggestionForm
from .models import Suggestion
from .permissions import can_manage_suggestions, can_suggest
from .selectors_feedback import (
    DEFAULT_SORT,
    SUGGESTION_SORTS,
    last_month,
    suggestion_timeline,
    suggestions_filtered,
    suggestions_listed,
)
from .workflows import SUGGESTION_FLOW

# --- helpers --------------------------------------------------------------------------------------


def _suggestion_or_404(pk: int) -> Suggestion:
    suggestion = suggestions_listed().filter(pk=pk).first()
    if suggestion is None:
        raise Http404
    return suggestion


def _to_suggestion(suggestion: Suggestion):
    return redirect("feedback:suggestion_detail", pk=suggestion.pk)


def _local(moment):
    """A moment as the company's wall clock, without a zone (a spreadsheet has none)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


def _customers_for(user):
    return customers_visible(user).order_by("name", "pk")


# --- the list -------------------------------------------------------------------------------------


def _list_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = SuggestionFilterForm(
        request.GET,
        owners=User.objects.filter(pk__in=Suggestion.objects.values("owner_id")).order_by("username"),
    )
    values = filters.values()
    sort, ordering = ordering_from(request, SUGGESTION_SORTS, DEFAULT_SORT)
    suggestions = suggestions_filtered(suggestions_listed(), **values).order_by(*ordering)
    return filters, values, sort, suggestions


@require(can_suggest)
def suggestions_view(request):
    filters, values, sort, suggestions = _list_search(request)
    export_params = request.GET.copy()
    export_params.pop("page", None)
    return render(
        request,
        "feedback/suggestion_list.html",
        {
            "page": paginate(request, suggestions),
            "filters": filters,
            "filtered": any(value not in (None, "") for value in values.values()),
            "sort": sort,
            "export_query": export_params.urlencode(),
            "can_manage": can_manage_suggestions(request.user),
        },
    )


EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda s: s.number),
    (gettext_lazy("Submitted at"), lambda s: _local(s.created_at)),
    (pgettext_lazy("suggestion source", "From"), lambda s: s.get_source_display()),
    (pgettext_lazy("suggestion", "Category"), lambda s: s.get_category_display()),
    (gettext_lazy("Title"), lambda s: s.title),
    (gettext_lazy("Suggestion"), lambda s: s.text),
    (gettext_lazy("Customer"), lambda s: s.customer.name if s.customer else ""),
    (gettext_lazy("Contact"), lambda s: s.contact_name),
    (gettext_lazy("Submitted by"), lambda s: s.created_by.display_name if s.created_by else ""),
    (gettext_lazy("State"), lambda s: s.get_state_display()),
    (gettext_lazy("Owner"), lambda s: s.owner.display_name if s.owner else ""),
    (gettext_lazy("Decision"), lambda s: s.decision),
    (gettext_lazy("Decided at"), lambda s: _local(s.decided_at)),
    (gettext_lazy("Implemented at"), lambda s: _local(s.implemented_at)),
)


@require(can_suggest)
def suggestions_export_view(request):
    _filters, values, sort, suggestions = _list_search(request)
    return xlsx_response(
        request,
        title=_("Suggestions"),
        columns=EXPORT_COLUMNS,
        rows=suggestions.iterator(chunk_size=1000),
        filename="suggestions",
        audit_action="feedback.suggestions_exported",
        filters={
            **{key: str(getattr(value, "pk", value)) for key, value in values.items() if value not in (None, "")},
            "sort": sort,
        },
    )


# --- submitting -----------------------------------------------------------------------------------


@require(can_suggest)
def suggestion_new_view(request):
    form = SuggestionForm(request.POST or None, customers=_customers_for(request.user))
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            suggestion = feedback.suggestion_submit(
                by=request.user,
                source=values["source"],
                category=values["category"],
                title=values["title"],
                text=values["text"],
                customer=values.get("customer"),
                contact_name=values.get("contact_name") or "",
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The suggestion %(number)s was submitted.") % {"number": suggestion.number})
            return _to_suggestion(suggestion)
    return render(
        request,
        "feedback/suggestion_new.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- the suggestion page --------------------------------------------------------------------------


@require(can_suggest)
def suggestion_detail_view(request, pk: int):
    suggestion = _suggestion_or_404(pk)
    can_manage = can_manage_suggestions(request.user)
    available = {step.action for step in SUGGESTION_FLOW.available(suggestion.state)} if can_manage else set()
    return render(
        request,
        "feedback/suggestion_detail.html",
        {
            "suggestion": suggestion,
            "timeline": suggestion_timeline(suggestion),
            "can_manage": can_manage,
            "review_form": ReviewForm(auto_id="id_review_%s", initial={"owner": request.user.pk})
            if "review" in available
            else None,
            "accept_form": DecideForm(auto_id="id_accept_%s", initial={"outcome": "accept"})
            if "accept" in available
            else None,
            "reject_form": DecideForm(auto_id="id_reject_%s", initial={"outcome": "reject"})
            if "reject" in available
            else None,
            "implemented_form": ImplementedForm(auto_id="id_implemented_%s") if "implement" in available else None,
        },
    )


@require_POST
@require(can_manage_suggestions)
def suggestion_review_view(request, pk: int):
    suggestion = _suggestion_or_404(pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose who reviews the suggestion."))
        return _to_suggestion(suggestion)
    owner = form.cleaned_data["owner"]  # none chosen: whoever takes it
    perform(
        request,
        lambda: feedback.suggestion_review(by=request.user, suggestion=suggestion, owner=owner),
        lambda reviewed: _("%(name)s reviews the suggestion now.") % {"name": reviewed.owner.display_name},
    )
    return _to_suggestion(suggestion)


@require_POST
@require(can_manage_suggestions)
def suggestion_decide_view(request, pk: int):
    suggestion = _suggestion_or_404(pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Accept or reject the suggestion."))
        return _to_suggestion(suggestion)
    accept = form.cleaned_data["outcome"] == "accept"
    decision = form.cleaned_data["decision"]
    perform(
        request,
        lambda: feedback.suggestion_decide(by=request.user, suggestion=suggestion, accept=accept, decision=decision),
        _("The suggestion was accepted.") if accept else _("The suggestion was rejected."),
    )
    return _to_suggestion(suggestion)


@require_POST
@require(can_manage_suggestions)
def suggestion_implemented_view(request, pk: int):
    suggestion = _suggestion_or_404(pk)
    form = ImplementedForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(
        request,
        lambda: feedback.suggestion_implemented(by=request.user, suggestion=suggestion, note=note),
        _("The suggestion is marked implemented."),
    )
    return _to_suggestion(suggestion)


# --- the monthly summary --------------------------------------------------------------------------


def _summary_of(request) -> tuple[MonthForm, dict]:
    """The summary of the month asked for (``?month=YYYY-MM``), last month when none or a
    wrong one is asked for; the picker shows the month the figures are of."""
    asked = MonthForm(request.GET if "month" in request.GET else None)
    month = asked.chosen(last_month())
    return MonthForm(initial={"month": month}), feedback.suggestions_monthly_summary(month)


@require(can_manage_suggestions)
def summary_view(request):
    form, summary = _summary_of(request)
    return render(
        request,
        "feedback/summary.html",
        {"form": form, "summary": summary, "month_value": f"{summary['month']:%Y-%m}"},
    )


SUMMARY_COLUMNS = (
    (gettext_lazy("Section"), lambda row: row.get("section", "")),
    (gettext_lazy("Item"), lambda row: row.get("item", "")),
    (gettext_lazy("Count"), lambda row: row.get("count")),
    (gettext_lazy("Number"), lambda row: row.get("number", "")),
    (gettext_lazy("State"), lambda row: row.get("state", "")),
    (gettext_lazy("Owner"), lambda row: row.get("owner", "")),
    (gettext_lazy("Decided at"), lambda row: row.get("decided_at")),
    (gettext_lazy("Decision"), lambda row: row.get("decision", "")),
)


def summary_rows(summary: dict) -> list[dict]:
    """The summary as the rows of one sheet: the figures, then every decision of the month."""
    figures = _("Figures")
    rows = [
        {"section": figures, "item": pgettext("suggestions", "Received"), "count": summary["received"]},
        {"section": figures, "item": _("Accepted"), "count": summary["accepted"]},
        {"section": figures, "item": _("Rejected"), "count": summary["rejected"]},
        {"section": figures, "item": _("Implemented"), "count": summary["implemented"]},
        {"section": figures, "item": _("Waiting at the month's end"), "count": summary["waiting"]},
    ]
    rows += [
        {"section": _("Received by category"), "item": r["label"], "count": r["count"]} for r in summary["by_category"]
    ]
    rows += [{"section": _("Received from"), "item": r["label"], "count": r["count"]} for r in summary["by_source"]]
    rows += [
        {
            "section": _("Decisions"),
            "item": suggestion.title,
            "number": suggestion.number,
            "state": suggestion.get_state_display(),
            "owner": suggestion.owner.display_name if suggestion.owner else "",
            "decided_at": _local(suggestion.decided_at),
            "decision": suggestion.decision,
        }
        for suggestion in summary["decisions"]
    ]
    return rows


@require(can_manage_suggestions)
def summary_export_view(request):
    _form, summary = _summary_of(request)
    month = f"{summary['month']:%Y-%m}"
    return xlsx_response(
        request,
        title=_("Suggestions %(month)s") % {"month": month},
        columns=SUMMARY_COLUMNS,
        rows=summary_rows(summary),
        filename=f"suggestions-summary-{month}",
        audit_action="feedback.summary_exported",
        filters={"month": month},
    )
