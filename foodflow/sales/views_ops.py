"""Pages of the reviewer, the planner and finance in order to cash: the review queue and the
one-screen order review, the delivery board and delivery notes, returns, receivables with AR
aging, payments with their allocation, and the reconciliation report; each list with its Excel
export, filtered by the same function as its page.

Views parse input and call one service of ``review``, ``fulfilment`` or ``receivables``; every
rule (what may be reserved, shipped, allocated, written off) lives there. A refused action
shows the service's message; a refused form comes back with its input and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from foodflow.core.api import row_id
from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, require, safe_next
from foodflow.crm.models import Customer

from . import pdf, selectors_ops
from .approvals import approval_history
from .forms_ops import (
    AllocateForm,
    CreditReleaseForm,
    DeliveryBoardFilterForm,
    DeliveryCreateForm,
    DeliveryReceiveForm,
    OptionalReasonForm,
    PaymentFilterForm,
    PaymentForm,
    ReasonForm,
    ReceivableFilterForm,
    ReconciliationFilterForm,
    ReturnForm,
    ReviewDecisionForm,
    ReviewQueueFilterForm,
    VatInvoiceForm,
    WriteOffForm,
)
from .fulfilment import delivery_cancel, delivery_create, delivery_receive, delivery_ship, order_close_short
from .models import CreditNote, CustomerReturn, Delivery, DocType, Invoice, OrderReview, Payment, SalesOrder, WriteOff
from .permissions import (
    can_manage_deliveries,
    can_manage_receivables,
    can_manage_returns,
    can_open_review,
    can_reconcile,
    can_review_orders,
    can_view_doc,
    can_view_payment,
    can_view_receivable,
    can_view_receivables,
    can_view_sales,
)
from .receivables import (
    invoice_issue,
    payment_allocate,
    payment_allocate_auto,
    payment_record,
    return_create,
    writeoff_request,
)
from .review import credit_release_request, order_reserve_rest, order_review_check, order_review_decide
from .selectors import AGING_BUCKETS, allocations_of, ar_aging

Decision = OrderReview.Decision
DELIVERABLE_STATES = ("reserved", "partially_delivered")
REVIEWABLE_STATES = ("confirmed", "production")
# a payment and its allocations are saved all or nothing: said so when the service refuses
NOTHING_SAVED = gettext_lazy("Nothing was saved: correct the amounts and send the form again.")
DELIVERY_SORTS = {
    "promised_date": ("promised_date", "wanted_date", "pk"),
    "customer": ("customer__name", "pk"),
    "total": ("total", "pk"),
}


# --- helpers -----------------------------------------------------------------------------------


def _filters_used(values: dict, sort: str) -> dict:
    """A list's filters as its export's audit entry records them (an object by its key, a date
    as ISO text)."""
    used = {
        key: str(getattr(value, "pk", value)) if not isinstance(value, bool) else value
        for key, value in values.items()
        if value not in (None, "", False)
    }
    return {**used, "sort": sort} if sort else used


def _show_error(form, error: DomainError, rename=None) -> None:
    """A service's refusal in a form. Field keys of the service (``quantities.12``) are renamed
    to the form's fields (``qty_12``); the service's message stays on top when the field
    messages alone would not say what went wrong."""
    if rename is not None:
        error.fields = {rename(key): value for key, value in error.fields.items()}
    form_show_error(form, error)
    field_messages = {str(message) for messages_ in error.fields.values() for message in messages_}
    if error.fields and error.message not in field_messages:
        form.add_error(None, error.message)


def _rename_indexed(prefix: str, target: str):
    """``quantities.12`` → ``qty_12`` (and any other key unchanged)."""

    def rename(key: str) -> str:
        return f"{target}{key.split('.', 1)[1]}" if key.startswith(f"{prefix}.") else key

    return rename


def _form_page(
    request, *, title, subject, form, action_url, back_url, button, testid, button_class="btn-primary", explanation=""
):
    """A form sent from a modal and refused: the same form again with its errors and the
    input kept, on a page of its own (a modal cannot be reopened without script)."""
    return render(
        request,
        "sales/ops/form_page.html",
        {
            "title": title,
            "subject": subject,
            "form": form,
            "action_url": action_url,
            "back_url": back_url,
            "button": button,
            "button_class": button_class,
            "testid": testid,
            "explanation": explanation,
        },
    )


def _order_or_403(request, pk: int) -> SalesOrder:
    # The owner's org unit and the customer's region are what the scope predicates compare.
    order = get_object_or_404(SalesOrder.objects.select_related("customer__region", "owner__org_unit"), pk=pk)
    if not can_view_doc(request.user, order):
        raise PermissionDenied
    return order


def _may_view_delivery(user, delivery: Delivery) -> bool:
    return can_manage_deliveries(user) or can_view_doc(user, delivery.order)


def _delivery_or_403(request, pk: int) -> Delivery:
    delivery = get_object_or_404(
        Delivery.objects.select_related("order__customer__region", "order__owner__org_unit", "customer"), pk=pk
    )
    if not _may_view_delivery(request.user, delivery):
        raise PermissionDenied
    return delivery


def _invoice_or_403(request, pk: int) -> Invoice:
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer__region", "owner__org_unit", "order", "delivery"), pk=pk
    )
    if not can_view_receivable(request.user, invoice):
        raise PermissionDenied
    return invoice


def _payment_or_403(request, pk: int) -> Payment:
    payment = get_object_or_404(Payment.objects.select_related("customer__region", "customer__owner__org_unit"), pk=pk)
    if not can_view_payment(request.user, payment):
        raise PermissionDenied
    return payment


def _may_see_deliveries(user) -> bool:
    return can_manage_deliveries(user) or can_view_sales(user)


# --- order review ------------------------------------------------------------------------------


def _review_search(request):
    """The queue's filters and sort, read the same way by the page and by its export: the
    orders waiting for review in the user's scope."""
    filters = ReviewQueueFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, selectors_ops.REVIEW_SORTS, "wanted_date")
    orders = selectors_ops.review_queue(request.user, q=values["q"], state=values["state"], ordering=ordering)
    return filters, values, sort, orders


@require(can_open_review)
def review_queue_view(request):
    filters, values, sort, orders = _review_search(request)
    return render(
        request,
        "sales/ops/review_queue.html",
        {
            "page": paginate(request, orders),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "export_query": export_query(request),
        },
    )


REVIEW_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda order: order.number),
    (gettext_lazy("Version"), lambda order: order.version),
    (gettext_lazy("Customer code"), lambda order: order.customer.code),
    (gettext_lazy("Customer"), lambda order: order.customer.name),
    (gettext_lazy("Customer's PO number"), lambda order: order.customer_reference),
    (gettext_lazy("Wanted delivery date"), lambda order: order.wanted_date),
    (gettext_lazy("Order date"), lambda order: order.ordered_on),
    (gettext_lazy("Amount (tax incl.)"), lambda order: order.total),
    (gettext_lazy("State"), lambda order: order.get_state_display()),
    (gettext_lazy("Owner"), lambda order: order.owner.display_name),
)


@require(can_open_review)
def review_queue_export_view(request):
    _filters, values, sort, orders = _review_search(request)
    return capped_xlsx_response(
        request,
        title=_("Order review"),
        columns=REVIEW_EXPORT_COLUMNS,
        rows=orders,
        filename="order-review",
        audit_action="sales.review_queue_exported",
        filters=_filters_used(values, sort),
    )


def _suggested_decision(findings) -> str:
    if not findings.credit_ok:
        return Decision.CREDIT_HOLD
    if findings.stock_ok:
        return Decision.RESERVE
    if any(line.capacity_error for line in findings.short_lines):
        return Decision.PARTIAL
    return Decision.PRODUCTION


def _review_page(request, order: SalesOrder, *, decide_form=None, release_form=None):
    user = request.user
    findings = order_review_check(order=order)
    warehouses = selectors_ops.warehouse_names(lot["warehouse_id"] for line in findings.lines for lot in line.lots)
    lines = [
        {
            "finding": line,
            "lots": [
                {
                    "lot": lot["lot"],
                    "expiry_date": date.fromisoformat(lot["expiry_date"]),
                    "warehouse": warehouses.get(lot["warehouse_id"], ""),
                    "quantity": Decimal(lot["quantity"]),
                }
                for lot in line.lots
            ],
        }
        for line in findings.lines
    ]
    may_review = can_review_orders(user)
    if decide_form is None and may_review and order.state in REVIEWABLE_STATES:
        decide_form = ReviewDecisionForm(
            initial={"decision": _suggested_decision(findings), "promised_date": findings.promised_date},
            auto_id="id_decide_%s",
        )
    if release_form is None and order.state == "credit_hold" and can_manage_receivables(user):
        release_form = CreditReleaseForm(auto_id="id_release_%s")
    customer = order.customer
    return render(
        request,
        "sales/ops/order_review.html",
        {
            "order": order,
            "findings": findings,
            "lines": lines,
            "own_rule": bool(customer.min_shelf_life_days or customer.min_shelf_life_percent),
            "credit_room": findings.credit_limit - findings.exposure,
            "decide_form": decide_form,
            "release_form": release_form,
            "can_reserve_rest": may_review
            and order.state in DELIVERABLE_STATES
            and any(line.available > 0 for line in findings.lines),
            "reviews": order.reviews.select_related("by")[:10],
            "credit_requests": approval_history(doc_type=DocType.CREDIT_RELEASE, obj=order)[:5],
        },
    )


REVIEW_DONE = {
    Decision.RESERVE: gettext_lazy("The stock is reserved; the order is ready to deliver."),
    Decision.PRODUCTION: gettext_lazy("Production is requested and the customer is told the promised date."),
    Decision.PARTIAL: gettext_lazy("What is in stock is reserved; the rest follows on the promised date."),
    Decision.RETURN: gettext_lazy("The order went back to sales."),
    Decision.CREDIT_HOLD: gettext_lazy("The order is blocked for credit; finance can ask for the block to be lifted."),
}


@require(can_open_review)
def order_review_view(request, pk: int):
    order = _order_or_403(request, pk)
    decide_form = None
    if request.method == "POST":
        if not can_review_orders(request.user):
            raise PermissionDenied
        decide_form = ReviewDecisionForm(request.POST, auto_id="id_decide_%s")
        if decide_form.is_valid():
            data = decide_form.cleaned_data
            try:
                order_review_decide(
                    by=request.user,
                    order=order,
                    decision=data["decision"],
                    note=data["note"],
                    promised_date=data["promised_date"],
                )
            except DomainError as error:
                _show_error(decide_form, error)
            else:
                messages.success(request, str(REVIEW_DONE[data["decision"]]))
                return redirect("sales:order_review", pk=order.pk)
    return _review_page(request, order, decide_form=decide_form)


@require_POST
@require(can_manage_receivables)
def credit_release_view(request, pk: int):
    order = _order_or_403(request, pk)
    form = CreditReleaseForm(request.POST, auto_id="id_release_%s")
    if form.is_valid():
        try:
            approval_request = credit_release_request(by=request.user, order=order, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _show_error(form, error)
        else:
            if approval_request is None:
                messages.success(request, _("The credit block is lifted; the order waits for review again."))
            else:
                messages.success(request, _("The request to lift the credit block was sent for approval."))
            return redirect("sales:order_review", pk=order.pk)
    return _review_page(request, order, release_form=form)


@require_POST
@require(can_review_orders)
def order_reserve_rest_view(request, pk: int):
    order = _order_or_403(request, pk)
    try:
        order_reserve_rest(by=request.user, order=order)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("What came into stock is reserved for the rest of the order."))
    return redirect("sales:order_review", pk=order.pk)


# --- deliveries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Board:
    """The delivery page's filters read once: the orders ready to deliver (searched, sorted, in
    the user's scope) and the week of delivery notes, for the page and for its two exports."""

    filters: DeliveryBoardFilterForm
    values: dict
    sort: str
    ready: QuerySet[SalesOrder]
    start: date
    end: date
    week: QuerySet[Delivery]


def _board(request) -> _Board:
    filters = DeliveryBoardFilterForm(request.GET)
    values = filters.values()
    week_of = values["week"] or timezone.localdate()
    start = week_of - timedelta(days=week_of.weekday())
    end = start + timedelta(days=6)
    sort, ordering = ordering_from(request, DELIVERY_SORTS, "promised_date")
    return _Board(
        filters=filters,
        values=values,
        sort=sort,
        ready=selectors_ops.orders_ready(request.user, q=values["q"]).order_by(*ordering),
        start=start,
        end=end,
        week=selectors_ops.deliveries_week(start=start, end=end, state=values["state"]),
    )


@require(can_manage_deliveries)
def deliveries_view(request):
    board = _board(request)
    today, start = timezone.localdate(), board.start
    deliveries = list(board.week)
    days = [
        {"day": day, "deliveries": [d for d in deliveries if d.planned_date == day], "today": day == today}
        for day in (start + timedelta(days=offset) for offset in range(7))
    ]
    page = paginate(request, board.ready)
    rows = [
        {
            "order": order,
            "short_form": ReasonForm(auto_id=f"id_short_{order.pk}_%s")
            if order.state == "partially_delivered"
            else None,
            "modal_id": f"modal-short-{order.pk}",
        }
        for order in page
    ]
    return render(
        request,
        "sales/ops/deliveries.html",
        {
            "filters": board.filters,
            "page": page,
            "rows": rows,
            "sort": board.sort,
            "days": days,
            "start": start,
            "end": board.end,
            "previous_week": (start - timedelta(days=7)).isoformat(),
            "next_week": (start + timedelta(days=7)).isoformat(),
            "this_week": today.isoformat(),
            "week_count": len(deliveries),
            "searched": bool(board.values["q"]),
            "export_query": export_query(request),
        },
    )


READY_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda order: order.number),
    (gettext_lazy("Version"), lambda order: order.version),
    (gettext_lazy("Customer code"), lambda order: order.customer.code),
    (gettext_lazy("Customer"), lambda order: order.customer.name),
    (gettext_lazy("Promised date"), lambda order: order.promised_date),
    (gettext_lazy("Wanted delivery date"), lambda order: order.wanted_date),
    (gettext_lazy("Amount (tax incl.)"), lambda order: order.total),
    (gettext_lazy("State"), lambda order: order.get_state_display()),
    (gettext_lazy("Planned notes"), lambda order: order.planned_notes),
)


@require(can_manage_deliveries)
def deliveries_ready_export_view(request):
    """The orders ready to deliver, as the page searched and sorted them (every page)."""
    board = _board(request)
    return capped_xlsx_response(
        request,
        title=_("Ready to deliver"),
        columns=READY_EXPORT_COLUMNS,
        rows=board.ready,
        filename="ready-to-deliver",
        audit_action="sales.deliveries_ready_exported",
        filters={**({"q": board.values["q"]} if board.values["q"] else {}), "sort": board.sort},
    )


def _local(moment):
    """A moment as the wall-clock time of the business (a spreadsheet cell has no time zone)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


DELIVERY_NOTE_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda delivery: delivery.number),
    (gettext_lazy("Delivery date"), lambda delivery: delivery.planned_date),
    (gettext_lazy("Customer code"), lambda delivery: delivery.customer.code),
    (gettext_lazy("Customer"), lambda delivery: delivery.customer.name),
    (gettext_lazy("Sales order"), lambda delivery: str(delivery.order)),
    (gettext_lazy("Carrier"), lambda delivery: delivery.carrier),
    (gettext_lazy("Delivery address"), lambda delivery: delivery.address),
    (gettext_lazy("Amount (tax incl.)"), lambda delivery: delivery.total),
    (gettext_lazy("State"), lambda delivery: delivery.get_state_display()),
    (gettext_lazy("Shipped at"), lambda delivery: _local(delivery.shipped_at)),
    (gettext_lazy("Received on"), lambda delivery: delivery.received_on),
    (gettext_lazy("Signed by"), lambda delivery: delivery.signed_by),
)


@require(can_manage_deliveries)
def deliveries_week_export_view(request):
    """The delivery notes of the week the page shows, with its state filter."""
    board = _board(request)
    used = {"start": board.start.isoformat(), "end": board.end.isoformat()}
    return capped_xlsx_response(
        request,
        title=_("Deliveries"),
        columns=DELIVERY_NOTE_EXPORT_COLUMNS,
        rows=board.week,
        filename=f"delivery-notes-{board.start:%Y%m%d}",
        audit_action="sales.deliveries_week_exported",
        filters={**used, "state": board.values["state"]} if board.values["state"] else used,
    )


@require(can_manage_deliveries)
def delivery_create_view(request, order_pk: int):
    order = _order_or_403(request, order_pk)
    lines = [line for line in order.lines.select_related("product") if line.open_quantity > 0]
    deliverable = selectors_ops.deliverable_by_line(order)
    form = DeliveryCreateForm(
        request.POST or None,
        lines=lines,
        deliverable=deliverable,
        initial={"planned_date": timezone.localdate(), "address": order.delivery_address},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            delivery = delivery_create(
                by=request.user,
                order=order,
                planned_date=data["planned_date"],
                quantities=form.quantities(),
                carrier=data["carrier"],
                address=data["address"],
            )
        except DomainError as error:
            _show_error(form, error, _rename_indexed("quantities", "qty_"))
        else:
            messages.success(request, _("The delivery note %(number)s is planned.") % {"number": delivery.number})
            return redirect("sales:delivery_detail", pk=delivery.pk)
    return render(
        request,
        "sales/ops/delivery_form.html",
        {
            "order": order,
            "form": form,
            "rows": [
                {"line": line, "field": field, "deliverable": deliverable.get(line.pk, Decimal("0"))}
                for line, field in form.rows()
            ],
            "deliverable_state": order.state in DELIVERABLE_STATES,
        },
    )


@require(_may_see_deliveries)
def delivery_detail_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    user = request.user
    manage = can_manage_deliveries(user)
    invoice = Invoice.objects.filter(delivery=delivery).select_related("customer__region", "owner__org_unit").first()
    return render(
        request,
        "sales/ops/delivery_detail.html",
        {
            "delivery": delivery,
            "order": delivery.order,
            "lines": selectors_ops.delivery_lines(delivery),
            "returns": selectors_ops.returns_of(delivery),
            "invoice": invoice if invoice is not None and can_view_receivable(user, invoice) else None,
            "can_ship": manage and delivery.state == "planned",
            "can_cancel": manage and delivery.state == "planned",
            "receive_form": DeliveryReceiveForm(initial={"received_on": timezone.localdate()}, auto_id="id_receive_%s")
            if manage and delivery.state == "shipped"
            else None,
            "cancel_form": OptionalReasonForm(auto_id="id_cancel_%s"),
            "can_return": can_manage_returns(user) and delivery.state in ("shipped", "received"),
            "short_form": ReasonForm(auto_id="id_short_%s")
            if manage and delivery.order.state == "partially_delivered"
            else None,
        },
    )


@require_POST
@require(can_manage_deliveries)
def delivery_ship_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    try:
        delivery_ship(by=request.user, delivery=delivery)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The delivery %(number)s is shipped; its receivable is raised.") % {"number": delivery.number}
        )
    return redirect("sales:delivery_detail", pk=delivery.pk)


@require_POST
@require(can_manage_deliveries)
def delivery_receive_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    form = DeliveryReceiveForm(request.POST, auto_id="id_receive_%s")
    if form.is_valid():
        try:
            delivery_receive(by=request.user, delivery=delivery, **form.cleaned_data)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("The customer's receipt is recorded."))
            return redirect("sales:delivery_detail", pk=delivery.pk)
    return _form_page(
        request,
        title=_("Confirm receipt"),
        subject=delivery.number,
        form=form,
        action_url=reverse("sales:delivery_receive", args=[delivery.pk]),
        back_url=reverse("sales:delivery_detail", args=[delivery.pk]),
        button=_("Confirm receipt"),
        testid="confirm-receive",
    )


@require_POST
@require(can_manage_deliveries)
def delivery_cancel_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    form = OptionalReasonForm(request.POST, auto_id="id_cancel_%s")
    if form.is_valid():
        try:
            delivery_cancel(by=request.user, delivery=delivery, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("The delivery note is cancelled; its stock stays reserved for the order."))
            return redirect("sales:delivery_detail", pk=delivery.pk)
    return _form_page(
        request,
        title=_("Cancel the delivery note"),
        subject=delivery.number,
        form=form,
        action_url=reverse("sales:delivery_cancel", args=[delivery.pk]),
        back_url=reverse("sales:delivery_detail", args=[delivery.pk]),
        button=_("Cancel the delivery note"),
        button_class="btn-danger",
        testid="confirm-cancel",
    )


@require(_may_see_deliveries)
def delivery_pdf_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    try:
        content = pdf.delivery_note_pdf(delivery, language=get_language())
    except NotImplementedError:
        messages.error(request, _("Delivery note PDFs are not available yet."))
        return redirect("sales:delivery_detail", pk=delivery.pk)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{delivery.number}.pdf"'
    return response


@require_POST
@require(can_manage_deliveries)
def order_close_short_view(request, pk: int):
    order = _order_or_403(request, pk)
    form = ReasonForm(request.POST, auto_id=f"id_short_{order.pk}_%s")
    back_url = safe_next(request, reverse("sales:deliveries"))
    if form.is_valid():
        try:
            order_close_short(by=request.user, order=order, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(
                request, _("The order %(order)s is closed short; the rest is not delivered.") % {"order": order}
            )
            return redirect(back_url)
    return _form_page(
        request,
        title=_("Close short"),
        subject=str(order),
        form=form,
        action_url=reverse("sales:order_close_short", args=[order.pk]),
        back_url=back_url,
        button=_("Close short"),
        button_class="btn-danger",
        testid="confirm-close-short",
        explanation=_(
            "What was not delivered will not be: its reserved stock goes back and the order counts as delivered."
        ),
    )


# --- returns -----------------------------------------------------------------------------------


@require(can_manage_returns)
def return_create_view(request, pk: int):
    delivery = _delivery_or_403(request, pk)
    lines = list(selectors_ops.delivery_lines(delivery))
    form = ReturnForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        data = form.cleaned_data

        def rename(key: str) -> str:
            # the service numbers the lines it was given: lines.<index>.quantity
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(chosen):
                prefix = "qty_" if parts[2] == "quantity" else "disp_"
                return f"{prefix}{chosen[int(parts[1])][0].pk}"
            return key

        try:
            customer_return = return_create(
                by=request.user, delivery=delivery, lines=chosen, reason=data["reason"], received_on=data["received_on"]
            )
        except DomainError as error:
            _show_error(form, error, rename)
        else:
            messages.success(
                request,
                _("The return %(number)s is recorded with a credit of %(total)s.")
                % {"number": customer_return.number, "total": customer_return.total},
            )
            return redirect("sales:return_detail", pk=customer_return.pk)
    return render(
        request,
        "sales/ops/return_form.html",
        {"delivery": delivery, "form": form, "returnable": delivery.state in ("shipped", "received")},
    )


@require(_may_see_deliveries)
def return_detail_view(request, pk: int):
    customer_return = get_object_or_404(
        CustomerReturn.objects.select_related(
            "delivery__order__customer__region", "delivery__order__owner__org_unit", "delivery__customer"
        ),
        pk=pk,
    )
    if not _may_view_delivery(request.user, customer_return.delivery):
        raise PermissionDenied
    credit_note = CreditNote.objects.filter(customer_return=customer_return).select_related("invoice").first()
    return render(
        request,
        "sales/ops/return_detail.html",
        {
            "customer_return": customer_return,
            "delivery": customer_return.delivery,
            "lines": customer_return.lines.select_related(
                "delivery_line__lot", "delivery_line__warehouse", "delivery_line__order_line__product"
            ),
            "credit_note": credit_note,
            "show_receivable": credit_note is not None
            and credit_note.invoice is not None
            and can_view_receivables(request.user),
        },
    )


# --- receivables -------------------------------------------------------------------------------


def _receivables_search(request):
    """The list's filters and sort, read the same way by the page and by its export: the
    receivables in the user's scope with their open amount."""
    user = request.user
    filters = ReceivableFilterForm(request.GET, customers=selectors_ops.customers_with_receivables(user))
    values = filters.values()
    sort, ordering = ordering_from(request, selectors_ops.RECEIVABLE_SORTS, "-invoice_date")
    invoices = selectors_ops.receivables_list(
        user,
        q=values["q"],
        state=values["state"],
        customer=values["customer"],
        overdue=bool(values["overdue"]),
        ordering=ordering,
    )
    return filters, values, sort, invoices


@require(can_view_receivables)
def receivables_view(request):
    filters, values, sort, invoices = _receivables_search(request)
    return render(
        request,
        "sales/ops/receivables.html",
        {
            "page": paginate(request, invoices),
            "totals": selectors_ops.receivable_totals(invoices),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "today": timezone.localdate(),
            "can_manage": can_manage_receivables(request.user),
            "export_query": export_query(request),
        },
    )


RECEIVABLE_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda invoice: invoice.number),
    (gettext_lazy("Customer code"), lambda invoice: invoice.customer.code),
    (gettext_lazy("Customer"), lambda invoice: invoice.customer.name),
    (gettext_lazy("Owner"), lambda invoice: invoice.owner.display_name),
    (gettext_lazy("Sales order"), lambda invoice: str(invoice.order)),
    (gettext_lazy("Delivery note"), lambda invoice: invoice.delivery.number if invoice.delivery else ""),
    (gettext_lazy("Receivable date"), lambda invoice: invoice.invoice_date),
    (gettext_lazy("Due date"), lambda invoice: invoice.due_date),
    (gettext_lazy("Amount (tax incl.)"), lambda invoice: invoice.amount),
    (gettext_lazy("Of which VAT"), lambda invoice: invoice.tax),
    (gettext_lazy("Paid"), lambda invoice: invoice.paid_amount),
    (gettext_lazy("Credited"), lambda invoice: invoice.credited_amount),
    (gettext_lazy("Written off"), lambda invoice: invoice.written_off_amount),
    (gettext_lazy("Open"), lambda invoice: invoice.open),
    (gettext_lazy("VAT invoice number"), lambda invoice: invoice.vat_number),
    (gettext_lazy("State"), lambda invoice: invoice.get_state_display()),
)


@require(can_view_receivables)
def receivables_export_view(request):
    _filters, values, sort, invoices = _receivables_search(request)
    return capped_xlsx_response(
        request,
        title=_("Receivables"),
        columns=RECEIVABLE_EXPORT_COLUMNS,
        rows=invoices,
        filename="receivables",
        audit_action="sales.receivables_exported",
        filters=_filters_used(values, sort),
    )


def _aging(request):
    """Open receivables in the user's scope by age, per customer and in total, on today."""
    today = timezone.localdate()
    rows, total = ar_aging(invoices=selectors_ops.aging_invoices(request.user), on=today)
    return today, rows, total


@require(can_view_receivables)
def aging_view(request):
    today, rows, total = _aging(request)
    names = [name for name, *_rest in AGING_BUCKETS]
    table = [{"row": row, "cells": [(name, row.buckets[name]) for name in names]} for row in rows]
    return render(
        request,
        "sales/ops/aging.html",
        {
            "page": paginate(request, table, per_page=50),
            "buckets": names,
            "total": total,
            "total_cells": [(name, total.buckets[name]) for name in names],
            "today": today,
        },
    )


@require(can_view_receivables)
def aging_export_view(request):
    """Every customer's row of the aging (all pages), then the total row, as on the page."""
    today, rows, total = _aging(request)
    columns = [
        (gettext_lazy("Customer"), lambda row: row.customer_name),
        *(
            (_("%(name)s days") % {"name": name}, lambda row, name=name: row.buckets[name])
            for name, *_rest in AGING_BUCKETS
        ),
        (gettext_lazy("Total open"), lambda row: row.total),
        (gettext_lazy("Overdue"), lambda row: row.overdue),
    ]
    return capped_xlsx_response(
        request,
        title=_("AR aging"),
        columns=columns,
        rows=[*rows, total],
        filename="ar-aging",
        audit_action="sales.aging_exported",
        filters={"on": today.isoformat()},
    )


def _invoice_page(request, invoice: Invoice, *, vat_form=None, writeoff_form=None):
    manage = can_manage_receivables(request.user)
    if vat_form is None and manage and invoice.state == "open":
        vat_form = VatInvoiceForm(initial={"vat_date": timezone.localdate()}, auto_id="id_vat_%s")
    if writeoff_form is None and manage and invoice.state in ("open", "issued") and invoice.open_amount > 0:
        writeoff_form = WriteOffForm(auto_id="id_writeoff_%s")
    return render(
        request,
        "sales/ops/invoice_detail.html",
        {
            "invoice": invoice,
            "allocations": allocations_of(invoice),
            "credit_notes": invoice.credit_notes.all(),
            "write_offs": invoice.write_offs.all(),
            "vat_form": vat_form,
            "writeoff_form": writeoff_form,
            "can_manage": manage,
            "overdue": invoice.state in ("open", "issued") and invoice.due_date < timezone.localdate(),
        },
    )


@require(can_view_receivables)
def invoice_detail_view(request, pk: int):
    return _invoice_page(request, _invoice_or_403(request, pk))


@require_POST
@require(can_manage_receivables)
def invoice_issue_view(request, pk: int):
    invoice = _invoice_or_403(request, pk)
    form = VatInvoiceForm(request.POST, auto_id="id_vat_%s")
    if form.is_valid():
        try:
            invoice_issue(by=request.user, invoice=invoice, **form.cleaned_data)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("The VAT invoice is recorded."))
            return redirect("sales:invoice_detail", pk=invoice.pk)
    return _invoice_page(request, invoice, vat_form=form)


@require_POST
@require(can_manage_receivables)
def invoice_writeoff_view(request, pk: int):
    invoice = _invoice_or_403(request, pk)
    form = WriteOffForm(request.POST, auto_id="id_writeoff_%s")
    if form.is_valid():
        try:
            writeoff = writeoff_request(by=request.user, invoice=invoice, **form.cleaned_data)
        except DomainError as error:
            _show_error(form, error)
        else:
            if writeoff.state == WriteOff.State.PENDING:
                messages.success(request, _("The write-off was sent for approval."))
            else:
                messages.success(request, _("The amount is written off."))
            return redirect("sales:invoice_detail", pk=invoice.pk)
    return _invoice_page(request, invoice, writeoff_form=form)


# --- payments ----------------------------------------------------------------------------------


def _payments_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = PaymentFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, selectors_ops.PAYMENT_SORTS, "-received_on")
    payments = selectors_ops.payments_list(
        request.user,
        q=values["q"],
        method=values["method"],
        unallocated_only=bool(values["unallocated"]),
        ordering=ordering,
    )
    return filters, values, sort, payments


@require(can_view_receivables)
def payments_view(request):
    filters, values, sort, payments = _payments_search(request)
    return render(
        request,
        "sales/ops/payments.html",
        {
            "page": paginate(request, payments),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "can_create": can_manage_receivables(request.user),
            "export_query": export_query(request),
        },
    )


PAYMENT_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda payment: payment.number),
    (gettext_lazy("Customer code"), lambda payment: payment.customer.code),
    (gettext_lazy("Customer"), lambda payment: payment.customer.name),
    (gettext_lazy("Received on"), lambda payment: payment.received_on),
    (gettext_lazy("Method"), lambda payment: payment.get_method_display()),
    (gettext_lazy("Bank reference"), lambda payment: payment.reference),
    (gettext_lazy("Amount"), lambda payment: payment.amount),
    (gettext_lazy("Not yet allocated"), lambda payment: payment.unallocated),
)


@require(can_view_receivables)
def payments_export_view(request):
    _filters, values, sort, payments = _payments_search(request)
    return capped_xlsx_response(
        request,
        title=_("Payments"),
        columns=PAYMENT_EXPORT_COLUMNS,
        rows=payments,
        filename="payments",
        audit_action="sales.payments_exported",
        filters=_filters_used(values, sort),
    )


def _customer_from(value) -> Customer | None:
    pk = row_id(value)
    return Customer.objects.filter(pk=pk).first() if pk else None


PAYMENT_FIELDS = ("customer", "amount", "received_on", "method", "reference")


@require(can_manage_receivables)
def payment_create_view(request):
    """The customer chosen first (the "show open receivables" button reloads the page with what
    was typed), then the amount and its allocation to the customer's open receivables."""
    source = request.POST if request.method == "POST" else request.GET
    customer = _customer_from(source.get("customer"))
    receivables = selectors_ops.open_receivables_of(customer) if customer else []
    if request.method == "POST":
        form = PaymentForm(request.POST, receivables=receivables)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = payment_record(
                    by=request.user,
                    customer=data["customer"],
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    reference=data["reference"],
                    allocations=form.allocations() or None,
                    auto_allocate=data["auto_allocate"],
                )
            except DomainError as error:
                _show_error(form, error, _rename_indexed("allocations", "alloc_"))
                form.add_error(None, NOTHING_SAVED)
            else:
                messages.success(
                    request,
                    _("The payment %(number)s of %(amount)s is recorded.")
                    % {"number": payment.number, "amount": payment.amount},
                )
                return redirect("sales:payment_detail", pk=payment.pk)
    else:
        initial = {name: request.GET[name] for name in PAYMENT_FIELDS if request.GET.get(name)}
        # from a receivable's page: its open amount is the likely payment, allocated to it
        paying = next((inv for inv in receivables if str(inv.pk) == request.GET.get("invoice", "")), None)
        if paying is not None:
            initial.setdefault("amount", paying.open_amount)
            initial[PaymentForm.allocation_name(paying)] = paying.open_amount
        form = PaymentForm(initial=initial, receivables=receivables)
    return render(request, "sales/ops/payment_form.html", {"form": form, "customer": customer})


def _payment_page(request, payment: Payment, *, allocate_form=None):
    if allocate_form is None and can_manage_receivables(request.user) and payment.unallocated > 0:
        allocate_form = AllocateForm(receivables=selectors_ops.open_receivables_of(payment.customer))
    return render(
        request,
        "sales/ops/payment_detail.html",
        {
            "payment": payment,
            "allocations": payment.allocations.select_related("invoice__order", "by"),
            "allocate_form": allocate_form,
        },
    )


@require(can_view_receivables)
def payment_detail_view(request, pk: int):
    return _payment_page(request, _payment_or_403(request, pk))


@require_POST
@require(can_manage_receivables)
def payment_allocate_view(request, pk: int):
    payment = _payment_or_403(request, pk)
    form = AllocateForm(request.POST, receivables=selectors_ops.open_receivables_of(payment.customer))
    if form.is_valid():
        try:
            if form.cleaned_data["auto_allocate"]:
                created = payment_allocate_auto(by=request.user, payment=payment)
            else:
                created = payment_allocate(by=request.user, payment=payment, allocations=form.allocations())
        except DomainError as error:
            _show_error(form, error, _rename_indexed("allocations", "alloc_"))
            form.add_error(None, NOTHING_SAVED)
        else:
            if created:
                messages.success(request, _("The payment is allocated."))
            else:
                messages.info(request, _("The customer has no open receivable to allocate to."))
            return redirect("sales:payment_detail", pk=payment.pk)
    return _payment_page(request, payment, allocate_form=form)


# --- reconciliation ----------------------------------------------------------------------------


def _reconciliation_search(request):
    """The report's filters, read the same way by the page and by its export: the orders in
    the user's scope whose amounts disagree, newest first."""
    filters = ReconciliationFilterForm(request.GET)
    values = filters.values()
    rows = selectors_ops.reconciliation_rows(request.user, q=values["q"], start=values["start"], end=values["end"])
    return filters, values, rows


@require(can_reconcile)
def reconciliation_view(request):
    filters, values, rows = _reconciliation_search(request)
    return render(
        request,
        "sales/ops/reconciliation.html",
        {
            "page": paginate(request, rows, per_page=50),
            "totals": selectors_ops.reconciliation_totals(rows),
            "filters": filters,
            "filtered": any(values.values()),
            "export_query": export_query(request),
        },
    )


RECONCILIATION_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda row: row.order.number),
    (gettext_lazy("Version"), lambda row: row.order.version),
    (gettext_lazy("Customer code"), lambda row: row.order.customer.code),
    (gettext_lazy("Customer"), lambda row: row.order.customer.name),
    (gettext_lazy("Order date"), lambda row: row.order.ordered_on),
    (gettext_lazy("State"), lambda row: row.order.get_state_display()),
    (gettext_lazy("Ordered"), lambda row: row.ordered),
    (gettext_lazy("Delivered"), lambda row: row.delivered),
    (gettext_lazy("Invoiced"), lambda row: row.invoiced),
    (gettext_lazy("Credited"), lambda row: row.credited),
    (gettext_lazy("Paid"), lambda row: row.paid),
    (gettext_lazy("Written off"), lambda row: row.written_off),
    (gettext_lazy("Reasons"), lambda row: "\n".join(str(reason) for reason in row.reasons)),
)


@require(can_reconcile)
def reconciliation_export_view(request):
    _filters, values, rows = _reconciliation_search(request)
    return capped_xlsx_response(
        request,
        title=_("Reconciliation"),
        columns=RECONCILIATION_EXPORT_COLUMNS,
        rows=rows,
        filename="reconciliation",
        audit_action="sales.reconciliation_exported",
        filters=_filters_used(values, ""),
    )
