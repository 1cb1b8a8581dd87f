"""The demo company's order to cash: six months of inquiries, quotations, approvals, orders,
reviews, deliveries, receivables, payments, returns and credit notes, so that every demo role
finds work when it logs in (approvals for the managers and the director, orders to review and
to deliver for the planner, receivables of every age for finance, returns for service).

Every document is made by the sales services, by the person whose job it is (the rep, the
manager or director who approves, the planner, finance, service), in the order the days went
by: numbers, the audit log, stage events and stock moves are real. The services stamp "now"
on what they do; ``_backdate`` afterwards moves the documents' dates and their stage events to
the day each step stands for (see there why, and what it never touches).

Deterministic (one ``random.Random(2026)``, consumed in a fixed order; days relative to
``today``) and seeded once: a database that has sales documents already is left alone, so a
second run changes nothing (the audit chain included)."""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.catalog import services as catalog
from foodflow.catalog.models import Product
from foodflow.catalog.pricing import price_resolve
from foodflow.core.models import Notification, StageEvent
from foodflow.core.money import ZERO, round_money
from foodflow.core.notifications import notifications_mark_read
from foodflow.core.vocab import Channel, Storage
from foodflow.crm.models import Contact, Customer
from foodflow.inventory.allocation import allocation_plan, allocation_plans
from foodflow.inventory.models import Lot
from foodflow.sales import approvals
from foodflow.sales.fulfilment import delivery_create, delivery_receive, delivery_ship, order_close_short
from foodflow.sales.models import (
    ApprovalRequest,
    ApprovalStep,
    ContactChannel,
    CreditNote,
    CustomerNotice,
    CustomerReturn,
    Delivery,
    DocType,
    Inquiry,
    Invoice,
    OrderReview,
    Payment,
    PaymentAllocation,
    Quotation,
    SalesOrder,
    WriteOff,
)
from foodflow.sales.receivables import (
    invoice_issue,
    payment_record,
    receivables_overdue_remind,
    return_create,
    writeoff_request,
)
from foodflow.sales.review import credit_release_request, order_review_decide, requirement_for
from foodflow.sales.services import (
    InquiryLineInput,
    LineInput,
    inquiry_create,
    inquiry_lose,
    inquiry_to_quotation,
    order_amend,
    order_cancel,
    order_create,
    order_from_quotation,
    order_submit,
    quotation_accept,
    quotation_cancel,
    quotation_copy,
    quotation_create,
    quotation_decline,
    quotation_revise,
    quotation_send,
    quotation_submit,
    quotation_update,
    quotations_expire_due,
)
from foodflow.web.demo_stock import FOOD_SERVICE_SKUS, PRODUCTS, demo_customer_id

SEED = 2026
HISTORY_DAYS = 180  # how far back the orders go
COMPLETED_ORDERS = 10  # paid and closed over the months, besides the stories of ``_stories``
# The stock demo promises that every lot keeps between 20 and 800 cases on hand: the seed never
# takes a lot below this, so FEFO always finds the lot it planned on with stock left.
STOCK_FLOOR = Decimal(20)

# The standard cost of a case as a share of its base list price, per product family prefix:
# gross margins of a food maker (dairy thin, condiments fat).
COST_SHARE = {
    "DA": Decimal("0.68"),
    "BV": Decimal("0.55"),
    "SN": Decimal("0.58"),
    "FZ": Decimal("0.64"),
    "CD": Decimal("0.52"),
    "GO": Decimal("0.74"),
}
# What each channel buys (SKU prefixes; chilled goods only in the stories that name them: their
# lots are days old, too young for a delivery months ago).
CHANNEL_SKUS = {
    Channel.KA: ("DA", "BV", "SN", "FZ", "CD", "GO"),
    Channel.DISTRIBUTOR: ("DA", "BV", "SN", "CD", "GO"),
    Channel.RETAIL: ("DA", "BV", "SN", "CD"),
    Channel.FOOD_SERVICE: tuple(FOOD_SERVICE_SKUS),
    Channel.ECOMMERCE: ("DA", "BV", "SN", "GO"),
    Channel.EXPORT: ("CD", "SN", "GO"),
}
# CNY per order (tax incl.) and lines per order, per channel
ORDER_SIZE = {
    Channel.KA: ((30_000, 90_000), (2, 3)),
    Channel.DISTRIBUTOR: ((20_000, 60_000), (2, 3)),
    Channel.RETAIL: ((2_000, 6_000), (1, 3)),
    Channel.FOOD_SERVICE: ((5_000, 15_000), (2, 3)),
    Channel.ECOMMERCE: ((8_000, 25_000), (2, 3)),
    Channel.EXPORT: ((20_000, 60_000), (2, 3)),
}
# who sells how much of the history: the rep the demo opens with first
OWNER_WEIGHTS = {"rep": 8, "rep2": 3, "rep3": 3, "rep4": 1, "rep5": 2, "rep6": 1, "rep7": 1}
# the people who work in order to cash (who approves what: see ``_Demo.decide``)
SALES_USERS = (
    *("rep", "rep2", "rep3", "rep4", "rep5", "rep6", "rep7"),
    *("manager", "manager2", "director", "planner", "finance", "service"),
)
CARRIERS = ("德邦物流", "安能物流", "自有车队", "中通快运")
COLD_CARRIERS = ("顺丰冷运", "自有冷藏车")
BANKS = ("ICBC", "CCB", "ABC", "BOC", "CMB", "BCM")


# --- time: the demo's past ---------------------------------------------------------------------


def _workday(day: date) -> date:
    """Offices work Monday to Friday: a step that would fall on a weekend waits for Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


class _Clock:
    """Which moment of the demo's past each step stands for. ``enter`` is called before each
    step with the moment it stands for; ``past`` maps a time a service stamped (really: a few
    milliseconds into the seed) to that moment. Steps run in the order of their moments, so
    the mapping keeps the order in which things really happened."""

    def __init__(self):
        self.real: list[datetime] = []
        self.moments: list[datetime] = []

    def enter(self, moment: datetime) -> None:
        now = timezone.now()
        if self.moments:
            # a step never lands before the end of the one before it (ties, clamped moments)
            moment = max(moment, self.moments[-1] + (now - self.real[-1]))
        self.real.append(now)
        self.moments.append(moment)

    def past(self, value: datetime) -> datetime:
        index = bisect_right(self.real, value) - 1
        if index < 0:
            return value
        return self.moments[index] + (value - self.real[index])


class _Timeline:
    """The moments of one story: ``at(days, hour)`` after its first day, on a working day,
    never before the story's previous step and never after now."""

    def __init__(self, demo: _Demo, start: date):
        self.demo, self.start, self.last = demo, start, None

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        moment = self.demo.moment(_workday(self.start + timedelta(days=days)), hour, minute)
        if self.last is not None and moment <= self.last:
            moment = min(self.last + timedelta(minutes=20), self.demo.now)
        self.last = moment
        return moment

    @property
    def today(self) -> date:
        """The day of the step being run."""
        return timezone.localtime(self.last).date()


Story = Generator[datetime, None, object]


class _OutOfStock(Exception):
    """No lot the customer accepts was there to sell on that day."""


# --- the company's people, customers, products and stock ----------------------------------------


class _Demo:
    """What the stories share: who does what, which customers buy, the stock plan."""

    def __init__(self, *, today: date, rng: random.Random):
        self.today, self.rng = today, rng
        self.now = timezone.now() - timedelta(minutes=1)
        self.clock = _Clock()
        self.users = {
            user.username: user for user in User.objects.filter(username__in=SALES_USERS).select_related("org_unit")
        }
        self.products = {p.sku: p for p in Product.objects.filter(sku__in=[row.sku for row in PRODUCTS])}
        self.customers = list(
            Customer.objects.filter(status__in=(Customer.Status.ACTIVE, Customer.Status.DORMANT), credit_limit__gt=0)
            .select_related("owner", "region")
            .order_by("pk")
        )
        self.prospects = list(Customer.objects.filter(status=Customer.Status.PROSPECT).order_by("pk"))
        self.first_customer_id = demo_customer_id()
        self.signers = dict(Contact.objects.filter(is_primary=True).values_list("customer_id", "name"))
        self.used: Counter[int] = Counter()
        self.reserved_customers: set[int] = set()  # customers a story needs to itself
        # the stock plan: the FEFO lot each (product, shelf-life rule) starts from, and what
        # the stories have claimed of it (claimed = will be reserved, then shipped)
        self.first_lot: dict[tuple, tuple[int, int, Decimal] | None] = {}
        self.claimed: Counter[int] = Counter()
        self.produced = dict(Lot.objects.values_list("pk", "production_date"))
        self.prices: dict[tuple, Decimal] = {}
        self.requirements: dict[int, object] = {}
        self.references: Counter[date] = Counter()

    def user(self, username: str) -> User:
        return self.users[username]

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = timezone.make_aware(datetime.combine(min(day, self.today), time(hour, minute)))
        return min(moment, self.now)

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    # customers ---------------------------------------------------------------------------------

    def customer(
        self, owner: str, on: date, *, min_credit: int = 0, max_credit: int | None = None, channels=None
    ) -> Customer:
        """One of the owner's customers who was buying by then, the least used first."""
        pool = [
            c
            for c in self.customers
            if c.owner.username == owner
            and c.pk not in self.reserved_customers
            and c.first_order_at is not None
            and c.first_order_at < on
            and timezone.localtime(c.created_at).date() <= on
            and c.credit_limit >= min_credit
            and (max_credit is None or c.credit_limit <= max_credit)
            and (channels is None or c.channel in channels)
            # a dormant customer stopped ordering months ago
            and (c.status == Customer.Status.ACTIVE or on <= self.ago(100))
        ]
        if not pool:
            raise RuntimeError(f"demo sales: no customer of {owner} buying on {on}")
        least = min(self.used[c.pk] for c in pool)
        customer = self.rng.choice([c for c in pool if self.used[c.pk] == least])
        self.used[customer.pk] += 1
        return customer

    def customer_one(self) -> Customer:
        return next(c for c in self.customers if c.pk == self.first_customer_id)

    def prospect(self, owner: str) -> Customer:
        return next(c for c in self.prospects if c.owner_id == self.user(owner).pk)

    def signer(self, customer: Customer) -> str:
        return self.signers.get(customer.pk, "仓库收货员")

    def reference(self, customer: Customer, day: date) -> str:
        """The customer's purchase order number (supermarkets and distributors send one)."""
        if customer.channel not in (Channel.KA, Channel.DISTRIBUTOR, Channel.EXPORT):
            return ""
        self.references[day] += 1
        return f"PO{day:%Y%m%d}{customer.pk:03d}{self.references[day]}"

    # lines and stock ---------------------------------------------------------------------------

    def price(self, product: Product, customer: Customer) -> Decimal:
        """The list price of one case (only the first customer has a list of its own)."""
        own = customer.pk == self.first_customer_id
        key = (product.pk, customer.channel, customer.tier, own)
        if key not in self.prices:
            self.prices[key] = price_resolve(
                product=product,
                quantity=1,
                on=self.today,
                channel=customer.channel,
                tier=customer.tier,
                customer_id=customer.pk if own else None,
            ).unit_price
        return self.prices[key]

    def _first(self, product: Product, customer: Customer) -> tuple[int, int, Decimal] | None:
        """(balance, lot, free) of the lot FEFO serves this customer from first: read once per
        shelf-life rule for every product (the seed plans before it reserves anything)."""
        if customer.pk not in self.requirements:
            self.requirements[customer.pk] = requirement_for(customer)
        requirement = self.requirements[customer.pk]
        if (product.pk, requirement) not in self.first_lot:
            products = list(self.products.values())
            plans = allocation_plans(requests=[(p, 10**6) for p in products], on=self.today, requirement=requirement)
            for each, plan in zip(products, plans, strict=True):
                line = plan.lines[0] if plan.lines else None
                self.first_lot[(each.pk, requirement)] = (line.balance_id, line.lot_id, line.quantity) if line else None
        return self.first_lot[(product.pk, requirement)]

    def available(self, product: Product, customer: Customer, ship_on: date) -> Decimal:
        """What the seed may still sell of ``product`` to ``customer``: from the one lot FEFO
        will take (an order spanning two lots would empty the first), keeping the floor, and
        only if that lot was made by the day the goods were ordered (a delivery months ago
        never ships a lot made last week)."""
        first = self._first(product, customer)
        if first is None:
            return ZERO
        balance, lot, free = first
        if self.produced[lot] > ship_on:
            return ZERO
        return max(free - self.claimed[balance] - STOCK_FLOOR, ZERO)

    def claim(self, product: Product, customer: Customer, quantity: Decimal) -> None:
        first = self._first(product, customer)
        if first is not None:
            self.claimed[first[0]] += quantity

    def lines(
        self,
        customer: Customer,
        ship_on: date,
        *,
        amount: tuple[int, int] | None = None,
        count: int | None = None,
        discount: str = "0",
        skus: tuple[str, ...] = (),
    ) -> list[LineInput]:
        """Lines worth about ``amount`` (default: the channel's usual order, within 30 % of
        the customer's credit) that the stock can serve by ``ship_on``; their stock is claimed."""
        (low, high), (fewest, most) = ORDER_SIZE[customer.channel]
        if amount is None and customer.credit_limit > 0:
            high = min(high, int(customer.credit_limit * Decimal("0.3")))
        low, high = amount or (min(low, high), high)
        target = Decimal(self.rng.randint(low, high))
        count = count or self.rng.randint(fewest, most)
        prefixes = CHANNEL_SKUS[customer.channel]
        candidates = [
            sku
            for sku, product in sorted(self.products.items())
            if sku.startswith(prefixes) and product.storage != Storage.CHILLED and sku not in skus
        ]
        self.rng.shuffle(candidates)
        step = Decimal(5) if customer.channel == Channel.RETAIL else Decimal(10)
        chosen: list[LineInput] = []
        for sku in [*skus, *candidates]:
            product = self.products[sku]
            left = target - self.estimate(customer, chosen)
            if len(chosen) >= count and left < target / 10:
                break
            if any(line.product == product for line in chosen):
                continue
            free = (self.available(product, customer, ship_on) / step).to_integral_value(ROUND_DOWN) * step
            if free < step * 3:
                continue
            share = left / max(count - len(chosen), 1) / self.price(product, customer)
            want = max(step, (share / step).to_integral_value(ROUND_DOWN) * step)
            quantity = min(want, free)
            if quantity < min(want, step * 3):
                continue
            self.claim(product, customer, quantity)
            chosen.append(LineInput(product, quantity, discount=discount))
        if not chosen:
            raise _OutOfStock(f"demo sales: nothing in stock fits {customer} on {ship_on}")
        return chosen

    def order_for(self, owner: str, on: date, **criteria) -> tuple[Customer, list[LineInput]]:
        """One of the owner's customers (see ``customer``) and what they order on ``on``: a
        customer whose shelf-life rule no lot of that time meets buys nothing, another does."""
        for _ in range(10):
            customer = self.customer(owner, on, **criteria)
            try:
                return customer, self.lines(customer, on)
            except _OutOfStock:
                continue
        raise RuntimeError(f"demo sales: nothing in stock for the customers of {owner} on {on}")

    def estimate(self, customer: Customer, lines: list[LineInput]) -> Decimal:
        """About what the lines cost (list prices at one case: quantity breaks ignored)."""
        return sum(
            (self.price(line.product, customer) * line.quantity * (1 - Decimal(line.discount)) for line in lines), ZERO
        )

    # approvals -----------------------------------------------------------------------------------

    def decide(self, doc_type: str, obj, *, approve: bool = True, comment: str = "", levels: int = 9) -> None:
        """The open steps of the document's request, decided by whoever may decide them (never
        its owner: the engine refuses that), at most ``levels`` of them."""
        for _ in range(levels):
            step = (
                ApprovalStep.objects.filter(
                    request__doc_type=doc_type, request__object_id=obj.pk, request__state="pending", state="pending"
                )
                .select_related("request", "role")
                .first()
            )
            if step is None:
                return
            deciders = approvals.approvers_for(step.request, step)
            if not deciders:
                raise RuntimeError(f"demo sales: nobody may decide {step} ({step.role.code})")
            approvals.approval_decide(step=step, by=deciders[0], approve=approve, comment=comment)
            if not approve:
                return


# --- the stories -------------------------------------------------------------------------------


@dataclass
class Sale:
    """One customer's purchase: what, when, by whom, and how far it got."""

    owner: str
    customer: Customer
    start: date
    lines: list[LineInput]
    until: str = "completed"  # the order state the story ends in
    via: str = "order"  # "order", "quotation" or "inquiry"
    paid: str = "full"  # "full", "part", "short" (all but a small difference), "over", "none"
    pay_days: int | None = None  # days from the receivable to the payment (default: the terms)
    terms: int | None = None  # payment terms other than the customer's
    reject_first: bool = False  # the approver sends the quotation back once
    comment: str = "同意"
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _rep(d: _Demo, s: Sale) -> User:
    return d.user(s.owner)


def _quotation(d: _Demo, s: Sale, t: _Timeline) -> Story:
    """Inquiry (perhaps), quotation, approval, sent, accepted: the quotation."""
    rep = _rep(d, s)
    wanted = _workday(s.start + timedelta(days=7))
    if s.via == "inquiry":
        inquiry = inquiry_create(
            by=rep,
            customer=s.customer,
            channel=d.rng.choice((ContactChannel.PHONE, ContactChannel.WECHAT, ContactChannel.VISIT)),
            lines=[InquiryLineInput(line.quantity, product=line.product) for line in s.lines],
            received_on=t.today,
            wanted_date=wanted,
            notes=s.notes or "客户询价，要求一周内到货",
        )
        yield t.at(0, 15)
        quotation = inquiry_to_quotation(by=rep, inquiry=inquiry)
        if any(Decimal(line.discount) for line in s.lines):
            quotation = quotation_update(by=rep, quotation=quotation, lines=s.lines)
    else:
        quotation = quotation_create(
            by=rep, customer=s.customer, lines=s.lines, wanted_date=wanted, notes=s.notes, payment_terms_days=s.terms
        )
    quotation = quotation_submit(by=rep, quotation=quotation)
    if quotation.state == "pending_approval":
        yield t.at(0, 16, 30)
        if s.reject_first:
            d.decide(DocType.QUOTATION, quotation, approve=False, comment=s.extra["rejection"])
            yield t.at(1, 9, 30)
            quotation.refresh_from_db()
            quotation = quotation_update(by=rep, quotation=quotation, lines=s.extra["second_lines"])
            quotation = quotation_submit(by=rep, quotation=quotation)
            yield t.at(1, 11)
        d.decide(DocType.QUOTATION, quotation, comment=s.comment)
        quotation.refresh_from_db()
    yield t.at(1, 14)
    quotation = quotation_send(by=rep, quotation=quotation)
    yield t.at(2 + d.rng.randint(0, 2), 10, 30)
    return quotation_accept(by=rep, quotation=quotation)


def _ordered(d: _Demo, s: Sale, t: _Timeline) -> Story:
    """The order, submitted and (where a policy asks) approved: confirmed, or pending."""
    rep = _rep(d, s)
    if s.via == "order":
        order = order_create(
            by=rep,
            customer=s.customer,
            lines=s.lines,
            customer_reference=d.reference(s.customer, t.today),
            wanted_date=_workday(t.today + timedelta(days=3)),
            payment_terms_days=s.terms,
            notes=s.notes,
        )
    else:
        quotation = yield from _quotation(d, s, t)
        order = order_from_quotation(by=rep, quotation=quotation, customer_reference=d.reference(s.customer, t.today))
    if s.until == "draft":
        return order
    order = order_submit(by=rep, order=order)
    if order.state == "pending_approval" and s.until != "pending_approval":
        yield t.at(0, 17) if s.via == "order" else t.at(3, 17)
        d.decide(DocType.ORDER, order, comment=s.comment)
        order.refresh_from_db()
    return order


def _reserve(d: _Demo, order: SalesOrder, t: _Timeline, *, days: int = 1) -> Story:
    """The planner's review: everything is in stock, reserve it (FEFO)."""
    yield t.at(days, 10)
    return order_review_decide(
        by=d.user("planner"),
        order=order,
        decision="reserve",
        note="库存充足，按FEFO锁定批次",
        promised_date=_workday(t.today + timedelta(days=1)),
    )


def _deliver(d: _Demo, order: SalesOrder, t: _Timeline, *, days: int, quantities=None) -> Story:
    """A delivery note, shipped, and (next day) signed for; returns the delivery."""
    yield t.at(days, 8, 30)
    cold = order.lines.filter(product__storage__in=(Storage.CHILLED, Storage.FROZEN)).exists()
    delivery = delivery_create(
        by=d.user("planner"),
        order=order,
        planned_date=t.today,
        quantities=quantities,
        carrier=d.rng.choice(COLD_CARRIERS if cold else CARRIERS),
    )
    yield t.at(days, 14)
    delivery = delivery_ship(by=d.user("planner"), delivery=delivery)
    yield t.at(days + 1, 11)
    return delivery_receive(by=d.user("planner"), delivery=delivery, signed_by=d.signer(order.customer))


def _invoice_issue(d: _Demo, invoice: Invoice, t: _Timeline) -> None:
    """Finance records the VAT invoice: special for companies (91…), ordinary for sole traders."""
    company = (invoice.customer.credit_code or "").startswith("91")
    invoice_issue(
        by=d.user("finance"),
        invoice=invoice,
        vat_type=Invoice.VatType.SPECIAL if company else Invoice.VatType.ORDINARY,
        vat_number=f"{t.today:%y}{d.rng.randrange(10**17, 10**18)}",
        vat_date=t.today,
    )


def _pay(d: _Demo, order: SalesOrder, t: _Timeline, how: str, *, short: Decimal = ZERO) -> None:
    """The customer pays the order's open receivables: all, half, all but a small difference,
    or more than owed (the rest stays with the customer as credit)."""
    invoices = list(Invoice.objects.filter(order=order, state__in=("open", "issued")).order_by("pk"))
    owed = sum((invoice.open_amount for invoice in invoices), ZERO)
    if owed <= 0:
        return
    allocations = [(invoice, invoice.open_amount) for invoice in invoices]
    amount = owed
    if how == "part":
        amount = round_money(owed * Decimal("0.5") / 100) * 100
        allocations = [(invoices[0], min(amount, invoices[0].open_amount))]
        amount = allocations[0][1]
    elif how == "short":
        amount = owed - short
        allocations = [(invoices[0], amount)]
    elif how == "over":
        amount = (owed / 1000).to_integral_value() * 1000 + 1000
    acceptance = order.customer.channel == Channel.KA and d.rng.random() < 0.4
    payment_record(
        by=d.user("finance"),
        customer=order.customer,
        amount=amount,
        received_on=t.today,
        method=Payment.Method.ACCEPTANCE if acceptance else Payment.Method.TRANSFER,
        reference=f"{d.rng.choice(BANKS)}{t.today:%Y%m%d}{d.rng.randrange(10**5, 10**6)}",
        allocations=allocations,
    )


def _pay_day(d: _Demo, s: Sale, order: SalesOrder, shipped: int) -> int:
    """Days after the story's start the customer pays: around the due date, never today or later."""
    days = shipped + (s.pay_days if s.pay_days is not None else order.payment_terms_days + d.rng.randint(-5, 10))
    latest = (d.today - s.start).days - 1
    return max(shipped + 3, min(days, latest))


def _sale(d: _Demo, s: Sale) -> Story:
    """An order as far as ``s.until``: confirmed, reserved, delivered, paid."""
    t = _Timeline(d, s.start)
    yield t.at(0, 9, 10 + d.rng.randint(0, 40))
    order = yield from _ordered(d, s, t)
    if order.state != "confirmed" or s.until == "confirmed":
        return
    order = yield from _reserve(d, order, t, days=1 if s.via == "order" else 4)
    if s.until == "reserved":
        if s.extra.get("planned"):  # the delivery note is ready for tomorrow's truck
            yield t.at(2, 9)
            delivery_create(by=d.user("planner"), order=order, planned_date=d.today + timedelta(days=1))
        return
    shipped = (t.today - s.start).days + 1
    delivery = yield from _deliver(d, order, t, days=shipped)
    invoice = Invoice.objects.get(delivery=delivery)
    yield t.at(shipped + 2, 15)
    _invoice_issue(d, invoice, t)
    if s.paid == "none":
        return
    yield t.at(_pay_day(d, s, order, shipped), 10)
    _pay(d, order, t, s.paid, short=s.extra.get("short", ZERO))
    if s.paid == "short":  # the difference the customer will not pay: finance asks to write it off
        yield t.at((d.today - s.start).days - s.extra["write_off_days_ago"], 16)
        writeoff_request(by=d.user("finance"), invoice=invoice, amount=s.extra["short"], reason=s.extra["reason"])


def _partly_delivered(d: _Demo, s: Sale) -> Story:
    """Reserved in full; the first truck takes half, the rest follows (``short``: never)."""
    t = _Timeline(d, s.start)
    yield t.at(0, 10)
    order = yield from _ordered(d, s, t)
    order = yield from _reserve(d, order, t)
    first = {line.pk: (line.quantity / 2).to_integral_value() for line in order.lines.all()}
    delivery = yield from _deliver(d, order, t, days=2, quantities=first)
    if not s.extra.get("short"):
        return
    yield t.at(6, 16)
    order = order_close_short(by=d.user("planner"), order=order, reason=s.extra["short"])
    yield t.at(8, 11)
    _invoice_issue(d, Invoice.objects.get(delivery=delivery), t)
    yield t.at(_pay_day(d, s, order, 3), 10)
    _pay(d, order, t, "full")


def _amended(d: _Demo, s: Sale) -> Story:
    """Confirmed, then the customer orders more: version 2 replaces version 1, and goes on."""
    t = _Timeline(d, s.start)
    yield t.at(0, 9, 40)
    rep = _rep(d, s)
    order = yield from _ordered(d, s, t)
    yield t.at(0, 16, 20)
    amendment = order_amend(by=rep, order=order, lines=s.extra["more"], notes="客户追加订货数量（电话确认）")
    order = order_submit(by=rep, order=amendment)
    order = yield from _reserve(d, order, t)
    delivery = yield from _deliver(d, order, t, days=2)
    yield t.at(4, 15)
    _invoice_issue(d, Invoice.objects.get(delivery=delivery), t)
    yield t.at(_pay_day(d, s, order, 2), 10)
    _pay(d, order, t, "full")


def _returned_goods(d: _Demo, s: Sale) -> Story:
    """Delivered; some cases came back damaged (scrapped, credited); the rest is paid."""
    t = _Timeline(d, s.start)
    yield t.at(0, 9, 30)
    order = yield from _ordered(d, s, t)
    order = yield from _reserve(d, order, t)
    delivery = yield from _deliver(d, order, t, days=2)
    yield t.at(4, 10)
    line = delivery.lines.order_by("pk").first()
    return_create(
        by=d.user("service"),
        delivery=delivery,
        lines=[(line, min(Decimal(5), line.quantity), "scrap")],
        reason="运输途中外箱挤压破损，客户验货后退回5箱（附照片）",
        received_on=t.today,
    )
    yield t.at(5, 15)
    _invoice_issue(d, Invoice.objects.get(delivery=delivery), t)
    yield t.at(_pay_day(d, s, order, 2), 10)
    _pay(d, order, t, "full")


def _cancelled(d: _Demo, s: Sale) -> Story:
    t = _Timeline(d, s.start)
    yield t.at(0, 10, 30)
    order = yield from _ordered(d, s, t)
    if s.extra.get("reserve"):
        order = yield from _reserve(d, order, t)
    yield t.at(2, 11)
    order_cancel(by=_rep(d, s), order=order, reason=s.extra["reason"])


def _reviewed(d: _Demo, s: Sale) -> Story:
    """Confirmed, then the planner decides otherwise than "reserve": back to sales, or production."""
    t = _Timeline(d, s.start)
    yield t.at(0, 9, 50)
    order = yield from _ordered(d, s, t)
    yield t.at(1, 10, 30)
    order_review_decide(by=d.user("planner"), order=order, decision=s.extra["decision"], note=s.extra.get("note", ""))


def _credit_hold(d: _Demo, s: Sale) -> Story:
    """A customer near its limit: an earlier delivery not yet paid, an order confirmed, a second
    order over the limit (to the director). The planner blocks the first for credit; finance
    asks the director to lift the block."""
    t = _Timeline(d, s.start)
    yield t.at(0, 9, 15)
    rep = _rep(d, s)
    first = order_submit(by=rep, order=order_create(by=rep, customer=s.customer, lines=s.lines, notes="常规补货"))
    yield t.at(1, 9, 40)
    second = order_create(by=rep, customer=s.customer, lines=s.extra["second"], notes="节日备货，客户要求同车送达")
    order_submit(by=rep, order=second)
    yield t.at(2, 9, 20)
    first = order_review_decide(
        by=d.user("planner"),
        order=first,
        decision="credit_hold",
        note="应收及在途订单合计超出信用额度，冻结待财务处理",
    )
    yield t.at(2, 11)
    credit_release_request(by=d.user("finance"), order=first, reason="客户已承诺本周五前回款上月货款，申请临时放行本单")


def _quotation_only(d: _Demo, s: Sale) -> Story:
    """A quotation that did not (yet) become an order: ``until`` is its state."""
    t = _Timeline(d, s.start)
    yield t.at(0, 10, 20)
    rep = _rep(d, s)
    quotation = quotation_create(by=rep, customer=s.customer, lines=s.lines, notes=s.notes, payment_terms_days=s.terms)
    if s.until == "draft":
        return
    quotation = quotation_submit(by=rep, quotation=quotation)
    if quotation.state == "pending_approval":
        if s.until == "pending_approval":
            # the first of two levels approved already: the rest waits (for the director)
            yield t.at(1, 9, 30)
            d.decide(DocType.QUOTATION, quotation, comment=s.comment, levels=s.extra.get("levels", 0))
            return
        yield t.at(0, 15)
        d.decide(DocType.QUOTATION, quotation, comment=s.comment)
        quotation.refresh_from_db()
    if s.until == "approved":
        return
    if s.until == "cancelled":
        yield t.at(2, 10)
        quotation_cancel(by=rep, quotation=quotation, reason=s.extra["reason"])
        return
    yield t.at(0, 17)
    quotation = quotation_send(by=rep, quotation=quotation)
    if s.until == "rejected":
        yield t.at(4, 14)
        quotation_decline(by=rep, quotation=quotation, reason=s.extra["reason"])
    elif s.extra.get("copy_for"):  # a like customer wants the same: a copy, as a draft
        yield t.at(1, 10)
        quotation_copy(by=rep, quotation=quotation, customer=s.extra["copy_for"])
    # "sent" waits for the customer; an old one expires (the daily job at the end)


def _revised(d: _Demo, s: Sale) -> Story:
    """Sent; the customer asks for a better price; version 2 (approved, sent, accepted) becomes
    the order, delivered and not yet due."""
    t = _Timeline(d, s.start)
    yield t.at(0, 10)
    rep = _rep(d, s)
    quotation = quotation_submit(
        by=rep, quotation=quotation_create(by=rep, customer=s.customer, lines=s.lines, notes="中秋档期备货报价")
    )
    d.decide(DocType.QUOTATION, quotation, comment="同意")
    quotation.refresh_from_db()
    yield t.at(0, 16)
    quotation = quotation_send(by=rep, quotation=quotation)
    yield t.at(2, 11)
    revision = quotation_revise(by=rep, quotation=quotation)
    revision = quotation_update(
        by=rep, quotation=revision, lines=s.extra["second_lines"], notes="客户要求让利3%，按第2版报价"
    )
    revision = quotation_submit(by=rep, quotation=revision)
    if revision.state == "pending_approval":
        yield t.at(2, 16)
        d.decide(DocType.QUOTATION, revision, comment="重点客户档期，同意让利3%")
        revision.refresh_from_db()
    yield t.at(3, 9, 30)
    revision = quotation_send(by=rep, quotation=revision)
    yield t.at(4, 10)
    revision = quotation_accept(by=rep, quotation=revision)
    order = order_submit(
        by=rep,
        order=order_from_quotation(by=rep, quotation=revision, customer_reference=d.reference(s.customer, t.today)),
    )
    order = yield from _reserve(d, order, t, days=5)
    delivery = yield from _deliver(d, order, t, days=7)
    yield t.at(9, 15)
    _invoice_issue(d, Invoice.objects.get(delivery=delivery), t)


def _inquiry(d: _Demo, s: Sale) -> Story:
    """An inquiry still open, or lost (``extra["lost"]`` says why)."""
    t = _Timeline(d, s.start)
    yield t.at(0, 11)
    lines = [InquiryLineInput(line.quantity, product=line.product) for line in s.lines]
    lines += [InquiryLineInput(qty, description=text) for text, qty in s.extra.get("free", ())]
    inquiry = inquiry_create(
        by=_rep(d, s),
        customer=s.customer,
        channel=s.extra.get("channel", ContactChannel.PHONE),
        lines=lines,
        received_on=t.today,
        wanted_date=_workday(t.today + timedelta(days=10)),
        notes=s.notes,
    )
    if s.extra.get("lost"):
        yield t.at(3, 15)
        inquiry_lose(by=_rep(d, s), inquiry=inquiry, reason=s.extra["lost"])


def _with_discount(lines: list[LineInput], discount: str) -> list[LineInput]:
    return [LineInput(line.product, line.quantity, line.unit_price, discount) for line in lines]


def _more(lines: list[LineInput], d: _Demo, customer: Customer, ship_on: date) -> list[LineInput]:
    """The first line a third more (as far as the stock allows; claimed)."""
    first = lines[0]
    extra = min(
        (first.quantity / 3 / 10).to_integral_value(ROUND_DOWN) * 10,
        (d.available(first.product, customer, ship_on) / 10).to_integral_value(ROUND_DOWN) * 10,
    )
    extra = max(extra, Decimal(10))
    d.claim(first.product, customer, extra)
    return [LineInput(first.product, first.quantity + extra), *lines[1:]]


def _stories(d: _Demo) -> list[Story]:
    """Everything that happened, planned now (stock claimed in plan order), told later in the
    order of the days."""
    ago = d.ago
    stories: list[Story] = []

    def sale(owner: str, start: date, story=_sale, customer=None, lines=None, criteria=None, **fields) -> None:
        """One sale: to ``customer`` (else one of the owner's matching ``criteria``), of
        ``lines`` (else what the stock of the day offers)."""
        if customer is None:
            customer, default = d.order_for(owner, start, **(criteria or {}))
        else:
            default = d.lines(customer, start) if lines is None else None
        stories.append(story(d, Sale(owner, customer, start, lines if lines is not None else default, **fields)))

    one = d.customer_one()
    d.reserved_customers.add(one.pk)  # the demo's first customer has the stories that name it

    # -- the special cases first: they need particular customers and stock ------------------------
    # awaiting production: the big supermarket's fresh-milk promotion is more than the lots hold
    milk, yoghurt = d.products["DA006"], d.products["DA008"]
    fresh = allocation_plan(product=milk, quantity=10**6, on=d.today, requirement=requirement_for(one)).allocated
    d.claim(yoghurt, one, Decimal(120))
    sale(
        "rep",
        ago(3),
        _reviewed,
        customer=one,
        lines=[LineInput(milk, fresh + 180), LineInput(yoghurt, Decimal(120))],
        until="confirmed",
        notes="门店鲜奶周促销，需冷链配送到12家门店",
        comment="重点客户促销档期，同意",
        extra={"decision": "production", "note": "鲜奶库存不足，余量排产"},
    )
    # credit hold: a delivery not yet paid, an order confirmed, a second one over the limit
    # (under 180,000 of credit, the second order stays below the manager's 100,000: the director only)
    held = d.customer("rep2", ago(40), min_credit=80_000, max_credit=180_000, channels=(Channel.DISTRIBUTOR,))
    d.reserved_customers.add(held.pk)
    share = {part: (int(held.credit_limit * Decimal(part)),) * 2 for part in ("0.45", "0.25", "0.55")}
    sale("rep2", ago(27), customer=held, lines=d.lines(held, ago(27), amount=share["0.45"]), paid="none")
    sale(
        "rep2",
        ago(2),
        _credit_hold,
        customer=held,
        lines=d.lines(held, d.today, amount=share["0.25"]),
        extra={"second": d.lines(held, d.today, amount=share["0.55"])},
    )
    # customer 1: months of history, paid; a revised quotation; a return; one delivered lately
    for days_ago in (171, 128, 97, 66):
        sale("rep", ago(days_ago), customer=one, via="quotation" if days_ago == 128 else "order")
    lines = d.lines(one, ago(33), amount=(60_000, 60_000), skus=("DA001", "DA005"))
    sale("rep", ago(33), _revised, customer=one, lines=lines, extra={"second_lines": _with_discount(lines, "0.03")})
    sale("rep", ago(46), _returned_goods, customer=one, lines=d.lines(one, ago(46), amount=(30_000, 40_000)))
    sale("rep", ago(14), customer=one, paid="none")  # delivered, not yet due

    # -- the history: paid orders over the months ---------------------------------------------------
    owners = [owner for owner, weight in OWNER_WEIGHTS.items() for _ in range(weight)]
    span = HISTORY_DAYS - 24
    for index in range(COMPLETED_ORDERS):
        start = _workday(ago(HISTORY_DAYS - span * index // COMPLETED_ORDERS + d.rng.randint(-2, 2)))
        owner = "rep" if index == 2 else d.rng.choice(owners)
        customer, lines = d.order_for(owner, start)
        fields = {"via": ("order", "order", "quotation", "order", "order", "inquiry")[index % 6]}
        if owner in ("rep", "rep2", "rep3") and index % 4 == 1:
            # a promotion price above the rep's ceiling: the manager approves it
            lines, fields["comment"] = _with_discount(lines, "0.08"), "促销档期折扣，同意"
        if index == 2:  # too much discount: the manager sends the quotation back once
            fields |= {
                "reject_first": True,
                "extra": {
                    "rejection": "折扣超出权限，请控制在8%以内并附竞品价格",
                    "second_lines": _with_discount(lines, "0.08"),
                },
            }
            lines = _with_discount(lines, "0.12")
        sale(owner, start, customer=customer, lines=lines, **fields)

    # -- receivables of every age ------------------------------------------------------------------
    # 90+ days: paid but for a promotion fee the customer deducted; the write-off awaits the director
    shorted = {
        "short": Decimal("286.50"),
        "reason": "客户对账时扣除堆头促销费286.50元，销售确认无法追回",
        "write_off_days_ago": 3,
    }
    sale("rep", ago(150), criteria={"channels": (Channel.DISTRIBUTOR, Channel.KA)}, paid="short", pay_days=35,
         extra=shorted)  # fmt: skip
    sale("rep3", ago(118), paid="part", pay_days=40)  # 90+, half paid
    sale("rep5", ago(82), paid="none")  # 61–90, overdue
    sale("rep", ago(72), paid="none")  # 61–90
    sale("rep2", ago(47), criteria={"min_credit": 100_000}, paid="none")  # 31–60
    sale("rep6", ago(41), paid="none")  # 31–60
    sale("rep3", ago(19), paid="none")  # 0–30
    sale("rep4", ago(11), paid="none")  # 0–30
    sale("rep2", ago(65), paid="over")  # paid more than owed: the rest is the customer's credit

    # -- exceptions and amendments ------------------------------------------------------------------
    amended, first = d.order_for("rep", ago(63), channels=(Channel.DISTRIBUTOR,))
    sale("rep", ago(63), _amended, customer=amended, lines=first, extra={"more": _more(first, d, amended, ago(63))})
    sale(
        "rep3",
        ago(52),
        _partly_delivered,
        criteria={"channels": (Channel.DISTRIBUTOR, Channel.KA)},
        extra={"short": "客户仓库容量不足，余量取消不再送货（客户书面确认）"},
    )
    sale("rep", ago(21), _cancelled, extra={"reserve": True, "reason": "客户门店停业装修，取消本批订货"})

    # -- this week: work for every role --------------------------------------------------------------
    sale("rep3", ago(7), _partly_delivered)  # the rest still to ship
    sale("rep", ago(3), until="reserved")
    sale("rep7", ago(4), until="reserved", extra={"planned": True})  # the note for tomorrow's truck
    sale("rep2", ago(2), until="reserved")
    sale("rep", ago(1), customer=one, until="confirmed", notes="周末促销补货")  # awaiting review
    sale("rep3", ago(1), until="confirmed")
    sale("rep5", ago(0), until="confirmed")
    sale(
        "rep3",
        ago(3),
        _reviewed,
        criteria={"channels": (Channel.KA,)},
        until="confirmed",
        extra={"decision": "return", "note": "客户要求明早送达三家门店，车辆已排满；请与客户改约交期后重新提交"},
    )
    keen, lines = d.order_for("rep", ago(1), channels=(Channel.KA, Channel.DISTRIBUTOR))
    sale("rep", ago(1), customer=keen, lines=_with_discount(lines, "0.08"), until="pending_approval",
         notes="店庆促销，客户要求8%折扣")  # fmt: skip
    big = d.customer("rep2", ago(0), min_credit=500_000)
    sale(
        "rep2",
        ago(0),
        customer=big,
        lines=d.lines(big, d.today, amount=(120_000, 150_000), count=4),
        until="pending_approval",
        terms=big.payment_terms_days + 15,
        notes="年度大单，客户要求延长账期15天",
    )
    sale("rep", ago(0), until="draft", notes="待客户确认最终数量")

    # -- quotations and inquiries that are not orders ------------------------------------------------
    def quote(owner: str, start: date, until: str, customer=None, discount: str = "0", criteria=None, **fields):
        if customer is None:
            customer, lines = d.order_for(owner, start, **(criteria or {}))
        else:
            lines = d.lines(customer, d.today)
        lines = _with_discount(lines, discount)
        stories.append(_quotation_only(d, Sale(owner, customer, start, lines, until=until, **fields)))

    quote("rep", ago(0), "draft", customer=d.prospect("rep"), notes="新客户首单报价，待补充送货地址")
    quote("rep", ago(1), "pending_approval", discount="0.07", criteria={"channels": (Channel.KA,)})
    quote("rep3", ago(1), "pending_approval", discount="0.07", notes="竞品降价，客户要求跟进")
    quote(
        "rep2",
        ago(2),
        "pending_approval",
        discount="0.22",
        criteria={"channels": (Channel.KA, Channel.DISTRIBUTOR)},
        notes="清理库存特价，低于底价",
        comment="经理同意，报总监审批",
        extra={"levels": 1},  # the manager approved; below the floor, the director decides
    )
    quote("rep2", ago(1), "approved")
    copy_for = d.customer("rep", ago(4), channels=(Channel.DISTRIBUTOR,))
    quote("rep", ago(5), "sent", criteria={"channels": (Channel.DISTRIBUTOR,)}, extra={"copy_for": copy_for})
    quote("rep3", ago(6), "sent")
    quote("rep", ago(52), "sent")  # never answered: expires
    quote("rep3", ago(58), "rejected", extra={"reason": "价格高于蒙泉乳业约6%，客户选择了对方"})
    quote("rep2", ago(26), "cancelled", extra={"reason": "客户取消了本季度的促销计划"})

    def inquiry(owner: str, start: date, customer=None, notes: str = "", **extra):
        customer = customer or d.customer(owner, start)
        lines = d.lines(customer, d.today, count=2)
        stories.append(_inquiry(d, Sale(owner, customer, start, lines, notes=notes, extra=extra)))

    inquiry("rep", ago(0), channel=ContactChannel.WECHAT, notes="中秋礼盒询价",
            free=[("定制中秋礼盒（纯牛奶+坚果组合）", Decimal(300))])  # fmt: skip
    inquiry("rep3", ago(1), customer=d.prospect("rep3"), channel=ContactChannel.FAIR, notes="广州食品展会现场询价")
    inquiry("rep2", ago(60), lost="客户要求3天内冷链到货，排车无法满足")
    inquiry("rep5", ago(35), lost="价格高于丰穗粮油约8%，客户选择了对方")
    return stories


def _run(d: _Demo, stories: list[Story]) -> None:
    """Tell the stories step by step, the earliest moment first, across all of them."""
    queue: list[tuple[datetime, int, Story]] = []
    for index, story in enumerate(stories):
        moment = next(story, None)
        if moment is not None:
            heapq.heappush(queue, (moment, index, story))
    while queue:
        moment, index, story = heapq.heappop(queue)
        d.clock.enter(moment)
        moment = next(story, None)
        if moment is not None:
            heapq.heappush(queue, (moment, index, story))
    d.clock.enter(timezone.now())  # what follows happens now


# --- moving the history into the past ------------------------------------------------------------

# Times the sales services stamp with "now" (and the rows they stamp): mapped to the moment of
# the step that made them.
STAMPED = (
    (Inquiry, ("created_at", "updated_at")),
    (Quotation, ("created_at", "updated_at", "sent_at", "decided_at")),
    (SalesOrder, ("created_at", "updated_at")),
    (ApprovalRequest, ("submitted_at", "decided_at")),
    (ApprovalStep, ("decided_at",)),
    (OrderReview, ("at",)),
    (CustomerNotice, ("created_at",)),
    (Delivery, ("created_at", "updated_at", "shipped_at")),
    (Invoice, ("created_at", "updated_at")),
    (Payment, ("created_at", "updated_at")),
    (PaymentAllocation, ("at",)),
    (WriteOff, ("created_at", "updated_at")),
    (CustomerReturn, ("created_at", "updated_at")),
    (CreditNote, ("created_at", "updated_at")),
    (Notification, ("created_at",)),
)


def _backdate(clock: _Clock, *, since: datetime) -> None:
    """Move the seeded history to the days it stands for.

    Why: the demo needs months of history (aging, process times, trends), and the services
    rightly stamp today (``timezone.now()``/``localdate()``) on whatever they do; nothing is
    installed to fake the clock. So the stories ran through the services today, in the order of
    their days, and here the dates of what they made are set to the step each one stands for:
    the times the services stamped (``STAMPED``, and the stage events, whose time in each stage
    is counted again), and the dates derived from "today" (order date, receivable and due date,
    validity, date received). Dates the services accept as input (inquiry received, promised and
    planned delivery, VAT invoice date, payment received, return received) were given directly.

    Never touched: the audit log (hash-chained; it truthfully says when the seed ran, and
    ``foodflow audit verify`` must pass on the demo), and the stock ledger and reservations
    (inventory's own history, whose receipts are dated today as the stock demo made them)."""
    local = timezone.localtime
    shifts = backdate_stamps(clock, STAMPED, since=since)

    # the dates the services derived from today
    quotations = list(Quotation.objects.filter(pk__in=_made(shifts, Quotation)).only("valid_until"))
    for quotation in quotations:
        quotation.valid_until += shifts[(Quotation, quotation.pk)]
    Quotation.objects.bulk_update(quotations, ["valid_until"], batch_size=500)
    invoices = list(Invoice.objects.filter(pk__in=_made(shifts, Invoice)).only("invoice_date", "due_date"))
    for invoice in invoices:
        shift = shifts[(Invoice, invoice.pk)]
        invoice.invoice_date, invoice.due_date = invoice.invoice_date + shift, invoice.due_date + shift
    Invoice.objects.bulk_update(invoices, ["invoice_date", "due_date"], batch_size=500)
    # an amendment keeps the order date of the version it amends
    orders = list(SalesOrder.objects.filter(pk__in=_made(shifts, SalesOrder)).only("number", "ordered_on"))
    first = dict(
        SalesOrder.objects.filter(number__in={order.number for order in orders})
        .values("number")
        .annotate(first=Min("created_at"))
        .values_list("number", "first")
    )
    for order in orders:
        order.ordered_on = local(first[order.number]).date()
    SalesOrder.objects.bulk_update(orders, ["ordered_on"], batch_size=500)
    received = dict(
        StageEvent.objects.filter(
            object_type=Delivery._meta.label_lower,
            object_id__in=[str(pk) for pk in _made(shifts, Delivery)],
            to_state="received",
        ).values_list("object_id", "at")
    )
    deliveries = list(Delivery.objects.filter(pk__in=[int(pk) for pk in received]).only("received_on"))
    for delivery in deliveries:
        delivery.received_on = local(received[str(delivery.pk)]).date()
    Delivery.objects.bulk_update(deliveries, ["received_on"], batch_size=500)


def backdate_stamps(clock, stamped, *, since: datetime) -> dict[tuple[type, int], timedelta]:
    """Move the times the services stamped since ``since`` (``stamped``: model, field names,
    the creation first) to the moments they stand for, and the stage events with them.
    Returns how many days each row's creation moved, by (model, id)."""
    local = timezone.localtime
    shifts: dict[tuple[type, int], timedelta] = {}
    for model, names in stamped:
        rows = list(model.objects.filter(_any_since(names, since)).only("pk", *names))
        for row in rows:
            created = getattr(row, names[0])
            if created is not None and created >= since:
                shifts[(model, row.pk)] = local(clock.past(created)).date() - local(created).date()
            for name in names:
                value = getattr(row, name)
                if value is not None and value >= since:
                    setattr(row, name, clock.past(value))
        model.objects.bulk_update(rows, names, batch_size=500)
    _backdate_stage_events(clock, since=since)
    return shifts


def _made(shifts: dict, model: type) -> list[int]:
    """The ids of the ``model`` rows the seed made."""
    return [pk for each, pk in shifts if each is model]


def _any_since(names: tuple[str, ...], since: datetime) -> Q:
    query = Q()
    for name in names:
        query |= Q(**{f"{name}__gte": since})
    return query


def _backdate_stage_events(clock: _Clock, *, since: datetime) -> None:
    events = list(StageEvent.objects.filter(at__gte=since).order_by("at", "id"))
    previous: dict[tuple[str, str], datetime] = {}
    for event in events:
        event.at = clock.past(event.at)
        key = (event.object_type, event.object_id)
        before = previous.get(key)
        event.seconds_in_previous = int((event.at - before).total_seconds()) if before else None
        previous[key] = event.at
    StageEvent.objects.bulk_update(events, ["at", "seconds_in_previous"], batch_size=500)


def _inbox_read(*, before: datetime) -> None:
    """What the seed notified people of before this week, they have read by now."""
    unread = defaultdict(list)
    # only what the seed dated back is older than a few days (the rest of the demo is from today)
    for pk, recipient in Notification.objects.filter(created_at__lt=before, read_at__isnull=True).values_list(
        "pk", "recipient"
    ):
        unread[recipient].append(pk)
    for recipient in User.objects.filter(pk__in=unread):
        notifications_mark_read(user=recipient, ids=unread[recipient.pk])


# --- the seed ------------------------------------------------------------------------------------


def _seed_standard_costs() -> None:
    """What a case costs to make, for the margins (the CRM tiers, sales figures): set where the
    catalog has none."""
    base = {row.sku: Decimal(row.base_price) for row in PRODUCTS}
    for product in Product.objects.filter(sku__in=base, standard_cost__isnull=True).order_by("sku"):
        catalog.product_update(
            by=None, product=product, standard_cost=round_money(base[product.sku] * COST_SHARE[product.sku[:2]])
        )


@transaction.atomic
def sales_seed(*, today: date | None = None) -> dict:
    """Seed six months of order to cash, ending ``today`` (once: a database with sales documents
    is left alone). The history ends on the day the services stamp, so ``today`` is for a second
    run (which changes nothing) and tests; on an empty database leave it to the real date."""
    if Quotation.objects.exists() or SalesOrder.objects.exists():
        return sales_counts()
    today = today or timezone.localdate()
    _seed_standard_costs()
    demo = _Demo(today=today, rng=random.Random(SEED))  # noqa: S311 - demo data: repeatable, not secret
    since = timezone.now()
    _run(demo, _stories(demo))
    _backdate(demo.clock, since=since)
    _inbox_read(before=demo.moment(demo.ago(3), 0))
    # what the daily jobs did this morning: quotations past their date expire, reps hear of
    # their overdue receivables
    quotations_expire_due(on=today)
    receivables_overdue_remind(on=today)
    return sales_counts()


def sales_counts() -> dict:
    return {
        "inquiries": Inquiry.objects.count(),
        "quotations": Quotation.objects.count(),
        "orders": SalesOrder.objects.count(),
        "deliveries": Delivery.objects.count(),
        "receivables": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "returns": CustomerReturn.objects.count(),
        "credit_notes": CreditNote.objects.count(),
        "write_offs": WriteOff.objects.count(),
    }
