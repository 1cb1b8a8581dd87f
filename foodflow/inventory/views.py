"""Pages of inventory: stock, lots, the near-expiry report, warehouses, the capacity calendar
and production requests, with the Excel exports of the lists. Views parse input and call one
service or selector; every rule lives in ``inventory.services``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from foodflow.catalog.views import capped_xlsx_response, export_query
from foodflow.core.errors import DomainError
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, require
from foodflow.core.vocab import Storage

from . import selectors, services
from .forms import (
    CapacityQueryForm,
    LotReceiveForm,
    ProductionRequestFilterForm,
    ProductionRequestForm,
    ReasonForm,
    StockChangeForm,
    StockFilterForm,
)
from .models import Lot, ProductionRequest, Warehouse
from .permissions import can_hold_lot, can_manage_capacity, can_manage_stock, can_recall_lot, can_view_stock
from .workflows import LOT_FLOW

CALENDAR_DAYS = 14


# --- helpers ------------------------------------------------------------------------------------


def _int_param(request, name: str, *, low: int, high: int) -> int | None:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def _date_param(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


def _quantity(value: Decimal) -> str:
    """120.000 → "120", 2.500 → "2.5" (never an exponent)."""
    return format(value.normalize(), "f")


def _confirm_page(
    request, *, title, subject: str, form, action_url: str, back_url: str, button, button_class: str, testid: str
):
    """A confirmation refused (no reason, a rule broken): the same form again, with its errors,
    on a page of its own (the modal it came from cannot be reopened without script)."""
    return render(
        request,
        "inventory/action_confirm.html",
        {
            "title": title,
            "subject": subject,
            "form": form,
            "action_url": action_url,
            "back_url": back_url,
            "button": button,
            "button_class": button_class,
            "testid": testid,
        },
    )


# --- stock --------------------------------------------------------------------------------------

LOT_SORTS = {
    "expiry": ("lot__expiry_date", "lot__product__sku", "warehouse__code"),
    "product": ("lot__product__sku", "lot__expiry_date", "warehouse__code"),
    "lot": ("lot__lot_number", "warehouse__code"),
    "warehouse": ("warehouse__code", "lot__expiry_date"),
    "on_hand": ("on_hand", "lot__expiry_date"),
}
PRODUCT_SORTS = {"sku": ("sku",), "name": ("name", "sku"), "on_hand": ("on_hand", "sku"), "free": ("free", "sku")}
STOCK_VIEWS = ("lot", "product", "warehouse")


@dataclass(frozen=True)
class StockRow:
    balance: object
    expiry: selectors.Expiry


def _stock_search(request):
    """The stock page's view (by lot, product or warehouse), filters and sort, read the same way
    by the page and by its export: the rows of that view, filtered and sorted."""
    view = request.GET.get("view", "lot")
    view = view if view in STOCK_VIEWS else "lot"
    filters = StockFilterForm(request.GET)
    filters.is_valid()
    query = filters.cleaned_data.get("q", "")
    if view == "lot":
        warehouse = filters.cleaned_data.get("warehouse")
        sort, ordering = ordering_from(request, LOT_SORTS, "expiry")
        rows = (
            selectors.stock_by_lot(
                query=query,
                warehouse_id=warehouse.pk if warehouse else None,
                status=filters.cleaned_data.get("status", ""),
            )
            .select_related("lot__product__category__parent")
            .order_by(*ordering)
        )
    elif view == "product":
        sort, ordering = ordering_from(request, PRODUCT_SORTS, "sku")
        rows = selectors.stock_by_product(query=query).order_by(*ordering)
    else:
        sort, rows = "", selectors.stock_by_warehouse()
    return view, filters, query, sort, rows


def _zone_totals(row: dict) -> dict:
    """A row of the stock by warehouse with its zone's label and what is available."""
    return {
        **row,
        "zone": dict(Storage.choices).get(row["warehouse__zone"], row["warehouse__zone"]),
        "available": row["on_hand"] - row["reserved"],
    }


@require(can_view_stock)
def stock_view(request):
    view, filters, query, sort, found = _stock_search(request)
    context = {
        "view": view,
        "filters": filters,
        "query": query,
        "can_receive": can_manage_stock(request.user),
        "export_query": export_query(request),
    }
    if view == "lot":
        page = paginate(request, found)
        today, cache = timezone.localdate(), {}
        rows = [StockRow(balance, selectors.expiry_of(balance.lot, today=today, cache=cache)) for balance in page]
        context.update(page=page, rows=rows, sort=sort)
    elif view == "product":
        page = paginate(request, found)
        context.update(page=page, rows=list(page), sort=sort)
    else:
        context.update(rows=[_zone_totals(row) for row in found])
    return render(request, "inventory/stock.html", context)


def _stock_by_lot_columns() -> tuple:
    # one cache for the whole file: each category's warning period is looked up once
    today, cache = timezone.localdate(), {}

    def days_left(balance) -> int:
        return selectors.expiry_of(balance.lot, today=today, cache=cache).days_left

    return (
        (gettext_lazy("SKU"), lambda balance: balance.lot.product.sku),
        (gettext_lazy("Product"), lambda balance: balance.lot.product.display_name),
        (gettext_lazy("Lot number"), lambda balance: balance.lot.lot_number),
        (gettext_lazy("Warehouse"), lambda balance: balance.warehouse.name),
        (gettext_lazy("Production date"), lambda balance: balance.lot.production_date),
        (gettext_lazy("Expiry date"), lambda balance: balance.lot.expiry_date),
        (gettext_lazy("Days left"), days_left),
        (gettext_lazy("On hand"), lambda balance: balance.on_hand),
        (gettext_lazy("Reserved"), lambda balance: balance.reserved),
        (gettext_lazy("Available"), lambda balance: balance.available),
        (gettext_lazy("Status"), lambda balance: balance.lot.get_status_display()),
    )


STOCK_BY_PRODUCT_COLUMNS = (
    (gettext_lazy("SKU"), lambda product: product.sku),
    (gettext_lazy("Product"), lambda product: product.display_name),
    (gettext_lazy("Specification"), lambda product: product.specification),
    (gettext_lazy("Category"), lambda product: product.category.display_name),
    (gettext_lazy("On hand"), lambda product: product.on_hand),
    (gettext_lazy("Reserved"), lambda product: product.reserved),
    (gettext_lazy("Free to sell"), lambda product: product.free),
)
STOCK_BY_WAREHOUSE_COLUMNS = (
    (gettext_lazy("Code"), lambda row: row["warehouse__code"]),
    (gettext_lazy("Warehouse"), lambda row: row["warehouse__name"]),
    (gettext_lazy("Temperature zone"), lambda row: row["zone"]),
    (gettext_lazy("On hand"), lambda row: row["on_hand"]),
    (gettext_lazy("Reserved"), lambda row: row["reserved"]),
    (gettext_lazy("Available"), lambda row: row["available"]),
)
STOCK_VIEW_LABELS = {
    "lot": gettext_lazy("By lot"),
    "product": gettext_lazy("By product"),
    "warehouse": gettext_lazy("By warehouse"),
}


@require(can_view_stock)
def stock_export_view(request):
    """The stock page's current view (by lot, product or warehouse) with its filters, every page."""
    view, filters, query, sort, rows = _stock_search(request)
    if view == "lot":
        columns = _stock_by_lot_columns()
    elif view == "product":
        columns = STOCK_BY_PRODUCT_COLUMNS
    else:
        columns, rows = STOCK_BY_WAREHOUSE_COLUMNS, [_zone_totals(row) for row in rows]
    used = {"view": view, "q": query, "sort": sort}
    if view == "lot":
        warehouse = filters.cleaned_data.get("warehouse")
        used.update(warehouse=warehouse.code if warehouse else "", status=filters.cleaned_data.get("status", ""))
    return capped_xlsx_response(
        request,
        title=f"{_('Stock')} · {STOCK_VIEW_LABELS[view]}",
        columns=columns,
        rows=rows,
        filename=f"stock-by-{view}",
        audit_action="inventory.stock_exported",
        filters={key: value for key, value in used.items() if value},
    )


# --- lots ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotAction:
    """A change of a lot's status offered on the lot page, behind a confirmation."""

    action: str
    allowed: object  # predicate(user) -> bool
    service: object
    title: object
    button: object
    button_class: str
    icon: str
    done: object
    reason_required: bool = True


LOT_ACTIONS = {
    "hold": LotAction(
        "hold",
        can_hold_lot,
        services.lot_hold,
        gettext_lazy("Put the lot on hold"),
        gettext_lazy("Put on hold"),
        "btn-warning",
        "ti-lock",
        gettext_lazy("Lot %(lot)s is on hold: it is no longer allocated."),
    ),
    "release": LotAction(
        "release",
        can_hold_lot,
        services.lot_release,
        gettext_lazy("Release the lot"),
        gettext_lazy("Release"),
        "btn-success",
        "ti-lock-open",
        gettext_lazy("Lot %(lot)s is released: it is available again."),
        reason_required=False,
    ),
    "recall": LotAction(
        "recall",
        can_recall_lot,
        services.lot_recall,
        gettext_lazy("Recall the lot"),
        gettext_lazy("Recall"),
        "btn-danger",
        "ti-urgent",
        gettext_lazy("Lot %(lot)s is recalled."),
    ),
}


def _lots():
    return selectors.lots_with_product()


def _lot_actions_for(user, lot: Lot) -> list[dict]:
    """The status changes the lot's state allows (the workflow's table) and the user may make."""
    possible = {step.action for step in LOT_FLOW.available(lot.status)}
    return [
        {
            "spec": spec,
            "modal_id": f"modal-{code}",
            "testid": f"confirm-{code}",
            "action_url": reverse(f"inventory:lot_{code}", args=[lot.pk]),
            "form": ReasonForm(reason_required=spec.reason_required, auto_id=f"id_{code}_%s"),
        }
        for code, spec in LOT_ACTIONS.items()
        if code in possible and spec.allowed(user)
    ]


def _balance_row(balance, *, can_manage: bool) -> dict:
    row = {"balance": balance}
    if can_manage:
        warehouse_id = balance.warehouse_id
        row.update(
            subject=_("%(warehouse)s: %(on_hand)s on hand, %(reserved)s reserved")
            % {
                "warehouse": balance.warehouse.name,
                "on_hand": _quantity(balance.on_hand),
                "reserved": _quantity(balance.reserved),
            },
            adjust_modal_id=f"modal-adjust-{warehouse_id}",
            scrap_modal_id=f"modal-scrap-{warehouse_id}",
            adjust_form=StockChangeForm(initial={"warehouse": warehouse_id}, auto_id=f"id_adjust{warehouse_id}_%s"),
            scrap_form=StockChangeForm(
                initial={"warehouse": warehouse_id}, scrap=True, auto_id=f"id_scrap{warehouse_id}_%s"
            ),
        )
    return row


@require(can_view_stock)
def lot_detail_view(request, pk: int):
    lot = get_object_or_404(_lots(), pk=pk)
    can_manage = can_manage_stock(request.user)
    balances = [_balance_row(balance, can_manage=can_manage) for balance in selectors.lot_balances(lot)]
    reservations = selectors.lot_reservations_active(lot)
    moves = paginate(request, selectors.lot_moves(lot))
    return render(
        request,
        "inventory/lot_detail.html",
        {
            "lot": lot,
            "expiry": selectors.expiry_of(lot, today=timezone.localdate(), cache={}),
            "balances": balances,
            "reservations": reservations,
            "page": moves,
            "actions": _lot_actions_for(request.user, lot),
            "can_manage": can_manage,
        },
    )


def _lot_status_change(request, pk: int, code: str):
    spec = LOT_ACTIONS[code]
    lot = get_object_or_404(_lots(), pk=pk)
    form = ReasonForm(request.POST, reason_required=spec.reason_required)
    if form.is_valid():
        try:
            spec.service(by=request.user, lot=lot, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, str(spec.done) % {"lot": lot.lot_number})
            return redirect("inventory:lot_detail", pk=lot.pk)
    return _confirm_page(
        request,
        title=spec.title,
        subject=str(lot),
        form=form,
        action_url=reverse(f"inventory:lot_{code}", args=[lot.pk]),
        back_url=reverse("inventory:lot_detail", args=[lot.pk]),
        button=spec.button,
        button_class=spec.button_class,
        testid=f"confirm-{code}",
    )


@require_POST
@require(can_hold_lot)
def lot_hold_view(request, pk: int):
    return _lot_status_change(request, pk, "hold")


@require_POST
@require(can_hold_lot)
def lot_release_view(request, pk: int):
    return _lot_status_change(request, pk, "release")


@require_POST
@require(can_recall_lot)
def lot_recall_view(request, pk: int):
    return _lot_status_change(request, pk, "recall")


def _stock_change(request, pk: int, *, scrap: bool):
    lot = get_object_or_404(_lots(), pk=pk)
    form = StockChangeForm(request.POST, scrap=scrap)
    if form.is_valid():
        data = form.cleaned_data
        service = services.stock_scrap if scrap else services.stock_adjust
        try:
            service(
                by=request.user, lot=lot, warehouse=data["warehouse"], quantity=data["quantity"], reason=data["reason"]
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            done = (
                _("%(quantity)s of lot %(lot)s scrapped in %(warehouse)s.")
                if scrap
                else _("Lot %(lot)s adjusted by %(quantity)s in %(warehouse)s.")
            )
            messages.success(
                request,
                done % {"quantity": data["quantity"], "lot": lot.lot_number, "warehouse": data["warehouse"].name},
            )
            return redirect("inventory:lot_detail", pk=lot.pk)
    warehouse = form.cleaned_data.get("warehouse")
    subject = f"{lot} @ {warehouse.name}" if warehouse else str(lot)
    code = "scrap" if scrap else "adjust"
    return _confirm_page(
        request,
        title=_("Scrap stock") if scrap else _("Adjust stock"),
        subject=subject,
        form=form,
        action_url=reverse(f"inventory:lot_{code}", args=[lot.pk]),
        back_url=reverse("inventory:lot_detail", args=[lot.pk]),
        button=_("Scrap") if scrap else _("Adjust"),
        button_class="btn-danger" if scrap else "btn-primary",
        testid=f"confirm-{code}",
    )


@require_POST
@require(can_manage_stock)
def lot_adjust_view(request, pk: int):
    return _stock_change(request, pk, scrap=False)


@require_POST
@require(can_manage_stock)
def lot_scrap_view(request, pk: int):
    return _stock_change(request, pk, scrap=True)


@require(can_manage_stock)
def receive_view(request):
    form = LotReceiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lot = services.lot_receive(
                by=request.user,
                product=data["product"],
                warehouse=data["warehouse"],
                lot_number=data["lot_number"],
                production_date=data["production_date"],
                expiry_date=data["expiry_date"],
                quantity=data["quantity"],
                origin=data["origin"],
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request,
                _("%(quantity)s received into lot %(lot)s (expires %(expiry)s).")
                % {"quantity": data["quantity"], "lot": lot.lot_number, "expiry": lot.expiry_date.isoformat()},
            )
            return redirect("inventory:lot_detail", pk=lot.pk)
    return render(request, "inventory/receive.html", {"form": form})


def _near_expiry_search(request) -> tuple[int | None, list[selectors.NearExpiry]]:
    """The report's horizon (``?days=``; each category's warning period without it) and its
    lots, read the same way by the page and by its export."""
    days = _int_param(request, "days", low=0, high=3650)
    return days, selectors.lots_near_expiry(days=days)


@require(can_view_stock)
def near_expiry_view(request):
    days, items = _near_expiry_search(request)
    page = paginate(request, items, per_page=50)
    rows = [
        {"item": item, "badge": selectors.EXPIRY_BADGE[selectors.expiry_colour(item.days_left, item.warning_days)]}
        for item in page
    ]
    return render(
        request,
        "inventory/near_expiry.html",
        {"page": page, "rows": rows, "days": days, "export_query": export_query(request)},
    )


NEAR_EXPIRY_COLUMNS = (
    (gettext_lazy("SKU"), lambda item: item.lot.product.sku),
    (gettext_lazy("Product"), lambda item: item.lot.product.display_name),
    (gettext_lazy("Lot number"), lambda item: item.lot.lot_number),
    (gettext_lazy("Expiry date"), lambda item: item.lot.expiry_date),
    (gettext_lazy("Days left"), lambda item: item.days_left),
    (gettext_lazy("Warning period (days)"), lambda item: item.warning_days),
    (gettext_lazy("On hand"), lambda item: item.on_hand),
    (gettext_lazy("Reserved"), lambda item: item.reserved),
    (gettext_lazy("Status"), lambda item: item.lot.get_status_display()),
)


@require(can_view_stock)
def near_expiry_export_view(request):
    days, items = _near_expiry_search(request)
    return capped_xlsx_response(
        request,
        title=_("Lots near expiry"),
        columns=NEAR_EXPIRY_COLUMNS,
        rows=items,
        filename="near-expiry",
        audit_action="inventory.near_expiry_exported",
        filters={} if days is None else {"days": days},
    )


@dataclass(frozen=True)
class WarehouseRow:
    warehouse: Warehouse
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


def _warehouse_rows(warehouses) -> list[WarehouseRow]:
    """Each warehouse with its stock totals (one grouped query for them all)."""
    totals = {row["warehouse__code"]: row for row in selectors.stock_by_warehouse()}
    rows = []
    for warehouse in warehouses:
        total = totals.get(warehouse.code, {})
        rows.append(
            WarehouseRow(warehouse, total.get("on_hand") or Decimal("0"), total.get("reserved") or Decimal("0"))
        )
    return rows


def _warehouses():
    return Warehouse.objects.order_by("code")


@require(can_view_stock)
def warehouses_view(request):
    page = paginate(request, _warehouses())
    return render(request, "inventory/warehouses.html", {"page": page, "rows": _warehouse_rows(page)})


WAREHOUSE_COLUMNS = (
    (gettext_lazy("Code"), lambda row: row.warehouse.code),
    (gettext_lazy("Name"), lambda row: row.warehouse.name),
    (gettext_lazy("Temperature zone"), lambda row: row.warehouse.get_zone_display()),
    (gettext_lazy("Address"), lambda row: row.warehouse.address),
    (gettext_lazy("Active"), lambda row: _("Active") if row.warehouse.is_active else _("Inactive")),
    (gettext_lazy("On hand"), lambda row: row.on_hand),
    (gettext_lazy("Reserved"), lambda row: row.reserved),
    (gettext_lazy("Available"), lambda row: row.available),
)


@require(can_view_stock)
def warehouses_export_view(request):
    return capped_xlsx_response(
        request,
        title=_("Warehouses"),
        columns=WAREHOUSE_COLUMNS,
        rows=_warehouse_rows(_warehouses()),
        filename="warehouses",
        audit_action="inventory.warehouses_exported",
        filters={},
    )


# --- capacity -------------------------------------------------------------------------------------


def _cell_class(cell: dict) -> str:
    if not cell["working"]:
        return "bg-secondary-lt"
    if cell["percent"] >= 100:
        return "bg-red-lt"
    if cell["percent"] >= 70:
        return "bg-orange-lt"
    return "bg-green-lt"


@require(can_view_stock)
def capacity_view(request):
    start = _date_param(request, "start") or timezone.localdate()
    calendar = selectors.capacity_calendar(start=start, days=CALENDAR_DAYS)
    for row in calendar["rows"]:
        for cell in row["cells"]:
            cell["css"] = _cell_class(cell)
    form = CapacityQueryForm(request.GET if "product" in request.GET else None)
    plan, refusal = None, None
    if form.is_bound and form.is_valid():
        try:
            slices = services.capacity_plan(
                product=form.cleaned_data["product"], quantity=form.cleaned_data["quantity"]
            )
        except DomainError as error:
            refusal = error.message
        else:
            plan = {
                "earliest": slices[-1].day,
                "slices": slices,
                "product": form.cleaned_data["product"],
                "quantity": form.cleaned_data["quantity"],
            }
    return render(
        request,
        "inventory/capacity.html",
        {
            "calendar": calendar,
            "start": start,
            "form": form,
            "plan": plan,
            "refusal": refusal,
            "previous_start": (start - timedelta(days=CALENDAR_DAYS)).isoformat(),
            "next_start": (start + timedelta(days=CALENDAR_DAYS)).isoformat(),
            "can_request": can_manage_capacity(request.user),
        },
    )


# --- production requests --------------------------------------------------------------------------

REQUEST_SORTS = {
    "ready_date": ("ready_date", "number"),
    "number": ("number",),
    "product": ("product__sku", "number"),
    "status": ("status", "ready_date"),
}


def _production_request_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = ProductionRequestFilterForm(request.GET)
    filters.is_valid()
    query, status = filters.cleaned_data.get("q", ""), filters.cleaned_data.get("status", "")
    sort, ordering = ordering_from(request, REQUEST_SORTS, "-ready_date")
    found = selectors.production_requests_search(query=query, status=status).order_by(*ordering)
    return filters, query, status, sort, found


@require(can_manage_capacity)
def production_requests_view(request):
    filters, query, _status, sort, found = _production_request_search(request)
    page = paginate(request, found)
    rows = []
    for item in page:
        row = {"request": item, "cancel_form": None}
        if item.status == ProductionRequest.Status.PLANNED:
            row.update(
                cancel_form=ReasonForm(auto_id=f"id_cancel{item.pk}_%s"),
                modal_id=f"modal-cancel-{item.pk}",
                subject=f"{item.number} · {item.product.sku} × {_quantity(item.quantity)}",
            )
        rows.append(row)
    return render(
        request,
        "inventory/production_requests.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "query": query,
            "sort": sort,
            "export_query": export_query(request),
        },
    )


PRODUCTION_REQUEST_COLUMNS = (
    (gettext_lazy("Number"), lambda item: item.number),
    (gettext_lazy("SKU"), lambda item: item.product.sku),
    (gettext_lazy("Product"), lambda item: item.product.display_name),
    (gettext_lazy("Quantity"), lambda item: item.quantity),
    (gettext_lazy("Ready on"), lambda item: item.ready_date),
    (gettext_lazy("For"), lambda item: item.reference),
    (gettext_lazy("Status"), lambda item: item.get_status_display()),
)


@require(can_manage_capacity)
def production_requests_export_view(request):
    _filters, query, status, sort, found = _production_request_search(request)
    used = {"q": query, "status": status, "sort": sort}
    return capped_xlsx_response(
        request,
        title=_("Production requests"),
        columns=PRODUCTION_REQUEST_COLUMNS,
        rows=found,
        filename="production-requests",
        audit_action="inventory.production_requests_exported",
        filters={key: value for key, value in used.items() if value},
    )


@require(can_manage_capacity)
def production_request_create_view(request):
    initial = {"product": request.GET.get("product"), "quantity": request.GET.get("quantity")}
    form = ProductionRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.production_request_create(
                by=request.user, product=data["product"], quantity=data["quantity"], reference=data["reference"]
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request,
                _("Production request %(number)s is planned, ready on %(date)s.")
                % {"number": created.number, "date": created.ready_date.isoformat()},
            )
            return redirect("inventory:production_requests")
    return render(request, "inventory/production_request_form.html", {"form": form})


@require_POST
@require(can_manage_capacity)
def production_request_cancel_view(request, pk: int):
    production = get_object_or_404(ProductionRequest.objects.select_related("product"), pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.production_request_cancel(by=request.user, request=production, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("Production request %(number)s is cancelled.") % {"number": production.number})
            return redirect("inventory:production_requests")
    return _confirm_page(
        request,
        title=_("Cancel the production request"),
        subject=f"{production.number} · {production.product}",
        form=form,
        action_url=reverse("inventory:production_request_cancel", args=[production.pk]),
        back_url=reverse("inventory:production_requests"),
        button=_("Cancel the request"),
        button_class="btn-danger",
        testid="confirm-cancel",
    )
