"""Reads of the catalog."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodflow.core.search import SearchHit, SearchProvider, register_provider
from foodflow.core.tree import subtree_q

from .models import Category, PriceList, PriceListItem, Product
from .permissions import can_view_products

PRODUCT_SORTS = {"sku", "-sku", "name", "-name", "shelf_life_days", "-shelf_life_days", "category__path"}


def products_list(
    *,
    query: str = "",
    category: Category | None = None,
    brand_id: int | None = None,
    storage: str = "",
    status: str = "",
    sort: str = "sku",
) -> QuerySet[Product]:
    products = Product.objects.select_related("category", "brand", "family")
    if query:
        products = products.filter(
            Q(sku__icontains=query)
            | Q(name__icontains=query)
            | Q(name_en__icontains=query)
            | Q(barcode=query)
            | Q(specification__icontains=query)
            | Q(brand__name__icontains=query)
        )
    if category is not None:
        products = products.filter(subtree_q(category, field="category"))
    if brand_id:
        products = products.filter(brand_id=brand_id)
    if storage:
        products = products.filter(storage=storage)
    if status:
        products = products.filter(status=status)
    return products.order_by(sort if sort in PRODUCT_SORTS else "sku", "pk")


def categories_tree() -> list[Category]:
    return list(Category.objects.select_related("parent").order_by("path"))


def price_lists_list() -> QuerySet[PriceList]:
    return PriceList.objects.order_by("kind", "-valid_from", "code")


def price_lists_search(*, query: str = "", kind: str = "", active: bool | None = None) -> QuerySet[PriceList]:
    price_lists = price_lists_list().annotate(item_count=Count("items"))
    if query:
        price_lists = price_lists.filter(Q(code__icontains=query) | Q(name__icontains=query))
    if kind:
        price_lists = price_lists.filter(kind=kind)
    if active is not None:
        price_lists = price_lists.filter(is_active=active)
    return price_lists


def product_prices(product: Product) -> QuerySet[PriceListItem]:
    """Every price of a product, grouped by the kind of list, the newest list first."""
    return product.prices.select_related("price_list").order_by(
        "price_list__kind", "-price_list__valid_from", "price_list__code", "min_quantity"
    )


def price_list_items(price_list: PriceList) -> QuerySet[PriceListItem]:
    return price_list.items.select_related("product").order_by("product__sku", "min_quantity")


def _search_products(user, query: str, limit: int) -> list[SearchHit]:
    if not can_view_products(user):
        return []
    return [
        SearchHit(
            title=f"{product.sku} {product.display_name}",
            subtitle=product.specification,
            url=reverse("catalog:product_detail", args=[product.pk]),
            icon="ti-package",
        )
        for product in products_list(query=query)[:limit]
    ]


register_provider(SearchProvider(code="products", label=_("Products"), search=_search_products))
