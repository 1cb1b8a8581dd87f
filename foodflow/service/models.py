"""After-sales: the service desk's hours and holidays, SLAs per severity, and complaints
(service tickets) with their actions."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.catalog.models import Product
from foodflow.core.models import TrackedModel
from foodflow.core.money import ZERO, MoneyField
from foodflow.crm.models import Customer
from foodflow.inventory.models import Lot
from foodflow.sales.models import CreditNote, CustomerReturn, Delivery, SalesOrder

from .workflows import COMPLAINT_FLOW, REMEDY_FLOW, SUGGESTION_FLOW

USER = settings.AUTH_USER_MODEL


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class ServiceHours(models.Model):
    """When the service desk works (one row): SLA clocks run only in these hours."""

    opens = models.TimeField(_("opens at"), default=time(9, 0))
    closes = models.TimeField(_("closes at"), default=time(18, 0))
    weekdays = models.JSONField(_("working weekdays (0 = Monday)"), default=default_weekdays)

    class Meta:
        verbose_name = _("service hours")

    def __str__(self):
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    """A public holiday, or a make-up working day on a weekend (调休)."""

    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=64)
    is_workday = models.BooleanField(_("make-up working day"), default=False)

    class Meta:
        ordering = ["day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self):
        return f"{self.day} {self.name}"


class Severity(models.TextChoices):
    LOW = "low", pgettext_lazy("complaint severity", "Low")
    MEDIUM = "medium", pgettext_lazy("complaint severity", "Medium")
    HIGH = "high", pgettext_lazy("complaint severity", "High")
    CRITICAL = "critical", pgettext_lazy("complaint severity", "Critical")


class SlaPolicy(models.Model):
    """Response and resolution deadlines of one severity, in business hours; a ticket is
    escalated ``warn_minutes`` before a deadline it is about to break."""

    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, unique=True)
    response_hours = models.DecimalField(
        _("first response within (business hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    resolution_hours = models.DecimalField(
        _("resolution within (business hours)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    warn_minutes = models.PositiveIntegerField(_("escalate this many business minutes before"), default=60)

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")

    def __str__(self):
        return self.get_severity_display()


class Complaint(TrackedModel):
    class Channel(models.TextChoices):
        PHONE = "phone", pgettext_lazy("complaint channel", "Phone")
        VISIT = "visit", pgettext_lazy("complaint channel", "Visit")
        EMAIL = "email", pgettext_lazy("complaint channel", "E-mail")
        DISTRIBUTOR = "distributor", pgettext_lazy("complaint channel", "Distributor")
        PUBLIC_FORM = "public_form", pgettext_lazy("complaint channel", "Public complaint form")

    class Category(models.TextChoices):
        QUALITY = "quality", pgettext_lazy("complaint category", "Quality")
        FOREIGN_MATTER = "foreign_matter", pgettext_lazy("complaint category", "Foreign matter")
        PACKAGING = "packaging", pgettext_lazy("complaint category", "Packaging")
        SHORT_WRONG = "short_wrong", pgettext_lazy("complaint category", "Short or wrong delivery")
        EXPIRY = "expiry", pgettext_lazy("complaint category", "Expiry")
        LOGISTICS = "logistics", pgettext_lazy("complaint category", "Logistics")
        ATTITUDE = "attitude", pgettext_lazy("complaint category", "Service attitude")
        OTHER = "other", pgettext_lazy("complaint category", "Other")

    number = models.CharField(_("number"), max_length=32, unique=True)
    channel = models.CharField(_("received by"), max_length=16, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(
        Lot, verbose_name=_("lot"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    description = models.TextField(_("what the customer says"))
    owner = models.ForeignKey(
        USER, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=COMPLAINT_FLOW.choices(), default=COMPLAINT_FLOW.initial
    )
    received_at = models.DateTimeField(_("received at"))
    response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # the escalations done, once each: "response:warning", "response:breached", "resolution:…"
    escalations = models.JSONField(_("escalations"), default=list, blank=True)
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    customer_feedback = models.CharField(_("what the customer said about the resolution"), max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["state", "resolution_due"], name="complaint_due_idx"),
            models.Index(fields=["customer", "state"], name="complaint_customer_idx"),
        ]

    def __str__(self):
        return self.number


class ComplaintAction(models.Model):
    """What was done about a complaint: a note, a call, a visit (replacements, refunds and
    returns link their documents here when they are made)."""

    class Kind(models.TextChoices):
        NOTE = "note", pgettext_lazy("complaint action", "Note")
        CALL = "call", pgettext_lazy("complaint action", "Call")
        VISIT = "visit", pgettext_lazy("complaint action", "On-site visit")
        ESCALATION = "escalation", pgettext_lazy("complaint action", "Escalation")
        REMEDY = "remedy", pgettext_lazy("complaint action", "Remedy")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    note = models.TextField(_("note"))
    by = models.ForeignKey(
        USER, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("complaint action")

    def __str__(self):
        return self.note[:60]


class Remedy(TrackedModel):
    """What the company gives the customer for a complaint, as a document of its own flow:
    a replacement (a no-charge order delivered FEFO again), a refund or a compensation (a
    credit note that finance issues once approved by amount), or a return of the goods to
    their lot (restocked or scrapped, credited at the net price)."""

    class Kind(models.TextChoices):
        REPLACEMENT = "replacement", pgettext_lazy("remedy", "Replacement")
        REFUND = "refund", pgettext_lazy("remedy", "Refund")
        COMPENSATION = "compensation", pgettext_lazy("remedy", "Compensation")
        RETURN = "return", pgettext_lazy("remedy", "Return of the goods")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="remedies"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=20, choices=REMEDY_FLOW.choices(), default=REMEDY_FLOW.initial)
    amount = MoneyField(_("amount (tax incl.)"), default=ZERO)
    reason = models.CharField(_("reason"), max_length=300)
    order = models.ForeignKey(
        SalesOrder,
        verbose_name=_("replacement order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivery = models.ForeignKey(
        Delivery,
        verbose_name=_("replacement delivery"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    customer_return = models.ForeignKey(
        CustomerReturn, verbose_name=_("return"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_note = models.ForeignKey(
        CreditNote, verbose_name=_("credit note"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason rejected"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        indexes = [models.Index(fields=["state", "kind"], name="remedy_state_idx")]

    def __str__(self):
        return f"{self.complaint} · {self.get_kind_display()}"


class Revisit(TrackedModel):
    """A call or visit a key account is owed: after a complaint closes, after a poor survey
    answer, or because nobody has asked them for a quarter. Done with an outcome."""

    class Reason(models.TextChoices):
        COMPLAINT = "complaint", pgettext_lazy("revisit reason", "After a complaint")
        DETRACTOR = "detractor", pgettext_lazy("revisit reason", "After a poor survey answer")
        ROUTINE = "routine", pgettext_lazy("revisit reason", "Quarterly key-account revisit")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due on"), db_index=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["done_on", "due_on", "id"]
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        indexes = [models.Index(fields=["owner", "done_on"], name="revisit_owner_idx")]

    def __str__(self):
        return f"{self.customer} · {self.due_on}"


class Suggestion(TrackedModel):
    """A suggestion about the process from staff or a customer, tracked to a decision."""

    class Source(models.TextChoices):
        STAFF = "staff", pgettext_lazy("suggestion source", "Staff")
        CUSTOMER = "customer", pgettext_lazy("suggestion source", "Customer")

    class Category(models.TextChoices):
        PROCESS = "process", pgettext_lazy("suggestion category", "Sales process")
        PRODUCT = "product", pgettext_lazy("suggestion category", "Product")
        SERVICE = "service", pgettext_lazy("suggestion category", "Service")
        DELIVERY = "delivery", pgettext_lazy("suggestion category", "Delivery and logistics")
        SYSTEM = "system", pgettext_lazy("suggestion category", "This system")
        OTHER = "other", pgettext_lazy("suggestion category", "Other")

    number = models.CharField(_("number"), max_length=32, unique=True)
    source = models.CharField(_("from"), max_length=16, choices=Source.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("suggestion"))
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    owner = models.ForeignKey(
        USER, verbose_name=_("owner"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=SUGGESTION_FLOW.choices(), default=SUGGESTION_FLOW.initial
    )
    decision = models.TextField(_("decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    implemented_at = models.DateTimeField(_("implemented at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        indexes = [models.Index(fields=["state", "created_at"], name="suggestion_state_idx")]

    def __str__(self):
        return f"{self.number} {self.title}"


# --- recalls ---------------------------------------------------------------------------------------


class Recall(TrackedModel):
    """A recall of one lot (or a mock recall drill, which changes nothing on the lot): every
    customer who received it, with what was shipped and what came back."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="recalls")
    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), null=True, blank=True, on_delete=models.PROTECT, related_name="recalls"
    )
    reason = models.TextField(_("reason"))
    is_drill = models.BooleanField(_("mock recall drill"), default=False)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=[("open", pgettext_lazy("recall state", "Open")), ("closed", pgettext_lazy("recall state", "Closed"))],
        default="open",
    )
    trace_ms = models.PositiveIntegerField(_("trace took (ms)"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")

    def __str__(self):
        return self.number


class RecallLine(models.Model):
    """One delivery of the lot to one customer, as the forward trace found it."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.PROTECT, related_name="+")
    shipped_quantity = models.DecimalField(_("shipped"), max_digits=14, decimal_places=3)
    returned_quantity = models.DecimalField(_("returned"), max_digits=14, decimal_places=3, default=0)
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_to = models.CharField(_("notice sent to"), max_length=254, blank=True)
    # the mail server took the e-mail: a line e-mailed (notified_to an address) without it was
    # lost between the commit and the send, and the resend job sends it
    mailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["customer__name", "delivery__number"]
        verbose_name = _("recall line")
        constraints = [models.UniqueConstraint(fields=["recall", "delivery"], name="uniq_recall_delivery")]

    def __str__(self):
        return f"{self.recall} · {self.delivery}"

    @property
    def outstanding(self):
        return self.shipped_quantity - self.returned_quantity


# --- satisfaction surveys --------------------------------------------------------------------------


class Survey(TrackedModel):
    """A questionnaire: CSAT (1–5) and NPS (0–10) always, plus free questions."""

    class Trigger(models.TextChoices):
        DELIVERY = "delivery", pgettext_lazy("survey trigger", "After a delivery")
        COMPLAINT = "complaint", pgettext_lazy("survey trigger", "After a complaint is closed")
        MANUAL = "manual", pgettext_lazy("survey trigger", "Sent by hand")

    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("sent"), max_length=16, choices=Trigger.choices)
    questions = models.JSONField(_("free questions"), default=list, blank=True)
    valid_days = models.PositiveSmallIntegerField(_("a link stays valid for (days)"), default=14)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self):
        return self.name


class SurveyInvitation(models.Model):
    """One link sent to one customer. Only the token's hash is stored: a link cannot be
    rebuilt from the database, and a forged token matches nothing."""

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey invitation")

    def __str__(self):
        return f"{self.survey} · {self.customer}"


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.PROTECT, related_name="response")
    csat = models.PositiveSmallIntegerField(_("satisfaction (1–5)"))
    nps = models.PositiveSmallIntegerField(_("would recommend us (0–10)"))
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey response")
        constraints = [
            models.CheckConstraint(condition=models.Q(csat__gte=1, csat__lte=5), name="survey_csat_range"),
            models.CheckConstraint(condition=models.Q(nps__lte=10), name="survey_nps_range"),
        ]

    def __str__(self):
        return f"CSAT {self.csat} · NPS {self.nps}"
