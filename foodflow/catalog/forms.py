"""Forms of the catalog pages. They only parse input; the rules (EAN-13 check digit, VAT rates,
price list targets) are checked by the services, whose field errors the views put back here."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.core.forms import StyledFormMixin
from foodflow.core.vocab import Channel, Storage, Tier

from .models import Allergen, Brand, Category, PriceList, Product, ProductFamily

VAT_CHOICES = [
    ("0.13", pgettext_lazy("VAT rate", "13 %")),
    ("0.09", pgettext_lazy("VAT rate", "9 %")),
    ("0.06", pgettext_lazy("VAT rate", "6 %")),
    ("0.00", pgettext_lazy("VAT rate", "0 %")),
]
MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 3}
INDENT = "\u00a0" * 4  # a select collapses plain spaces


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CategoryChoiceField(forms.ModelChoiceField):
    """The category tree as one select, each name indented by its depth."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Category.objects.order_by("path"), **kwargs)

    def label_from_instance(self, obj: Category) -> str:
        return f"{INDENT * obj.depth}{obj.display_name}"


class ProductChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Product.objects.order_by("sku"), **kwargs)


class FilterFormMixin(StyledFormMixin):
    """A GET form of a list page: its fields stand in one row without labels, so each one
    carries its label for screen readers; a value that does not parse is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


class ProductFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("SKU, name, barcode, specification, brand")}),
    )
    category = CategoryChoiceField(label=_("Category"), required=False, empty_label=_("All categories"))
    brand = forms.ModelChoiceField(
        label=_("Brand"), queryset=Brand.objects.order_by("name"), required=False, empty_label=_("All brands")
    )
    storage = forms.ChoiceField(
        label=_("Storage condition"), required=False, choices=[("", _("All storage conditions")), *Storage.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Product.Status.choices]
    )


class PriceListFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Code or name")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *PriceList.Kind.choices])
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("Active and inactive")), ("yes", _("Active only")), ("no", _("Inactive only"))],
    )


class ProductForm(StyledFormMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=120)
    name_en = forms.CharField(label=_("English name"), max_length=120, required=False)
    specification = forms.CharField(label=_("Specification"), max_length=64, help_text=_("For example 250ml×24"))
    category = CategoryChoiceField(label=_("Category"))
    brand = forms.CharField(
        label=_("Brand"), max_length=64, required=False, help_text=_("A new brand name creates the brand.")
    )
    family = forms.ModelChoiceField(
        label=_("Product family"), queryset=ProductFamily.objects.order_by("code"), required=False
    )
    sales_unit = forms.CharField(label=_("Sales unit"), max_length=16, initial="箱")
    base_unit = forms.CharField(label=_("Base unit"), max_length=16, initial="瓶")
    units_per_sales_unit = forms.IntegerField(label=_("Base units per sales unit"), initial=1)
    barcode = forms.CharField(label=_("EAN-13 barcode"), max_length=13, required=False)
    storage = forms.ChoiceField(label=_("Storage condition"), choices=Storage.choices, initial=Storage.AMBIENT)
    shelf_life_days = forms.IntegerField(label=_("Shelf life (days)"))
    allergens = forms.MultipleChoiceField(
        label=_("Allergens"), choices=Allergen.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    allergens_other = forms.CharField(label=_("Other allergens"), max_length=200, required=False)
    quality_standard = forms.CharField(
        label=_("Quality standard"), max_length=64, required=False, help_text=_("For example GB 25190")
    )
    vat_rate = forms.TypedChoiceField(label=_("VAT rate"), choices=VAT_CHOICES, coerce=Decimal, initial="0.13")
    floor_price = forms.DecimalField(
        label=_("Floor price"),
        required=False,
        **MONEY,
        help_text=_("Tax-inclusive price per sales unit below which a sale needs approval."),
    )
    standard_cost = forms.DecimalField(
        label=_("Standard cost"),
        required=False,
        **MONEY,
        help_text=_("Cost per sales unit (tax incl.), for gross margin."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=Product.Status.choices, initial=Product.Status.ACTIVE)

    def __init__(self, *args, product: Product | None = None, may_set_floor_price: bool = False, **kwargs):
        if product is not None:
            kwargs.setdefault("initial", self.initial_of(product))
        super().__init__(*args, **kwargs)
        if product is not None:
            # The SKU is the product's identity: other documents and imports refer to it.
            del self.fields["sku"]
        if not may_set_floor_price:
            del self.fields["floor_price"]
            del self.fields["standard_cost"]

    @staticmethod
    def initial_of(product: Product) -> dict:
        return {
            "name": product.name,
            "name_en": product.name_en,
            "specification": product.specification,
            "category": product.category_id,
            "brand": product.brand.name if product.brand else "",
            "family": product.family_id,
            "sales_unit": product.sales_unit,
            "base_unit": product.base_unit,
            "units_per_sales_unit": product.units_per_sales_unit,
            "barcode": product.barcode,
            "storage": product.storage,
            "shelf_life_days": product.shelf_life_days,
            "allergens": list(product.allergens),
            "allergens_other": product.allergens_other,
            "quality_standard": product.quality_standard,
            "vat_rate": f"{product.vat_rate:.2f}",
            "floor_price": product.floor_price,
            "standard_cost": product.standard_cost,
            "status": product.status,
        }

    def service_fields(self) -> dict:
        """The cleaned values as the product services take them (the brand stays a name)."""
        data = dict(self.cleaned_data)
        data.pop("sku", None)
        data["allergens"] = list(data["allergens"])
        return data


class CategoryForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=64)
    name_en = forms.CharField(label=_("English name"), max_length=64, required=False)
    parent = CategoryChoiceField(label=_("Parent category"), required=False)
    expiry_warning_days = forms.IntegerField(
        label=_("Expiry warning (days)"),
        min_value=0,
        max_value=32767,
        required=False,
        help_text=_("Empty: the parent category's setting (30 days at the top)."),
    )


class PriceListForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PriceList.Kind.choices)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", "—"), *Channel.choices],
        required=False,
        help_text=_("For a channel list only."),
    )
    tier = forms.ChoiceField(
        label=_("Customer tier"),
        choices=[("", "—"), *Tier.choices],
        required=False,
        help_text=_("For a customer tier list only."),
    )
    customer_id = forms.IntegerField(
        label=_("Customer ID"), min_value=1, required=False, help_text=_("For a single customer list only.")
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput, initial=timezone.localdate)
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput, required=False, help_text=_("Empty: open-ended."))


class PriceSetForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"))
    min_quantity = forms.DecimalField(
        label=_("From quantity"),
        min_value=Decimal(0),
        initial=Decimal(0),
        **QUANTITY,
        help_text=_("The price holds from this quantity (in sales units) on."),
    )
    unit_price = forms.DecimalField(label=_("Unit price (tax incl.)"), min_value=Decimal(0), **MONEY)


class PriceCheckForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.001"), initial=Decimal(1), **QUANTITY)
    date = forms.DateField(
        label=_("Date"), widget=DateInput, initial=timezone.localdate, required=False, help_text=_("Empty: today.")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *Channel.choices], required=False)
    tier = forms.ChoiceField(label=_("Customer tier"), choices=[("", "—"), *Tier.choices], required=False)
    customer_id = forms.IntegerField(label=_("Customer ID"), min_value=1, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price to check (tax incl.)"),
        min_value=Decimal(0),
        required=False,
        **MONEY,
        help_text=_("Optional: checks this price against the price policy."),
    )
    discount = forms.DecimalField(
        label=_("Discount"),
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
        max_digits=5,
        decimal_places=4,
        help_text=_("A fraction: 0.05 is 5 %."),
    )
