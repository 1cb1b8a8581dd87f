"""Contracts: templates with their clauses, contracts (versions, lines, clauses, payment
milestones, linked orders), legal review comments, disputes, the risk policy and the
warnings its rules raise."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.catalog.models import Product
from foodflow.core.models import Attachment, TrackedModel
from foodflow.core.money import ZERO, MoneyField
from foodflow.crm.models import Customer
from foodflow.sales.models import Quotation, SalesOrder

from .workflows import CONTRACT_FLOW, DISPUTE_FLOW

USER = settings.AUTH_USER_MODEL
QUANTITY = {"max_digits": 14, "decimal_places": 3}


class ContractKind(models.TextChoices):
    FRAMEWORK = "framework", pgettext_lazy("contract kind", "Sales framework agreement")
    SINGLE_ORDER = "single_order", pgettext_lazy("contract kind", "Single-order contract")
    DISTRIBUTION = "distribution", pgettext_lazy("contract kind", "Distribution agreement")


class ClauseKey(models.TextChoices):
    PARTIES = "parties", pgettext_lazy("clause", "Parties")
    PRODUCTS = "products", pgettext_lazy("clause", "Products, prices and quantities")
    DELIVERY = "delivery", pgettext_lazy("clause", "Delivery")
    QUALITY = "quality", pgettext_lazy("clause", "Quality standard")
    PAYMENT = "payment", pgettext_lazy("clause", "Payment")
    LIABILITY = "liability", pgettext_lazy("clause", "Liability")
    DISPUTE = "dispute", pgettext_lazy("clause", "Disputes")
    TERM = "term", pgettext_lazy("clause", "Term and termination")
    OTHER = "other", pgettext_lazy("clause", "Other")


class Language(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


# --- templates -----------------------------------------------------------------------------------


class ContractTemplate(TrackedModel):
    """One version of a template. An edit makes the next version; contracts keep the version
    they were drafted from."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    kind = models.CharField(_("contract kind"), max_length=16, choices=ContractKind.choices)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    is_active = models.BooleanField(_("offered for new contracts"), default=True)

    class Meta:
        ordering = ["kind", "code", "-version"]
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="uniq_template_version"),
            models.UniqueConstraint(fields=["code"], condition=models.Q(is_current=True), name="uniq_template_current"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class TemplateClause(models.Model):
    template = models.ForeignKey(ContractTemplate, on_delete=models.CASCADE, related_name="clauses")
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(_("clause"), max_length=16, choices=ClauseKey.choices)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("title in English"), max_length=120, blank=True)
    body = models.TextField(_("text"))
    body_en = models.TextField(_("text in English"), blank=True)
    editable = models.BooleanField(_("free clause (the contract admin may edit it)"), default=False)

    class Meta:
        ordering = ["position"]
        verbose_name = _("template clause")

    def __str__(self):
        return self.title


# --- contracts -----------------------------------------------------------------------------------


class Contract(TrackedModel):
    """One version of a contract. ``number`` is shared by the versions; an amendment is a new
    row with the next ``version`` that goes through review again, and replaces the signed
    version when it is signed. ``lock_version`` increments on every edit of the content."""

    number = models.CharField(_("contract number"), max_length=32)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    previous = models.ForeignKey(
        "self", verbose_name=_("amends"), null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    amendment_reason = models.CharField(_("reason for the amendment"), max_length=300, blank=True)
    kind = models.CharField(_("contract kind"), max_length=16, choices=ContractKind.choices)
    template = models.ForeignKey(
        ContractTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="contracts"
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ZH)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(USER, verbose_name=_("owner (sales rep)"), on_delete=models.PROTECT, related_name="+")
    quotation = models.ForeignKey(
        Quotation, verbose_name=_("quotation"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("sales order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("valid from"))
    end_date = models.DateField(_("valid until"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=0)
    delivery_terms = models.CharField(_("delivery terms"), max_length=200, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    quality_standard = models.CharField(_("quality standard"), max_length=300, blank=True)
    liability_cap_percent = models.DecimalField(
        _("our liability cap, percent of the contract amount (empty: unlimited)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    late_penalty_per_day = models.DecimalField(
        _("late delivery penalty, percent of the late amount per day"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("0.05"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    dispute_venue = models.CharField(_("dispute resolution"), max_length=200, blank=True)
    total = MoneyField(_("contract amount (tax incl.)"), default=ZERO)
    tax_total = MoneyField(_("of which VAT"), default=ZERO)
    state = models.CharField(_("state"), max_length=16, choices=CONTRACT_FLOW.choices(), default=CONTRACT_FLOW.initial)
    review_round = models.PositiveSmallIntegerField(_("review round"), default=0)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    our_signatory = models.CharField(_("signed for us by"), max_length=100, blank=True)
    customer_signatory = models.CharField(_("signed for the customer by"), max_length=100, blank=True)
    scan = models.ForeignKey(
        Attachment, verbose_name=_("signed scan"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(_("reason terminated or cancelled"), max_length=300, blank=True)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [models.UniqueConstraint(fields=["number", "version"], name="uniq_contract_version")]
        indexes = [
            models.Index(fields=["state", "end_date"], name="contract_state_end_idx"),
            models.Index(fields=["customer", "state"], name="contract_customer_idx"),
            models.Index(fields=["owner", "state"], name="contract_owner_idx"),
        ]

    def __str__(self):
        return self.number if self.version == 1 else f"{self.number} v{self.version}"


class ContractLine(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("contracted quantity"), null=True, blank=True, **QUANTITY)
    unit_price = MoneyField(_("unit price (tax incl.)"))
    discount = models.DecimalField(
        _("discount"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2)
    amount = MoneyField(_("amount (tax incl.)"), default=ZERO)
    tax = MoneyField(_("VAT"), default=ZERO)

    class Meta:
        ordering = ["position"]
        verbose_name = _("contract line")

    def __str__(self):
        return f"{self.product} × {self.quantity if self.quantity is not None else '—'}"

    @property
    def net_unit_price(self) -> Decimal:
        return (self.unit_price * (Decimal(1) - self.discount)).quantize(Decimal("0.01"))


class ContractClause(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="clauses")
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(_("clause"), max_length=16, choices=ClauseKey.choices)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    editable = models.BooleanField(_("free clause"), default=False)

    class Meta:
        ordering = ["position"]
        verbose_name = _("contract clause")

    def __str__(self):
        return self.title


class PaymentMilestone(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.CharField(_("milestone"), max_length=120)
    due_date = models.DateField(_("due on"))
    amount = MoneyField(_("amount"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("payment milestone")

    def __str__(self):
        return self.label


class ContractOrder(models.Model):
    """An order fulfilled under a contract (by number: its amendments follow it)."""

    contract_number = models.CharField(_("contract number"), max_length=32, db_index=True)
    order_number = models.CharField(_("order number"), max_length=32)
    linked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order under a contract")
        constraints = [
            models.UniqueConstraint(fields=["order_number"], name="uniq_order_one_contract"),
        ]

    def __str__(self):
        return f"{self.contract_number} ← {self.order_number}"


class ReviewComment(models.Model):
    """Legal's comment on a clause (or on the contract as a whole) in one review round."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="review_comments")
    round = models.PositiveSmallIntegerField(_("review round"))
    clause = models.ForeignKey(
        ContractClause, verbose_name=_("clause"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clause_title = models.CharField(_("clause"), max_length=120, blank=True)
    text = models.TextField(_("comment"))
    by = models.ForeignKey(USER, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("addressed at"), null=True, blank=True)

    class Meta:
        ordering = ["round", "at", "id"]
        verbose_name = _("review comment")

    def __str__(self):
        return self.text[:60]


# --- disputes --------------------------------------------------------------------------------------


class Dispute(TrackedModel):
    class Category(models.TextChoices):
        QUALITY = "quality", pgettext_lazy("dispute category", "Quality")
        QUANTITY = "quantity", pgettext_lazy("dispute category", "Quantity or short delivery")
        LATE = "late", pgettext_lazy("dispute category", "Late delivery")
        PAYMENT = "payment", pgettext_lazy("dispute category", "Payment")
        PRICE = "price", pgettext_lazy("dispute category", "Price")
        OTHER = "other", pgettext_lazy("dispute category", "Other")

    number = models.CharField(_("number"), max_length=32, unique=True)
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="disputes"
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    amount = MoneyField(_("amount in dispute"), default=ZERO)
    description = models.TextField(_("what happened"))
    complaint_reference = models.CharField(_("related complaint"), max_length=64, blank=True)
    owner = models.ForeignKey(USER, verbose_name=_("handled by"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=DISPUTE_FLOW.choices(), default=DISPUTE_FLOW.initial)
    resolution = models.TextField(_("resolution"), blank=True)
    settled_amount = MoneyField(_("settled amount"), null=True, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self):
        return self.number


class DisputeAction(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="actions")
    note = models.TextField(_("action taken"))
    by = models.ForeignKey(USER, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("dispute action")

    def __str__(self):
        return self.note[:60]


# --- risk ------------------------------------------------------------------------------------------


class RiskPolicy(models.Model):
    """The limits the risk rules compare against (one row, edited by legal)."""

    expiry_warning_days = models.PositiveSmallIntegerField(_("warn this many days before a contract ends"), default=30)
    max_payment_terms_days = models.PositiveSmallIntegerField(_("longest payment terms allowed (days)"), default=60)
    max_liability_cap_percent = models.DecimalField(
        _("highest liability cap allowed, percent of the amount"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("100"),
    )
    max_late_penalty_per_day = models.DecimalField(
        _("highest late penalty allowed (% per day)"), max_digits=6, decimal_places=3, default=Decimal("0.1")
    )
    delivery_lag_percent = models.PositiveSmallIntegerField(
        _("deliveries behind when they lag the time elapsed by more than (%)"), default=20
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("contract risk policy")

    def __str__(self):
        return str(self._meta.verbose_name)


class Severity(models.IntegerChoices):
    LOW = 1, pgettext_lazy("severity", "Low")
    MEDIUM = 2, pgettext_lazy("severity", "Medium")
    HIGH = 3, pgettext_lazy("severity", "High")
    CRITICAL = 4, pgettext_lazy("severity", "Critical")


class RiskWarning(models.Model):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("warning state", "Open")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("warning state", "Acknowledged")
        RESOLVED = "resolved", pgettext_lazy("warning state", "No longer applies")

    rule = models.CharField(_("rule"), max_length=32)
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="warnings"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(_("details"), default=dict)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    raised_at = models.DateTimeField(_("raised at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    acknowledged_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-severity", "raised_at", "id"]
        verbose_name = _("risk warning")
        verbose_name_plural = _("risk warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "contract"],
                condition=models.Q(state__in=["open", "acknowledged"]),
                name="uniq_live_warning",
            )
        ]
        indexes = [models.Index(fields=["state", "severity"], name="warning_board_idx")]

    def __str__(self):
        return f"{self.rule} · {self.contract}"
