"""Reads of inventory: stock views, near-expiry lots, the capacity calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.catalog.models import Category, Product
from foodflow.catalog.services import category_expiry_warning_days
from foodflow.core.search import SearchHit, SearchProvider, register_provider

from .models import (
    CapacityBooking,
    LineCapacity,
    Lot,
    ProductionLine,
    ProductionRequest,
    Reservation,
    StockBalance,
    StockMove,
)
from .permissions import can_view_stock

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=3))


def stock_by_lot(
    *,
    query: str = "",
    warehouse_id: int | None = None,
    status: str = "",
    product_id: int | None = None,
    only_in_stock: bool = True,
) -> QuerySet[StockBalance]:
    balances = StockBalance.objects.select_related("lot", "lot__product", "warehouse")
    if only_in_stock:
        balances = balances.filter(on_hand__gt=0)
    if query:
        balances = balances.filter(
            Q(lot__lot_number__icontains=query)
            | Q(lot__product__sku__icontains=query)
            | Q(lot__product__name__icontains=query)
        )
    if warehouse_id:
        balances = balances.filter(warehouse_id=warehouse_id)
    if status:
        balances = balances.filter(lot__status=status)
    if product_id:
        balances = balances.filter(product_id=product_id)
    return balances.order_by("lot__expiry_date", "lot__product__sku", "warehouse__code")


def stock_by_product(*, query: str = "") -> QuerySet[Product]:
    """Per product: on hand, reserved and free (free counts only lots that may be shipped)."""
    today = timezone.localdate()
    shippable = Q(lots__status="available", lots__expiry_date__gt=today)
    products = Product.objects.select_related("category").annotate(
        on_hand=Coalesce(Sum("lots__balances__on_hand"), ZERO),
        reserved=Coalesce(Sum("lots__balances__reserved"), ZERO),
        free=Coalesce(Sum(F("lots__balances__on_hand") - F("lots__balances__reserved"), filter=shippable), ZERO),
    )
    if query:
        products = products.filter(Q(sku__icontains=query) | Q(name__icontains=query))
    return products.order_by("sku")


def stock_by_warehouse():
    return (
        StockBalance.objects.values("warehouse__code", "warehouse__name", "warehouse__zone")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        .order_by("warehouse__code")
    )


@dataclass(frozen=True)
class NearExpiry:
    lot: Lot
    days_left: int
    warning_days: int
    on_hand: Decimal
    reserved: Decimal


def lots_near_expiry(*, on: date | None = None, days: int | None = None) -> list[NearExpiry]:
    """Lots with stock that expire within their category's warning period (or ``days``)."""
    on = on or timezone.localdate()
    horizon = days if days is not None else max([c.expiry_warning_days or 0 for c in Category.objects.all()] + [30])
    lots = (
        Lot.objects.select_related("product", "product__category", "product__category__parent")
        .filter(status__in=("available", "on_hold"), expiry_date__lte=on + timedelta(days=horizon))
        .annotate(on_hand=Coalesce(Sum("balances__on_hand"), ZERO), reserved=Coalesce(Sum("balances__reserved"), ZERO))
        .filter(on_hand__gt=0)
        .order_by("expiry_date", "product__sku")
    )
    cache: dict = {}
    found = []
    for lot in lots:
        warning = days if days is not None else category_expiry_warning_days(lot.product.category, cache=cache)
        left = (lot.expiry_date - on).days
        if left <= warning:
            found.append(NearExpiry(lot, left, warning, lot.on_hand, lot.reserved))
    return found


def expiry_colour(days_left: int, warning_days: int) -> str:
    """The colour a stock view gives a lot: red when expired or in the last third of the
    warning period, orange within it, green otherwise."""
    if days_left <= max(warning_days // 3, 0):
        return "red"
    if days_left <= warning_days:
        return "orange"
    return "green"


EXPIRY_BADGE = {"red": "bg-red-lt", "orange": "bg-orange-lt", "green": "bg-green-lt"}


@dataclass(frozen=True)
class Expiry:
    """How close a lot is to its expiry date, as the stock views colour it."""

    days_left: int
    warning_days: int
    colour: str

    @property
    def badge(self) -> str:
        return EXPIRY_BADGE[self.colour]


def expiry_of(lot: Lot, *, today: date, cache: dict) -> Expiry:
    """``cache`` is shared by the rows of one page, so each category is looked up once."""
    warning = category_expiry_warning_days(lot.product.category, cache=cache)
    left = (lot.expiry_date - today).days
    return Expiry(left, warning, expiry_colour(left, warning))


def lots_with_product() -> QuerySet[Lot]:
    return Lot.objects.select_related("product", "product__category", "product__category__parent")


def lot_balances(lot: Lot) -> QuerySet[StockBalance]:
    return lot.balances.select_related("warehouse").order_by("warehouse__code")


def lot_reservations_active(lot: Lot) -> QuerySet[Reservation]:
    return (
        Reservation.objects.filter(lot=lot, status=Reservation.Status.ACTIVE)
        .select_related("warehouse", "owner")
        .order_by("created_at", "id")
    )


def lot_moves(lot: Lot) -> QuerySet[StockMove]:
    return StockMove.objects.filter(lot=lot).select_related("warehouse", "by").order_by("-at", "-id")


def production_requests_search(*, query: str = "", status: str = "") -> QuerySet[ProductionRequest]:
    found = ProductionRequest.objects.select_related("product")
    if query:
        found = found.filter(
            Q(number__icontains=query)
            | Q(reference__icontains=query)
            | Q(product__sku__icontains=query)
            | Q(product__name__icontains=query)
        )
    if status:
        found = found.filter(status=status)
    return found


def capacity_calendar(*, start: date, days: int = 14) -> dict:
    """Per line and day: booked share of the day (0–1) and the requests behind it."""
    end = start + timedelta(days=days - 1)
    lines = list(ProductionLine.objects.filter(is_active=True).prefetch_related("capacities__family"))
    capacities = {(c.line_id, c.family_id): c.daily_quantity for c in LineCapacity.objects.all()}
    used: dict = {}
    for booking in CapacityBooking.objects.select_related("request__product").filter(
        day__gte=start, day__lte=end, request__status=ProductionRequest.Status.PLANNED
    ):
        key = (booking.line_id, booking.day)
        capacity = capacities.get((booking.line_id, booking.request.product.family_id))
        if capacity:
            used[key] = used.get(key, Decimal("0")) + booking.quantity / capacity
    day_list = [start + timedelta(days=i) for i in range(days)]
    rows = []
    for line in lines:
        cells = []
        for day in day_list:
            working = line.works_weekends or day.weekday() < 5
            share = used.get((line.pk, day), Decimal("0"))
            cells.append(
                {
                    "day": day,
                    "working": working,
                    "share": min(share, Decimal(1)),
                    "percent": int((share * 100).quantize(Decimal("1"))),
                }
            )
        rows.append({"line": line, "cells": cells})
    return {"days": day_list, "rows": rows}


def _search_lots(user, query: str, limit: int) -> list[SearchHit]:
    if not can_view_stock(user):
        return []
    lots = Lot.objects.select_related("product").filter(lot_number__icontains=query).order_by("expiry_date")[:limit]
    return [
        SearchHit(
            title=f"{lot.lot_number} · {lot.product.display_name}",
            subtitle=f"{lot.get_status_display()} · {lot.expiry_date:%Y-%m-%d}",
            url=reverse("inventory:lot_detail", args=[lot.pk]),
            icon="ti-box",
        )
        for lot in lots
    ]


register_provider(SearchProvider(code="lots", label=_("Lots"), search=_search_lots))
