"""Warehouses, lots, the stock ledger and its balances, production capacity."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.catalog.models import Product, ProductFamily
from foodflow.core.models import TrackedModel
from foodflow.core.vocab import Channel, Storage

from .workflows import LOT_FLOW

QUANTITY = {"max_digits": 14, "decimal_places": 3}


class Warehouse(TrackedModel):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    zone = models.CharField(_("temperature zone"), max_length=16, choices=Storage.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")

    def __str__(self):
        return self.name


class Lot(TrackedModel):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=40)
    production_date = models.DateField(_("production date"))
    expiry_date = models.DateField(_("expiry date"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=LOT_FLOW.choices(), default=LOT_FLOW.initial)
    origin = models.CharField(
        _("origin"), max_length=120, blank=True, help_text=_("Production line or supplier the lot came from.")
    )
    hold_reason = models.CharField(_("hold reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["product", "expiry_date", "lot_number"]
        verbose_name = _("lot")
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="uniq_lot_number_per_product"),
            models.CheckConstraint(
                name="lot_expires_after_production", condition=models.Q(expiry_date__gt=models.F("production_date"))
            ),
        ]
        indexes = [models.Index(fields=["product", "status", "expiry_date"], name="lot_fefo_idx")]

    def __str__(self):
        return f"{self.product.sku} / {self.lot_number}"

    @property
    def shelf_life_days(self) -> int:
        return (self.expiry_date - self.production_date).days


class StockBalance(models.Model):
    """On hand and reserved of one lot in one warehouse. Only ``inventory.services`` writes it,
    under a row lock, together with the move that explains the change; the constraints are the
    last line of defence: nothing may ever reserve or issue more than is there."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="balances")
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="balances"
    )
    # Copied from the lot, whose product and dates never change after receipt, so that FEFO
    # filters and orders one table in SQL, shelf-life percentage included (see allocation.py).
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    expiry_date = models.DateField(_("expiry date"))
    expiry_day = models.IntegerField(editable=False)  # expiry_date.toordinal()
    shelf_life_days = models.PositiveIntegerField(editable=False)
    on_hand = models.DecimalField(_("on hand"), default=Decimal("0"), **QUANTITY)
    reserved = models.DecimalField(_("reserved"), default=Decimal("0"), **QUANTITY)

    class Meta:
        verbose_name = _("stock balance")
        constraints = [
            models.UniqueConstraint(fields=["lot", "warehouse"], name="uniq_balance_lot_warehouse"),
            models.CheckConstraint(name="balance_on_hand_not_negative", condition=models.Q(on_hand__gte=0)),
            models.CheckConstraint(name="balance_reserved_not_negative", condition=models.Q(reserved__gte=0)),
            models.CheckConstraint(
                name="balance_reserved_within_on_hand", condition=models.Q(reserved__lte=models.F("on_hand"))
            ),
        ]
        indexes = [models.Index(fields=["product", "expiry_date"], name="balance_fefo_idx")]

    def __str__(self):
        return f"{self.lot} @ {self.warehouse.code}: {self.on_hand} ({self.reserved} reserved)"

    @classmethod
    def for_lot(cls, lot: Lot, warehouse: Warehouse, **values) -> StockBalance:
        """A new (unsaved) balance carrying the lot's facts."""
        return cls(
            lot=lot,
            warehouse=warehouse,
            product_id=lot.product_id,
            expiry_date=lot.expiry_date,
            expiry_day=lot.expiry_date.toordinal(),
            shelf_life_days=lot.shelf_life_days,
            **values,
        )

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class StockMove(models.Model):
    class Kind(models.TextChoices):
        RECEIPT = "receipt", pgettext_lazy("stock move", "Receipt")
        RESERVATION = "reservation", pgettext_lazy("stock move", "Reservation")
        RELEASE = "release", pgettext_lazy("stock move", "Release")
        ISSUE = "issue", pgettext_lazy("stock move", "Issue")
        RETURN = "return", pgettext_lazy("stock move", "Return")
        ADJUSTMENT = "adjustment", pgettext_lazy("stock move", "Adjustment")
        SCRAP = "scrap", pgettext_lazy("stock move", "Scrap")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="moves")
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="moves"
    )
    # the move's effect on the two balances (signed)
    on_hand_change = models.DecimalField(_("on hand change"), **QUANTITY)
    reserved_change = models.DecimalField(_("reserved change"), **QUANTITY)
    reservation = models.ForeignKey(
        "Reservation",
        verbose_name=_("reservation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
    )
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("stock move")
        indexes = [models.Index(fields=["lot", "warehouse"], name="move_lot_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.lot} {self.on_hand_change}/{self.reserved_change}"


class Reservation(TrackedModel):
    """Stock held for a document (an order line, a replacement). ``reference`` names the
    document ("SO-2026-000123/1"): the sales domain builds on this one and is not imported."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("reservation status", "Active")
        RELEASED = "released", pgettext_lazy("reservation status", "Released")
        ISSUED = "issued", pgettext_lazy("reservation status", "Issued")

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="reservations")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    open_quantity = models.DecimalField(_("still reserved"), **QUANTITY)
    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reservation")
        constraints = [
            models.CheckConstraint(
                name="reservation_open_within_quantity",
                condition=models.Q(open_quantity__gte=0, open_quantity__lte=models.F("quantity")),
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.lot} × {self.open_quantity}"


class ShelfLifeRule(models.Model):
    """The default minimum remaining shelf life a channel's customers accept (a customer's own
    requirement, kept in the CRM, overrides it)."""

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, unique=True)
    min_days = models.PositiveIntegerField(_("minimum days left"), null=True, blank=True)
    min_percent = models.PositiveSmallIntegerField(_("minimum share of shelf life left (%)"), null=True, blank=True)

    class Meta:
        ordering = ["channel"]
        verbose_name = _("shelf-life rule")

    def __str__(self):
        return f"{self.channel}: {self.min_days} d / {self.min_percent} %"


class ProductionLine(TrackedModel):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    works_weekends = models.BooleanField(_("works on weekends"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("production line")

    def __str__(self):
        return self.name


class LineCapacity(models.Model):
    line = models.ForeignKey(
        ProductionLine, verbose_name=_("line"), on_delete=models.CASCADE, related_name="capacities"
    )
    family = models.ForeignKey(
        ProductFamily, verbose_name=_("product family"), on_delete=models.PROTECT, related_name="capacities"
    )
    daily_quantity = models.DecimalField(_("daily capacity (sales units)"), **QUANTITY)

    class Meta:
        verbose_name = _("line capacity")
        constraints = [models.UniqueConstraint(fields=["line", "family"], name="uniq_line_family")]

    def __str__(self):
        return f"{self.line.code}/{self.family.code}: {self.daily_quantity}"


class ProductionRequest(TrackedModel):
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("production request status", "Planned")
        DONE = "done", pgettext_lazy("production request status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("production request status", "Cancelled")

    number = models.CharField(_("number"), max_length=32, unique=True)
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    ready_date = models.DateField(_("ready on"))
    reference = models.CharField(_("for"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)

    class Meta:
        ordering = ["ready_date", "number"]
        verbose_name = _("production request")

    def __str__(self):
        return self.number


class CapacityBooking(models.Model):
    """Capacity of one line on one day taken by a production request."""

    request = models.ForeignKey(ProductionRequest, on_delete=models.CASCADE, related_name="bookings")
    line = models.ForeignKey(ProductionLine, on_delete=models.PROTECT, related_name="bookings")
    day = models.DateField(_("day"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        ordering = ["day", "line"]
        indexes = [models.Index(fields=["line", "day"], name="booking_line_day_idx")]

    def __str__(self):
        return f"{self.line.code} {self.day}: {self.quantity}"


class ExpiryAlert(models.Model):
    """One near-expiry warning per lot and day, so the daily task warns once however often it runs."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lot", "day"], name="uniq_expiry_alert")]

    def __str__(self):
        return f"{self.lot} {self.day}"
