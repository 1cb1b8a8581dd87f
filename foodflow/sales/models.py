"""Order to cash: inquiries, quotations, the approval engine's policies and requests, sales
orders and their review, deliveries, receivables, payments, returns and credit notes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.accounts.models import Role
from foodflow.catalog.models import Product
from foodflow.core.models import TrackedModel
from foodflow.core.money import ZERO, MoneyField
from foodflow.crm.models import Customer
from foodflow.inventory.models import Lot, Reservation, Warehouse

from .workflows import APPROVAL_FLOW, DELIVERY_FLOW, INQUIRY_FLOW, INVOICE_FLOW, ORDER_FLOW, QUOTATION_FLOW

USER = settings.AUTH_USER_MODEL
QUANTITY = {"max_digits": 14, "decimal_places": 3}
DISCOUNT = {
    "max_digits": 5,
    "decimal_places": 4,
    "default": Decimal("0"),
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
}


class ContactChannel(models.TextChoices):
    PHONE = "phone", pgettext_lazy("contact channel", "Phone")
    VISIT = "visit", pgettext_lazy("contact channel", "Visit")
    EMAIL = "email", pgettext_lazy("contact channel", "E-mail")
    WECHAT = "wechat", pgettext_lazy("contact channel", "WeChat")
    FAIR = "fair", pgettext_lazy("contact channel", "Trade fair")
    TENDER = "tender", pgettext_lazy("contact channel", "Tender")
    OTHER = "other", pgettext_lazy("contact channel", "Other")


# --- inquiry ---------------------------------------------------------------------------------


class Inquiry(TrackedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="inquiries"
    )
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="inquiries")
    channel = models.CharField(_("received by"), max_length=16, choices=ContactChannel.choices)
    received_on = models.DateField(_("received on"))
    wanted_date = models.DateField(_("wanted delivery date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=INQUIRY_FLOW.choices(), default=INQUIRY_FLOW.initial)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")

    def __str__(self):
        return self.number


class InquiryLine(models.Model):
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("what the customer asked for"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        ordering = ["position"]
        verbose_name = _("inquiry line")

    def __str__(self):
        return self.description or str(self.product)


# --- commercial documents: quotation and order share their line shape ---------------------------


class CommercialDocument(TrackedModel):
    """What a quotation and an order have in common. ``number`` is shared by the versions of
    one document; a revision or amendment is a new row with the next ``version``.
    ``lock_version`` increments on every save of the content: a stale edit is refused."""

    number = models.CharField(_("number"), max_length=32)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=0)
    delivery_terms = models.CharField(_("delivery terms"), max_length=200, blank=True)
    wanted_date = models.DateField(_("wanted delivery date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    total = MoneyField(_("total (tax incl.)"), default=ZERO)
    tax_total = MoneyField(_("of which VAT"), default=ZERO)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1)

    class Meta:
        abstract = True

    def __str__(self):
        return self.number if self.version == 1 else f"{self.number} v{self.version}"


class CommercialLine(models.Model):
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    list_price = MoneyField(_("list price"))
    price_rule = models.CharField(_("price rule"), max_length=200, blank=True)
    unit_price = MoneyField(_("unit price (tax incl.)"))
    discount = models.DecimalField(_("discount"), **DISCOUNT)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2)
    amount = MoneyField(_("amount (tax incl.)"))
    tax = MoneyField(_("VAT"))
    cost = MoneyField(_("cost"), default=ZERO)

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self):
        return f"{self.product} × {self.quantity}"

    @property
    def net_unit_price(self) -> Decimal:
        return (self.unit_price * (Decimal(1) - self.discount)).quantize(Decimal("0.01"))


class Quotation(CommercialDocument):
    inquiry = models.ForeignKey(
        Inquiry, verbose_name=_("inquiry"), null=True, blank=True, on_delete=models.PROTECT, related_name="quotations"
    )
    copied_from = models.ForeignKey(
        "self", verbose_name=_("copied from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    valid_until = models.DateField(_("valid until"))
    language = models.CharField(_("language of the PDF"), max_length=8, default="zh-hans")
    state = models.CharField(
        _("state"), max_length=20, choices=QUOTATION_FLOW.choices(), default=QUOTATION_FLOW.initial
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("customer decided at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason given by the customer"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        constraints = [models.UniqueConstraint(fields=["number", "version"], name="uniq_quotation_version")]
        indexes = [models.Index(fields=["owner", "state"], name="quotation_owner_idx")]


class QuotationLine(CommercialLine):
    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="lines")

    class Meta(CommercialLine.Meta):
        verbose_name = _("quotation line")


class SalesOrder(CommercialDocument):
    quotation = models.ForeignKey(
        Quotation, verbose_name=_("quotation"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    previous = models.OneToOneField(
        "self", verbose_name=_("amends"), null=True, blank=True, on_delete=models.PROTECT, related_name="amendment"
    )
    customer_reference = models.CharField(_("customer's PO number"), max_length=64, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=ORDER_FLOW.choices(), default=ORDER_FLOW.initial)
    ordered_on = models.DateField(_("order date"))
    promised_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    credit_override = models.BooleanField(_("credit block lifted"), default=False)
    cancel_reason = models.CharField(_("reason cancelled"), max_length=200, blank=True)
    return_reason = models.CharField(_("reason returned to sales"), max_length=200, blank=True)
    short_reason = models.CharField(_("reason for the short shipment"), max_length=200, blank=True)
    imported = models.BooleanField(_("imported history"), default=False)
    # an open order taken over from another system: its number there (a second import finds it)
    source_number = models.CharField(_("number in the previous system"), max_length=32, blank=True)

    class Meta:
        ordering = ["-ordered_on", "-id"]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="uniq_order_version"),
            # an order taken over twice at once: the second import fails whole
            models.UniqueConstraint(
                fields=["source_number", "version"], condition=~models.Q(source_number=""), name="uniq_order_source"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "state"], name="order_owner_idx"),
            models.Index(fields=["customer", "state"], name="order_customer_idx"),
        ]


class OrderLine(CommercialLine):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    delivered_quantity = models.DecimalField(_("delivered"), default=Decimal("0"), **QUANTITY)
    returned_quantity = models.DecimalField(_("returned"), default=Decimal("0"), **QUANTITY)
    short_closed = models.BooleanField(_("rest not delivered (short)"), default=False)

    class Meta(CommercialLine.Meta):
        verbose_name = _("order line")

    @property
    def open_quantity(self) -> Decimal:
        return ZERO if self.short_closed else max(self.quantity - self.delivered_quantity, ZERO)


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key``: the first request with it does the work, a repeat gets
    the same answer. Unique per user, so two clients can never collide."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]

    # --- approval engine -------------------------------------------------------------------------

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class DocType(models.TextChoices):
    QUOTATION = "quotation", pgettext_lazy("document type", "Quotation")
    ORDER = "order", pgettext_lazy("document type", "Sales order")
    CREDIT_RELEASE = "credit_release", pgettext_lazy("document type", "Credit block release")
    WRITE_OFF = "write_off", pgettext_lazy("document type", "Receivable write-off")
    CONTRACT = "contract", pgettext_lazy("document type", "Contract")
    COMPLAINT_CREDIT = "complaint_credit", pgettext_lazy("document type", "Complaint refund or compensation")


class ApprovalPolicy(TrackedModel):
    """A rule as data: for this document type, when this condition holds, this role approves
    at this level. Levels run in sequence (1 before 2); one role at one level is one step."""

    class Condition(models.TextChoices):
        ALWAYS = "always", pgettext_lazy("approval condition", "Always")
        AMOUNT_OVER = "amount_over", pgettext_lazy("approval condition", "Total above the threshold")
        DISCOUNT_OVER = "discount_over", pgettext_lazy("approval condition", "A line discount above the threshold")
        DISCOUNT_ABOVE_CEILING = (
            "discount_above_ceiling",
            pgettext_lazy("approval condition", "A line discount above the owner's ceiling"),
        )
        BELOW_FLOOR = "below_floor", pgettext_lazy("approval condition", "A net price below the floor price")
        TERMS_LONGER = (
            "terms_longer",
            pgettext_lazy("approval condition", "Payment terms longer than the customer's standard"),
        )
        CREDIT_OVER = "credit_over", pgettext_lazy("approval condition", "Credit exposure above the limit")

    name = models.CharField(_("name"), max_length=100)
    doc_type = models.CharField(_("document type"), max_length=20, choices=DocType.choices)
    condition = models.CharField(_("condition"), max_length=24, choices=Condition.choices)
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("An amount in CNY, or a discount as a fraction (0.10 for 10 %)."),
    )
    approver_role = models.ForeignKey(Role, verbose_name=_("approver role"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), default=1, validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["doc_type", "level", "name"]
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")

    def __str__(self):
        return self.name


class ApprovalRequest(models.Model):
    """One submission of one document. ``fingerprint`` is the document's content when it was
    submitted: an approval holds only while the document still has that content."""

    doc_type = models.CharField(_("document type"), max_length=20, choices=DocType.choices)
    object_id = models.PositiveBigIntegerField(_("document id"))
    document_label = models.CharField(_("document"), max_length=100)
    owner = models.ForeignKey(USER, verbose_name=_("document owner"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = MoneyField(_("amount"), default=ZERO)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=APPROVAL_FLOW.choices(), default=APPROVAL_FLOW.initial)
    submitted_by = models.ForeignKey(
        USER, verbose_name=_("submitted by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("approval request")
        indexes = [models.Index(fields=["doc_type", "object_id", "state"], name="approval_doc_idx")]

    def __str__(self):
        return f"{self.get_doc_type_display()} {self.document_label}"


class ApprovalStep(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", pgettext_lazy("approval step", "Waiting for an earlier step")
        PENDING = "pending", pgettext_lazy("approval step", "Pending")
        APPROVED = "approved", pgettext_lazy("approval step", "Approved")
        REJECTED = "rejected", pgettext_lazy("approval step", "Rejected")
        VOID = "void", pgettext_lazy("approval step", "Void")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField(_("step"))
    level = models.PositiveSmallIntegerField(_("level"))
    role = models.ForeignKey(Role, verbose_name=_("approver role"), on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(_("reasons"), default=list)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    decided_by = models.ForeignKey(
        USER, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=300, blank=True)

    class Meta:
        ordering = ["request", "sequence"]
        verbose_name = _("approval step")
        constraints = [models.UniqueConstraint(fields=["request", "sequence"], name="uniq_approval_step")]
        indexes = [models.Index(fields=["state", "role"], name="approval_step_queue_idx")]

    def __str__(self):
        return f"{self.request} #{self.sequence}"


# --- order review ----------------------------------------------------------------------------


class OrderReview(models.Model):
    class Decision(models.TextChoices):
        RESERVE = "reserve", pgettext_lazy("review decision", "Reserve stock")
        PRODUCTION = "production", pgettext_lazy("review decision", "Request production")
        PARTIAL = "partial", pgettext_lazy("review decision", "Reserve what is there, rest later")
        RETURN = "return", pgettext_lazy("review decision", "Return to sales")
        CREDIT_HOLD = "credit_hold", pgettext_lazy("review decision", "Credit block")

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    findings = models.JSONField(_("findings"), default=dict)
    promised_date = models.DateField(_("promised date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(USER, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("order review")

    def __str__(self):
        return f"{self.order} {self.decision}"


class CustomerNotice(models.Model):
    """What we told the customer (a promised date, a delivery date): kept as sent."""

    class Kind(models.TextChoices):
        PROMISED_DATE = "promised_date", pgettext_lazy("customer notice", "Promised delivery date")
        DELIVERY_DATE = "delivery_date", pgettext_lazy("customer notice", "Delivery date")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(SalesOrder, null=True, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer notice")

    # --- delivery ---------------------------------------------------------------------------------

    def __str__(self):
        return self.subject


class Delivery(TrackedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="deliveries")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=DELIVERY_FLOW.choices(), default=DELIVERY_FLOW.initial)
    planned_date = models.DateField(_("delivery date"))
    address = models.CharField(_("delivery address"), max_length=300, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    signed_by = models.CharField(_("signed by"), max_length=64, blank=True)
    total = MoneyField(_("amount (tax incl.)"), default=ZERO)
    imported = models.BooleanField(_("imported history"), default=False)

    class Meta:
        ordering = ["-planned_date", "-id"]
        verbose_name = _("delivery note")
        verbose_name_plural = _("delivery notes")

    def __str__(self):
        return self.number


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="delivery_lines"
    )
    reservation = models.ForeignKey(
        Reservation, verbose_name=_("reservation"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(
        Lot, verbose_name=_("lot"), null=True, blank=True, on_delete=models.PROTECT, related_name="delivery_lines"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    amount = MoneyField(_("amount (tax incl.)"), default=ZERO)

    class Meta:
        ordering = ["order_line__position", "id"]
        verbose_name = _("delivery line")

    # --- receivables ------------------------------------------------------------------------------

    def __str__(self):
        return f"{self.delivery} {self.lot} × {self.quantity}"


class Invoice(TrackedModel):
    """A receivable: what the customer owes for a delivery (or an order), due after the
    payment terms; finance records the VAT invoice (专票 / 普票) once it is issued."""

    class VatType(models.TextChoices):
        SPECIAL = "special", pgettext_lazy("VAT invoice type", "Special VAT invoice (专票)")
        ORDINARY = "ordinary", pgettext_lazy("VAT invoice type", "Ordinary VAT invoice (普票)")

    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="invoices")
    delivery = models.OneToOneField(
        Delivery, verbose_name=_("delivery"), null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    owner = models.ForeignKey(USER, verbose_name=_("owner rep"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=INVOICE_FLOW.choices(), default=INVOICE_FLOW.initial)
    invoice_date = models.DateField(_("receivable date"))
    due_date = models.DateField(_("due date"), db_index=True)
    amount = MoneyField(_("amount (tax incl.)"))
    tax = MoneyField(_("of which VAT"), default=ZERO)
    paid_amount = MoneyField(_("paid"), default=ZERO)
    credited_amount = MoneyField(_("credited"), default=ZERO)
    written_off_amount = MoneyField(_("written off"), default=ZERO)
    vat_type = models.CharField(_("VAT invoice type"), max_length=16, choices=VatType.choices, blank=True)
    vat_number = models.CharField(_("VAT invoice number"), max_length=32, blank=True)
    vat_date = models.DateField(_("VAT invoice date"), null=True, blank=True)
    reminded_on = models.DateField(_("last overdue reminder"), null=True, blank=True)
    imported = models.BooleanField(_("imported history"), default=False)

    class Meta:
        ordering = ["-invoice_date", "-id"]
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(paid_amount__gte=0)
                & models.Q(credited_amount__gte=0)
                & models.Q(written_off_amount__gte=0),
                name="invoice_parts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["customer", "state"], name="invoice_customer_idx")]

    def __str__(self):
        return self.number

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount - self.credited_amount - self.written_off_amount


class Payment(TrackedModel):
    class Method(models.TextChoices):
        TRANSFER = "transfer", pgettext_lazy("payment method", "Bank transfer")
        ACCEPTANCE = "acceptance", pgettext_lazy("payment method", "Bank acceptance bill")
        CASH = "cash", pgettext_lazy("payment method", "Cash")
        OTHER = "other", pgettext_lazy("payment method", "Other")

    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(_("received on"))
    amount = MoneyField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    unallocated = MoneyField(_("not yet allocated (credit)"), default=ZERO)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.TRANSFER)
    reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    imported = models.BooleanField(_("imported history"), default=False)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=models.Q(unallocated__gte=0), name="payment_unallocated_not_negative")
        ]

    def __str__(self):
        return self.number


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField(_("amount"))
    by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("payment allocation")

    def __str__(self):
        return f"{self.payment} → {self.invoice}: {self.amount}"


class WriteOff(TrackedModel):
    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("write-off state", "Awaiting approval")
        DONE = "done", pgettext_lazy("write-off state", "Written off")
        REJECTED = "rejected", pgettext_lazy("write-off state", "Rejected")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("receivable"), on_delete=models.PROTECT, related_name="write_offs"
    )
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("write-off")

    def __str__(self):
        return f"{self.invoice} −{self.amount}"


class CustomerReturn(TrackedModel):
    """Goods the customer sent back, to a lot: restocked or scrapped, with a credit note."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(_("reason"), max_length=300)
    received_on = models.DateField(_("received on"))
    total = MoneyField(_("credit (tax incl.)"), default=ZERO)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("customer return")
        verbose_name_plural = _("customer returns")

    def __str__(self):
        return self.number


class ReturnLine(models.Model):
    class Disposition(models.TextChoices):
        RESTOCK = "restock", pgettext_lazy("return disposition", "Back to stock")
        SCRAP = "scrap", pgettext_lazy("return disposition", "Scrap")

    customer_return = models.ForeignKey(CustomerReturn, on_delete=models.CASCADE, related_name="lines")
    delivery_line = models.ForeignKey(DeliveryLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    disposition = models.CharField(_("disposition"), max_length=16, choices=Disposition.choices)
    amount = MoneyField(_("credit (tax incl.)"))

    class Meta:
        verbose_name = _("return line")

    def __str__(self):
        return f"{self.customer_return} × {self.quantity}"


class CreditNote(TrackedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="credit_notes"
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("receivable"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
    )
    customer_return = models.OneToOneField(
        CustomerReturn, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note"
    )
    amount = MoneyField(_("amount (tax incl.)"))
    applied_amount = MoneyField(_("set against the receivable"), default=ZERO)
    unapplied = MoneyField(_("kept as customer credit"), default=ZERO)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")

    def __str__(self):
        return self.number
