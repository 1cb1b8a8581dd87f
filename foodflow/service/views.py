"""Pages of the service desk and QA: the complaint ledger, logging a complaint, the complaint
page with its actions (assign, record what was done, resolve, the customer's answer, and for
QA holding or recalling the lot), the recalls with their trace and returns, and mock recall
drills; the ledger and the recalls export to Excel.

Views parse input and call one service (``services`` for complaints, ``recalls`` for lots and
recalls); every rule lives there. A complaint out of the user's scope is a 403 (404 if it does
not exist); a service's refusal is shown as its message, on the form when it names fields."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from foodflow.accounts.models import User
from foodflow.catalog.models import Product
from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query, xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, perform, require
from foodflow.crm.models import Customer

from . import recall_notices, recalls, selectors, services
from .forms import (
    ActionForm,
    AssignForm,
    CloseForm,
    ComplaintFilterForm,
    ComplaintForm,
    ConfirmForm,
    DrillForm,
    ReasonForm,
    ReopenForm,
    ResolveForm,
    ReturnForm,
)
from .models import Complaint, Recall, RecallLine
from .permissions import (
    can_log_complaints,
    can_manage_complaint,
    can_recall,
    can_trace_lots,
    can_view_complaint,
    can_view_complaints,
    complaints_in_scope,
)
from .workflows import COMPLAINT_FLOW, OPEN

COMPLAINT_SORTS = {
    "received": ("received_at", "id"),
    "number": ("number",),
    "response_due": ("response_due", "id"),
    "resolution_due": ("resolution_due", "id"),
    "customer": ("customer__name", "id"),
}
DEFAULT_SORT = "-received"


# --- helpers --------------------------------------------------------------------------------------


def _posted(request):
    return request.POST if request.method == "POST" else None


def _complaint_or_403(request, pk: int, predicate=can_view_complaint) -> Complaint:
    # the customer's region and the owner: what the scope predicates compare
    complaint = (
        Complaint.objects.select_related(
            "customer__region", "owner__org_unit", "order", "delivery", "product", "lot", "created_by"
        )
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404
    if not predicate(request.user, complaint):
        raise PermissionDenied
    return complaint


def _to_complaint(complaint: Complaint):
    return redirect("service:complaint_detail", pk=complaint.pk)


# --- the complaint ledger -------------------------------------------------------------------------


@require(can_view_complaints)
def complaints_view(request):
    in_scope = complaints_in_scope(request.user, Complaint.objects.all())
    filters = ComplaintFilterForm(
        request.GET,
        customers=Customer.objects.filter(pk__in=in_scope.values("customer_id")).order_by("name", "pk"),
        products=Product.objects.filter(pk__in=in_scope.values("product_id")).order_by("sku"),
        owners=User.objects.filter(pk__in=in_scope.values("owner_id")).order_by("username"),
    )
    values = filters.values()
    complaints = selectors.complaints_filtered(in_scope.select_related("customer", "owner", "product", "lot"), **values)
    sort, ordering = ordering_from(request, COMPLAINT_SORTS, DEFAULT_SORT)
    return render(
        request,
        "service/complaint_list.html",
        {
            "page": paginate(request, complaints.order_by(*ordering)),
            "filters": filters,
            "filtered": any(value not in (None, "") for value in values.values()),
            "sort": sort,
            "now": timezone.now(),
            "open_states": OPEN,
            "can_log": can_log_complaints(request.user),
        },
    )


@require(can_log_complaints)
def complaint_new_view(request):
    form = ComplaintForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            complaint = services.complaint_log(
                by=request.user,
                channel=values["channel"],
                category=values["category"],
                severity=values["severity"],
                description=values["description"],
                customer=values.get("customer"),
                contact_name=values.get("contact_name") or "",
                contact_phone=values.get("contact_phone") or "",
                order=values.get("order"),
                delivery=values.get("delivery"),
                lot=values.get("lot"),
                product=values.get("product"),
                owner=values.get("owner"),
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The complaint %(number)s was logged.") % {"number": complaint.number})
            return _to_complaint(complaint)
    return render(request, "service/complaint_new.html", {"form": form})


# --- the complaint page ---------------------------------------------------------------------------


def _deadline(due, done_at, now) -> dict:
    """A deadline with where it stands: met, missed, overdue, or still running."""
    if done_at is not None:
        return {"due": due, "done_at": done_at, "state": "met" if done_at <= due else "missed"}
    return {"due": due, "done_at": None, "state": "overdue" if now > due else "running"}


@require(can_view_complaints)
def complaint_detail_view(request, pk: int):
    complaint = _complaint_or_403(request, pk)
    user = request.user
    can_manage = can_manage_complaint(user, complaint)
    available = {step.action for step in COMPLAINT_FLOW.available(complaint.state)} if can_manage else set()
    is_open = complaint.state in OPEN
    may_recall = can_recall(user)
    now = timezone.now()
    lot_recalled_now = (
        complaint.lot is not None and Recall.objects.filter(lot=complaint.lot, is_drill=False, state="open").exists()
    )
    return render(
        request,
        "service/complaint_detail.html",
        {
            "complaint": complaint,
            "timeline": selectors.complaint_timeline(complaint),
            "recalls": complaint.recalls.order_by("-created_at"),
            "remedies": complaint.remedies.select_related(
                "order", "delivery", "customer_return", "credit_note", "created_by"
            ).order_by("-created_at", "-id"),
            "response": _deadline(complaint.response_due, complaint.responded_at, now),
            "resolution": _deadline(complaint.resolution_due, complaint.resolved_at, now),
            "can_manage": can_manage,
            "assign_form": AssignForm(auto_id="id_assign_%s", initial={"owner": complaint.owner_id})
            if can_manage and is_open
            else None,
            "action_form": ActionForm(auto_id="id_action_%s") if can_manage and is_open else None,
            "resolve_form": ResolveForm(auto_id="id_resolve_%s") if "resolve" in available else None,
            "confirm_form": ConfirmForm(auto_id="id_confirm_%s") if "confirm" in available else None,
            "reopen_form": ReopenForm(auto_id="id_reopen_%s") if "reopen" in available else None,
            "hold_form": ReasonForm(auto_id="id_hold_%s")
            if may_recall and complaint.lot is not None and complaint.lot.status == "available"
            else None,
            "recall_form": ReasonForm(auto_id="id_recall_%s")
            if may_recall and complaint.lot is not None and not lot_recalled_now
            else None,
        },
    )


@require_POST
@require(can_log_complaints)
def complaint_assign_view(request, pk: int):
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose who handles the complaint."))
        return _to_complaint(complaint)
    owner = form.cleaned_data["owner"]
    perform(
        request,
        lambda: services.complaint_assign(by=request.user, complaint=complaint, owner=owner),
        _("%(name)s handles the complaint now.") % {"name": owner.display_name},
    )
    return _to_complaint(complaint)


@require_POST
@require(can_log_complaints)
def complaint_action_view(request, pk: int):
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = ActionForm(request.POST)
    kind = request.POST.get("kind", "")
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.complaint_add_action(by=request.user, complaint=complaint, kind=kind, note=note),
        _("The action was recorded."),
    )
    return _to_complaint(complaint)


@require_POST
@require(can_log_complaints)
def complaint_resolve_view(request, pk: int):
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = ResolveForm(request.POST)
    values = form.cleaned_data if form.is_valid() else {}
    perform(
        request,
        lambda: services.complaint_resolve(
            by=request.user,
            complaint=complaint,
            resolution=values.get("resolution", ""),
            root_cause=values.get("root_cause", ""),
            corrective_action=values.get("corrective_action", ""),
        ),
        _("The resolution was recorded; the customer is asked to confirm it."),
    )
    return _to_complaint(complaint)


@require_POST
@require(can_log_complaints)
def complaint_confirm_view(request, pk: int):
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = ConfirmForm(request.POST)
    feedback = form.cleaned_data["feedback"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.complaint_confirm(by=request.user, complaint=complaint, feedback=feedback),
        _("The customer accepted the resolution: the complaint is closed."),
    )
    return _to_complaint(complaint)


@require_POST
@require(can_log_complaints)
def complaint_reopen_view(request, pk: int):
    complaint = _complaint_or_403(request, pk, can_manage_complaint)
    form = ReopenForm(request.POST)
    feedback = form.cleaned_data["feedback"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.complaint_reopen(by=request.user, complaint=complaint, feedback=feedback),
        _("The complaint is open again."),
    )
    return _to_complaint(complaint)


def _reason(request) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@require_POST
@require(can_recall)
def complaint_hold_view(request, pk: int):
    complaint = _complaint_or_403(request, pk)
    reason = _reason(request)
    perform(
        request,
        lambda: recalls.lot_hold_from_complaint(by=request.user, complaint=complaint, reason=reason),
        lambda lot: _("The lot %(lot)s is on hold: no order is allocated from it.") % {"lot": lot.lot_number},
    )
    return _to_complaint(complaint)


@require_POST
@require(can_recall)
def complaint_recall_view(request, pk: int):
    complaint = _complaint_or_403(request, pk)
    if complaint.lot is None:
        messages.error(request, _("The complaint names no lot."))
        return _to_complaint(complaint)
    reason = _reason(request)
    recall = perform(
        request,
        lambda: recalls.recall_from_complaint(by=request.user, complaint=complaint, reason=reason),
        lambda started: _("The recall %(number)s started: the lot is recalled.") % {"number": started.number},
    )
    if recall is None:
        return _to_complaint(complaint)
    return redirect("service:recall_detail", pk=recall.pk)


# --- recalls --------------------------------------------------------------------------------------


def _recall_search(request):
    """The recall list's filters, read the same way by the page and by its export."""
    rows = (
        Recall.objects.select_related("lot__product", "complaint", "created_by")
        .annotate(shipped=Sum("lines__shipped_quantity"), returned=Sum("lines__returned_quantity"))
        .order_by("-created_at", "-id")
    )
    kind = request.GET.get("kind", "")
    if kind == "drill":
        rows = rows.filter(is_drill=True)
    elif kind == "recall":
        rows = rows.filter(is_drill=False)
    else:
        kind = ""
    state = request.GET.get("state", "")
    if state in ("open", "closed"):
        rows = rows.filter(state=state)
    else:
        state = ""
    return kind, state, rows


@require(can_trace_lots)
def recalls_view(request):
    kind, state, rows = _recall_search(request)
    return render(
        request,
        "service/recall_list.html",
        {
            "page": paginate(request, rows),
            "kind": kind,
            "state": state,
            "filtered": bool(kind or state),
            "drill_form": DrillForm(auto_id="id_drill_%s") if can_recall(request.user) else None,
            "export_query": export_query(request),
        },
    )


@require_POST
@require(can_recall)
def recall_drill_view(request):
    form = DrillForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("service:recalls")
    values = form.cleaned_data
    drill = perform(
        request,
        lambda: recalls.recall_start(by=request.user, lot=values["lot"], reason=values.get("reason", ""), drill=True),
        lambda started: (
            _("The drill %(number)s traced the lot in %(ms)s ms.") % {"number": started.number, "ms": started.trace_ms}
        ),
    )
    if drill is None:
        return redirect("service:recalls")
    return redirect("service:recall_detail", pk=drill.pk)


def _notice_overview(user, recall: Recall) -> dict:
    """The notices card: each customer of the recall with whom its notice goes to and whether
    it was given, and what the user may do: e-mail (an open recall, never a drill) and record
    a phone call (an open recall)."""
    rows = recall_notices.recall_notice_rows(recall)
    may_act = can_trace_lots(user) and recall.state == "open"
    return {
        "rows": rows,
        "may_email": may_act and not recall.is_drill,
        "may_phone": may_act,
        "to_email": sum(1 for row in rows if not row.notified and row.contact is not None),
        "to_phone": sum(1 for row in rows if not row.notified and row.contact is None),
        "notified": sum(1 for row in rows if row.notified),
    }


@require(can_trace_lots)
def recall_detail_view(request, pk: int):
    recall = get_object_or_404(
        Recall.objects.select_related("lot__product", "complaint", "created_by"),
        pk=pk,
    )
    lines = list(recall.lines.select_related("customer", "delivery"))
    may_act = can_recall(request.user) and recall.state == "open"
    rows = [
        {
            "line": line,
            "form": ReturnForm(auto_id=f"id_return_{line.pk}_%s") if may_act and line.outstanding > 0 else None,
        }
        for line in lines
    ]
    shipped = sum((line.shipped_quantity for line in lines), Decimal(0))
    returned = sum((line.returned_quantity for line in lines), Decimal(0))
    return render(
        request,
        "service/recall_detail.html",
        {
            "recall": recall,
            "notices": _notice_overview(request.user, recall),
            "rows": rows,
            "origin": recalls.trace_origin(recall.lot),
            "customers": len({line.customer_id for line in lines}),
            "shipped": shipped,
            "returned": returned,
            "outstanding": shipped - returned,
            "close_form": CloseForm(auto_id="id_close_%s") if may_act else None,
        },
    )


@require_POST
@require(can_recall)
def recall_return_view(request, pk: int):
    line = get_object_or_404(RecallLine.objects.select_related("recall", "customer"), pk=pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the quantity that came back as a number."))
    else:
        quantity = form.cleaned_data["quantity"]
        perform(
            request,
            lambda: recalls.recall_record_return(by=request.user, line=line, quantity=quantity),
            _("The return from %(customer)s was recorded.") % {"customer": line.customer.name},
        )
    return redirect(f"{reverse('service:recall_detail', args=[line.recall_id])}#line-{line.pk}")


@require_POST
@require(can_recall)
def recall_close_view(request, pk: int):
    recall = get_object_or_404(Recall, pk=pk)
    form = CloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(
        request,
        lambda: recalls.recall_close(by=request.user, recall=recall, note=note),
        _("The recall %(number)s is closed.") % {"number": recall.number},
    )
    return redirect("service:recall_detail", pk=recall.pk)


# --- the ledger as an Excel file ------------------------------------------------------------------


def _local(moment):
    """A moment as the desk's wall-clock time (a spreadsheet cell has no time zone)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


COMPLAINT_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda c: c.number),
    (gettext_lazy("Received at"), lambda c: _local(c.received_at)),
    (gettext_lazy("Received by"), lambda c: c.get_channel_display()),
    (gettext_lazy("Customer code"), lambda c: c.customer.code if c.customer else ""),
    (gettext_lazy("Customer or contact"), lambda c: c.customer.name if c.customer else c.contact_name),
    (gettext_lazy("Category"), lambda c: c.get_category_display()),
    (gettext_lazy("Severity"), lambda c: c.get_severity_display()),
    (gettext_lazy("SKU"), lambda c: c.product.sku if c.product else ""),
    (gettext_lazy("Product"), lambda c: c.product.display_name if c.product else ""),
    (gettext_lazy("Lot number"), lambda c: c.lot.lot_number if c.lot else ""),
    (gettext_lazy("Order"), lambda c: str(c.order) if c.order else ""),
    (gettext_lazy("Delivery"), lambda c: c.delivery.number if c.delivery else ""),
    (gettext_lazy("Handled by"), lambda c: c.owner.display_name if c.owner else ""),
    (gettext_lazy("State"), lambda c: c.get_state_display()),
    (gettext_lazy("First response due"), lambda c: _local(c.response_due)),
    (gettext_lazy("First response at"), lambda c: _local(c.responded_at)),
    (gettext_lazy("Resolution due"), lambda c: _local(c.resolution_due)),
    (gettext_lazy("Resolved at"), lambda c: _local(c.resolved_at)),
    (gettext_lazy("Closed at"), lambda c: _local(c.closed_at)),
    (gettext_lazy("What the customer says"), lambda c: c.description),
    (gettext_lazy("Root cause"), lambda c: c.root_cause),
    (gettext_lazy("Corrective action"), lambda c: c.corrective_action),
    (gettext_lazy("Resolution"), lambda c: c.resolution),
)


@require(can_view_complaints)
def complaints_export_view(request):
    """The ledger as the user filtered and sorted it (every page), in their scope; audited."""
    in_scope = complaints_in_scope(request.user, Complaint.objects.all())
    filters = ComplaintFilterForm(
        request.GET,
        customers=Customer.objects.filter(pk__in=in_scope.values("customer_id")).order_by("name", "pk"),
        products=Product.objects.filter(pk__in=in_scope.values("product_id")).order_by("sku"),
        owners=User.objects.filter(pk__in=in_scope.values("owner_id")).order_by("username"),
    )
    values = filters.values()
    complaints = selectors.complaints_filtered(
        in_scope.select_related("customer", "owner", "product", "lot", "order", "delivery"), **values
    )
    sort, ordering = ordering_from(request, COMPLAINT_SORTS, DEFAULT_SORT)
    return xlsx_response(
        request,
        title=_("Complaints"),
        columns=COMPLAINT_EXPORT_COLUMNS,
        rows=complaints.order_by(*ordering).iterator(chunk_size=1000),
        filename="complaints",
        audit_action="service.complaints_exported",
        filters={
            **{key: str(getattr(value, "pk", value)) for key, value in values.items() if value not in (None, "")},
            "sort": sort,
        },
    )


RECALL_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda r: r.number),
    (gettext_lazy("Kind"), lambda r: _("Drill") if r.is_drill else _("Recall")),
    (gettext_lazy("Lot number"), lambda r: r.lot.lot_number),
    (gettext_lazy("SKU"), lambda r: r.lot.product.sku),
    (gettext_lazy("Product"), lambda r: r.lot.product.display_name),
    (gettext_lazy("Complaint"), lambda r: r.complaint.number if r.complaint else ""),
    (gettext_lazy("Reason"), lambda r: r.reason),
    (gettext_lazy("Shipped"), lambda r: r.shipped or Decimal(0)),
    (gettext_lazy("Returned"), lambda r: r.returned or Decimal(0)),
    (gettext_lazy("Trace took (ms)"), lambda r: r.trace_ms),
    (gettext_lazy("Started"), lambda r: _local(r.created_at)),
    (gettext_lazy("State"), lambda r: r.get_state_display()),
    (gettext_lazy("Closed at"), lambda r: _local(r.closed_at)),
    (gettext_lazy("Closing note"), lambda r: r.close_note),
)


@require(can_trace_lots)
def recalls_export_view(request):
    """The recalls and drills as the user filtered them (every page); audited."""
    kind, state, rows = _recall_search(request)
    return capped_xlsx_response(
        request,
        title=_("Recalls"),
        columns=RECALL_EXPORT_COLUMNS,
        rows=rows,
        filename="recalls",
        audit_action="service.recalls_exported",
        filters={key: value for key, value in (("kind", kind), ("state", state)) if value},
    )


# --- recall notices -------------------------------------------------------------------------------


def _recall_and_customer_or_404(pk: int, customer_id: int) -> tuple[Recall, Customer]:
    """The recall and one of its customers (404 for a customer who did not receive the lot)."""
    recall = get_object_or_404(Recall.objects.select_related("lot__product", "created_by"), pk=pk)
    customer = get_object_or_404(Customer, pk=customer_id)
    if not RecallLine.objects.filter(recall=recall, customer=customer).exists():
        raise Http404
    return recall, customer


def _to_notices(recall_pk: int):
    return redirect(f"{reverse('service:recall_detail', args=[recall_pk])}#notices")


@require(can_trace_lots)
def recall_notice_pdf_view(request, pk: int, customer_id: int):
    """The notice of one customer as the customer receives it (Chinese; ``?language=en``)."""
    recall, customer = _recall_and_customer_or_404(pk, customer_id)
    language = request.GET.get("language", "")
    if language not in {code for code, _name in settings.LANGUAGES}:
        language = recall_notices.CUSTOMER_LANGUAGE
    content = recall_notices.recall_notice_pdf(recall, customer, language=language)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{recall_notices.recall_notice_filename(recall, customer)}"'
    return response


@require_POST
@require(can_trace_lots)
def recall_notify_view(request, pk: int):
    """E-mail the notices: to every customer not told yet, or (``customer``) to one again."""
    recall = get_object_or_404(Recall, pk=pk)
    customer = None
    if request.POST.get("customer"):
        try:
            customer = get_object_or_404(Customer, pk=int(request.POST["customer"]))
        except ValueError:
            raise Http404 from None
    try:
        sent = recall_notices.recall_notify(by=request.user, recall=recall, customer=customer)
    except DomainError as error:
        messages.error(request, error.message)
        return _to_notices(recall.pk)
    if sent:
        messages.success(
            request,
            ngettext(
                "The recall notice was e-mailed to %(count)s customer.",
                "The recall notice was e-mailed to %(count)s customers.",
                sent,
            )
            % {"count": sent},
        )
    else:
        messages.info(request, _("No notice was e-mailed: every customer with an e-mail contact was told already."))
    to_phone = recall_notices.recall_customers_to_phone(recall)
    if to_phone:
        messages.warning(
            request,
            _("No e-mail contact, phone them and record it: %(customers)s")
            % {"customers": ", ".join(customer.name for customer in to_phone)},
        )
    return _to_notices(recall.pk)


@require_POST
@require(can_trace_lots)
def recall_notified_phone_view(request, pk: int, customer_id: int):
    """The desk phoned the customer: its notice is recorded as given by phone."""
    recall, customer = _recall_and_customer_or_404(pk, customer_id)
    perform(
        request,
        lambda: recall_notices.recall_notified_by_phone(by=request.user, recall=recall, customer=customer),
        _("%(customer)s is recorded as told by phone.") % {"customer": customer.name},
    )
    return _to_notices(recall.pk)
