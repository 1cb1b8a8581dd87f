"""Import kinds of order to cash: historical orders (``orders_history``).

One row per order line; the order's own columns (date, customer, rep, ship date, payment) are
repeated on each of its lines and must agree. The rules of history live in the sales domain
(``foodflow.sales.history``): this module reads the cells, resolves codes to records and hands
whole orders over. The sales figures are brought up to date in the same transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import ValidationFailed

from .kinds import CellError, Field, Kind, Result, normalise, register

AMBIGUOUS = 0  # a full name several people share: not a user id
ANALYZE_FROM_LINES = 10_000  # on PostgreSQL, a load this large refreshes the planner's statistics

HISTORY_FIELDS = (
    Field(
        "number",
        _("order number"),
        ("订单号", "订单编号", "单号", "销售单号", "order no", "order id", "orderid", "order_id", "so number"),
        required=True,
        max_length=32,
    ),
    Field("position", _("line"), ("行号", "序号", "line no", "line number", "position"), type="int"),
    Field(
        "ordered_on",
        _("order date"),
        ("订单日期", "下单日期", "日期", "order_date", "orderdate", "date"),
        type="date",
        required=True,
    ),
    Field(
        "customer",
        _("customer code"),
        ("客户编号", "客户代码", "客户", "customer", "customer id", "customerid", "customer_id"),
        required=True,
        max_length=32,
    ),
    Field(
        "rep",
        _("sales rep"),
        ("销售代表", "业务员", "销售员", "负责人", "rep", "salesperson", "employee", "employee id", "employee_id"),
        max_length=150,
    ),
    Field(
        "sku",
        _("SKU"),
        (
            "产品编号",
            "产品编码",
            "商品编码",
            "物料编码",
            "货号",
            "product code",
            "product id",
            "productid",
            "product_id",
        ),
        required=True,
        max_length=32,
    ),
    Field("quantity", _("quantity"), ("数量", "qty"), type="decimal", required=True),
    Field(
        "unit_price",
        _("unit price (tax incl.)"),
        ("含税单价", "单价", "unit price", "unit_price", "unitprice", "price"),
        type="decimal",
        required=True,
    ),
    Field("discount", _("discount"), ("折扣", "折扣率"), max_length=16),
    Field("vat_rate", _("VAT rate"), ("税率", "增值税率", "vat", "tax rate"), max_length=16),
    Field(
        "shipped_on",
        _("ship date"),
        ("发货日期", "出库日期", "送货日期", "shipped date", "shipped_date", "shippeddate", "shipped on"),
        type="date",
    ),
    Field("paid_on", _("paid on"), ("付款日期", "回款日期", "收款日期", "paid date", "payment date"), type="date"),
    Field(
        "paid_amount",
        _("amount paid"),
        ("付款金额", "回款金额", "收款金额", "paid amount", "payment amount"),
        type="decimal",
    ),
)
ORDER_COLUMNS = ("ordered_on", "customer", "rep", "shipped_on", "paid_on", "paid_amount")


def fraction(text: str | None, name: str) -> Decimal | None:
    """A discount or rate as a fraction: ``0.05``, ``5%`` (or ``5％``) are the same; a discount
    also as Chinese shops write it, the part that is paid: ``95折`` or ``9.5折`` (5 % off),
    ``9折`` (10 % off). Blank: None. The range is the caller's rule."""
    if text is None:
        return None
    body = text.replace(" ", "")
    divisor, off = Decimal(1), False
    if body.endswith(("%", "％")):
        body, divisor = body[:-1], Decimal(100)
    elif name == "discount" and body.endswith("折"):
        body, off = body[:-1], True
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise CellError(_("Not a number (0.05, 95折 or 5%)."), "not_number", name) from None
    if not value.is_finite():
        raise CellError(_("Not a number (0.05, 95折 or 5%)."), "not_number", name)
    if off:
        if not 0 < value <= 100:
            raise CellError(_("Not a number (0.05, 95折 or 5%)."), "not_number", name)
        return 1 - value / (10 if value <= 10 else 100)
    return value / divisor


@dataclass(eq=False)
class _OrderInFile:
    """The order a file's rows build up: checked on its first row, then each row against it."""

    signature: tuple
    positions_given: bool
    order: object = None  # a HistoryOrder
    error: CellError | None = None  # what is wrong with the order's own columns
    broken: bool = False  # one of its rows was refused: with "valid rows only" it is skipped whole
    positions: set = field(default_factory=set)


def _prepare_history(by) -> dict:
    from django.utils import timezone

    from foodflow.accounts.models import User
    from foodflow.catalog.models import Product
    from foodflow.crm.models import Customer
    from foodflow.sales.models import SalesOrder

    users: dict[str, int] = {}
    names: dict[str, set[int]] = defaultdict(set)
    # every user, those who left too: history names who sold it then
    for pk, username, full_name in User.objects.values_list("pk", "username", "full_name"):
        users[normalise(username)] = pk
        if full_name:
            names[normalise(full_name)].add(pk)
    for name, pks in names.items():
        users.setdefault(name, next(iter(pks)) if len(pks) == 1 else AMBIGUOUS)
    existing: dict[str, bool] = {}
    for number, imported in SalesOrder.objects.values_list("number", "imported").iterator(chunk_size=20000):
        existing[number] = imported and existing.get(number, True)
    return {
        "customers": {code: (pk, owner) for code, pk, owner in Customer.objects.values_list("code", "pk", "owner_id")},
        # SKUs are kept in capitals (``product_create``): a file may write them in either case
        "products": {sku.upper(): (pk, vat) for sku, pk, vat in Product.objects.values_list("sku", "pk", "vat_rate")},
        "users": users,
        "existing": existing,
        "orders": {},
        "today": timezone.localdate(),
    }


def _cell_error(error: ValidationFailed) -> CellError:
    name, messages = next(iter(error.fields.items()), ("", [error.message]))
    return CellError(messages[0] if messages else error.message, error.code, name)


def _order_of(values: dict, context: dict):
    """The order of a first row: its customer, rep, dates and number checked (raises CellError)."""
    from foodflow.sales.history import HistoryOrder, history_order_check

    customer = context["customers"].get(values["customer"])
    if customer is None:
        raise CellError(_("No customer has this code."), "unknown_customer", "customer")
    owner = customer[1]
    if values["rep"] is not None:
        owner = context["users"].get(normalise(values["rep"]))
        if owner is None:
            raise CellError(_("No user has this username or name."), "unknown_user", "rep")
        if owner == AMBIGUOUS:
            raise CellError(_("Several people have this name: give the username."), "ambiguous_user", "rep")
    try:
        history_order_check(
            ordered_on=values["ordered_on"],
            shipped_on=values["shipped_on"],
            paid_on=values["paid_on"],
            paid_amount=values["paid_amount"],
            today=context["today"],
        )
    except ValidationFailed as error:
        raise _cell_error(error) from None
    order = HistoryOrder(
        number=values["number"],
        ordered_on=values["ordered_on"],
        customer_id=customer[0],
        owner_id=owner,
        shipped_on=values["shipped_on"],
        paid_on=values["paid_on"],
        paid_amount=values["paid_amount"],
    )
    # an order imported before is compared with its rows as a whole when it is written (one query
    # per 500 orders there; here it would be one per order, twice per import)
    if context["existing"].get(order.number) is False:
        raise CellError(_("An order of this system has this number."), "number_taken", "number")
    return order


def _clean_history_row(values: dict, by, context: dict) -> dict:
    from foodflow.sales.history import HistoryLine, history_line_check

    number = values["number"]
    signature = tuple(values[name] for name in ORDER_COLUMNS)
    given = values["position"] is not None
    found = context["orders"].get(number)
    if found is None:
        found = context["orders"][number] = _OrderInFile(signature, given)
        try:
            found.order = _order_of(values, context)
        except CellError as error:
            found.error = error
    try:
        if found.error is not None:
            raise found.error
        if signature != found.signature:
            name = next(n for n, a, b in zip(ORDER_COLUMNS, signature, found.signature, strict=True) if a != b)
            raise CellError(
                _("The order's columns differ from its first row (order %(number)s).") % {"number": number},
                "order_mismatch",
                name,
            )
        if given != found.positions_given:
            raise CellError(_("Give the line of every row of an order, or of none."), "position_missing", "position")
        product = context["products"].get(values["sku"].upper())
        if product is None:
            raise CellError(_("No product has this SKU."), "unknown_product", "sku")
        discount = fraction(values["discount"], "discount")
        rate = fraction(values["vat_rate"], "vat_rate")
        line = HistoryLine(
            position=values["position"] if given else len(found.order.lines) + 1,
            product_id=product[0],
            quantity=values["quantity"],
            unit_price=values["unit_price"],
            discount=Decimal(0) if discount is None else discount,
            vat_rate=product[1] if rate is None else rate,
        )
        if line.position in found.positions or not 0 < line.position < 32768:
            raise CellError(_("Another row of this order has this line."), "duplicate_position", "position")
        try:
            history_line_check(
                quantity=line.quantity, unit_price=line.unit_price, discount=line.discount, vat_rate=line.vat_rate
            )
        except ValidationFailed as error:
            raise _cell_error(error) from None
    except CellError:
        found.broken = True
        raise
    found.positions.add(line.position)
    found.order.lines.append(line)
    return {"order": found}


def _finish_history(good: list[tuple[int, dict]], context: dict) -> list[tuple[int, str, str, CellError]]:
    """Orders imported before are compared with the file as a whole (three queries per 500 orders):
    one whose content differs is refused on each of its rows (history is not edited in place)."""
    from foodflow.sales.history import history_difference, history_stored

    again = {
        number: found
        for number, found in context["orders"].items()
        if context["existing"].get(number) and found.error is None and not found.broken
    }
    if not again:
        return []
    labels = {item.name: item.label for item in HISTORY_FIELDS}
    labels |= {"customer_id": labels["customer"], "owner_id": labels["rep"], "lines": _("lines")}
    changed = {}
    for number, stored in history_stored(again).items():
        name = history_difference(stored, again[number].order) if stored is not None else ""
        if name:
            again[number].broken = True
            changed[number] = CellError(
                _("This order was imported before with another %(field)s: history is not changed.")
                % {"field": labels[name]},
                "order_changed",
            )
    return [
        (row, "number", values["order"].order.number, changed[values["order"].order.number])
        for row, values in good
        if values["order"].order.number in changed
    ]


def rows_per_order(job) -> Counter:
    """How many rows of the job's file name each order number (read again: the rows refused
    before a kind's ``clean`` never reach it)."""
    from .readers import read_table

    job.file.open("rb")
    try:
        table = read_table(job.file.read())
    finally:
        job.file.close()
    column = table.headers.index(job.mapping["number"])
    return Counter(cells[column].strip() for cells in table.rows)


def _write_history(rows: list[dict], by, context: dict) -> Result:
    from django.db import connection

    from foodflow.analytics.rollup import rollup_count_new
    from foodflow.sales.history import orders_history_write
    from foodflow.sales.models import OrderLine, SalesOrder

    found = list({id(row["order"]): row["order"] for row in rows}.values())
    whole = [item for item in found if not item.broken]
    job = context.get("job")
    if job is not None and len(rows) != job.rows_total:
        # some rows were refused ("import the valid rows only"): an order is imported whole or not at all
        counts = rows_per_order(job)
        whole = [item for item in whole if counts[item.order.number] == len(item.order.lines)]
    written = orders_history_write(by=by, orders=[item.order for item in whole])
    if written.lines_created >= ANALYZE_FROM_LINES and connection.vendor == "postgresql":
        # a first migration fills tables whose statistics say they are empty; planned so, the rebuild's
        # joins take three times as long. ANALYZE reads a sample (our rows too) in a tenth of a second.
        with connection.cursor() as cursor:
            for model in (SalesOrder, OrderLine):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    rollup_count_new(written.order_ids)  # in the sales figures, in this transaction
    return Result(created=written.lines_created, unchanged=written.lines_unchanged)


def _may_import_history(user) -> bool:
    from foodflow.sales.history import can_import_history

    return can_import_history(user)


register(
    Kind(
        code="orders_history",
        label=_("Historical orders"),
        fields=HISTORY_FIELDS,
        key=("number", "position", "sku"),
        allowed=_may_import_history,
        clean=_clean_history_row,
        write=_write_history,
        prepare=_prepare_history,
        finish=_finish_history,
        description=_(
            "One row per order line; the order's date, customer, rep, ship date and payment are repeated on each "
            "of its lines and must agree. Orders keep their numbers, dates and prices and are stored as they "
            "ended: completed when paid, delivered when shipped (one delivery, received that day), otherwise "
            "confirmed; no approval, no stock moved. Rep: username or full name (blank: the customer's owner). "
            "Discount: 0.05, 95折 or 5%; blank: none. VAT rate: 0.13 or 13%; blank: the product's. A paid date "
            "without an amount means the whole total was paid. An order imported before is left as it is (refused "
            "if its content differs); with 'import the valid rows', an order with any invalid row is skipped whole."
        ),
    )
)
