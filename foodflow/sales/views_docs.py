"""Pages of the rep and the approver: inquiries, quotations and sales orders from the first
call to the confirmed order (each list with its Excel export), the approver's queue and the
approval policies.

Views parse input and call one service; every rule (prices, states, who may approve, what a
version may still change) lives in ``services``, ``approvals`` and ``services_policies``, every
read in ``selectors_docs``. A document out of the user's scope is a 403 (404 if it does not
exist), as on the customer pages; a service's refusal is shown as its message."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from foodflow.catalog.pricing import price_resolve
from foodflow.core.errors import ConflictError, DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.money import ZERO, line_amount, tax_included
from foodflow.core.views import Action, ordering_from, paginate, perform, require
from foodflow.crm.models import Customer
from foodflow.crm.permissions import can_view_customer

from . import pdf, selectors_docs, services
from .approvals import approval_decide, approval_history
from .forms_docs import (
    ApproveForm,
    CommercialLineForm,
    CommercialLineFormSet,
    CopyForm,
    DeclineForm,
    DocFilterForm,
    InquiryForm,
    InquiryLineFormSet,
    OrderForm,
    OrderFromQuotationForm,
    PolicyForm,
    QuotationForm,
    ReasonForm,
    RejectForm,
    VersionForm,
    filled_line_forms,
    percent_of,
    show_line_errors,
)
from .models import ApprovalPolicy, ApprovalStep, DocType, Inquiry, Quotation, SalesOrder
from .permissions import (
    can_approve,
    can_approve_for,
    can_create_docs,
    can_manage_doc,
    can_manage_policies,
    can_view_doc,
    can_view_sales,
)
from .services_policies import policy_save
from .workflows import INQUIRY_FLOW, ORDER_FLOW, ORDER_OPEN, QUOTATION_FLOW

LINES = "lines"  # the prefix of every line formset
LINE_PREFIX = re.compile(r"^lines-\d{1,3}$")
PDF_LANGUAGES = ("zh-hans", "en")


# --- helpers --------------------------------------------------------------------------------------


def _document_or_403(request, model, pk: int, predicate=can_view_doc):
    # owner's org unit and customer's region: what the scope predicates compare
    document = selectors_docs.document_loaded(model, pk)
    if document is None:
        raise Http404
    if not predicate(request.user, document):
        raise PermissionDenied
    return document


def _url_or_empty(name: str, pk: int) -> str:
    """A link to a page another part of the project provides; empty while it does not exist."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _posted(request):
    return request.POST if request.method == "POST" else None


def _with_added_line(request) -> Any:
    """The posted data with one more line (the "add line" button without JavaScript)."""
    data = request.POST.copy()
    key = f"{LINES}-TOTAL_FORMS"
    try:
        data[key] = str(int(data.get(key, "0")) + 1)
    except ValueError:
        data[key] = "1"
    return data


def _show_conflict(form, error: ConflictError) -> str:
    """A stale edit: the user's input stays; the page says what happened."""
    current = (error.fields.get("lock_version") or [""])[0]
    if str(current).isdigit():
        form.stale(int(current))
    return error.message


# --- the pipelines: inquiries, quotations, orders --------------------------------------------------


@dataclass(frozen=True)
class _Pipeline:
    """A pipeline list (inquiries, quotations or orders): what its page and its export share."""

    model: type
    flow: Any
    search: Callable[..., Any]  # the selector: (user, ordering=, **filters) -> queryset in scope
    sorts: dict
    default_sort: str
    versions: bool  # the "all versions" filter


INQUIRIES = _Pipeline(
    Inquiry, INQUIRY_FLOW, selectors_docs.inquiries_search, selectors_docs.INQUIRY_SORTS, "-received_on", False
)
QUOTATIONS = _Pipeline(
    Quotation, QUOTATION_FLOW, selectors_docs.quotations_search, selectors_docs.QUOTATION_SORTS, "-created_at", True
)
ORDERS = _Pipeline(
    SalesOrder, ORDER_FLOW, selectors_docs.orders_search, selectors_docs.ORDER_SORTS, "-ordered_on", True
)


def _pipeline_search(request, pipeline: _Pipeline):
    """The list's filters and sort, read the same way by the page and by its export: the
    documents in the user's scope, filtered and sorted."""
    owners = selectors_docs.owners_to_filter(request.user, pipeline.model)
    filters = DocFilterForm(request.GET, flow=pipeline.flow, owners=owners, with_versions=pipeline.versions)
    values = filters.values()
    if not pipeline.versions:
        values.pop("all_versions")
    sort, ordering = ordering_from(request, pipeline.sorts, pipeline.default_sort)
    return filters, values, sort, pipeline.search(request.user, ordering=ordering, **values)


def _pipeline(request, pipeline: _Pipeline, *, template: str):
    filters, values, sort, documents = _pipeline_search(request, pipeline)
    return render(
        request,
        template,
        {
            "page": paginate(request, documents),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "can_create": can_create_docs(request.user),
            "export_query": export_query(request),
        },
    )


def _pipeline_export(request, pipeline: _Pipeline, *, title, columns, filename: str, audit_action: str):
    _filters, values, sort, documents = _pipeline_search(request, pipeline)
    return capped_xlsx_response(
        request,
        title=title,
        columns=columns,
        rows=documents,
        filename=filename,
        audit_action=audit_action,
        filters={**{key: value for key, value in values.items() if value}, "sort": sort},
    )


# --- inquiries ------------------------------------------------------------------------------------


@require(can_view_sales)
def inquiry_list_view(request):
    return _pipeline(request, INQUIRIES, template="sales/docs/inquiry_list.html")


INQUIRY_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda inquiry: inquiry.number),
    (gettext_lazy("Customer code"), lambda inquiry: inquiry.customer.code),
    (gettext_lazy("Customer"), lambda inquiry: inquiry.customer.name),
    (gettext_lazy("Received by"), lambda inquiry: inquiry.get_channel_display()),
    (gettext_lazy("Received on"), lambda inquiry: inquiry.received_on),
    (gettext_lazy("Wanted delivery date"), lambda inquiry: inquiry.wanted_date),
    (gettext_lazy("Owner"), lambda inquiry: inquiry.owner.display_name),
    (gettext_lazy("State"), lambda inquiry: inquiry.get_state_display()),
)


@require(can_view_sales)
def inquiry_export_view(request):
    return _pipeline_export(
        request,
        INQUIRIES,
        title=_("Inquiries"),
        columns=INQUIRY_EXPORT_COLUMNS,
        filename="inquiries",
        audit_action="sales.inquiries_exported",
    )


@require(can_create_docs)
def inquiry_create_view(request):
    customers = selectors_docs.customers_for_documents(request.user)
    data = _posted(request)
    if data is not None and "add_line" in data:
        data = _with_added_line(request)
    form = InquiryForm(data, customers=customers, initial={"customer": request.GET.get("customer")})
    formset = InquiryLineFormSet(data, prefix=LINES)
    if data is not None and "add_line" not in data and form.is_valid() and formset.is_valid():
        line_forms = filled_line_forms(formset)
        values = dict(form.cleaned_data)
        try:
            inquiry = services.inquiry_create(
                by=request.user,
                customer=values.pop("customer"),
                lines=[line.line_input() for line in line_forms],
                **values,
            )
        except DomainError as error:
            show_line_errors(form, line_forms, error)
        else:
            messages.success(request, _("The inquiry %(number)s was recorded.") % {"number": inquiry.number})
            return redirect("sales:inquiry_detail", pk=inquiry.pk)
    return render(request, "sales/docs/inquiry_form.html", {"form": form, "formset": formset})


def _inquiry_actions(user, inquiry: Inquiry) -> list[Action]:
    if not can_manage_doc(user, inquiry):
        return []
    available = {step.action: step for step in INQUIRY_FLOW.available(inquiry.state)}
    actions = []
    if "quote" in available:
        actions.append(
            Action(
                "quote",
                available["quote"].label,
                "ti-file-dollar",
                "btn-primary",
                reverse("sales:inquiry_quote", args=[inquiry.pk]),
            )
        )
    if "lose" in available:
        actions.append(
            Action(
                "lose",
                available["lose"].label,
                "ti-x",
                "btn-outline-danger",
                reverse("sales:inquiry_lose", args=[inquiry.pk]),
                form=ReasonForm(auto_id="id_lose_%s"),
                explanation=gettext_lazy("A lost inquiry stays on record with its reason."),
                confirm_class="btn-danger",
            )
        )
    return actions


@require(can_view_sales)
def inquiry_detail_view(request, pk: int):
    inquiry = _document_or_403(request, Inquiry, pk)
    return render(
        request,
        "sales/docs/inquiry_detail.html",
        {
            "inquiry": inquiry,
            "lines": inquiry.lines.select_related("product"),
            "quotations": inquiry.quotations.select_related("owner").order_by("number", "version"),
            "actions": _inquiry_actions(request.user, inquiry),
        },
    )


@require_POST
@require(can_view_sales)
def inquiry_quote_view(request, pk: int):
    inquiry = _document_or_403(request, Inquiry, pk, can_manage_doc)
    quotation = perform(
        request,
        lambda: services.inquiry_to_quotation(by=request.user, inquiry=inquiry),
        lambda made: (
            _("The quotation %(number)s was made from the inquiry; check its prices.") % {"number": made.number}
        ),
    )
    if quotation is None:
        return redirect("sales:inquiry_detail", pk=inquiry.pk)
    return redirect("sales:quotation_edit", pk=quotation.pk)


@require_POST
@require(can_view_sales)
def inquiry_lose_view(request, pk: int):
    inquiry = _document_or_403(request, Inquiry, pk, can_manage_doc)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.inquiry_lose(by=request.user, inquiry=inquiry, reason=reason),
        _("The inquiry is marked lost."),
    )
    return redirect("sales:inquiry_detail", pk=inquiry.pk)


# --- quotations -----------------------------------------------------------------------------------


@require(can_view_sales)
def quotation_list_view(request):
    return _pipeline(request, QUOTATIONS, template="sales/docs/quotation_list.html")


def _created_on(document):
    return timezone.localdate(document.created_at)


QUOTATION_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda quotation: quotation.number),
    (gettext_lazy("Version"), lambda quotation: quotation.version),
    (gettext_lazy("Customer code"), lambda quotation: quotation.customer.code),
    (gettext_lazy("Customer"), lambda quotation: quotation.customer.name),
    (gettext_lazy("Owner"), lambda quotation: quotation.owner.display_name),
    (gettext_lazy("Created on"), _created_on),
    (gettext_lazy("Valid until"), lambda quotation: quotation.valid_until),
    (gettext_lazy("Total (tax incl.)"), lambda quotation: quotation.total),
    (gettext_lazy("Of which VAT"), lambda quotation: quotation.tax_total),
    (gettext_lazy("State"), lambda quotation: quotation.get_state_display()),
)


@require(can_view_sales)
def quotation_export_view(request):
    return _pipeline_export(
        request,
        QUOTATIONS,
        title=_("Quotations"),
        columns=QUOTATION_EXPORT_COLUMNS,
        filename="quotations",
        audit_action="sales.quotations_exported",
    )


def _document_form(request, *, kind: str, form_class, save, on_saved, document=None, lines=()):
    """The page that creates (``document`` None) or edits a quotation or an order (``kind``):
    header and line formset. ``save(form, lines)`` calls the one service and returns the
    saved document, ``on_saved(saved)`` answers then. A stale edit keeps the user's input."""
    data = _posted(request)
    adding = data is not None and "add_line" in data
    if adding:
        data = _with_added_line(request)
    if document is None:
        customers = selectors_docs.customers_for_documents(request.user)
        form = form_class(data, customers=customers, initial={"customer": request.GET.get("customer")})
    else:
        form = form_class(data, document=document)
    formset = CommercialLineFormSet(data, prefix=LINES, initial=[CommercialLineForm.initial_of(line) for line in lines])
    conflict = ""
    if data is not None and not adding and form.is_valid() and formset.is_valid():
        line_forms = filled_line_forms(formset)
        try:
            saved = save(form, [line.line_input() for line in line_forms])
        except DomainError as error:
            if isinstance(error, ConflictError) and error.code == "stale_version":
                conflict = _show_conflict(form, error)
            else:
                show_line_errors(form, line_forms, error)
        else:
            return on_saved(saved)
    detail_url = reverse(f"sales:{kind}_detail", args=[document.pk]) if document is not None else ""
    return render(
        request,
        f"sales/docs/{kind}_form.html",
        {
            "form": form,
            "formset": formset,
            "document": document,
            "conflict": conflict,
            "empty_line": formset.empty_form,
            "detail_url": detail_url,
            "back_url": detail_url or reverse("sales:quotations" if kind == "quotation" else "sales:orders"),
        },
    )


@require(can_create_docs)
def quotation_create_view(request):
    def save(form, lines):
        customer = form.cleaned_data["customer"]
        return services.quotation_create(by=request.user, customer=customer, lines=lines, **form.service_fields())

    def on_saved(quotation):
        messages.success(request, _("The quotation %(number)s was created.") % {"number": quotation.number})
        return redirect("sales:quotation_detail", pk=quotation.pk)

    return _document_form(request, kind="quotation", form_class=QuotationForm, save=save, on_saved=on_saved)


@dataclass(frozen=True)
class _Editing:
    """What differs between editing a quotation and an order; the page is the same."""

    model: type
    kind: str
    form_class: type
    editable: Callable[[Any], bool]
    not_editable: Any
    update: Callable[..., Any]  # the service
    lines: Callable[[Any], Any]
    approval_void: Any
    saved: Any


QUOTATION_EDITING = _Editing(
    model=Quotation,
    kind="quotation",
    form_class=QuotationForm,
    editable=lambda doc: doc.is_current and doc.state in services.EDITABLE_QUOTE_STATES,
    not_editable=gettext_lazy("A quotation that was sent is revised (a new version), not edited."),
    update=lambda *, doc, **kwargs: services.quotation_update(quotation=doc, **kwargs),
    lines=lambda doc: selectors_docs.quotation_lines(doc),
    approval_void=gettext_lazy("The quotation was saved; its approval is void: submit it again."),
    saved=gettext_lazy("The quotation %(number)s was saved."),
)
ORDER_EDITING = _Editing(
    model=SalesOrder,
    kind="order",
    form_class=OrderForm,
    editable=lambda doc: doc.state in services.EDITABLE_ORDER_STATES,
    not_editable=gettext_lazy("A confirmed order is amended (a new version) or cancelled, never edited."),
    update=lambda *, doc, **kwargs: services.order_update(order=doc, **kwargs),
    lines=lambda doc: selectors_docs.order_lines(doc),
    approval_void=gettext_lazy("The order was saved; its approval is void: submit it again."),
    saved=gettext_lazy("The order %(number)s was saved."),
)


def _edit_page(request, pk: int, editing: _Editing):
    document = _document_or_403(request, editing.model, pk, can_manage_doc)
    detail = f"sales:{editing.kind}_detail"
    if not editing.editable(document):
        messages.error(request, str(editing.not_editable))
        return redirect(detail, pk=document.pk)

    def save(form, lines):
        return editing.update(
            by=request.user,
            doc=document,
            expected_version=form.cleaned_data.get("lock_version"),
            lines=lines,
            **form.service_fields(),
        )

    def on_saved(saved):
        if saved.state == "draft" and document.state != "draft":
            messages.warning(request, str(editing.approval_void))
        else:
            messages.success(request, str(editing.saved) % {"number": str(saved)})
        return redirect(detail, pk=saved.pk)

    return _document_form(
        request,
        kind=editing.kind,
        form_class=editing.form_class,
        save=save,
        on_saved=on_saved,
        document=document,
        lines=editing.lines(document),
    )


@require(can_view_sales)
def quotation_edit_view(request, pk: int):
    return _edit_page(request, pk, QUOTATION_EDITING)


def _quotation_actions(user, quotation: Quotation) -> list[Action]:
    """The buttons the quotation's state (the workflow's table) and the user's rights allow."""
    actions: list[Action] = []
    if not can_manage_doc(user, quotation):
        if can_create_docs(user):
            actions.append(_copy_action(user, quotation))
        return actions
    available = {step.action: step for step in QUOTATION_FLOW.available(quotation.state)}

    def url(name: str) -> str:
        return reverse(f"sales:quotation_{name}", args=[quotation.pk])

    if quotation.is_current and quotation.state in services.EDITABLE_QUOTE_STATES:
        actions.append(Action("edit", _("Edit"), "ti-pencil", "btn-outline-primary", url("edit"), link=True))
    if "submit" in available:
        actions.append(Action("submit", available["submit"].label, "ti-send", "btn-primary", url("submit")))
    if "send" in available:
        actions.append(Action("send", available["send"].label, "ti-mail-forward", "btn-primary", url("send")))
    if "accept" in available:
        actions.append(Action("accept", available["accept"].label, "ti-circle-check", "btn-success", url("accept")))
    if "decline" in available:
        actions.append(
            Action(
                "decline",
                available["decline"].label,
                "ti-circle-x",
                "btn-outline-danger",
                url("decline"),
                form=DeclineForm(auto_id="id_decline_%s"),
                confirm_class="btn-danger",
            )
        )
    if quotation.state == "accepted" and not any(order.state != "cancelled" for order in quotation.orders.all()):
        actions.append(
            Action(
                "order",
                _("Create the order"),
                "ti-shopping-cart-plus",
                "btn-success",
                url("order"),
                form=OrderFromQuotationForm(auto_id="id_order_%s"),
                explanation=gettext_lazy("The order repeats the quotation: same lines, prices and terms."),
                confirm_class="btn-success",
            )
        )
    if "supersede" in available and quotation.is_current:
        actions.append(
            Action(
                "revise",
                _("Revise (new version)"),
                "ti-versions",
                "btn-outline-primary",
                url("revise"),
                confirm=True,
                explanation=gettext_lazy(
                    "A new draft version with the same number is made; this version stays readable, superseded."
                ),
            )
        )
    if can_create_docs(user):
        actions.append(_copy_action(user, quotation))
    if "cancel" in available:
        actions.append(
            Action(
                "cancel",
                _("Cancel the quotation"),  # not "Cancel": the modal's dismiss button says that
                "ti-ban",
                "btn-outline-danger",
                url("cancel"),
                form=ReasonForm(auto_id="id_cancel_%s"),
                explanation=gettext_lazy("A cancelled quotation cannot be sent or accepted any more."),
                confirm_class="btn-danger",
            )
        )
    return actions


def _copy_action(user, quotation: Quotation) -> Action:
    return Action(
        "copy",
        _("Copy"),
        "ti-copy",
        "btn-outline-secondary",
        reverse("sales:quotation_copy", args=[quotation.pk]),
        form=CopyForm(customers=selectors_docs.customers_for_documents(user), auto_id="id_copy_%s"),
        explanation=gettext_lazy("A new quotation (new number, draft) with the same lines; it needs its own approval."),
    )


def _line_rows(lines) -> list[dict]:
    """Lines as a page shows them: discount and VAT rate in percent."""
    return [{"line": line, "discount": percent_of(line.discount), "vat": percent_of(line.vat_rate)} for line in lines]


def _history(doc_type: str, document) -> list:
    return list(approval_history(doc_type=doc_type, obj=document))


@require(can_view_sales)
def quotation_detail_view(request, pk: int):
    quotation = _document_or_403(request, Quotation, pk)
    return render(
        request,
        "sales/docs/quotation_detail.html",
        {
            "quotation": quotation,
            "lines": _line_rows(selectors_docs.quotation_lines(quotation)),
            "net_total": quotation.total - quotation.tax_total,
            "versions": selectors_docs.document_versions(quotation),
            "history": _history(DocType.QUOTATION, quotation),
            "orders": selectors_docs.quotation_orders(quotation),
            "actions": _quotation_actions(request.user, quotation),
            "pdf_languages": PDF_LANGUAGES,
        },
    )


def _quotation_step(request, pk: int, call, success):
    quotation = _document_or_403(request, Quotation, pk, can_manage_doc)
    perform(request, lambda: call(quotation), success)
    return redirect("sales:quotation_detail", pk=quotation.pk)


def _submitted(document) -> str:
    if document.state == "pending_approval":
        return _("%(document)s was submitted and waits for approval.") % {"document": str(document)}
    return _("%(document)s needs no approval.") % {"document": str(document)}


@require_POST
@require(can_view_sales)
def quotation_submit_view(request, pk: int):
    return _quotation_step(
        request, pk, lambda quotation: services.quotation_submit(by=request.user, quotation=quotation), _submitted
    )


@require_POST
@require(can_view_sales)
def quotation_send_view(request, pk: int):
    return _quotation_step(
        request,
        pk,
        lambda quotation: services.quotation_send(by=request.user, quotation=quotation),
        _("The quotation is marked sent."),
    )


@require_POST
@require(can_view_sales)
def quotation_accept_view(request, pk: int):
    return _quotation_step(
        request,
        pk,
        lambda quotation: services.quotation_accept(by=request.user, quotation=quotation),
        _("The customer accepted the quotation: create the order from it."),
    )


@require_POST
@require(can_view_sales)
def quotation_decline_view(request, pk: int):
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _quotation_step(
        request,
        pk,
        lambda quotation: services.quotation_decline(by=request.user, quotation=quotation, reason=reason),
        _("The quotation is marked rejected by the customer."),
    )


@require_POST
@require(can_view_sales)
def quotation_cancel_view(request, pk: int):
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _quotation_step(
        request,
        pk,
        lambda quotation: services.quotation_cancel(by=request.user, quotation=quotation, reason=reason),
        _("The quotation was cancelled."),
    )


@require_POST
@require(can_view_sales)
def quotation_revise_view(request, pk: int):
    quotation = _document_or_403(request, Quotation, pk, can_manage_doc)
    revision = perform(
        request,
        lambda: services.quotation_revise(by=request.user, quotation=quotation),
        lambda made: (
            _("Version %(version)s of %(number)s was made.") % {"version": made.version, "number": made.number}
        ),
    )
    if revision is None:
        return redirect("sales:quotation_detail", pk=quotation.pk)
    return redirect("sales:quotation_edit", pk=revision.pk)


@require_POST
@require(can_create_docs)
def quotation_copy_view(request, pk: int):
    quotation = _document_or_403(request, Quotation, pk)
    form = CopyForm(request.POST, customers=selectors_docs.customers_for_documents(request.user))
    if not form.is_valid():
        messages.error(request, _("Choose a customer from the list."))
        return redirect("sales:quotation_detail", pk=quotation.pk)
    copy = perform(
        request,
        lambda: services.quotation_copy(by=request.user, quotation=quotation, customer=form.cleaned_data["customer"]),
        lambda made: _("The copy %(number)s was made.") % {"number": made.number},
    )
    return redirect("sales:quotation_detail", pk=(copy or quotation).pk)


@require_POST
@require(can_view_sales)
def quotation_order_view(request, pk: int):
    quotation = _document_or_403(request, Quotation, pk, can_manage_doc)
    form = OrderFromQuotationForm(request.POST)
    reference = form.cleaned_data["customer_reference"] if form.is_valid() else ""
    order = perform(
        request,
        lambda: services.order_from_quotation(by=request.user, quotation=quotation, customer_reference=reference),
        lambda made: _("The order %(number)s was created: submit it to confirm it.") % {"number": made.number},
    )
    if order is None:
        return redirect("sales:quotation_detail", pk=quotation.pk)
    return redirect("sales:order_detail", pk=order.pk)


@require_GET
@require(can_view_sales)
def quotation_pdf_view(request, pk: int):
    quotation = _document_or_403(request, Quotation, pk)
    language = request.GET.get("lang")
    if language not in PDF_LANGUAGES:
        language = quotation.language if quotation.language in PDF_LANGUAGES else PDF_LANGUAGES[0]
    content = pdf.quotation_pdf(quotation, language=language)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{quotation.number}-v{quotation.version}-{language}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@require(can_view_sales)
def line_price_view(request):
    """htmx: the price a line would get (list price and its rule, net price, amount), so the
    rep sees it before saving. The same price service the quotation uses decides it."""
    prefix = request.GET.get("prefix", "")
    if not LINE_PREFIX.match(prefix):
        return HttpResponse(status=400)
    customer = Customer.objects.select_related("owner", "region").filter(pk=_int(request.GET.get("customer"))).first()
    context: dict[str, Any] = {"ready": False}
    line = CommercialLineForm(request.GET, prefix=prefix)
    if customer is not None and can_view_customer(request.user, customer) and line.is_valid():
        data = line.line_input()
        try:
            resolution = price_resolve(
                product=data.product,
                quantity=data.quantity,
                on=timezone.localdate(),
                channel=customer.channel,
                tier=customer.tier,
                customer_id=customer.pk,
            )
            unit_price = resolution.unit_price if data.unit_price is None else data.unit_price
            amount = line_amount(unit_price=unit_price, quantity=data.quantity, discount=data.discount)
        except DomainError as error:
            context["error"] = error.message
        else:
            floor = data.product.floor_price
            net_unit = line_amount(unit_price=unit_price, quantity=1, discount=data.discount)
            context.update(
                ready=True,
                resolution=resolution,
                net_unit=net_unit,
                amount=amount,
                tax=tax_included(amount=amount, rate=data.product.vat_rate) if amount else ZERO,
                below_floor=floor is not None and net_unit < floor,
            )
    return render(request, "sales/docs/_line_price.html", context)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- orders ---------------------------------------------------------------------------------------


@require(can_view_sales)
def order_list_view(request):
    return _pipeline(request, ORDERS, template="sales/docs/order_list.html")


ORDER_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda order: order.number),
    (gettext_lazy("Version"), lambda order: order.version),
    (gettext_lazy("Customer code"), lambda order: order.customer.code),
    (gettext_lazy("Customer"), lambda order: order.customer.name),
    (gettext_lazy("Customer's PO number"), lambda order: order.customer_reference),
    (gettext_lazy("Number in the previous system"), lambda order: order.source_number),
    (gettext_lazy("Owner"), lambda order: order.owner.display_name),
    (gettext_lazy("Order date"), lambda order: order.ordered_on),
    (gettext_lazy("Wanted delivery date"), lambda order: order.wanted_date),
    (gettext_lazy("Promised delivery date"), lambda order: order.promised_date),
    (gettext_lazy("Total (tax incl.)"), lambda order: order.total),
    (gettext_lazy("Of which VAT"), lambda order: order.tax_total),
    (gettext_lazy("State"), lambda order: order.get_state_display()),
)


@require(can_view_sales)
def order_export_view(request):
    return _pipeline_export(
        request,
        ORDERS,
        title=_("Sales orders"),
        columns=ORDER_EXPORT_COLUMNS,
        filename="orders",
        audit_action="sales.orders_exported",
    )


@require(can_create_docs)
def order_create_view(request):
    def save(form, lines):
        customer = form.cleaned_data["customer"]
        return services.order_create(by=request.user, customer=customer, lines=lines, **form.service_fields())

    def on_saved(order):
        messages.success(request, _("The order %(number)s was created.") % {"number": order.number})
        return redirect("sales:order_detail", pk=order.pk)

    return _document_form(request, kind="order", form_class=OrderForm, save=save, on_saved=on_saved)


@require(can_view_sales)
def order_edit_view(request, pk: int):
    return _edit_page(request, pk, ORDER_EDITING)


def _order_actions(user, order: SalesOrder, versions: list) -> list[Action]:
    if not can_manage_doc(user, order):
        return []
    available = {step.action: step for step in ORDER_FLOW.available(order.state)}
    actions: list[Action] = []

    def url(name: str) -> str:
        return reverse(f"sales:order_{name}", args=[order.pk])

    if order.state in services.EDITABLE_ORDER_STATES:
        actions.append(Action("edit", _("Edit"), "ti-pencil", "btn-outline-primary", url("edit"), link=True))
    if order.state == "draft":
        actions.append(Action("submit", _("Submit"), "ti-send", "btn-primary", url("submit")))
    amending = any(version.previous_id == order.pk for version in versions)
    if order.state in ORDER_OPEN and order.is_current and not amending:
        actions.append(
            Action(
                "amend",
                _("Amend (new version)"),
                "ti-versions",
                "btn-outline-primary",
                url("amend"),
                form=VersionForm(initial={"lock_version": order.lock_version}, auto_id="id_amend_%s"),
                explanation=gettext_lazy(
                    "A new draft version is made for your changes; this version stays binding until the new one is"
                    " confirmed."
                ),
            )
        )
    if "cancel" in available:
        actions.append(
            Action(
                "cancel",
                _("Cancel the order"),
                "ti-ban",
                "btn-outline-danger",
                url("cancel"),
                form=ReasonForm(auto_id="id_cancel_%s"),
                explanation=gettext_lazy("Reserved stock goes back and planned production is cancelled."),
                confirm_class="btn-danger",
            )
        )
    return actions


@require(can_view_sales)
def order_detail_view(request, pk: int):
    order = _document_or_403(request, SalesOrder, pk)
    versions = list(selectors_docs.document_versions(order))
    deliveries = [
        {"delivery": delivery, "url": _url_or_empty("sales:delivery_detail", delivery.pk)}
        for delivery in selectors_docs.order_deliveries(order)
    ]
    invoices = [
        {"invoice": invoice, "url": _url_or_empty("sales:invoice_detail", invoice.pk)}
        for invoice in selectors_docs.order_invoices(order)
    ]
    return render(
        request,
        "sales/docs/order_detail.html",
        {
            "order": order,
            # a draft amendment: the version it amends is still the binding one
            "amends": order.previous
            if order.previous_id and not order.is_current and order.state in services.EDITABLE_ORDER_STATES
            else None,
            "lines": _line_rows(selectors_docs.order_lines(order)),
            "net_total": order.total - order.tax_total,
            "versions": versions,
            "history": _history(DocType.ORDER, order),
            "credit_history": _history(DocType.CREDIT_RELEASE, order),
            "reviews": order.reviews.select_related("by"),
            "deliveries": deliveries,
            "invoices": invoices,
            "actions": _order_actions(request.user, order, versions),
        },
    )


@require_POST
@require(can_view_sales)
def order_submit_view(request, pk: int):
    order = _document_or_403(request, SalesOrder, pk, can_manage_doc)

    def success(submitted):
        if submitted.state == "pending_approval":
            return _submitted(submitted)
        return _("The order %(document)s is confirmed and goes to order review.") % {"document": str(submitted)}

    perform(request, lambda: services.order_submit(by=request.user, order=order), success)
    return redirect("sales:order_detail", pk=order.pk)


@require_POST
@require(can_view_sales)
def order_amend_view(request, pk: int):
    order = _document_or_403(request, SalesOrder, pk, can_manage_doc)
    form = VersionForm(request.POST)
    expected = form.cleaned_data.get("lock_version") if form.is_valid() else None
    amendment = perform(
        request,
        lambda: services.order_amend(by=request.user, order=order, expected_version=expected),
        lambda made: (
            _("Version %(version)s of %(number)s is a draft: make your changes and submit it.")
            % {"version": made.version, "number": made.number}
        ),
    )
    if amendment is None:
        return redirect("sales:order_detail", pk=order.pk)
    return redirect("sales:order_edit", pk=amendment.pk)


@require_POST
@require(can_view_sales)
def order_cancel_view(request, pk: int):
    order = _document_or_403(request, SalesOrder, pk, can_manage_doc)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.order_cancel(by=request.user, order=order, reason=reason),
        _("The order was cancelled."),
    )
    return redirect("sales:order_detail", pk=order.pk)


# --- approvals ------------------------------------------------------------------------------------


def _queue_item(row, *, with_forms: bool) -> dict:
    item = {"row": row, "url": _url_or_empty(row.url_name, row.link_pk) if row.link_pk is not None else ""}
    if with_forms:
        item["approve_form"] = ApproveForm(auto_id=f"id_approve_{row.step.pk}_%s")
        item["reject_form"] = RejectForm(auto_id=f"id_reject_{row.step.pk}_%s")
        item["approve_modal"] = f"modal-approve-{row.step.pk}"
        item["reject_modal"] = f"modal-reject-{row.step.pk}"
    return item


@require(can_approve)
def approval_queue_view(request):
    return render(
        request,
        "sales/docs/approval_queue.html",
        {
            "items": [_queue_item(row, with_forms=True) for row in selectors_docs.approval_queue_rows(request.user)],
            "decided": [
                _queue_item(row, with_forms=False) for row in selectors_docs.approvals_decided_by(request.user)
            ],
        },
    )


def _decide(request, pk: int, *, approve: bool):
    step = get_object_or_404(ApprovalStep.objects.select_related("request__owner__org_unit", "request__unit"), pk=pk)
    if not can_approve_for(request.user, owner=step.request.owner, unit=step.request.unit):
        raise PermissionDenied
    form = (ApproveForm if approve else RejectForm)(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    label = step.request.document_label

    def success(approval_request):
        if not approve:
            return _("%(document)s was rejected and goes back to its owner.") % {"document": label}
        if approval_request.state == "approved":
            return _("%(document)s is approved.") % {"document": label}
        return _("Your step of %(document)s is approved; the next level decides now.") % {"document": label}

    perform(
        request,
        lambda: approval_decide(step=step, by=request.user, approve=approve, comment=comment),
        success,
    )
    return redirect("sales:approvals")


@require_POST
@require(can_approve)
def approval_approve_view(request, pk: int):
    return _decide(request, pk, approve=True)


@require_POST
@require(can_approve)
def approval_reject_view(request, pk: int):
    return _decide(request, pk, approve=False)


# --- approval policies ----------------------------------------------------------------------------


@require(can_manage_policies)
def policy_list_view(request):
    return render(request, "sales/docs/policy_list.html", {"policies": selectors_docs.policies_list()})


@require(can_manage_policies)
def policy_edit_view(request, pk: int | None = None):
    policy = get_object_or_404(ApprovalPolicy.objects.select_related("approver_role"), pk=pk) if pk else None
    form = PolicyForm(_posted(request), policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            saved = policy_save(by=request.user, policy=policy, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The approval policy %(name)s was saved.") % {"name": saved.name})
            return redirect("sales:policies")
    return render(request, "sales/docs/policy_form.html", {"form": form, "policy": policy})


@require_POST
@require(can_manage_policies)
def policy_deactivate_view(request, pk: int):
    policy = get_object_or_404(ApprovalPolicy, pk=pk)
    perform(
        request,
        lambda: policy_save(by=request.user, policy=policy, is_active=False),
        lambda saved: _("The approval policy %(name)s no longer applies to new submissions.") % {"name": saved.name},
    )
    return redirect("sales:policies")
