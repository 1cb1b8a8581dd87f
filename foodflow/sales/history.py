"""Historical orders taken over from an old system: written as they were, never re-lived.

A historical order keeps its original number, dates, prices, discounts and amounts (each line by
the rounding rule of ``foodflow.core.money``, the total the sum of the rounded lines) and is stored
in its final state at once: ``completed`` when it was paid in full, ``delivered`` when it was
shipped, otherwise ``confirmed``. It is marked ``imported`` (the order, its delivery, receivable and
payment) and the whole load is one audit entry ``sales.orders_imported``. That is the only reason it
skips what a live order goes through: no approval (its price was agreed years ago), no review, no
reservation, no stage events (the process monitor measures live documents, not a migration).

History does not touch today's stock: the lots it shipped from are unknown and the stock it took
is long gone, so an imported delivery has one line per order line with no lot, no warehouse and
no stock move (``DeliveryLine.lot`` is nullable for this). A recall trace therefore never lists
history, and goods of an imported delivery cannot come back through ``return_create``.

What the rest of the application relies on still holds (see ``bench/generate.py``'s ``verify``):
every order is version 1 and current, has an owner and is counted in the sales figures once the
caller rebuilds them (``foodflow.analytics.rollup``: the sales domain does not depend on
analytics); the delivered quantity of each line is what its delivery line carries; a delivered or
completed order has exactly one delivery (``received``, shipped and received on the ship date);
the totals are the sums of the lines; the receivable's paid part never exceeds its amount (more
money than the order's total stays on the payment as the customer's credit, as ``payment_record``
does). An order's rep may differ from the customer's owner today: history keeps who sold it.

Numbers: the order numbers are kept as given. One of the application's own form
(``SO-2019-000123``) moves that year's ``SO`` counter past it, so that ``number_next`` never gives
it again. Deliveries, receivables and payments get the application's numbers (``DN``/``AR``/``PAY``
by the year of their date, gapless, in date order), taken from the same counters inside the same
transaction: a rollback gives them back.

Importing the same orders again changes nothing: an order number already imported with the same
content is left as it is; with other content it is refused (history is not edited in place); a
number held by one of the application's own orders is refused."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.accounts.permissions import has_perm, perm_scope
from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO, line_amount, round_money, tax_included
from foodflow.core.numbering import numbers_move_past, numbers_take
from foodflow.core.permissions import Scope, acting_user

from .models import Delivery, DeliveryLine, Invoice, OrderLine, Payment, PaymentAllocation, SalesOrder
from .permissions import DOCS_MANAGE, RECEIVABLES_VIEW

CHUNK_ORDERS = 2000  # orders built and written at a time: memory stays flat
MAX_QUANTITY = Decimal("1e11")  # what the quantity columns hold (14 digits, 3 places)
MAX_MONEY = Decimal("1e12")  # what the money columns hold (14 digits, 2 places)
APP_ORDER_NUMBER = re.compile(r"SO-(\d{4})-(\d+)")  # the form ``number_next(doc_type="SO")`` gives
SHIPPED_AT = time(12)  # an old system knows the day a delivery left, not the hour: noon, local time
MILLI, CENT, BASIS_POINT, PERCENT = Decimal("0.001"), Decimal("0.01"), Decimal("0.0001"), Decimal("0.01")


@dataclass(slots=True)
class HistoryLine:
    position: int
    product_id: int
    quantity: Decimal
    unit_price: Decimal  # tax included, as the old system charged it
    discount: Decimal  # a fraction: 0.05 for 5 %
    vat_rate: Decimal  # a fraction: 0.13 for 13 %

    def key(self) -> tuple:
        return (self.position, self.product_id, self.quantity, self.unit_price, self.discount, self.vat_rate)


@dataclass(slots=True)
class HistoryOrder:
    number: str
    ordered_on: date
    customer_id: int
    owner_id: int
    shipped_on: date | None = None
    paid_on: date | None = None
    paid_amount: Decimal | None = None  # None with ``paid_on``: the order's total
    lines: list[HistoryLine] = field(default_factory=list)

    def total(self) -> Decimal:
        return sum(
            (line_amount(unit_price=x.unit_price, quantity=x.quantity, discount=x.discount) for x in self.lines), ZERO
        )


@dataclass
class HistoryResult:
    orders_created: int = 0
    lines_created: int = 0
    orders_unchanged: int = 0
    lines_unchanged: int = 0
    order_ids: list[int] = field(default_factory=list)  # the orders written now


def can_import_history(user) -> bool:
    """Writing history creates orders of any customer with their receivables and payments, without
    approval: people who manage documents of the whole company and see its receivables."""
    return perm_scope(user, DOCS_MANAGE) == Scope.ALL and has_perm(user, RECEIVABLES_VIEW)


# --- the rules of one line and of one order ------------------------------------------------------


def _refuse(name: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={name: [message]})


def _places(value: Decimal, unit: Decimal) -> bool:
    return value == value.quantize(unit)


def history_line_check(*, quantity: Decimal, unit_price: Decimal, discount: Decimal, vat_rate: Decimal) -> None:
    """A line as the old system had it: stored exactly, so no more places than the columns keep."""
    if quantity <= 0:
        raise _refuse("quantity", _("The quantity must be more than zero."), "invalid_quantity")
    if quantity >= MAX_QUANTITY or not _places(quantity, MILLI):
        raise _refuse("quantity", _("At most 3 decimal places and 11 digits."), "quantity_precision")
    if unit_price < 0:
        raise _refuse("unit_price", _("A price cannot be negative."), "invalid_price")
    if unit_price >= MAX_MONEY or not _places(unit_price, CENT):
        raise _refuse("unit_price", _("At most 2 decimal places (fen) and 12 digits."), "price_precision")
    if not ZERO <= discount <= 1:
        raise _refuse("discount", _("A discount is between 0 and 1 (0.05 or 5 %)."), "invalid_discount")
    if not _places(discount, BASIS_POINT):
        raise _refuse("discount", _("At most 4 decimal places (0.1234 or 12.34 %)."), "discount_precision")
    if not ZERO <= vat_rate < 1 or not _places(vat_rate, PERCENT):
        raise _refuse("vat_rate", _("A VAT rate is a whole percentage below 100 (0.13 or 13 %)."), "invalid_vat_rate")
    if unit_price * quantity >= MAX_MONEY:
        raise _refuse("quantity", _("The line's amount is too large."), "amount_too_large")


def history_order_check(
    *,
    ordered_on: date,
    shipped_on: date | None,
    paid_on: date | None,
    paid_amount: Decimal | None,
    today: date | None = None,
) -> None:
    """The dates of an order tell one story: ordered, then shipped, then paid, none in the future.
    A payment needs a shipment (a paid order is a completed one, and only a delivered order
    completes)."""
    today = today or timezone.localdate()
    for name, day in (("ordered_on", ordered_on), ("shipped_on", shipped_on), ("paid_on", paid_on)):
        if day is not None and day > today:
            raise _refuse(name, _("The date is in the future."), "date_in_future")
    if shipped_on is not None and shipped_on < ordered_on:
        raise _refuse("shipped_on", _("Shipped before it was ordered?"), "shipped_before_ordered")
    if paid_amount is not None and paid_on is None:
        raise _refuse("paid_on", _("A paid amount needs the date it was paid."), "paid_date_missing")
    if paid_on is not None:
        if shipped_on is None:
            raise _refuse("shipped_on", _("A paid order needs its ship date."), "paid_not_shipped")
        if paid_on < ordered_on:
            raise _refuse("paid_on", _("Paid before it was ordered?"), "paid_before_ordered")
    if paid_amount is not None and (paid_amount <= 0 or paid_amount >= MAX_MONEY or not _places(paid_amount, CENT)):
        raise _refuse("paid_amount", _("An amount above zero with at most 2 decimal places."), "invalid_amount")


def _order_check(order: HistoryOrder, today: date) -> None:
    """Every rule of one order; the message names the order."""
    try:
        _order_rules(order, today)
    except ValidationFailed as error:
        message = _("Order %(number)s: %(problem)s") % {"number": order.number, "problem": error.message}
        raise ValidationFailed(message, code=error.code, fields=error.fields) from None


def _order_rules(order: HistoryOrder, today: date) -> None:
    if not order.lines:
        raise _refuse("lines", _("An order has at least one line."), "no_lines")
    history_order_check(
        ordered_on=order.ordered_on,
        shipped_on=order.shipped_on,
        paid_on=order.paid_on,
        paid_amount=order.paid_amount,
        today=today,
    )
    positions = set()
    for line in order.lines:
        history_line_check(
            quantity=line.quantity, unit_price=line.unit_price, discount=line.discount, vat_rate=line.vat_rate
        )
        if line.position in positions or not 0 < line.position < 32768:
            raise _refuse("position", _("Each line needs its own position (1, 2, …)."), "duplicate_position")
        positions.add(line.position)


# --- what is here already ---------------------------------------------------------------------------


def history_stored(numbers: Iterable[str]) -> dict[str, HistoryOrder | None]:
    """The orders already here under these numbers: an imported one as it was written (to be
    compared with a file), None for a number one of the application's own orders holds. Three
    queries per 500 numbers. Only the imported delivery and payment count: what the application
    added since (a payment of the rest of a receivable) is not history."""
    found: dict[str, HistoryOrder | None] = {}
    numbers = list(dict.fromkeys(numbers))
    for start in range(0, len(numbers), 500):
        by_id: dict[int, HistoryOrder] = {}
        rows = OrderLine.objects.filter(order__number__in=numbers[start : start + 500]).values_list(
            "order_id",
            "order__number",
            "order__imported",
            "order__ordered_on",
            "order__customer_id",
            "order__owner_id",
            "position",
            "product_id",
            "quantity",
            "unit_price",
            "discount",
            "vat_rate",
        )
        for order_id, number, imported, ordered_on, customer_id, owner_id, *line in rows:
            order = by_id.get(order_id)
            if order is None:
                if not imported or number in found:  # an own order, or one amended (history never is)
                    found[number] = None
                    continue
                order = found[number] = by_id[order_id] = HistoryOrder(number, ordered_on, customer_id, owner_id)
            order.lines.append(HistoryLine(*line))
        if not by_id:
            continue
        deliveries = Delivery.objects.filter(order_id__in=by_id, imported=True)
        for order_id, shipped_on in deliveries.values_list("order_id", "planned_date"):
            by_id[order_id].shipped_on = shipped_on
        payments = PaymentAllocation.objects.filter(invoice__order_id__in=by_id, payment__imported=True)
        for order_id, paid_on, amount in payments.values_list(
            "invoice__order_id", "payment__received_on", "payment__amount"
        ):
            by_id[order_id].paid_on, by_id[order_id].paid_amount = paid_on, amount
    for order in found.values():
        if order is not None:
            order.lines.sort(key=lambda line: line.position)
    return found


def history_difference(stored: HistoryOrder, given: HistoryOrder) -> str:
    """The first field in which ``given`` differs from the stored order ("" when it does not)."""
    for name in ("ordered_on", "customer_id", "owner_id", "shipped_on"):
        if getattr(stored, name) != getattr(given, name):
            return name
    paid = given.total() if given.paid_amount is None and given.paid_on is not None else given.paid_amount
    if not paid:  # an order of nothing was settled without a payment: nothing records the date
        paid = None
    if (stored.paid_on, stored.paid_amount) != ((given.paid_on, paid) if paid else (None, None)):
        return "paid_on" if stored.paid_on != given.paid_on else "paid_amount"
    if [line.key() for line in stored.lines] != sorted(line.key() for line in given.lines):
        return "lines"
    return ""


# --- numbers --------------------------------------------------------------------------------------


def _numbers_for(doc_type: str, dated: list[tuple[date, str]]) -> dict[str, str]:
    """order number → a new document number, by the year of its date, in date order."""
    by_year: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for day, order_number in dated:
        by_year[day.year].append((day, order_number))
    numbers = {}
    for year, items in sorted(by_year.items()):
        items.sort()
        taken = numbers_take(doc_type=doc_type, year=year, count=len(items))
        for (_day, order_number), number in zip(items, taken, strict=True):
            numbers[order_number] = number
    return numbers


def _order_counters_past(numbers: Iterable[str]) -> None:
    """An imported number of the application's own form moves that year's counter past it."""
    highest: dict[int, int] = {}
    for number in numbers:
        match = APP_ORDER_NUMBER.fullmatch(number)
        if match:
            year, value = int(match[1]), int(match[2])
            highest[year] = max(highest.get(year, 0), value)
    for year, value in sorted(highest.items()):
        numbers_move_past(doc_type="SO", year=year, last=value)


# --- writing ----------------------------------------------------------------------------------------


def orders_history_write(*, by, orders: Sequence[HistoryOrder]) -> HistoryResult:
    """Write historical orders (with their delivery, receivable and payment when they were shipped
    and paid) in bulk, in the caller's transaction or one of its own; all or nothing.

    Raises ValidationFailed for an order that breaks a rule, names a customer, rep or product that
    does not exist, has the number of one of the application's own orders (``number_taken``) or was
    imported before with other content (``order_changed``). Orders imported before with the same
    content are counted as unchanged. The sales figures are the caller's to update (the order ids
    written are in the result): see ``foodflow.analytics.rollup``."""
    from foodflow.accounts.models import User
    from foodflow.catalog.models import Product
    from foodflow.crm.models import Customer, DeliveryAddress

    if by is not None and not can_import_history(by):
        raise PermissionDeniedError()
    today = timezone.localdate()
    result = HistoryResult()
    seen: set[str] = set()
    for order in orders:
        if order.number in seen:
            raise _refuse("number", _("Order %(number)s is given twice.") % {"number": order.number}, "duplicate_key")
        seen.add(order.number)
        _order_check(order, today)
    with transaction.atomic():
        stored = history_stored(seen)
        new: list[HistoryOrder] = []
        taken, changed = [], []
        for order in orders:
            if order.number not in stored:
                new.append(order)
            elif stored[order.number] is None:
                taken.append(order.number)
            elif history_difference(stored[order.number], order):
                changed.append(order.number)
            else:
                result.orders_unchanged += 1
                result.lines_unchanged += len(order.lines)
        del stored
        if taken:
            raise _refuse(
                "number",
                _("Orders of this system have these numbers: %(numbers)s.") % {"numbers": _listed(taken)},
                "number_taken",
            )
        if changed:
            raise _refuse(
                "number",
                _("These orders were imported before with other content (history is not changed): %(numbers)s.")
                % {"numbers": _listed(changed)},
                "order_changed",
            )
        if not new:
            return result
        customers = dict(
            Customer.objects.filter(pk__in={o.customer_id for o in new}).values_list("pk", "payment_terms_days")
        )
        owners = set(User.objects.filter(pk__in={o.owner_id for o in new}).values_list("pk", flat=True))
        product_ids = {line.product_id for o in new for line in o.lines}
        costs = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "standard_cost"))
        for order in new:
            if order.customer_id not in customers or order.owner_id not in owners:
                name = "customer" if order.customer_id not in customers else "rep"
                raise _refuse(name, _("Order %(number)s: not found.") % {"number": order.number}, "not_found")
            if any(line.product_id not in costs for line in order.lines):
                raise _refuse("sku", _("Order %(number)s: not found.") % {"number": order.number}, "not_found")
        addresses = {}
        for customer_id, address in (
            DeliveryAddress.objects.filter(customer_id__in=customers).order_by("-is_default", "label", "pk")
        ).values_list("customer_id", "address"):
            addresses.setdefault(customer_id, address)
        # a receivable is raised when the goods leave, so it is dated by the shipment
        numbers = {
            "DN": _numbers_for("DN", [(o.shipped_on, o.number) for o in new if o.shipped_on is not None]),
            "AR": _numbers_for("AR", [(o.shipped_on, o.number) for o in new if o.paid_on is not None]),
            "PAY": _numbers_for(
                "PAY", [(o.paid_on, o.number) for o in new if o.paid_on is not None and (o.paid_amount or o.total())]
            ),
        }
        _order_counters_past(o.number for o in new)
        writer = _Writer(actor=acting_user(by), customers=customers, costs=costs, addresses=addresses, numbers=numbers)
        for start in range(0, len(new), CHUNK_ORDERS):
            result.order_ids += writer.write(new[start : start + CHUNK_ORDERS])
        result.orders_created = len(new)
        result.lines_created = sum(len(o.lines) for o in new)
        _first_orders(new)
        ordered = sorted((o.ordered_on, o.number) for o in new)
        audit_record(
            action="sales.orders_imported",
            actor=by,
            object_type="sales.salesorder",
            object_repr=f"{ordered[0][1]} … {ordered[-1][1]}",
            changes={
                "orders": result.orders_created,
                "lines": result.lines_created,
                "unchanged_orders": result.orders_unchanged,
                "first_number": min(o.number for o in new),
                "last_number": max(o.number for o in new),
                "ordered_from": ordered[0][0].isoformat(),
                "ordered_to": ordered[-1][0].isoformat(),
                "total": str(writer.total),
                "deliveries": len(numbers["DN"]),
                "receivables": len(numbers["AR"]),
                "payments": len(numbers["PAY"]),
                "reason": "imported_history",  # why no approval, review or stock move took place
            },
        )
    return result


def _listed(numbers: list[str]) -> str:
    shown = "、".join(numbers[:10])
    return (
        shown if len(numbers) <= 10 else _("%(shown)s and %(more)s more") % {"shown": shown, "more": len(numbers) - 10}
    )


def _first_orders(orders: list[HistoryOrder]) -> None:
    """A customer's first order date moves back to its earliest order in the history."""
    from foodflow.crm.models import Customer

    first: dict[int, date] = {}
    for order in orders:
        if order.customer_id not in first or order.ordered_on < first[order.customer_id]:
            first[order.customer_id] = order.ordered_on
    by_day: dict[date, list[int]] = defaultdict(list)
    for customer_id, day in first.items():
        by_day[day].append(customer_id)
    for day, ids in sorted(by_day.items()):
        Customer.objects.filter(Q(first_order_at__isnull=True) | Q(first_order_at__gt=day), pk__in=ids).update(
            first_order_at=day
        )


# the columns of an order line, all given: the table has no defaults (Django keeps them in Python)
LINE_COLUMNS = (
    "order",
    "position",
    "product",
    "quantity",
    "list_price",
    "price_rule",
    "unit_price",
    "discount",
    "vat_rate",
    "amount",
    "tax",
    "cost",
    "delivered_quantity",
    "returned_quantity",
    "short_closed",
)


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows inserted as they are: what ``bulk_create`` would send, without building a model
    instance and compiling every value (about 90 µs a row, most of the time of a 100,000-line
    import); on PostgreSQL with ``COPY`` (a fifth of the time of single inserts). The values must
    already be what the columns keep: ids, quantized Decimals, strings, bools (no datetimes: they
    need the backend's adaptation)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    missing = [f.name for f in meta.concrete_fields if not f.null and not f.primary_key and f not in fields]
    if missing:
        raise RuntimeError(f"{model.__name__}: columns {missing} not given")
    quote = connection.ops.quote_name
    table, names = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def _delivery_lines_insert(delivery_ids: list[int]) -> None:
    """Each delivery carries its order's lines whole (no lot: see the module's docstring)."""
    line, delivery, delivery_line = (_Table(m) for m in (OrderLine, Delivery, DeliveryLine))
    sql = (
        f"INSERT INTO {delivery_line} ({delivery_line.delivery}, {delivery_line.order_line}, "  # noqa: S608
        f"{delivery_line.quantity}, {delivery_line.amount}) "
        f"SELECT d.{delivery.pk}, l.{line.pk}, l.{line.quantity}, l.{line.amount} "
        f"FROM {line} l JOIN {delivery} d ON d.{delivery.order} = l.{line.order} WHERE d.{delivery.pk} IN (%s)"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(delivery_ids), 500):
            chunk = delivery_ids[start : start + 500]
            cursor.execute(sql % ", ".join(["%s"] * len(chunk)), chunk)


class _Table:
    """``str()`` the quoted table of a model, an attribute the quoted column of a field."""

    def __init__(self, model):
        self.model = model

    def __str__(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def __getattr__(self, name: str) -> str:
        meta = self.model._meta
        return connection.ops.quote_name((meta.pk if name == "pk" else meta.get_field(name)).column)


class _Writer:
    """Builds the rows of a chunk of orders and writes them with ``bulk_create``."""

    def __init__(self, *, actor, customers: dict, costs: dict, addresses: dict, numbers: dict):
        self.actor = actor
        self.customers = customers  # id → payment terms (days)
        self.costs = {pk: cost or ZERO for pk, cost in costs.items()}  # product id → standard cost
        self.addresses = addresses
        self.numbers = numbers
        self.total = ZERO
        self.zone = timezone.get_current_timezone()

    def write(self, orders: list[HistoryOrder]) -> list[int]:
        actor, made, lines = self.actor, [], []
        amounts: list[list[tuple[Decimal, Decimal]]] = []
        for order in orders:
            priced = []
            for line in order.lines:
                amount = line_amount(unit_price=line.unit_price, quantity=line.quantity, discount=line.discount)
                priced.append((amount, tax_included(amount=amount, rate=line.vat_rate)))
            amounts.append(priced)
            total = sum((amount for amount, _tax in priced), ZERO)
            self.total += total
            paid = self._paid(order, total)
            state = "confirmed" if order.shipped_on is None else "completed" if paid >= total else "delivered"
            made.append(
                SalesOrder(
                    number=order.number,
                    customer_id=order.customer_id,
                    owner_id=order.owner_id,
                    payment_terms_days=self.customers[order.customer_id],
                    delivery_address=self.addresses.get(order.customer_id, ""),
                    total=total,
                    tax_total=sum((tax for _amount, tax in priced), ZERO),
                    state=state,
                    ordered_on=order.ordered_on,
                    imported=True,
                    created_by=actor,
                    updated_by=actor,
                )
            )
        SalesOrder.objects.bulk_create(made, batch_size=500)
        zero = ZERO
        for order, saved, priced in zip(orders, made, amounts, strict=True):
            delivered = order.shipped_on is not None
            for line, (amount, tax) in zip(order.lines, priced, strict=True):
                lines.append(
                    (
                        saved.pk,
                        line.position,
                        line.product_id,
                        line.quantity,
                        line.unit_price,  # list price: the list of then is unknown, the price charged is not
                        "",
                        line.unit_price,
                        line.discount,
                        line.vat_rate,
                        amount,
                        tax,
                        # the cost of then is unknown: today's standard cost, as a live order takes it
                        round_money(self.costs[line.product_id] * line.quantity),
                        line.quantity if delivered else zero,
                        zero,
                        False,
                    )
                )
        _insert_rows(OrderLine, LINE_COLUMNS, lines)
        del lines
        self._deliveries(orders, made)
        return [saved.pk for saved in made]

    def _paid(self, order: HistoryOrder, total: Decimal) -> Decimal:
        if order.paid_on is None:
            return ZERO
        return order.paid_amount if order.paid_amount is not None else total

    def _deliveries(self, orders: list[HistoryOrder], made: list[SalesOrder]) -> None:
        actor = self.actor
        deliveries, invoices = [], []
        shipped = [(order, saved) for order, saved in zip(orders, made, strict=True) if order.shipped_on is not None]
        for order, saved in shipped:
            at = timezone.make_aware(datetime.combine(order.shipped_on, SHIPPED_AT), self.zone)
            deliveries.append(
                Delivery(
                    number=self.numbers["DN"][order.number],
                    order_id=saved.pk,
                    customer_id=order.customer_id,
                    state="received",
                    planned_date=order.shipped_on,
                    address=saved.delivery_address,
                    shipped_at=at,
                    received_on=order.shipped_on,
                    total=saved.total,
                    imported=True,
                    created_by=actor,
                    updated_by=actor,
                )
            )
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        _delivery_lines_insert([delivery.pk for delivery in deliveries])
        payments: list[Payment | None] = []
        for (order, saved), delivery in zip(shipped, deliveries, strict=True):
            if order.paid_on is None:
                continue
            paid = self._paid(order, saved.total)
            settled = min(paid, saved.total)
            invoices.append(
                Invoice(
                    number=self.numbers["AR"][order.number],
                    customer_id=order.customer_id,
                    order_id=saved.pk,
                    delivery_id=delivery.pk,
                    owner_id=order.owner_id,
                    state="paid" if settled == saved.total else "open",
                    invoice_date=order.shipped_on,
                    due_date=order.shipped_on + timedelta(days=saved.payment_terms_days),
                    amount=saved.total,
                    tax=saved.tax_total,
                    paid_amount=settled,
                    imported=True,
                    created_by=actor,
                    updated_by=actor,
                )
            )
            # an order of nothing (free goods) owes nothing: settled without a payment, as live
            payments.append(
                Payment(
                    number=self.numbers["PAY"][order.number],
                    customer_id=order.customer_id,
                    received_on=order.paid_on,
                    amount=paid,
                    unallocated=paid - settled,
                    imported=True,
                    created_by=actor,
                    updated_by=actor,
                )
                if paid > 0
                else None
            )
        Invoice.objects.bulk_create(invoices, batch_size=500)
        Payment.objects.bulk_create([payment for payment in payments if payment is not None], batch_size=500)
        PaymentAllocation.objects.bulk_create(
            (
                PaymentAllocation(payment_id=payment.pk, invoice_id=invoice.pk, amount=invoice.paid_amount, by=actor)
                for invoice, payment in zip(invoices, payments, strict=True)
                if payment is not None and invoice.paid_amount > 0
            ),
            batch_size=1000,
        )
