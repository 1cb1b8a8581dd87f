"""Import kind of open orders (``orders_open``): orders of a previous system not yet delivered,
taken over as live orders of this one.

Unlike history (``kinds_sales``), an open order lives on here, so it goes the way an order
entered by hand goes: ``order_create`` prices its lines (the price list's price when the file
gives none) and ``order_submit`` applies the approval policies, so it is confirmed at once or
waits for its approvers, and it is reserved, delivered and collected like any other. It gets this
system's number (``SO-…``) and the date of the day it is entered; its number in the previous
system is kept as ``source_number``, by which a second import of the same file finds it and
leaves it as it is (it may have been changed here since).

One row per order line; the order's own columns (customer, rep, wanted date, customer's PO
number, delivery address, notes) are repeated on each of its lines and must agree."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import DomainError, ValidationFailed

from .kinds import CellError, Field, Kind, Result, normalise, register
from .kinds_sales import AMBIGUOUS, HISTORY_FIELDS, fraction, rows_per_order

MILLI, CENT = Decimal("0.001"), Decimal("0.01")

_SHARED = {item.name: item for item in HISTORY_FIELDS}  # the line's columns are those of history
OPEN_FIELDS = (
    replace(
        _SHARED["number"],
        label=_("order number in the previous system"),
        headers=("原单号", *_SHARED["number"].headers),
    ),
    _SHARED["position"],
    _SHARED["customer"],
    _SHARED["rep"],
    _SHARED["sku"],
    _SHARED["quantity"],
    replace(_SHARED["unit_price"], required=False),
    _SHARED["discount"],
    Field(
        "wanted_date",
        _("wanted delivery date"),
        ("要求交货日期", "要货日期", "交货日期", "期望到货日期", "required date", "requireddate", "wanted date"),
        type="date",
    ),
    Field(
        "customer_reference",
        _("customer's PO number"),
        ("客户订单号", "客户采购单号", "采购单号", "po number", "customer po"),
        max_length=64,
    ),
    Field(
        "delivery_address",
        _("delivery address"),
        ("送货地址", "收货地址", "交货地址", "ship address", "shipaddress", "delivery address"),
        max_length=300,
    ),
    Field("notes", _("notes"), ("备注", "说明", "remarks", "notes"), max_length=1000),
)
ORDER_COLUMNS = ("customer", "rep", "wanted_date", "customer_reference", "delivery_address", "notes")


@dataclass(eq=False)
class _OpenOrder:
    """The order a file's rows build up: its own columns checked on its first row."""

    number: str
    signature: tuple
    positions_given: bool
    customer: object = None
    owner: object = None
    existing: bool = False  # taken over by an earlier import: left as it is
    error: CellError | None = None
    broken: bool = False
    lines: list = field(default_factory=list)  # (position, LineInput)


def _prepare_open(by) -> dict:
    from django.utils import timezone

    from foodflow.accounts.models import User
    from foodflow.catalog.models import Product
    from foodflow.crm.models import Customer
    from foodflow.sales.models import SalesOrder

    users: dict[str, object] = {}
    names: dict[str, list] = {}
    for user in User.objects.filter(is_active=True):
        users[normalise(user.username)] = user
        if user.full_name:
            names.setdefault(normalise(user.full_name), []).append(user)
    for name, people in names.items():
        users.setdefault(name, people[0] if len(people) == 1 else AMBIGUOUS)
    return {
        "customers": {customer.code: customer for customer in Customer.objects.select_related("owner", "region")},
        "products": {product.sku.upper(): product for product in Product.objects.all()},
        "users": users,
        "existing": set(SalesOrder.objects.exclude(source_number="").values_list("source_number", flat=True)),
        "orders": {},
        "today": timezone.localdate(),
    }


def _refused(error: DomainError) -> CellError:
    """A refusal of the line's pricing as the problem of a cell: ``lines.0.quantity`` is the
    quantity's; anything else (no price in the price list, say) the product's."""
    fields = getattr(error, "fields", None) or {}
    name, messages = next(iter(fields.items()), ("", [error.message]))
    column = name.rsplit(".", 1)[-1]
    if column not in {"quantity", "unit_price", "discount"}:
        column = "sku"
    return CellError(messages[0] if messages else error.message, error.code, column)


def _order_of(values: dict, by, context: dict) -> _OpenOrder:
    from foodflow.crm.permissions import can_manage_customer
    from foodflow.sales.permissions import can_create_docs

    number = values["number"]
    order = _OpenOrder(number, tuple(values[name] for name in ORDER_COLUMNS), values["position"] is not None)
    order.existing = number in context["existing"]
    customer = context["customers"].get(values["customer"])
    if customer is None:
        raise CellError(_("No customer has this code."), "unknown_customer", "customer")
    if by is not None and not (can_create_docs(by) and can_manage_customer(by, customer)):
        raise CellError(_("This customer is not in your scope."), "customer_out_of_scope", "customer")
    if customer.status == customer.Status.BLOCKED:
        raise CellError(_("The customer is blocked."), "customer_blocked", "customer")
    order.customer = customer
    order.owner = customer.owner
    if values["rep"] is not None:
        owner = context["users"].get(normalise(values["rep"]))
        if owner is None:
            raise CellError(_("No active user has this username or name."), "unknown_user", "rep")
        if owner == AMBIGUOUS:
            raise CellError(_("Several people have this name: give the username."), "ambiguous_user", "rep")
        order.owner = owner
    if values["wanted_date"] is not None and values["wanted_date"] < context["today"]:
        raise CellError(_("The wanted delivery date has passed."), "date_in_past", "wanted_date")
    return order


def _clean_open_row(values: dict, by, context: dict) -> dict:
    from foodflow.sales.services import LineInput, priced_lines

    number = values["number"]
    order = context["orders"].get(number)
    if order is None:
        try:
            order = context["orders"][number] = _order_of(values, by, context)
        except CellError as error:
            order = context["orders"][number] = _OpenOrder(number, (), values["position"] is not None, error=error)
    try:
        if order.error is not None:
            raise order.error
        signature = tuple(values[name] for name in ORDER_COLUMNS)
        if signature != order.signature:
            name = next(n for n, a, b in zip(ORDER_COLUMNS, signature, order.signature, strict=True) if a != b)
            raise CellError(
                _("The order's columns differ from its first row (order %(number)s).") % {"number": number},
                "order_mismatch",
                name,
            )
        if (values["position"] is not None) != order.positions_given:
            raise CellError(_("Give the line of every row of an order, or of none."), "position_missing", "position")
        position = values["position"] if order.positions_given else len(order.lines) + 1
        if position in {taken for taken, _line in order.lines}:
            raise CellError(_("Another row of this order has this line."), "duplicate_position", "position")
        product = context["products"].get(values["sku"].upper())
        if product is None:
            raise CellError(_("No product has this SKU."), "unknown_product", "sku")
        if values["quantity"] != values["quantity"].quantize(MILLI):
            raise CellError(_("At most 3 decimal places."), "quantity_precision", "quantity")
        if values["unit_price"] is not None and values["unit_price"] != values["unit_price"].quantize(CENT):
            raise CellError(_("At most 2 decimal places (fen)."), "price_precision", "unit_price")
        discount = fraction(values["discount"], "discount") or Decimal(0)
        line = LineInput(product, values["quantity"], values["unit_price"], discount)
        if not order.existing:
            try:  # the rules and prices of a line entered by hand
                priced_lines(customer=order.customer, lines=[line], on=context["today"])
            except (DomainError, ValidationFailed) as error:
                raise _refused(error) from None
    except CellError:
        order.broken = True
        raise
    order.lines.append((position, line))
    return {"order": order}


def _write_open(rows: list[dict], by, context: dict) -> Result:
    from foodflow.sales.services import order_create, order_submit

    result = Result()
    orders = list({id(row["order"]): row["order"] for row in rows}.values())
    job = context.get("job")
    if job is not None and len(rows) != job.rows_total:
        # some rows were refused ("import the valid rows only"): an order is taken over whole or not at all
        counts = rows_per_order(job)
        orders = [order for order in orders if not order.broken and counts[order.number] == len(order.lines)]
    for order in orders:
        if order.existing:
            result.unchanged += len(order.lines)
            continue
        fields = dict(zip(ORDER_COLUMNS, order.signature, strict=True))
        fields.pop("customer"), fields.pop("rep")
        try:
            created = order_create(
                by=by,
                customer=order.customer,
                owner=order.owner,
                lines=[line for _position, line in sorted(order.lines, key=lambda item: item[0])],
                source_number=order.number,
                **{name: value for name, value in fields.items() if value is not None},
            )
            order_submit(by=by, order=created)
        except DomainError as error:
            raise ValidationFailed(
                _("Order %(number)s: %(problem)s") % {"number": order.number, "problem": error.message},
                code=error.code,
            ) from None
        result.created += len(order.lines)
    return result


def _may_import_open(user) -> bool:
    from foodflow.sales.permissions import can_create_docs

    return can_create_docs(user)


register(
    Kind(
        code="orders_open",
        label=_("Open orders"),
        fields=OPEN_FIELDS,
        key=("number", "position", "sku"),
        allowed=_may_import_open,
        clean=_clean_open_row,
        write=_write_open,
        prepare=_prepare_open,
        description=_(
            "Orders of the previous system not yet delivered, taken over as live orders: one row per order line, "
            "the order's customer, rep, wanted date, PO number, address and notes repeated on each of its lines. "
            "Each order gets a number of this system and today's date, is priced like an order entered by hand "
            "(blank price: the price list's) and is submitted: confirmed at once, or waiting for approval when a "
            "policy asks for it. Its previous number is kept; an order taken over before is left as it is. Rep: "
            "username or full name (blank: the customer's owner). Discount: 0.05, 95折 or 5%."
        ),
    )
)
