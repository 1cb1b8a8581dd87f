"""Pages of the catalog: products, categories, price lists and the price check, and the Excel
exports of its lists. They parse input and call the catalog's services, selectors and pricing;
the rules live there."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.money import net_of_tax, tax_included
from foodflow.core.panels import panels_for
from foodflow.core.views import paginate, require

from . import pricing, selectors, services
from .forms import (
    CategoryForm,
    PriceCheckForm,
    PriceListFilterForm,
    PriceListForm,
    PriceSetForm,
    ProductFilterForm,
    ProductForm,
)
from .models import PriceList, PriceListItem, Product
from .permissions import can_manage_prices, can_manage_products, can_view_products

PRICE_LIST_SORTS = {"code", "-code", "name", "-name", "valid_from", "-valid_from"}


# --- Excel exports of lists --------------------------------------------------------------------
# Shared by the list exports of catalog, inventory and sales (the apps above it); its place is
# ``foodflow.core.exports``, next to ``xlsx_response``.


# A sheet holds about a million rows, but a file that size is of no use to anyone and takes the
# server's memory: past this many rows the export stops and says so (sheet title and audit entry).
@dataclass(frozen=True)
class PriceRow:
    """A tax-inclusive price with its tax-exclusive part and its tax, for a table row."""

    item: PriceListItem
    net_of_tax: Decimal
    tax: Decimal

    @classmethod
    def of(cls, item: PriceListItem, *, vat_rate) -> PriceRow:
        return cls(
            item=item,
            net_of_tax=net_of_tax(amount=item.unit_price, rate=vat_rate),
            tax=tax_included(amount=item.unit_price, rate=vat_rate),
        )


def _product_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = ProductFilterForm(request.GET)
    values = filters.values()
    sort = request.GET.get("sort", "sku")
    sort = sort if sort in selectors.PRODUCT_SORTS else "sku"
    products = selectors.products_list(
        query=(values["q"] or "").strip(),
        category=values["category"],
        brand_id=values["brand"].pk if values["brand"] else None,
        storage=values["storage"] or "",
        status=values["status"] or "",
        sort=sort,
    )
    return filters, values, sort, products


def _filters_used(values: dict, sort: str) -> dict:
    """The filters of an export as its audit entry records them (an object by its key)."""
    used = {key: str(getattr(value, "pk", value)) for key, value in values.items() if value not in (None, "")}
    return {**used, "sort": sort} if sort else used


@require(can_view_products)
def product_list_view(request):
    filters, values, sort, products = _product_search(request)
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": paginate(request, products),
            "filters": filters,
            "filtered": any(values.values()),
            "query": values["q"] or "",
            "sort": sort,
            "can_manage": can_manage_products(request.user),
            "export_query": export_query(request),
        },
    )


PRODUCT_EXPORT_COLUMNS = (
    (gettext_lazy("SKU"), lambda product: product.sku),
    (gettext_lazy("Name"), lambda product: product.name),
    (gettext_lazy("English name"), lambda product: product.name_en),
    (gettext_lazy("Brand"), lambda product: product.brand.name if product.brand else ""),
    (gettext_lazy("Specification"), lambda product: product.specification),
    (gettext_lazy("Category"), lambda product: product.category.display_name),
    (gettext_lazy("Storage condition"), lambda product: product.get_storage_display()),
    (gettext_lazy("Shelf life (days)"), lambda product: product.shelf_life_days),
    (gettext_lazy("VAT rate"), lambda product: product.vat_rate),
    (gettext_lazy("Sales unit"), lambda product: product.sales_unit),
    (gettext_lazy("Base units per sales unit"), lambda product: product.units_per_sales_unit),
    (gettext_lazy("EAN-13 barcode"), lambda product: product.barcode),
    (gettext_lazy("Status"), lambda product: product.get_status_display()),
)


@require(can_view_products)
def product_export_view(request):
    _filters, values, sort, products = _product_search(request)
    return capped_xlsx_response(
        request,
        title=_("Products"),
        columns=PRODUCT_EXPORT_COLUMNS,
        rows=products,
        filename="products",
        audit_action="catalog.products_exported",
        filters=_filters_used(values, sort),
    )


@require(can_view_products)
def product_detail_view(request, pk: int):
    product = get_object_or_404(Product.objects.select_related("category", "brand", "family"), pk=pk)
    items = selectors.product_prices(product)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "prices": [PriceRow.of(item, vat_rate=product.vat_rate) for item in items],
            "panels": panels_for(request, product),
            "can_manage": can_manage_products(request.user),
            "can_manage_prices": can_manage_prices(request.user),
        },
    )


@require(can_manage_products)
def product_edit_view(request, pk: int | None = None):
    product = get_object_or_404(Product.objects.select_related("brand"), pk=pk) if pk else None
    form = ProductForm(request.POST or None, product=product, may_set_floor_price=can_manage_prices(request.user))
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            if product is None:
                saved = services.product_create(by=request.user, sku=form.cleaned_data["sku"], **fields)
            else:
                saved = services.product_update(by=request.user, product=product, **fields)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The product %(product)s was saved.") % {"product": saved})
            return redirect("catalog:product_detail", pk=saved.pk)
    return render(request, "catalog/product_form.html", {"form": form, "product": product})


@require(can_view_products)
def category_list_view(request):
    can_manage = can_manage_products(request.user)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    form = CategoryForm(request.POST or None) if can_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            category = services.category_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The category %(name)s was created.") % {"name": category.display_name})
            return redirect("catalog:categories")
    categories = selectors.categories_tree()
    # Every ancestor is in the list already: link them so that the inherited setting is found
    # without a query per level.
    by_pk = {category.pk: category for category in categories}
    for category in categories:
        if category.parent_id:
            category.parent = by_pk[category.parent_id]
    cache: dict = {}
    rows = [
        (category, services.category_expiry_warning_days(category, cache=cache), range(category.depth))
        for category in categories
    ]
    return render(request, "catalog/category_list.html", {"rows": rows, "form": form})


def _price_list_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = PriceListFilterForm(request.GET)
    values = filters.values()
    sort = request.GET.get("sort", "")
    price_lists = selectors.price_lists_search(
        query=values["q"] or "",
        kind=values["kind"] or "",
        active={"yes": True, "no": False}.get(values["active"] or ""),
    )
    if sort in PRICE_LIST_SORTS:
        price_lists = price_lists.order_by(sort, "pk")
    else:
        sort = ""
    return filters, values, sort, price_lists


@require(can_view_products)
def price_list_list_view(request):
    filters, values, sort, price_lists = _price_list_search(request)
    return render(
        request,
        "catalog/price_list_list.html",
        {
            "page": paginate(request, price_lists),
            "filters": filters,
            "filtered": any(values.values()),
            "query": values["q"] or "",
            "sort": sort,
            "can_manage": can_manage_prices(request.user),
            "export_query": export_query(request),
        },
    )


def _price_list_target(price_list: PriceList) -> str:
    """Whom the list is for, as its page says it (catalog/_price_list_target.html)."""
    if price_list.kind == PriceList.Kind.CHANNEL:
        return price_list.get_channel_display()
    if price_list.kind == PriceList.Kind.TIER:
        return price_list.get_tier_display()
    if price_list.kind == PriceList.Kind.CUSTOMER:
        return _("Customer #%(id)s") % {"id": price_list.customer_id}
    return _("Everyone")


PRICE_LIST_EXPORT_COLUMNS = (
    (gettext_lazy("Code"), lambda price_list: price_list.code),
    (gettext_lazy("Name"), lambda price_list: price_list.name),
    (gettext_lazy("Kind"), lambda price_list: price_list.get_kind_display()),
    (gettext_lazy("Target"), _price_list_target),
    (gettext_lazy("Valid from"), lambda price_list: price_list.valid_from),
    (gettext_lazy("Valid to"), lambda price_list: price_list.valid_to),
    (gettext_lazy("Prices"), lambda price_list: price_list.item_count),
    (gettext_lazy("Active"), lambda price_list: _("Active") if price_list.is_active else _("Inactive")),
)


@require(can_view_products)
def price_list_export_view(request):
    _filters, values, sort, price_lists = _price_list_search(request)
    return capped_xlsx_response(
        request,
        title=_("Price lists"),
        columns=PRICE_LIST_EXPORT_COLUMNS,
        rows=price_lists,
        filename="price-lists",
        audit_action="catalog.price_lists_exported",
        filters=_filters_used(values, sort),
    )


@require(can_manage_prices)
def price_list_create_view(request):
    form = PriceListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.price_list_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The price list %(name)s was created.") % {"name": price_list.name})
            return redirect("catalog:price_list_detail", pk=price_list.pk)
    return render(request, "catalog/price_list_form.html", {"form": form})


@require(can_view_products)
def price_list_detail_view(request, pk: int):
    price_list = get_object_or_404(PriceList, pk=pk)
    can_manage = can_manage_prices(request.user)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    form = PriceSetForm(request.POST or None) if can_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.price_set(
                by=request.user,
                price_list=price_list,
                product=data["product"],
                unit_price=data["unit_price"],
                min_quantity=data["min_quantity"],
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request,
                _("The price of %(product)s was set to %(price)s.")
                % {"product": item.product, "price": item.unit_price},
            )
            return redirect("catalog:price_list_detail", pk=price_list.pk)
    page = paginate(request, selectors.price_list_items(price_list), per_page=50)
    return render(
        request,
        "catalog/price_list_detail.html",
        {
            "price_list": price_list,
            "page": page,
            "rows": [PriceRow.of(item, vat_rate=item.product.vat_rate) for item in page],
            "form": form,
            "can_manage": can_manage,
        },
    )


PRICE_EXPORT_COLUMNS = (
    (gettext_lazy("SKU"), lambda item: item.product.sku),
    (gettext_lazy("Product"), lambda item: item.product.display_name),
    (gettext_lazy("Specification"), lambda item: item.product.specification),
    (gettext_lazy("From quantity"), lambda item: item.min_quantity),
    (gettext_lazy("Sales unit"), lambda item: item.product.sales_unit),
    (gettext_lazy("Unit price (tax incl.)"), lambda item: item.unit_price),
    (gettext_lazy("Net of tax"), lambda item: net_of_tax(amount=item.unit_price, rate=item.product.vat_rate)),
    (gettext_lazy("Tax"), lambda item: tax_included(amount=item.unit_price, rate=item.product.vat_rate)),
)


@require(can_view_products)
def price_list_items_export_view(request, pk: int):
    """Every price of one list (all its pages), with the tax split its page shows."""
    price_list = get_object_or_404(PriceList, pk=pk)
    items = selectors.price_list_items(price_list)
    return capped_xlsx_response(
        request,
        title=price_list.code,
        columns=PRICE_EXPORT_COLUMNS,
        rows=items,
        filename=f"price-list-{price_list.code}",
        audit_action="catalog.price_list_items_exported",
        filters={"price_list": price_list.code},
    )


@require_POST
@require(can_manage_prices)
def price_remove_view(request, item_pk: int):
    item = get_object_or_404(PriceListItem.objects.select_related("price_list", "product"), pk=item_pk)
    try:
        services.price_remove(by=request.user, item=item)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The price of %(product)s from %(quantity)s was removed.")
            % {"product": item.product, "quantity": f"{item.min_quantity.normalize():f}"},
        )
    return redirect("catalog:price_list_detail", pk=item.price_list_id)


@require(can_view_products)
def price_check_view(request):
    # The form is submitted by GET so that a check can be bookmarked and shared; a link that
    # names only the product (from its page) fills the form without checking yet.
    if "quantity" in request.GET:
        form = PriceCheckForm(request.GET)
    else:
        form = PriceCheckForm(initial={"product": request.GET.get("product")})
    context = {"form": form, "checked": False}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        context["checked"] = True
        try:
            resolution = pricing.price_resolve(
                product=data["product"],
                quantity=data["quantity"],
                on=data["date"] or timezone.localdate(),
                channel=data["channel"],
                tier=data["tier"],
                customer_id=data["customer_id"],
            )
        except DomainError as error:
            context["not_found"] = error.message
        else:
            vat_rate = data["product"].vat_rate
            context.update(
                resolution=resolution,
                amount_net_of_tax=net_of_tax(amount=resolution.amount, rate=vat_rate),
                amount_tax=tax_included(amount=resolution.amount, rate=vat_rate),
            )
        if data["unit_price"] is not None:
            context["violations"] = pricing.price_policy_check(
                user=request.user,
                product=data["product"],
                unit_price=data["unit_price"],
                discount=data["discount"] or Decimal(0),
            )
    return render(request, "catalog/price_check.html", context)
