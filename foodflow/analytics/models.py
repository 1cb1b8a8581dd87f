"""The sales figures' data path: a fact per counted order and three summary tables.

Revenue is the net amount (tax included) of the lines of *counted* orders — orders that were
confirmed and are neither cancelled, superseded nor returned to sales — by order date. Every
figure of the analysis pages is a sum over the tables below, never over the million order lines.

How they stay exact: ``rollup.py`` listens to the order workflow. The transaction that moves an
order into a counted state writes its ``OrderFact`` and adds the order's lines to the summary
rows; the transaction that moves it out subtracts exactly what the fact says was added. So the
tables change in the same commit as the document, or not at all. ``rollup_rebuild`` recomputes
them from the documents (the repair tool and the check of the tests and the benchmark).

The fact keeps the order's dimensions as they were when it was counted — the rep (the order's
owner), the rep's team, the customer's region, channel and tier — so history stays where it was
made when a customer changes tier or moves region. Dimension columns are plain ids (0: none) so
that the summary rows have a total key for ``INSERT … ON CONFLICT``; names are looked up for the
few rows shown.

Sizes at 1,000,000 order lines (3 years, 10,000 customers, 500 products, 50 reps): 277,000 facts,
117,000 customer-months, 31,000 rep-category-months and 99,000 product-region-months.
The facts themselves serve the daily and weekly figures and any range that is not whole months.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Measures(models.Model):
    """What every summary row adds up, in integers: cents and thousandths of a sales unit.

    Integers because SQLite keeps a decimal column as a binary float: a sum of 277,000 order
    totals drifts by a tenth of a cent there. Integer sums are exact on both databases."""

    amount_cents = models.BigIntegerField(_("revenue (cents)"), default=0)
    tax_cents = models.BigIntegerField(_("VAT (cents)"), default=0)
    cost_cents = models.BigIntegerField(_("cost (cents)"), default=0)
    quantity_milli = models.BigIntegerField(_("quantity (thousandths)"), default=0)
    lines = models.IntegerField(_("order lines"), default=0)

    class Meta:
        abstract = True


class OrderFact(Measures):
    """One counted order, with the dimensions it was counted under."""

    order = models.OneToOneField(
        "sales.SalesOrder", primary_key=True, on_delete=models.CASCADE, related_name="analytics_fact"
    )
    day = models.DateField(_("order date"))
    month = models.DateField(_("month"))
    customer_id = models.IntegerField(_("customer"))
    rep_id = models.IntegerField(_("rep"))
    team_id = models.IntegerField(_("team"), default=0)
    region_id = models.IntegerField(_("region"), default=0)
    channel = models.CharField(_("channel"), max_length=16)
    tier = models.CharField(_("tier"), max_length=1)
    counted_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("counted order")
        indexes = [
            models.Index(fields=["day", "rep_id"], name="fact_day_rep_idx"),
            models.Index(fields=["customer_id", "day"], name="fact_customer_idx"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.day}"


class CustomerMonth(Measures):
    """Per month, customer and the dimensions of its orders: the customers and orders counts."""

    month = models.DateField(_("month"))
    customer_id = models.IntegerField(_("customer"))
    rep_id = models.IntegerField(_("rep"))
    team_id = models.IntegerField(_("team"))
    region_id = models.IntegerField(_("region"))
    channel = models.CharField(_("channel"), max_length=16)
    tier = models.CharField(_("tier"), max_length=1)
    orders = models.IntegerField(_("orders"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "customer_id", "rep_id", "team_id", "region_id", "channel", "tier"],
                name="customer_month_key",
            )
        ]
        indexes = [models.Index(fields=["customer_id", "month"], name="customer_month_first_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} customer {self.customer_id}"


class RepCategoryMonth(Measures):
    """Per month, rep and product category (the product's own, leaf category)."""

    month = models.DateField(_("month"))
    rep_id = models.IntegerField(_("rep"))
    team_id = models.IntegerField(_("team"))
    region_id = models.IntegerField(_("region"))
    category_id = models.IntegerField(_("category"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "rep_id", "team_id", "region_id", "category_id"], name="rep_category_month_key"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} rep {self.rep_id} category {self.category_id}"


class ProductMonth(Measures):
    """Per month, product and customer region: the product lists and the mix."""

    month = models.DateField(_("month"))
    product_id = models.IntegerField(_("product"))
    region_id = models.IntegerField(_("region"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "product_id", "region_id"], name="product_month_key")]

    def __str__(self):
        return f"{self.month:%Y-%m} product {self.product_id}"


SUMMARIES = (CustomerMonth, RepCategoryMonth, ProductMonth)
# each summary's key (its unique constraint), by model name (migrations see historical models)
KEYS = {
    "CustomerMonth": ("month", "customer_id", "rep_id", "team_id", "region_id", "channel", "tier"),
    "RepCategoryMonth": ("month", "rep_id", "team_id", "region_id", "category_id"),
    "ProductMonth": ("month", "product_id", "region_id"),
}
