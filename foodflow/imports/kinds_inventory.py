"""Import kind of inventory: lots and their stock (an opening balance from the old system), with
the rules of ``inventory.services.lot_receive``. Each row is the receipt of one lot into one
warehouse; it is written as ``lot_receive`` writes it, in bulk: the lot (the first time), the
balance and the receipt move that explains it, so that every balance still equals its moves."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import ValidationFailed
from foodflow.core.permissions import acting_user

from .kinds import CellError, Field, Kind, Result, normalise, register

CHUNK = 1000
QUANTITY_LIMIT = Decimal("1e11")  # 14 digits, 3 of them decimals

STOCK_FIELDS = (
    Field(
        "sku",
        _("SKU"),
        ("商品编码", "产品编码", "商品编号", "货号", "product code", "item code", "productid", "product id"),
        required=True,
        max_length=32,
    ),
    Field(
        "lot_number",
        _("lot number"),
        ("批号", "批次号", "批次", "生产批号", "lot", "lot no", "batch", "batch number"),
        required=True,
        max_length=40,
    ),
    Field("warehouse", _("warehouse"), ("仓库", "仓库编码", "仓库代码", "仓库名称", "warehouse code"), required=True),
    Field(
        "quantity",
        _("quantity"),
        ("数量", "库存数量", "库存", "在库数量", "qty", "on hand", "units in stock", "unitsinstock"),
        type="decimal",
        required=True,
    ),
    Field("production_date", _("production date"), ("生产日期", "manufactured"), type="date", required=True),
    Field(
        "expiry_date",
        _("expiry date"),
        ("到期日", "到期日期", "有效期至", "过期日期", "expiry", "expires", "best before"),
        type="date",
    ),
    Field("origin", _("origin"), ("来源", "供应商", "生产线", "supplier"), max_length=120),
)


def _prepare_stock(by) -> dict:
    from foodflow.catalog.models import Product
    from foodflow.inventory.models import Warehouse

    warehouses: dict[str, Warehouse] = {}
    everything = list(Warehouse.objects.all())
    for warehouse in everything:  # codes first: a code wins over another warehouse's name
        warehouses[normalise(warehouse.code)] = warehouse
    for warehouse in everything:
        warehouses.setdefault(normalise(warehouse.name), warehouse)
    products = {p.sku: p for p in Product.objects.only("pk", "sku", "storage", "shelf_life_days")}
    return {"warehouses": warehouses, "products": products, "stock": {}, "file_lots": {}, "seen": set()}


def _stock_of(product_id: int, context: dict) -> dict:
    """The product's lots (number → (id, production, expiry)) and what was received of each
    into each warehouse that holds it, read once per product of the file."""
    from foodflow.inventory.models import Lot, StockBalance, StockMove

    if product_id not in context["stock"]:
        lots = {
            number: (pk, produced, expires)
            for pk, number, produced, expires in Lot.objects.filter(product_id=product_id).values_list(
                "pk", "lot_number", "production_date", "expiry_date"
            )
        }
        received = {
            (lot_id, warehouse_id): Decimal("0")
            for lot_id, warehouse_id in StockBalance.objects.filter(product_id=product_id).values_list(
                "lot_id", "warehouse_id"
            )
        }
        receipts = (
            StockMove.objects.filter(lot__product_id=product_id, kind=StockMove.Kind.RECEIPT)
            .values_list("lot_id", "warehouse_id")
            .annotate(total=Sum("on_hand_change"))
        )
        for lot_id, warehouse_id, total in receipts:
            received[(lot_id, warehouse_id)] = total
        context["stock"][product_id] = {"lots": lots, "received": received}
    return context["stock"][product_id]


def _quantity_differs(lot_number: str, warehouse, received: Decimal) -> CellError:
    return CellError(
        _(
            "Lot %(lot)s was received into %(warehouse)s with %(received)s: an import does not change stock, "
            "a stock adjustment does."
        )
        % {"lot": lot_number, "warehouse": warehouse.code, "received": f"{received.normalize():f}"},
        "lot_quantity_differs",
        "quantity",
    )


def _clean_stock_row(values: dict, by, context: dict) -> dict:
    sku = values["sku"].strip().upper()
    product = context["products"].get(sku)
    if product is None:
        raise CellError(_("No product has this SKU."), "unknown_product", "sku")
    warehouse = context["warehouses"].get(normalise(values["warehouse"]))
    if warehouse is None:
        raise CellError(_("No warehouse has this code or name."), "unknown_warehouse", "warehouse")
    lot_number = values["lot_number"].strip()
    key = (product.pk, lot_number, warehouse.pk)
    if key in context["seen"]:
        raise CellError(_("The same product, lot and warehouse as another row."), "duplicate_key", "lot_number")
    context["seen"].add(key)
    # the rules of lot_receive, in its order
    quantity = values["quantity"]
    if quantity <= 0:
        raise CellError(_("Enter a quantity greater than zero."), "quantity_not_positive", "quantity")
    if quantity >= QUANTITY_LIMIT:
        raise CellError(_("The number is too large."), "too_large", "quantity")
    if quantity != quantity.quantize(Decimal("0.001")):
        raise CellError(_("At most three decimals."), "too_many_decimals", "quantity")
    if warehouse.zone != product.storage:
        raise CellError(
            _("%(sku)s must be stored %(storage)s; %(warehouse)s is %(zone)s.")
            % {
                "sku": product.sku,
                "storage": product.get_storage_display(),
                "warehouse": warehouse.name,
                "zone": warehouse.get_zone_display(),
            },
            "wrong_temperature_zone",
            "warehouse",
        )
    produced = values["production_date"]
    expires = values.get("expiry_date") or produced + timedelta(days=product.shelf_life_days)
    if expires <= produced:
        raise CellError(
            _("The expiry date must be after the production date."), "expiry_before_production", "expiry_date"
        )
    dates = context["file_lots"].setdefault((product.pk, lot_number), (produced, expires))
    stock = _stock_of(product.pk, context)
    known = stock["lots"].get(lot_number)
    if dates != (produced, expires) or (known is not None and known[1:] != (produced, expires)):
        raise CellError(
            _("Lot %(lot)s exists with other dates.") % {"lot": lot_number}, "lot_dates_differ", "production_date"
        )
    received = stock["received"].get((known[0], warehouse.pk)) if known is not None else None
    if received is not None and received != quantity:
        raise _quantity_differs(lot_number, warehouse, received)
    return {
        "product_id": product.pk,
        "sku": sku,
        "lot_number": lot_number,
        "warehouse": warehouse,
        "quantity": quantity,
        "production_date": produced,
        "expiry_date": expires,
        "origin": values.get("origin") or "",
    }


def _write_stock(rows: list[dict], by, context: dict) -> Result:
    from foodflow.core.audit import audit_record
    from foodflow.inventory.models import Lot, StockBalance, StockMove

    result = Result()
    actor = acting_user(by)
    job = context.get("job")
    reference = f"IMPORT-{job.pk}" if job is not None else ""
    with transaction.atomic():

        def lots_of(product_ids: list[int]) -> dict[tuple[int, str], Lot]:
            found = {}
            for start in range(0, len(product_ids), CHUNK):
                for lot in Lot.objects.filter(product_id__in=product_ids[start : start + CHUNK]):
                    found[(lot.product_id, lot.lot_number)] = lot
            return found

        product_ids = sorted({row["product_id"] for row in rows})
        lots = lots_of(product_ids)
        new_lots = {}
        for row in rows:
            lot_key = (row["product_id"], row["lot_number"])
            if lot_key not in lots and lot_key not in new_lots:
                new_lots[lot_key] = Lot(
                    product_id=row["product_id"],
                    lot_number=row["lot_number"],
                    production_date=row["production_date"],
                    expiry_date=row["expiry_date"],
                    origin=row["origin"],
                    created_by=actor,
                    updated_by=actor,
                )
        Lot.objects.bulk_create(new_lots.values(), batch_size=CHUNK)
        if new_lots:
            lots = lots_of(product_ids)  # with their ids, whatever the database returns from a bulk insert
        # the balances already there, locked: checked again inside the transaction
        lot_ids = sorted({lots[(row["product_id"], row["lot_number"])].pk for row in rows})
        held, received = set(), {}
        for start in range(0, len(lot_ids), CHUNK):
            part = lot_ids[start : start + CHUNK]
            balances = StockBalance.objects.select_for_update().filter(lot_id__in=part)
            held.update(balances.values_list("lot_id", "warehouse_id"))
            receipts = (
                StockMove.objects.filter(lot_id__in=part, kind=StockMove.Kind.RECEIPT)
                .values_list("lot_id", "warehouse_id")
                .annotate(total=Sum("on_hand_change"))
            )
            received.update({(lot_id, warehouse_id): total for lot_id, warehouse_id, total in receipts})
        balances, moves, lots_received = [], [], []
        for row in rows:
            lot, warehouse = lots[(row["product_id"], row["lot_number"])], row["warehouse"]
            if (lot.production_date, lot.expiry_date) != (row["production_date"], row["expiry_date"]):
                raise ValidationFailed(
                    _("Lot %(lot)s exists with other dates."), code="lot_dates_differ", lot=row["lot_number"]
                )
            if (lot.pk, warehouse.pk) in held:
                before = received.get((lot.pk, warehouse.pk), Decimal("0"))
                if before != row["quantity"]:
                    error = _quantity_differs(row["lot_number"], warehouse, before)
                    raise ValidationFailed(error.message, code=error.code)
                result.unchanged += 1
                continue
            balances.append(StockBalance.for_lot(lot, warehouse, on_hand=row["quantity"]))
            moves.append(
                StockMove(
                    kind=StockMove.Kind.RECEIPT,
                    lot_id=lot.pk,
                    warehouse_id=warehouse.pk,
                    on_hand_change=row["quantity"],
                    reserved_change=Decimal("0"),
                    by=actor,
                    reference=(reference or row["lot_number"])[:64],
                    note=row["origin"][:200],
                )
            )
            lots_received.append([row["sku"], row["lot_number"], warehouse.code, str(row["quantity"])])
        # the balance and the move that explains it, together: balances = moves
        StockBalance.objects.bulk_create(balances, batch_size=CHUNK)
        StockMove.objects.bulk_create(moves, batch_size=CHUNK)
        if moves:
            audit_record(
                action="inventory.stock_imported",
                actor=by,
                obj=job,
                changes={"lots_created": len(new_lots), "receipts": len(moves), "received": lots_received[:1000]},
            )
        result.created = len(moves)
    return result


def _may_import_stock(user) -> bool:
    from foodflow.inventory.permissions import can_manage_stock

    return can_manage_stock(user)


register(
    Kind(
        code="stock",
        label=_("Lots and stock"),
        fields=STOCK_FIELDS,
        key=("sku", "lot_number", "warehouse"),
        allowed=_may_import_stock,
        clean=_clean_stock_row,
        write=_write_stock,
        prepare=_prepare_stock,
        description=_(
            "One row per lot in a warehouse (SKU, lot number, warehouse code or name, quantity, production "
            "date): each row is received as a receipt move, the lot created the first time. An empty expiry "
            "date follows from the product's shelf life. A lot already received into that warehouse with the "
            "same quantity is unchanged; with another quantity the row is refused (lot_quantity_differs): an "
            "import never changes stock that is here, a stock adjustment does. The product and the warehouse "
            "must exist, and the warehouse must have the product's temperature zone."
        ),
    )
)
