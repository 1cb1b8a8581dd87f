"""The sales figures' data path: a fact per counted order and four summary tables.

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
117,000 customer-months, 31,000 rep-category-months, 99,000 product-region-months and
395,000 rep-product-months.
The facts themselves serve the daily and weekly figures and any range that is not whole months.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.core.models import TrackedModel
from foodflow.core.money import MoneyField

USER = settings.AUTH_USER_MODEL


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


class RepProductMonth(Measures):
    """Per month, rep and product: the product lists of one rep's or one manager's reps."""

    month = models.DateField(_("month"))
    rep_id = models.IntegerField(_("rep"))
    product_id = models.IntegerField(_("product"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "rep_id", "product_id"], name="rep_product_month_key")]

    def __str__(self):
        return f"{self.month:%Y-%m} rep {self.rep_id} product {self.product_id}"


SUMMARIES = (CustomerMonth, RepCategoryMonth, ProductMonth, RepProductMonth)
# each summary's key (its unique constraint), by model name (migrations see historical models)
KEYS = {
    "CustomerMonth": ("month", "customer_id", "rep_id", "team_id", "region_id", "channel", "tier"),
    "RepCategoryMonth": ("month", "rep_id", "team_id", "region_id", "category_id"),
    "ProductMonth": ("month", "product_id", "region_id"),
    "RepProductMonth": ("month", "rep_id", "product_id"),
}


# --- targets ------------------------------------------------------------------------------------------


class PeriodKind(models.TextChoices):
    MONTH = "month", pgettext_lazy("period", "Month")
    QUARTER = "quarter", pgettext_lazy("period", "Quarter")
    YEAR = "year", pgettext_lazy("period", "Year")


class SalesTarget(TrackedModel):
    """A revenue target (tax included, as revenue) for one holder and one period."""

    class Holder(models.TextChoices):
        COMPANY = "company", pgettext_lazy("target holder", "Company")
        REGION = "region", pgettext_lazy("target holder", "Region")
        TEAM = "team", pgettext_lazy("target holder", "Team")
        REP = "rep", pgettext_lazy("target holder", "Rep")
        PRODUCT_LINE = "product_line", pgettext_lazy("target holder", "Product line")

    holder = models.CharField(_("for"), max_length=16, choices=Holder.choices)
    period = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))  # the first day of the month, quarter or year
    rep = models.ForeignKey(
        USER, verbose_name=_("rep"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("team or region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = MoneyField(_("revenue target"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-period_start", "holder", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        indexes = [models.Index(fields=["period", "period_start"], name="target_period_idx")]
        # one target per holder and period (the service also locks the holder while it sets one)
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "period", "period_start"], condition=models.Q(holder="rep"), name="target_rep_once"
            ),
            models.UniqueConstraint(
                fields=["unit", "period", "period_start"],
                condition=models.Q(holder__in=["team", "region"]),
                name="target_unit_once",
            ),
            models.UniqueConstraint(
                fields=["category", "period", "period_start"],
                condition=models.Q(holder="product_line"),
                name="target_line_once",
            ),
            models.UniqueConstraint(
                fields=["period", "period_start"], condition=models.Q(holder="company"), name="target_company_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_holder_display()} {self.period_start:%Y-%m} {self.amount}"


# --- KPI appraisal ------------------------------------------------------------------------------------


class KpiMetric(models.TextChoices):
    SALES = "sales", pgettext_lazy("kpi metric", "Sales target achieved (%)")
    COLLECTION = "collection", pgettext_lazy("kpi metric", "Collection rate (%)")
    NEW_CUSTOMERS = "new_customers", pgettext_lazy("kpi metric", "New customers")
    SATISFACTION = "satisfaction", pgettext_lazy("kpi metric", "Customer satisfaction (CSAT 1–5)")
    TEAMWORK = "teamwork", pgettext_lazy("kpi metric", "Teamwork (ratings 1–5)")
    # xgettext:no-python-format
    COMPLIANCE = "compliance", pgettext_lazy("kpi metric", "Process compliance (% of stages within SLA)")


class KpiScheme(TrackedModel):
    """Weights and scoring bands over the KPI metrics; a scorecard keeps the scheme it used."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    period = models.CharField(
        _("appraisal period"), max_length=8, choices=PeriodKind.choices, default=PeriodKind.QUARTER
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("KPI scheme")

    def __str__(self):
        return self.name


class KpiSchemeItem(models.Model):
    """One metric of a scheme: its weight (%, the items add up to 100) and its bands, a list of
    [lowest value, score] from the highest band down: the first band the value reaches gives the score."""

    scheme = models.ForeignKey(KpiScheme, on_delete=models.CASCADE, related_name="items")
    metric = models.CharField(_("metric"), max_length=16, choices=KpiMetric.choices)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    bands = models.JSONField(_("scoring bands"), default=list)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "metric"], name="kpi_item_once")]

    def __str__(self):
        return f"{self.scheme} {self.metric} {self.weight}"


class TeamworkRating(TrackedModel):
    """A peer's or a manager's teamwork rating of a rep for one appraisal period."""

    rep = models.ForeignKey(USER, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    rater = models.ForeignKey(USER, verbose_name=_("rated by"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    comment = models.CharField(_("comment"), max_length=300, blank=True)

    class Meta:
        ordering = ["-period_start", "rep_id"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "period", "period_start", "rater"], name="teamwork_rating_once")
        ]

    def __str__(self):
        return f"{self.rep_id} {self.period_start} {self.score}"


class Scorecard(TrackedModel):
    """A rep's appraisal for one period: each metric's value, score and weighted score
    (``results``: {metric: {"value", "score", "weight", "weighted"}}) and the total."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("scorecard state", "Draft")
        REVIEWED = "reviewed", pgettext_lazy("scorecard state", "Reviewed")
        FINAL = "final", pgettext_lazy("scorecard state", "Final")

    rep = models.ForeignKey(USER, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(KpiScheme, verbose_name=_("KPI scheme"), on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    results = models.JSONField(_("results"), default=dict)
    total = models.DecimalField(_("total score"), max_digits=6, decimal_places=2, default=0)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "rep_id"]
        verbose_name = _("scorecard")
        constraints = [models.UniqueConstraint(fields=["rep", "period", "period_start"], name="scorecard_once")]

    def __str__(self):
        return f"{self.rep_id} {self.period_start} {self.total}"


class RewardPenalty(TrackedModel):
    """A reward or a penalty (奖惩记录), usually decided on a scorecard."""

    class Kind(models.TextChoices):
        REWARD = "reward", pgettext_lazy("reward or penalty", "Reward")
        PENALTY = "penalty", pgettext_lazy("reward or penalty", "Penalty")

    rep = models.ForeignKey(USER, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="+")
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), null=True, blank=True, on_delete=models.PROTECT, related_name="rewards"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = MoneyField(_("amount"), default=0)
    reason = models.CharField(_("reason"), max_length=300)
    decided_on = models.DateField(_("decided on"))

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("reward or penalty")

    def __str__(self):
        return f"{self.kind} {self.rep_id} {self.amount}"


class ReviewMeeting(TrackedModel):
    """The review of a scorecard with the rep: comments and agreed actions."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT, related_name="meetings"
    )
    held_on = models.DateField(_("held on"))
    attendees = models.CharField(_("attendees"), max_length=300, blank=True)
    comments = models.TextField(_("comments"))
    agreed_actions = models.TextField(_("agreed actions"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("review meeting")

    def __str__(self):
        return f"{self.scorecard_id} {self.held_on}"


# --- process monitoring --------------------------------------------------------------------------------


class StageTarget(TrackedModel):
    """How long a document may stay in a stage (``monitoring.STAGES`` names the stages)."""

    stage = models.CharField(_("stage"), max_length=64, unique=True)
    target_hours = models.PositiveIntegerField(_("target (hours)"))
    alert_owner = models.BooleanField(_("alert the owner when overstayed"), default=True)

    class Meta:
        ordering = ["stage"]
        verbose_name = _("stage target")

    def __str__(self):
        return f"{self.stage} {self.target_hours} h"


class OverstayAlert(models.Model):
    """One alert per document per stage entry: the overstay job runs often and alerts once."""

    stage = models.CharField(_("stage"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    entered_at = models.DateTimeField(_("entered the stage at"))
    owner = models.ForeignKey(USER, verbose_name=_("owner"), null=True, on_delete=models.SET_NULL, related_name="+")
    alerted_at = models.DateTimeField(_("alerted at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "object_type", "object_id", "entered_at"], name="overstay_alert_once"
            )
        ]

    def __str__(self):
        return f"{self.stage} {self.object_type}:{self.object_id}"
