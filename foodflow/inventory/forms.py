"""Forms of the inventory pages. They only parse input: every rule (temperature zone, stock
never below reserved, lot transitions) is checked by ``inventory.services``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from foodflow.catalog.models import Product
from foodflow.core.forms import StyledFormMixin

from .models import Lot, ProductionRequest, Warehouse
from .workflows import LOT_FLOW

QUANTITY = {"max_digits": 14, "decimal_places": 3}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.sku} {obj.display_name} · {obj.specification} · {obj.get_storage_display()}"


class WarehouseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code}) · {obj.get_zone_display()}"


def active_products():
    return Product.objects.filter(status=Product.Status.ACTIVE).order_by("sku")


class StockFilterForm(StyledFormMixin, forms.Form):
    """The filters of the stock page (read from the query string; wrong values are ignored)."""

    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        required=False,
        empty_label=_("All warehouses"),
    )
    status = forms.ChoiceField(
        label=_("Lot status"), required=False, choices=[("", _("All statuses")), *LOT_FLOW.choices()]
    )

    def value(self, name: str):
        return self.cleaned_data.get(name) if self.is_valid() else self.fields[name].initial


class LotReceiveForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products())
    warehouse = WarehouseChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.filter(is_active=True))
    lot_number = forms.CharField(label=_("Lot number"), max_length=40)
    production_date = forms.DateField(label=_("Production date"), widget=DATE)
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        widget=DATE,
        required=False,
        help_text=_("Leave empty to compute it from the product's shelf life."),
    )
    quantity = forms.DecimalField(label=_("Quantity (sales units)"), min_value=Decimal("0.001"), **QUANTITY)
    origin = forms.CharField(
        label=_("Origin"), max_length=120, required=False, help_text=Lot._meta.get_field("origin").help_text
    )


class ReasonForm(StyledFormMixin, forms.Form):
    """The reason asked for by a confirmation (hold, recall, cancel)."""

    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, reason_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class StockChangeForm(StyledFormMixin, forms.Form):
    """An adjustment (signed) or a scrap (positive) of one lot in one warehouse."""

    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.all(), widget=forms.HiddenInput)
    quantity = forms.DecimalField(label=_("Quantity"), **QUANTITY)
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, scrap: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].help_text = (
            _("The quantity taken out of stock and destroyed.")
            if scrap
            else _("Positive to add, negative to remove (a count correction).")
        )


class CapacityQueryForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products())
    quantity = forms.DecimalField(label=_("Quantity (sales units)"), min_value=Decimal("0.001"), **QUANTITY)


class ProductionRequestForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products())
    quantity = forms.DecimalField(label=_("Quantity (sales units)"), min_value=Decimal("0.001"), **QUANTITY)
    reference = forms.CharField(
        label=_("For"),
        max_length=64,
        required=False,
        help_text=_("The order or plan the production is for, e.g. SO-2026-000123."),
    )


class ProductionRequestFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ProductionRequest.Status.choices]
    )
