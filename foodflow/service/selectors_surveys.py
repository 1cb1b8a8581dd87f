"""Reading satisfaction and quality: survey results grouped by customer, rep, region or
product, complaint rates per product or lot, and the revisits list's filters. The pages, their
Excel exports and the API share these, so they always show the same figures.

Definitions (the pages print them too):

- Survey results count the invitations *sent* in the date range (by local date). Response
  rate = answered / sent; average CSAT over the answered ones; NPS = % promoters (9–10) −
  % detractors (0–6) among the answered ones. By product, an invitation counts once for each
  distinct product of its delivery (a complaint survey: the complaint's product); invitations
  without a product (sent by hand) are left out of that view only.
- Complaint rate = complaints received in the range about the product (or naming the lot)
  per 1,000 units of it delivered in the range (lines of deliveries shipped in the range,
  shipped or received since). No delivery in the range: no rate.

Everything is counted within the reader's data scope (``service.view_complaints``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from foodflow.accounts.models import OrgUnit, User
from foodflow.accounts.permissions import scoped
from foodflow.catalog.models import Product
from foodflow.crm.models import Customer
from foodflow.inventory.models import Lot
from foodflow.sales.models import DeliveryLine

from .models import Complaint, Revisit, SurveyInvitation
from .permissions import VIEW, complaints_in_scope, revisits_in_scope

RESULT_GROUPS = ("customer", "rep", "region", "product")
RATE_GROUPS = ("product", "lot")
DEFAULT_RANGE_DAYS = 90
PROMOTER_FROM = 9  # NPS 9–10
DETRACTOR_UP_TO = 6  # NPS 0–6
DELIVERED_STATES = ("shipped", "received")

ONE = Decimal("1")
TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_RANGE_DAYS), today


def _moments(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of ``date_from``, start of the day after ``date_to``) on the local clock."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


# --- survey results ---------------------------------------------------------------------------------


def invitations_in_scope(user, queryset: QuerySet[SurveyInvitation]) -> QuerySet[SurveyInvitation]:
    """Invitations of the customers the user sees complaints of (their rep, their region)."""
    return scoped(user, VIEW, queryset, owner="customer__owner", unit="customer__region")


@dataclass
class ResultRow:
    key: int | None
    label: str
    code: str = ""
    sent: int = 0
    answered: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_sum: int = 0

    def add(self, csat: int | None, nps: int | None) -> None:
        self.sent += 1
        if csat is None or nps is None:
            return
        self.answered += 1
        self.csat_sum += csat
        if nps >= PROMOTER_FROM:
            self.promoters += 1
        elif nps <= DETRACTOR_UP_TO:
            self.detractors += 1
        else:
            self.passives += 1

    @property
    def response_rate(self) -> Decimal | None:
        """Percent of the sent invitations answered (0.1)."""
        return _round(Decimal(self.answered) * 100 / self.sent, TENTH) if self.sent else None

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


@dataclass
class SurveyResults:
    by: str
    date_from: date
    date_to: date
    rows: list[ResultRow] = field(default_factory=list)
    total: ResultRow = field(default_factory=lambda: ResultRow(key=None, label=""))


def _labels(by: str, keys: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(label, code) of each key of the grouping."""
    keys = [key for key in keys if key is not None]
    if by == "customer":
        return {c.pk: (c.name, c.code) for c in Customer.objects.filter(pk__in=keys).only("name", "code")}
    if by == "rep":
        return {u.pk: (u.display_name, u.username) for u in User.objects.filter(pk__in=keys)}
    if by == "region":
        return {u.pk: (u.name, u.code) for u in OrgUnit.objects.filter(pk__in=keys)}
    return {p.pk: (p.display_name, p.sku) for p in Product.objects.filter(pk__in=keys)}


def _products_of(invitations: list[dict]) -> dict[int, set[int]]:
    """invitation id → the distinct products it is about: its delivery's (a line per lot may
    repeat a product), or the complaint's product for a complaint survey."""
    by_delivery: dict[int, set[int]] = defaultdict(set)
    deliveries = {row["delivery_id"] for row in invitations if row["delivery_id"] and not row["complaint_id"]}
    for delivery_id, product_id in (
        DeliveryLine.objects.filter(delivery_id__in=deliveries)
        .values_list("delivery_id", "order_line__product_id")
        .distinct()
    ):
        by_delivery[delivery_id].add(product_id)
    products = {}
    for row in invitations:
        if row["complaint_id"]:
            products[row["id"]] = {row["complaint__product_id"]} if row["complaint__product_id"] else set()
        else:
            products[row["id"]] = by_delivery.get(row["delivery_id"], set())
    return products


RESULT_KEY = {"customer": "customer_id", "rep": "customer__owner_id", "region": "customer__region_id"}


def survey_results(user, *, by: str = "customer", date_from: date, date_to: date) -> SurveyResults:
    """The survey figures of the invitations sent from ``date_from`` to ``date_to`` (local
    dates, both included), one row per customer, rep, region or product, with the total."""
    by = by if by in RESULT_GROUPS else "customer"
    start, end = _moments(date_from, date_to)
    invitations = list(
        invitations_in_scope(user, SurveyInvitation.objects.filter(sent_at__gte=start, sent_at__lt=end))
        .order_by()
        .values(
            "id",
            "customer_id",
            "customer__owner_id",
            "customer__region_id",
            "delivery_id",
            "complaint_id",
            "complaint__product_id",
            "response__csat",
            "response__nps",
        )
    )
    results = SurveyResults(by=by, date_from=date_from, date_to=date_to)
    groups: dict[int, ResultRow] = {}
    products = _products_of(invitations) if by == "product" else {}
    for row in invitations:
        csat, nps = row["response__csat"], row["response__nps"]
        results.total.add(csat, nps)
        keys = products[row["id"]] if by == "product" else {row[RESULT_KEY[by]]}
        for key in keys:
            groups.setdefault(key, ResultRow(key=key, label="")).add(csat, nps)
    labels = _labels(by, groups)
    for key, group in groups.items():
        group.label, group.code = labels.get(key, (str(key), ""))
    results.rows = sorted(groups.values(), key=lambda group: (-group.sent, group.label, group.key or 0))
    return results


# --- complaint rates --------------------------------------------------------------------------------


@dataclass
class RateRow:
    key: int
    label: str
    code: str  # the SKU (and the lot number by lot)
    product_id: int
    lot_number: str = ""
    complaints: int = 0
    delivered: Decimal = Decimal(0)

    @property
    def rate(self) -> Decimal | None:
        """Complaints per 1,000 units delivered (0.01); None when nothing was delivered."""
        if self.delivered <= 0:
            return None
        return _round(Decimal(self.complaints) * 1000 / self.delivered, HUNDREDTH)


def delivery_lines_in_scope(user, queryset: QuerySet[DeliveryLine]) -> QuerySet[DeliveryLine]:
    return scoped(user, VIEW, queryset, owner="delivery__customer__owner", unit="delivery__customer__region")


def complaint_rates(user, *, by: str = "product", date_from: date, date_to: date) -> list[RateRow]:
    """Complaints per 1,000 units delivered of each product (or lot) that was complained about
    or delivered from ``date_from`` to ``date_to``; highest rate first, then most complaints."""
    by = by if by in RATE_GROUPS else "product"
    start, end = _moments(date_from, date_to)
    complaints = complaints_in_scope(user, Complaint.objects.filter(received_at__gte=start, received_at__lt=end))
    lines = delivery_lines_in_scope(
        user,
        DeliveryLine.objects.filter(
            delivery__state__in=DELIVERED_STATES, delivery__shipped_at__gte=start, delivery__shipped_at__lt=end
        ),
    )
    if by == "product":
        counted = complaints.filter(product__isnull=False).values_list("product_id").annotate(n=Count("id"))
        delivered = lines.values_list("order_line__product_id").annotate(q=Sum("quantity"))
    else:
        counted = complaints.filter(lot__isnull=False).values_list("lot_id").annotate(n=Count("id"))
        delivered = lines.filter(lot__isnull=False).values_list("lot_id").annotate(q=Sum("quantity"))
    counts = dict(counted.order_by())
    quantities = dict(delivered.order_by())
    keys = set(counts) | set(quantities)
    rows = []
    if by == "product":
        for product in Product.objects.filter(pk__in=keys):
            rows.append(RateRow(key=product.pk, label=product.display_name, code=product.sku, product_id=product.pk))
    else:
        for lot in Lot.objects.filter(pk__in=keys).select_related("product"):
            rows.append(
                RateRow(
                    key=lot.pk,
                    label=lot.product.display_name,
                    code=lot.product.sku,
                    product_id=lot.product_id,
                    lot_number=lot.lot_number,
                )
            )
    for row in rows:
        row.complaints = counts.get(row.key, 0)
        row.delivered = quantities.get(row.key) or Decimal(0)
    return sort_rates(rows, "-rate")


RATE_SORTS = ("rate", "complaints", "delivered", "name")


def sort_rates(rows: list[RateRow], sort: str) -> list[RateRow]:
    """Rows by ``rate``, ``complaints``, ``delivered`` or ``name`` (``-`` for descending);
    rows without a rate come last either way."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    tie = lambda row: (row.code, row.lot_number, row.key)  # noqa: E731

    if key == "name":
        return sorted(rows, key=tie, reverse=descending)
    if key == "rate":
        known = [row for row in rows if row.rate is not None]
        unknown = [row for row in rows if row.rate is None]
        known.sort(key=lambda row: (row.rate, row.complaints, tie(row)), reverse=descending)
        unknown.sort(key=lambda row: (row.complaints, tie(row)), reverse=True)
        return known + unknown
    value = {"complaints": lambda row: row.complaints, "delivered": lambda row: row.delivered}[key]
    return sorted(rows, key=lambda row: (value(row), tie(row)), reverse=descending)


# --- revisits ---------------------------------------------------------------------------------------

REVISIT_STATES = ("open", "due", "overdue", "done", "all")


def revisits_filtered(
    user,
    queryset: QuerySet[Revisit],
    *,
    state: str = "open",
    mine: bool = False,
    reason: str = "",
    q: str = "",
    today: date | None = None,
) -> QuerySet[Revisit]:
    """The revisits in the user's scope: ``open`` (not done), ``due`` (not done, date not
    passed), ``overdue`` (not done, date passed), ``done`` or ``all``; ``mine`` only the user's."""
    today = today or timezone.localdate()
    revisits = revisits_in_scope(user, queryset)
    if state == "open":
        revisits = revisits.filter(done_on__isnull=True)
    elif state == "due":
        revisits = revisits.filter(done_on__isnull=True, due_on__gte=today)
    elif state == "overdue":
        revisits = revisits.filter(done_on__isnull=True, due_on__lt=today)
    elif state == "done":
        revisits = revisits.filter(done_on__isnull=False)
    if mine:
        revisits = revisits.filter(owner=user)
    if reason in Revisit.Reason.values:
        revisits = revisits.filter(reason=reason)
    if q:
        revisits = revisits.filter(Q(customer__name__icontains=q) | Q(customer__code__iexact=q))
    return revisits


RESULT_SORTS = ("label", "sent", "answered", "rate", "csat", "nps")


def sort_results(rows: list[ResultRow], sort: str) -> list[ResultRow]:
    """Rows by one of ``RESULT_SORTS`` (``-`` for descending); a row without the figure (no
    answer yet) comes last either way."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "label":
        return sorted(rows, key=lambda row: (row.label, row.code, row.key or 0), reverse=descending)
    value = {
        "sent": lambda row: row.sent,
        "answered": lambda row: row.answered,
        "rate": lambda row: row.response_rate,
        "csat": lambda row: row.csat,
        "nps": lambda row: row.nps,
    }[key]
    known = sorted(
        (row for row in rows if value(row) is not None),
        key=lambda row: (value(row), row.label, row.key or 0),
        reverse=descending,
    )
    return known + [row for row in rows if value(row) is None]
