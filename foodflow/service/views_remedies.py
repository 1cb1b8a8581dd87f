"""Pages of a complaint's remedies: the forms of a replacement, a refund or compensation and a
return (opened in a modal of the complaint page through htmx, or as a page of their own), and
finance's list of approved credits waiting for their credit note, and its Excel export.

Views parse input and call one service of ``remedies``, which checks every rule (the complaint
is open, the user handles it, stock, amounts, lines). A refusal is shown on the form: in the
modal when the form came from it, on the form's page otherwise; nothing is saved."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, perform, require, safe_next
from foodflow.sales.permissions import can_manage_receivables
from foodflow.sales.selectors_ops import delivery_lines

from . import remedies
from .forms_remedies import CreditFilterForm, RemedyCreditForm, RemedyReplaceForm, RemedyReturnForm
from .models import Complaint, Remedy
from .permissions import can_log_complaints, can_manage_complaint
from .views import _complaint_or_403, _local
from .workflows import OPEN

CREDIT_SORTS = {
    "approved": ("decided_at", "id"),
    "amount": ("amount", "id"),
    "complaint": ("complaint__number", "id"),
    "customer": ("complaint__customer__name", "id"),
}
DEFAULT_CREDIT_SORT = "approved"  # a work queue: the longest waiting first


# --- helpers --------------------------------------------------------------------------------------


def _posted(request):
    return request.POST if request.method == "POST" else None


def _show_error(form, error: DomainError) -> None:
    """The service's refusal on the form; its ``lines.<n>.<field>`` on the row's own field."""
    fields: dict[str, list] = {}
    for key, errors in error.fields.items():
        fields.setdefault(form.field_of(key) if hasattr(form, "field_of") else key, []).extend(errors)
    form_show_error(form, SimpleNamespace(fields=fields, message=error.message))


def _to_complaint(request, complaint: Complaint, message: str):
    messages.success(request, message)
    url = reverse("service:complaint_detail", args=[complaint.pk])
    # a form posted from the modal (htmx) reloads the whole complaint page
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


FORMS = {
    "replace": {
        "url": "service:remedy_replace",
        "title": lambda: _("Replace the goods"),
        "button": lambda: _("Plan the replacement"),
        "explanation": lambda: _(
            "A no-charge order is reserved from the earliest-expiring lots that are not on hold, and its "
            "delivery note is planned. If anything is short, nothing is reserved."
        ),
    },
    "credit": {
        "url": "service:remedy_credit",
        "title": lambda: _("Refund or compensation"),
        "button": lambda: _("Request the credit"),
        "explanation": lambda: _(
            "Approved by amount in the approval queue; once approved, finance issues the credit note against "
            "the order's open receivable."
        ),
    },
    "return": {
        "url": "service:remedy_return",
        "title": lambda: _("Take the goods back"),
        "button": lambda: _("Record the return"),
        "explanation": lambda: _(
            "Restocked goods go back to their lot; scrapped goods are received and written off. A credit note "
            "at the order's net price follows."
        ),
    },
}


def _form_page(request, complaint: Complaint, kind: str, form):
    """The form in the modal (an htmx request) or on a page of its own, with its errors."""
    spec = FORMS[kind]
    context = {
        "complaint": complaint,
        "kind": kind,
        "form": form,
        "action": reverse(spec["url"], args=[complaint.pk]),
        "title": spec["title"](),
        "button": spec["button"](),
        "explanation": spec["explanation"](),
        "is_open": complaint.state in OPEN,
    }
    template = "service/_remedies_dialog.html" if request.htmx else "service/remedies_form.html"
    return render(request, template, context)


def _remedy_form_view(request, pk: int, kind: str, make_form, call, success):
    """GET: the empty form. POST: parse, call the one service, back to the complaint; a
    refusal stays on the form."""
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = make_form(complaint, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            remedy = call(complaint, form)
        except DomainError as error:
            _show_error(form, error)
        else:
            return _to_complaint(request, complaint, success(remedy))
    return _form_page(request, complaint, kind, form)


# --- the three remedies ---------------------------------------------------------------------------


@require(can_log_complaints)
def remedy_replace_view(request, pk: int):
    def call(complaint, form):
        return remedies.complaint_replace(
            by=request.user,
            complaint=complaint,
            lines=form.lines(),
            reason=form.cleaned_data["reason"],
            planned_date=form.cleaned_data.get("planned_date"),
        )

    return _remedy_form_view(
        request,
        pk,
        "replace",
        lambda complaint, data: RemedyReplaceForm(data, complaint=complaint, auto_id="id_replace_%s"),
        call,
        lambda remedy: (
            _("The replacement order %(order)s is reserved; delivery note %(delivery)s is planned.")
            % {"order": remedy.order.number, "delivery": remedy.delivery.number}
        ),
    )


def _credit_message(remedy: Remedy) -> str:
    if remedy.state == "approved":
        return _("The %(kind)s of %(amount)s is approved; finance issues the credit note.") % {
            "kind": remedy.get_kind_display(),
            "amount": remedy.amount,
        }
    return _("The %(kind)s of %(amount)s waits for approval.") % {
        "kind": remedy.get_kind_display(),
        "amount": remedy.amount,
    }


@require(can_log_complaints)
def remedy_credit_view(request, pk: int):
    def call(complaint, form):
        values = form.cleaned_data
        return remedies.complaint_credit_request(
            by=request.user,
            complaint=complaint,
            kind=values["kind"],
            amount=values.get("amount") if values.get("amount") is not None else "",
            reason=values["reason"],
        )

    return _remedy_form_view(
        request,
        pk,
        "credit",
        lambda complaint, data: RemedyCreditForm(data, auto_id="id_credit_%s"),
        call,
        _credit_message,
    )


@require(can_log_complaints)
def remedy_return_view(request, pk: int):
    def make_form(complaint, data):
        lines = delivery_lines(complaint.delivery) if complaint.delivery_id else []
        return RemedyReturnForm(data, lines=lines, auto_id="id_return_%s")

    def call(complaint, form):
        return remedies.complaint_return(
            by=request.user, complaint=complaint, lines=form.chosen(), reason=form.cleaned_data["reason"]
        )

    return _remedy_form_view(
        request,
        pk,
        "return",
        make_form,
        call,
        lambda remedy: (
            _("The return %(number)s is recorded with a credit of %(total)s.")
            % {"number": remedy.customer_return.number, "total": remedy.amount}
        ),
    )


# --- finance: credits to issue --------------------------------------------------------------------


def _credits_filtered(queryset, *, q: str, kind: str):
    if kind:
        queryset = queryset.filter(kind=kind)
    if q:
        queryset = queryset.filter(
            Q(complaint__number__icontains=q)
            | Q(complaint__customer__name__icontains=q)
            | Q(complaint__customer__code__iexact=q)
        )
    return queryset


def _credit_search(request):
    """The credits' filters and sort, read the same way by the page and by its export."""
    filters = CreditFilterForm(request.GET)
    values = filters.values()
    rows = _credits_filtered(
        remedies.remedies_to_issue(request.user).select_related(
            "complaint__customer", "complaint__order", "complaint__delivery__order", "created_by"
        ),
        **values,
    )
    sort, ordering = ordering_from(request, CREDIT_SORTS, DEFAULT_CREDIT_SORT)
    return filters, values, sort, rows.order_by(*ordering)


@require(can_manage_receivables)
def credits_to_issue_view(request):
    filters, values, sort, rows = _credit_search(request)
    return render(
        request,
        "service/remedies_credits.html",
        {
            "page": paginate(request, rows),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "export_query": export_query(request),
        },
    )


def _order_of(remedy: Remedy):
    """The order the credit is set against: the delivered one, else the one named (as on the page)."""
    complaint = remedy.complaint
    if complaint.delivery_id:
        return complaint.delivery.order
    return complaint.order


CREDIT_EXPORT_COLUMNS = (
    (gettext_lazy("Complaint"), lambda remedy: remedy.complaint.number),
    (gettext_lazy("Customer code"), lambda remedy: remedy.complaint.customer.code if remedy.complaint.customer else ""),
    (gettext_lazy("Customer"), lambda remedy: remedy.complaint.customer.name if remedy.complaint.customer else ""),
    (gettext_lazy("Kind"), lambda remedy: remedy.get_kind_display()),
    (gettext_lazy("Amount (tax incl.)"), lambda remedy: remedy.amount),
    (gettext_lazy("Order"), lambda remedy: str(_order_of(remedy) or "")),
    (gettext_lazy("Reason"), lambda remedy: remedy.reason),
    (gettext_lazy("Requested by"), lambda remedy: remedy.created_by.display_name if remedy.created_by else ""),
    (gettext_lazy("Approved"), lambda remedy: _local(remedy.decided_at)),
)


@require(can_manage_receivables)
def credits_export_view(request):
    _filters, values, sort, rows = _credit_search(request)
    return capped_xlsx_response(
        request,
        title=_("Credits to issue"),
        columns=CREDIT_EXPORT_COLUMNS,
        rows=rows,
        filename="credits-to-issue",
        audit_action="service.credits_exported",
        filters={**{key: value for key, value in values.items() if value}, "sort": sort},
    )


@require_POST
@require(can_manage_receivables)
def remedy_issue_view(request, pk: int):
    remedy = get_object_or_404(Remedy.objects.select_related("complaint"), pk=pk)
    perform(
        request,
        lambda: remedies.remedy_credit_issue(by=request.user, remedy=remedy),
        lambda issued: (
            _("The credit note %(number)s of %(amount)s is issued for complaint %(complaint)s.")
            % {"number": issued.credit_note.number, "amount": issued.amount, "complaint": remedy.complaint.number}
        ),
    )
    return redirect(safe_next(request, reverse("service:credits_to_issue")))
