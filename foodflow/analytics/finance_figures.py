"""Receivables and service figures in the same slices as the sales figures (a date range and the
viewer's reps): collection rate, DSO, receivables aging, complaint rate, satisfaction (CSAT / NPS).
Read only; every figure is aggregated in SQL, a fixed number of queries whatever the data.

Whose figure it is:
- a receivable belongs to its owner rep (``Invoice.owner``, the order's owner when it was raised),
  its region and customer are the customer's;
- a complaint, a delivery and a survey answer belong to the customer's owner rep (as on the
  service desk's pages); complaints naming no customer belong to no rep and are left out.

Definitions (printed on the pages: ``RECEIVABLES_DEFINITIONS``, ``SERVICE_DEFINITIONS``):
- Collection rate: of the receivables falling due in the range, the share of what is owed that
  was paid by the last day of the range. What is owed = the receivables' amounts less the credit
  notes set against them by that day (a credit note means the customer does not owe it); paid =
  the allocations of payments received by that day (the payment's date counts, whenever it was
  allocated). Write-offs stay in what is owed and count as not collected. Percent, 0.1.
- Open at a day: amount − payments received by that day − credit notes set against it by that
  day − write-offs approved by that day, of the receivables raised by that day.
- DSO (days sales outstanding) at a day = open receivables that day ÷ receivables raised in the
  ``days`` days up to that day (gross amounts) × ``days``; 0.1 day; none when nothing was raised.
- Aging: the open receivables by days past due at a day (due date − day): not yet due, 1–30,
  31–60, 61–90, over 90; amount (0.01) and number of receivables.
- Complaint rate: complaints received in the range per 1,000 units delivered in the range (lines
  of deliveries shipped in the range, shipped or received since: the service desk's complaint
  rates count the same units); 0.01; none when nothing was delivered. Every complaint of the
  customers counts, whatever its category; the service desk's rate per product counts only the
  complaints naming that product.
- CSAT and NPS: the survey answers received in the range. CSAT = their average satisfaction
  (1–5, 0.01); NPS = % promoters (9–10) − % detractors (0–6) of them (−100…100, 0.1): the service
  desk's survey results use the same formulas and rounding (they count by the date the survey was
  sent, these by the date it was answered, so a month's figure does not move afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import OrgUnit, User
from foodflow.core.errors import ValidationFailed
from foodflow.core.money import ZERO, round_money
from foodflow.crm.models import Customer
from foodflow.sales.models import (
    ApprovalRequest,
    CreditNote,
    DeliveryLine,
    DocType,
    Invoice,
    PaymentAllocation,
    WriteOff,
)
from foodflow.sales.selectors import OPEN_INVOICE_STATES, open_amount_expression
from foodflow.service.models import Complaint, SurveyResponse
from foodflow.service.selectors_surveys import DELIVERED_STATES, DETRACTOR_UP_TO, PROMOTER_FROM

from .figures import add_months

MONEY = DecimalField(max_digits=14, decimal_places=2)
TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")
# SQLite adds decimals as floats: an invoice counts as open above half a cent, never on a residue
OPEN_ABOVE = Decimal("0.005")
DSO_DAYS = 90  # the DSO definition's text says 90 days

COLLECTION_GROUPS = {"rep": _("Rep"), "region": _("Region"), "customer": _("Customer")}
AGING_GROUPS = {"rep": _("Rep"), "region": _("Region"), "customer": _("Customer")}
SERVICE_GROUPS = {"rep": _("Rep"), "region": _("Region")}
# days past due: (name, label, lowest, highest); "current" is not yet due (due today included)
AGING_BUCKETS = (
    ("current", _("Not yet due"), None, 0),
    ("1-30", _("1–30 days overdue"), 1, 30),
    ("31-60", _("31–60 days overdue"), 31, 60),
    ("61-90", _("61–90 days overdue"), 61, 90),
    ("90+", _("Over 90 days overdue"), 91, None),
)

RECEIVABLES_DEFINITIONS = (
    _(
        "Collection rate: of the receivables falling due in the period, the share of what is owed that was paid "
        "by the period's last day. What is owed is the receivables' amounts less the credit notes set against "
        "them by that day; paid are the payments received by that day and allocated to them. Written-off "
        "amounts stay owed and count as not collected."
    ),
    _(
        "Open receivables at a day: the amount less the payments received, the credit notes set against it and "
        "the write-offs approved by that day."
    ),
    _(
        "DSO (days sales outstanding): the receivables open at the period's last day ÷ the receivables raised "
        "in the 90 days up to that day × 90."
    ),
    _("Aging: the receivables open at the day by days past their due date; a receivable due that day is not yet due."),
    _(
        "A receivable counts for its owner rep (the order's owner when it was raised); region and customer are "
        "the customer's."
    ),
)
SERVICE_DEFINITIONS = (
    _(
        "Complaint rate: complaints received in the period per 1,000 units delivered in the period (deliveries "
        "shipped in the period). Every complaint counts, whatever its category; the complaint rates per "
        "product count only the complaints naming the product."
    ),
    _("CSAT: the average satisfaction (1–5) of the survey answers received in the period."),
    _(
        "NPS: the percentage of promoters (9–10) less the percentage of detractors (0–6) among the survey "
        "answers received in the period."
    ),
    _(
        "Complaints, deliveries and survey answers count for the customer's owner rep and the customer's "
        "region; complaints naming no customer are left out."
    ),
)
DEFINITIONS = RECEIVABLES_DEFINITIONS + SERVICE_DEFINITIONS


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return _round(part * 100 / whole, TENTH) if whole > 0 else None


def _end_of(day: date) -> datetime:
    """The first moment after ``day`` on the local clock: ``< _end_of(day)`` means "by that day"."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())


def _moments(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return _end_of(date_from - timedelta(days=1)), _end_of(date_to)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last three full months before this one (the pages' and the API's period by default)."""
    today = today or timezone.localdate()
    date_to = today.replace(day=1) - timedelta(days=1)
    return add_months(date_to.replace(day=1), -2), date_to


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        message = _("The start is after the end.")
        raise ValidationFailed(message, code="invalid_range", fields={"date_from": [message]})


def _by_reps(queryset: QuerySet, reps: frozenset[int] | None, owner: str) -> QuerySet:
    return queryset if reps is None else queryset.filter(**{f"{owner}__in": reps})


def _money_sum(expression) -> Coalesce:
    return Coalesce(Sum(expression), Value(ZERO), output_field=MONEY)


def _grouped(queryset: QuerySet, field: str | None, **aggregates) -> dict:
    """The aggregates per value of ``field`` (one GROUP BY query), or in total under None."""
    if field is None:
        return {None: queryset.aggregate(**aggregates)}
    return {values[field]: values for values in queryset.order_by().values(field).annotate(**aggregates)}


def labels(by: str, keys) -> dict[int, tuple[str, str]]:
    """(label, code) of the reps, regions or customers with these ids."""
    keys = [key for key in keys if key is not None]
    if by == "rep":
        return {user.pk: (user.display_name, user.username) for user in User.objects.filter(pk__in=keys)}
    if by == "region":
        return {unit.pk: (unit.name, unit.code) for unit in OrgUnit.objects.filter(pk__in=keys)}
    return {c.pk: (c.name, c.code) for c in Customer.objects.filter(pk__in=keys).only("name", "code")}


def _labelled(rows: dict, by: str) -> list:
    names = labels(by, rows)
    for key, row in rows.items():
        row.label, row.code = names.get(key, (str(key), ""))
    return list(rows.values())


# --- collection ------------------------------------------------------------------------------------

INVOICE_KEY = {"rep": "owner_id", "region": "customer__region_id", "customer": "customer_id"}


@dataclass
class CollectionRow:
    key: int | None
    label: str = ""
    code: str = ""
    receivables: int = 0
    amount: Decimal = ZERO  # raised, tax incl.
    credited: Decimal = ZERO  # credit notes set against them by the end of the range
    collected: Decimal = ZERO  # payments received by the end of the range

    @property
    def due(self) -> Decimal:
        """What the customers owed: the receivables less their credit notes."""
        return self.amount - self.credited

    @property
    def outstanding(self) -> Decimal:
        return self.due - self.collected

    @property
    def rate(self) -> Decimal | None:
        """Collected ÷ due, percent (0.1); None when nothing was owed."""
        return _percent(self.collected, self.due)


def _falling_due(reps, date_from: date, date_to: date) -> QuerySet[Invoice]:
    return _by_reps(Invoice.objects.filter(due_date__range=(date_from, date_to)), reps, "owner")


def _collection(reps, date_from: date, date_to: date, key: str | None) -> dict:
    """key value → CollectionRow, in three grouped queries (receivables, payments, credit notes)."""
    invoices = _falling_due(reps, date_from, date_to)
    end = _end_of(date_to)
    part = f"invoice__{key}" if key else None
    raised = _grouped(invoices, key, n=Count("id"), total=_money_sum("amount"))
    paid = _grouped(
        PaymentAllocation.objects.filter(invoice__in=invoices, payment__received_on__lte=date_to),
        part,
        total=_money_sum("amount"),
    )
    credited = _grouped(
        CreditNote.objects.filter(invoice__in=invoices, created_at__lt=end), part, total=_money_sum("applied_amount")
    )
    rows = {
        group: CollectionRow(key=group, receivables=values["n"], amount=round_money(values["total"]))
        for group, values in raised.items()
        if values["n"]
    }
    for group, row in rows.items():
        row.collected = round_money(paid.get(group, {}).get("total") or ZERO)
        row.credited = round_money(credited.get(group, {}).get("total") or ZERO)
    return rows


def collection_totals(reps: frozenset[int] | None, date_from: date, date_to: date) -> CollectionRow:
    """The receivables of ``reps`` (None: all) falling due from ``date_from`` to ``date_to``: what
    was owed, credited and collected by ``date_to``."""
    return _collection(reps, date_from, date_to, None).get(None) or CollectionRow(key=None)


def collection_rate(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """Of the receivables of ``reps``' customers (None: all) falling due in the range, the share (%,
    1 decimal) of their amount paid by ``date_to``; None when nothing fell due.

    The amount is net of the credit notes set against them by ``date_to``; written-off amounts
    stay in it (not collected). See ``RECEIVABLES_DEFINITIONS``."""
    return collection_totals(reps, date_from, date_to).rate


def collection_by(reps: frozenset[int] | None, date_from: date, date_to: date, by: str = "rep") -> list[CollectionRow]:
    """The collection of the receivables falling due in the range per rep, region or customer;
    most outstanding first."""
    by = by if by in COLLECTION_GROUPS else "rep"
    rows = _labelled(_collection(reps, date_from, date_to, INVOICE_KEY[by]), by)
    return sorted(rows, key=lambda row: (-row.outstanding, row.label, row.key or 0))


# --- open receivables, DSO and aging -----------------------------------------------------------------


def _part_by(queryset: QuerySet, amount: str) -> Coalesce:
    """The sum of ``amount`` over ``queryset``'s rows of the outer receivable, as a subquery."""
    summed = queryset.filter(invoice=OuterRef("pk")).order_by().values("invoice").annotate(total=Sum(amount))
    return Coalesce(Subquery(summed.values("total")[:1], output_field=MONEY), Value(ZERO), output_field=MONEY)


def open_receivables(reps: frozenset[int] | None, on: date) -> QuerySet[Invoice]:
    """The receivables of ``reps`` open at the end of ``on``, annotated with ``open_on`` (the
    amount open then). Today or later: the receivables' own open amounts; before: rebuilt from
    the dated payments, credit notes and approved write-offs (what was known by the end of that
    day), so a past month's figure reads as it was."""
    invoices = _by_reps(Invoice.objects.filter(invoice_date__lte=on), reps, "owner")
    if on >= timezone.localdate():
        return (
            invoices.filter(state__in=OPEN_INVOICE_STATES)
            .annotate(open_on=open_amount_expression())
            .filter(open_on__gt=OPEN_ABOVE)
        )
    end = _end_of(on)
    # a receivable closed (paid, written off) by a change saved by the end of that day had
    # every part dated by then too (payments are never dated ahead): nothing was open of it
    invoices = invoices.filter(Q(state__in=OPEN_INVOICE_STATES) | Q(updated_at__gte=end))
    approved_at = Subquery(
        # write-off requests are recorded as approved even when no policy asked for an approval
        _approvals_of_write_offs().values("at")[:1]
    )
    write_offs = WriteOff.objects.annotate(approved_at=Coalesce(approved_at, F("created_at"))).filter(
        state=WriteOff.State.DONE, approved_at__lt=end
    )
    return invoices.annotate(
        open_on=ExpressionWrapper(
            F("amount")
            - _part_by(PaymentAllocation.objects.filter(payment__received_on__lte=on), "amount")
            - _part_by(CreditNote.objects.filter(created_at__lt=end), "applied_amount")
            - _part_by(write_offs, "amount"),
            output_field=MONEY,
        )
    ).filter(open_on__gt=OPEN_ABOVE)


def _approvals_of_write_offs():
    return (
        ApprovalRequest.objects.filter(doc_type=DocType.WRITE_OFF, object_id=OuterRef("pk"), state="approved")
        .order_by()
        .values("object_id")
        .annotate(at=Max("decided_at"))
    )


def receivables_open(reps: frozenset[int] | None, on: date) -> Decimal:
    """The amount of ``reps``' receivables open at the end of ``on`` (0.01)."""
    return round_money(open_receivables(reps, on).aggregate(total=_money_sum("open_on"))["total"])


def receivables_raised(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal:
    """The amount (tax incl., 0.01) of ``reps``' receivables raised from ``date_from`` to ``date_to``."""
    invoices = _by_reps(Invoice.objects.filter(invoice_date__range=(date_from, date_to)), reps, "owner")
    return round_money(invoices.aggregate(total=_money_sum("amount"))["total"])


@dataclass
class Dso:
    on: date
    days: int
    open: Decimal
    raised: Decimal

    @property
    def value(self) -> Decimal | None:
        """Days (0.1); None when nothing was raised in the window."""
        return _round(self.open * self.days / self.raised, TENTH) if self.raised > 0 else None


def dso_detail(reps: frozenset[int] | None, date_to: date, days: int = DSO_DAYS) -> Dso:
    """Days sales outstanding at the end of ``date_to`` with its two parts."""
    if days < 1:
        raise ValidationFailed(code="invalid_days", fields={"days": [_("At least one day.")]})
    return Dso(
        on=date_to,
        days=days,
        open=receivables_open(reps, date_to),
        raised=receivables_raised(reps, date_to - timedelta(days=days - 1), date_to),
    )


def dso(reps: frozenset[int] | None, date_to: date, days: int = DSO_DAYS) -> Decimal | None:
    """Days Sales Outstanding at ``date_to`` = receivables open then ÷ receivables raised in the
    ``days`` days up to it (``date_to`` included) × ``days``; 0.1 day; None when nothing was
    raised in those days."""
    return dso_detail(reps, date_to, days).value


@dataclass
class AgingCell:
    amount: Decimal = ZERO
    count: int = 0


@dataclass
class AgingRow:
    key: int | None
    label: str = ""
    code: str = ""
    buckets: dict[str, AgingCell] = field(default_factory=lambda: {name: AgingCell() for name, *_ in AGING_BUCKETS})

    @property
    def amount(self) -> Decimal:
        return sum((cell.amount for cell in self.buckets.values()), ZERO)

    @property
    def count(self) -> int:
        return sum(cell.count for cell in self.buckets.values())

    @property
    def overdue(self) -> Decimal:
        return self.amount - self.buckets["current"].amount

    @property
    def cells(self) -> list[tuple[str, AgingCell]]:
        return [(name, self.buckets[name]) for name, *_ in AGING_BUCKETS]


@dataclass
class Aging:
    on: date
    by: str | None
    rows: list[AgingRow]
    total: AgingRow


def _bucket_of(on: date) -> Case:
    whens = []
    for name, _label, _low, high in AGING_BUCKETS:
        # days overdue = on − due date: "at most high days" is "due on or after on − high"
        if high is not None:
            whens.append(When(due_date__gte=on - timedelta(days=high), then=Value(name)))
    return Case(*whens, default=Value(AGING_BUCKETS[-1][0]), output_field=CharField())


def aging(reps: frozenset[int] | None, on: date, by: str | None = None) -> Aging:
    """The receivables of ``reps`` open at the end of ``on`` by days overdue, in total and (``by``
    "rep", "region" or "customer") per owner rep, customer's region or customer, most overdue
    amount first."""
    by = by if by in AGING_GROUPS else None
    key = INVOICE_KEY.get(by)
    grouped = (
        open_receivables(reps, on)
        .annotate(bucket=_bucket_of(on))
        .order_by()
        .values(*(["bucket", key] if key else ["bucket"]))
        .annotate(amount=_money_sum("open_on"), n=Count("id", output_field=IntegerField()))
    )
    total = AgingRow(key=None)
    rows: dict[int, AgingRow] = {}
    for values in grouped:
        amount = round_money(values["amount"])
        targets = [total]
        if key:
            targets.append(rows.setdefault(values[key], AgingRow(key=values[key])))
        for row in targets:
            cell = row.buckets[values["bucket"]]
            cell.amount += amount
            cell.count += values["n"]
    listed = _labelled(rows, by) if by else []
    listed.sort(key=lambda row: (-row.overdue, -row.amount, row.label, row.key or 0))
    return Aging(on=on, by=by, rows=listed, total=total)


# --- complaints --------------------------------------------------------------------------------------

SERVICE_KEY = {"rep": "owner_id", "region": "region_id"}


@dataclass
class ComplaintRow:
    key: int | None
    label: str = ""
    code: str = ""
    complaints: int = 0
    delivered: Decimal = Decimal(0)  # units

    @property
    def rate(self) -> Decimal | None:
        """Complaints per 1,000 units delivered (0.01); None when nothing was delivered."""
        if self.delivered <= 0:
            return None
        return _round(Decimal(self.complaints) * 1000 / self.delivered, HUNDREDTH)


def _complaints(reps, date_from: date, date_to: date, by: str | None) -> dict:
    start, end = _moments(date_from, date_to)
    complaints = _by_reps(
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end, customer__isnull=False),
        reps,
        "customer__owner",
    )
    lines = _by_reps(
        DeliveryLine.objects.filter(
            delivery__state__in=DELIVERED_STATES, delivery__shipped_at__gte=start, delivery__shipped_at__lt=end
        ),
        reps,
        "delivery__customer__owner",
    )
    counted = _grouped(complaints, f"customer__{SERVICE_KEY[by]}" if by else None, n=Count("id"))
    delivered = _grouped(lines, f"delivery__customer__{SERVICE_KEY[by]}" if by else None, q=Sum("quantity"))
    rows: dict = {}
    for key, values in counted.items():
        if values["n"]:
            rows.setdefault(key, ComplaintRow(key=key)).complaints = values["n"]
    for key, values in delivered.items():
        if values["q"]:
            rows.setdefault(key, ComplaintRow(key=key)).delivered = Decimal(values["q"]).quantize(Decimal("0.001"))
    return rows


def complaint_totals(reps: frozenset[int] | None, date_from: date, date_to: date) -> ComplaintRow:
    """Complaints received and units delivered in the range for ``reps``' customers."""
    return _complaints(reps, date_from, date_to, None).get(None) or ComplaintRow(key=None)


def complaint_rate(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """Complaints received in the range from ``reps``' customers per 1,000 units delivered to them
    in the range (0.01); None when nothing was delivered."""
    return complaint_totals(reps, date_from, date_to).rate


def complaint_rate_by(
    reps: frozenset[int] | None, date_from: date, date_to: date, by: str = "rep"
) -> list[ComplaintRow]:
    """The complaint rate per rep or region (of the customer), highest first; rows without
    deliveries last."""
    by = by if by in SERVICE_GROUPS else "rep"
    rows = _labelled(_complaints(reps, date_from, date_to, by), by)
    return sorted(
        rows,
        key=lambda row: (row.rate is None, -(row.rate or 0), -row.complaints, row.label, row.key or 0),
    )


# --- satisfaction ------------------------------------------------------------------------------------


@dataclass
class SatisfactionRow:
    key: int | None
    label: str = ""
    code: str = ""
    answered: int = 0
    csat_sum: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def passives(self) -> int:
        return self.answered - self.promoters - self.detractors

    @property
    def csat(self) -> Decimal | None:
        """Average satisfaction 1–5 of the answers (0.01)."""
        return _round(Decimal(self.csat_sum) / self.answered, HUNDREDTH) if self.answered else None

    @property
    def nps(self) -> Decimal | None:
        """% promoters − % detractors of the answers, −100…100 (0.1)."""
        if not self.answered:
            return None
        return _round(Decimal(self.promoters - self.detractors) * 100 / self.answered, TENTH)


def _satisfaction(reps, date_from: date, date_to: date, by: str | None) -> dict:
    start, end = _moments(date_from, date_to)
    answers = _by_reps(SurveyResponse.objects.filter(at__gte=start, at__lt=end), reps, "invitation__customer__owner")
    grouped = _grouped(
        answers,
        f"invitation__customer__{SERVICE_KEY[by]}" if by else None,
        n=Count("id"),
        csat_sum=Sum("csat"),
        promoters=Count("id", filter=Q(nps__gte=PROMOTER_FROM)),
        detractors=Count("id", filter=Q(nps__lte=DETRACTOR_UP_TO)),
    )
    rows = {
        key: SatisfactionRow(
            key=key,
            answered=values["n"],
            csat_sum=int(values["csat_sum"] or 0),
            promoters=values["promoters"],
            detractors=values["detractors"],
        )
        for key, values in grouped.items()
        if values["n"]
    }
    return rows


def satisfaction_totals(reps: frozenset[int] | None, date_from: date, date_to: date) -> SatisfactionRow:
    """The survey answers received in the range from ``reps``' customers: count, CSAT and NPS."""
    return _satisfaction(reps, date_from, date_to, None).get(None) or SatisfactionRow(key=None)


def csat_average(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """The average CSAT (1–5, 2 decimals) of the survey answers received in the range from the
    customers owned by ``reps`` (None: all); None when there were none."""
    return satisfaction_totals(reps, date_from, date_to).csat


def nps(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """Net promoter score (% promoters 9–10 − % detractors 0–6, 1 decimal) of the survey answers
    received in the range from the customers owned by ``reps``; None when there were none."""
    return satisfaction_totals(reps, date_from, date_to).nps


def satisfaction_by(
    reps: frozenset[int] | None, date_from: date, date_to: date, by: str = "rep"
) -> list[SatisfactionRow]:
    """CSAT and NPS per rep or region (of the customer), most answers first."""
    by = by if by in SERVICE_GROUPS else "rep"
    rows = _labelled(_satisfaction(reps, date_from, date_to, by), by)
    return sorted(rows, key=lambda row: (-row.answered, row.label, row.key or 0))
