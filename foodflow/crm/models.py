"""Customers, contacts, leads, development plans, activities and market intelligence."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.accounts.models import OrgUnit
from foodflow.core.models import Attachment, TrackedModel
from foodflow.core.money import MoneyField
from foodflow.core.vocab import Channel, Tier

from .workflows import LEAD_FLOW

USER = settings.AUTH_USER_MODEL


class Customer(TrackedModel):
    class Status(models.TextChoices):
        PROSPECT = "prospect", pgettext_lazy("customer status", "Prospect")
        ACTIVE = "active", pgettext_lazy("customer status", "Active")
        DORMANT = "dormant", pgettext_lazy("customer status", "Dormant")
        BLOCKED = "blocked", pgettext_lazy("customer status", "Blocked")

    code = models.CharField(_("customer code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    region = models.ForeignKey(OrgUnit, verbose_name=_("region"), on_delete=models.PROTECT, related_name="customers")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="customers")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROSPECT)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    tier_overridden = models.BooleanField(_("tier set by hand"), default=False)
    tier_reason = models.CharField(_("reason for the tier"), max_length=200, blank=True)
    tier_computed_at = models.DateTimeField(_("tier computed at"), null=True, blank=True)
    credit_limit = MoneyField(_("credit limit"), default=Decimal("0.00"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=0)
    min_shelf_life_days = models.PositiveIntegerField(_("minimum days of shelf life left"), null=True, blank=True)
    min_shelf_life_percent = models.PositiveSmallIntegerField(
        _("minimum share of shelf life left (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True)
    invoice_bank = models.CharField(_("bank"), max_length=100, blank=True)
    invoice_account = models.CharField(_("bank account"), max_length=64, blank=True)
    invoice_address_phone = models.CharField(_("invoice address and phone"), max_length=200, blank=True)
    preferences = models.TextField(_("preferences"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    first_order_at = models.DateField(_("first order on"), null=True, blank=True)
    invoice_per_order = models.BooleanField(
        _("one receivable per order"),
        default=False,
        help_text=_("Otherwise each delivery makes its own receivable."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["owner", "status"], name="customer_owner_idx")]

    def __str__(self):
        return self.name


class DeliveryAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=64)
    address = models.CharField(_("address"), max_length=300)
    receiver = models.CharField(_("receiver"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "label"]
        verbose_name = _("delivery address")

    def __str__(self):
        return f"{self.label}: {self.address}"


class Contact(TrackedModel):
    class Role(models.TextChoices):
        OWNER = "owner", pgettext_lazy("contact role", "Owner / general manager")
        PURCHASING = "purchasing", pgettext_lazy("contact role", "Purchasing")
        FINANCE = "finance", pgettext_lazy("contact role", "Finance")
        WAREHOUSE = "warehouse", pgettext_lazy("contact role", "Warehouse")
        QUALITY = "quality", pgettext_lazy("contact role", "Quality")
        OTHER = "other", pgettext_lazy("contact role", "Other")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=64)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PURCHASING)
    title = models.CharField(_("job title"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")

    def __str__(self):
        return self.name


class Lead(TrackedModel):
    class Source(models.TextChoices):
        TRADE_SHOW = "trade_show", pgettext_lazy("lead source", "Trade show")
        REFERRAL = "referral", pgettext_lazy("lead source", "Referral")
        ONLINE = "online", pgettext_lazy("lead source", "Online")
        COLD_VISIT = "cold_visit", pgettext_lazy("lead source", "Cold visit")
        PHONE = "phone", pgettext_lazy("lead source", "Phone inquiry")
        OTHER = "other", pgettext_lazy("lead source", "Other")

    company = models.CharField(_("company"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    region = models.ForeignKey(OrgUnit, verbose_name=_("region"), on_delete=models.PROTECT, related_name="leads")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="leads")
    stage = models.CharField(_("stage"), max_length=16, choices=LEAD_FLOW.choices(), default=LEAD_FLOW.initial)
    notes = models.TextField(_("notes"), blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")

    def __str__(self):
        return self.company


class DevelopmentPlan(TrackedModel):
    """Targets of new customers and first orders for a rep or a team over a period."""

    name = models.CharField(_("name"), max_length=100)
    rep = models.ForeignKey(
        USER, verbose_name=_("rep"), null=True, blank=True, on_delete=models.PROTECT, related_name="development_plans"
    )
    team = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="development_plans",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    target_new_customers = models.PositiveIntegerField(_("new customers (target)"), default=0)
    target_first_orders = models.PositiveIntegerField(_("first orders (target)"), default=0)

    class Meta:
        ordering = ["-period_start", "name"]
        verbose_name = _("development plan")
        constraints = [
            models.CheckConstraint(
                name="plan_for_rep_or_team", condition=models.Q(rep__isnull=False) | models.Q(team__isnull=False)
            ),
            models.CheckConstraint(
                name="plan_period_in_order", condition=models.Q(period_end__gte=models.F("period_start"))
            ),
        ]

    def __str__(self):
        return self.name


class Activity(TrackedModel):
    class Kind(models.TextChoices):
        VISIT = "visit", pgettext_lazy("activity kind", "Visit")
        CALL = "call", pgettext_lazy("activity kind", "Call")
        TASTING = "tasting", pgettext_lazy("activity kind", "Tasting")
        SAMPLE = "sample", pgettext_lazy("activity kind", "Samples sent")
        TRADE_SHOW = "trade_show", pgettext_lazy("activity kind", "Trade show")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    owner = models.ForeignKey(USER, verbose_name=_("by"), on_delete=models.PROTECT, related_name="activities")
    happened_on = models.DateField(_("date"))
    subject = models.CharField(_("subject"), max_length=200)
    outcome = models.TextField(_("outcome"), blank=True)
    next_revisit = models.DateField(_("next revisit"), null=True, blank=True, db_index=True)
    # set when a later activity with the same customer or lead follows up this one
    revisit_done_at = models.DateField(_("followed up on"), null=True, blank=True)

    class Meta:
        ordering = ["-happened_on", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                name="activity_has_customer_or_lead",
                condition=models.Q(customer__isnull=False) | models.Q(lead__isnull=False),
            ),
        ]

    def __str__(self):
        return self.subject


class Competitor(TrackedModel):
    class Positioning(models.TextChoices):
        PREMIUM = "premium", pgettext_lazy("price positioning", "Premium")
        MID = "mid", pgettext_lazy("price positioning", "Mid-range")
        ECONOMY = "economy", pgettext_lazy("price positioning", "Economy")

    name = models.CharField(_("name"), max_length=100, unique=True)
    products = models.TextField(_("products"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    positioning = models.CharField(
        _("price positioning"), max_length=16, choices=Positioning.choices, default=Positioning.MID
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")

    def __str__(self):
        return self.name


class MarketRecord(TrackedModel):
    """What every market-research record has: who keeps it current and how often. A record
    not updated within its refresh period is stale and listed for its owner."""

    owner = models.ForeignKey(USER, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="+")
    refresh_days = models.PositiveSmallIntegerField(
        _("refresh every (days)"), default=90, validators=[MinValueValidator(1)]
    )
    refreshed_on = models.DateField(_("last refreshed"))
    stale_on = models.DateField(_("stale from"), db_index=True, editable=False)  # refreshed_on + refresh_days
    attachment = models.ForeignKey(
        Attachment, verbose_name=_("attachment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class IntelEntry(MarketRecord):
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="intel"
    )
    product = models.CharField(_("competitor product"), max_length=200)
    observed_price = MoneyField(_("observed price"), null=True, blank=True)
    unit = models.CharField(_("per"), max_length=32, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    region = models.ForeignKey(OrgUnit, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    observed_on = models.DateField(_("observed on"))
    source = models.CharField(_("source"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-observed_on", "-id"]
        verbose_name = _("intelligence entry")
        verbose_name_plural = _("intelligence")

    def __str__(self):
        return f"{self.competitor} {self.product}"


class DemandRecord(MarketRecord):
    class Sensitivity(models.TextChoices):
        LOW = "low", pgettext_lazy("price sensitivity", "Low")
        MEDIUM = "medium", pgettext_lazy("price sensitivity", "Medium")
        HIGH = "high", pgettext_lazy("price sensitivity", "High")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demand_records",
    )
    who = models.CharField(_("who needs it"), max_length=200)
    need = models.CharField(_("what"), max_length=200)
    volume = models.CharField(_("volume"), max_length=100, blank=True)
    timing = models.CharField(_("timing"), max_length=100, blank=True)
    price_sensitivity = models.CharField(
        _("price sensitivity"), max_length=8, choices=Sensitivity.choices, default=Sensitivity.MEDIUM
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-refreshed_on", "-id"]
        verbose_name = _("demand record")

    def __str__(self):
        return f"{self.who}: {self.need}"


class ResearchReport(MarketRecord):
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    summary = models.TextField(_("summary"))

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("research report")

    def __str__(self):
        return self.title
