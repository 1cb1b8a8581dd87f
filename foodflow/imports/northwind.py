"""Migrating the public Northwind database (a food trading company, 1996–1998) into FoodFlow: the
worked example of a legacy migration (``examples/northwind/``, ``foodflow northwind PATH``).

What the old system holds and what it becomes:
- employees → sales reps (users with the rep role, in the team of the region where they sold most);
- the customers' countries → three regions (Europe, North America, South America), one team each;
- categories → catalogue categories; products → products (SKU ``NW-<id>``, the quantity per unit
  as the specification, the list price's 70 % as the standard cost: Northwind keeps no cost);
- customers → customers (code = the Northwind id; channel distributor; owner = the rep who took
  most of their orders) and their contact person → a primary contact;
- orders with their lines and discounts → historical orders (original numbers and dates; the ship
  date → a delivery received that day). Prices are taken as they are, tax included.

Every step goes through the import kinds — the same checks, all or nothing per file — with the
column mappings of ``examples/northwind/presets.json``, saved as presets named "Northwind …".
Running it again changes nothing."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from foodflow.core.money import round_money

PRESETS = Path(__file__).resolve().parent.parent.parent / "examples" / "northwind" / "presets.json"
CONTINENTS = {
    "EU": ("NW-EU", "欧洲大区", "Europe"),
    "NA": ("NW-NA", "北美大区", "North America"),
    "SA": ("NW-SA", "南美大区", "South America"),
}
COUNTRY_CONTINENT = {
    **dict.fromkeys(("USA", "Canada", "Mexico"), "NA"),
    **dict.fromkeys(("Brazil", "Venezuela", "Argentina"), "SA"),
}  # everything else: Europe
KINDS = ("products", "customers", "contacts", "orders_history")


def _read(folder: Path, name: str) -> list[dict]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def continent(country: str) -> str:
    return COUNTRY_CONTINENT.get(country, "EU")


def username(employee: dict) -> str:
    return f"nw.{employee['first_name']}.{employee['last_name']}".lower().replace(" ", "")


def tables(folder: Path) -> dict[str, list[dict]]:
    """The Northwind CSVs as the rows each import kind reads: the original columns, plus the ones
    FoodFlow needs that Northwind does not have (derived as the module's docstring says)."""
    employees = {row["employee_id"]: row for row in _read(folder, "employees")}
    customers = _read(folder, "customers")
    orders = _read(folder, "orders")
    details = _read(folder, "order_details")
    categories = {row["category_id"]: row for row in _read(folder, "categories")}
    by_customer = defaultdict(Counter)
    for order in orders:
        by_customer[order["customer_id"]][order["employee_id"]] += 1
    products = []
    for row in _read(folder, "products"):
        price = Decimal(row["unit_price"])
        products.append(
            {
                **row,
                "sku": f"NW-{row['product_id']}",
                "category_code": category_code(categories[row["category_id"]]),
                "standard_cost": str(round_money(price * Decimal("0.7"))),
                "shelf_life_days": "365",  # Northwind keeps none: a year, ambient, VAT 13 %
                "storage": "ambient",
                "vat_rate": "0.13",
                "discontinued": "1" if row["discontinued"] == "1" else "0",
            }
        )
    customer_rows, contact_rows = [], []
    for row in customers:
        counts = by_customer.get(row["customer_id"])
        owner = min(counts, key=lambda e: (-counts[e], int(e))) if counts else "1"
        customer_rows.append(
            {
                **row,
                "channel": "distributor",
                "region_code": CONTINENTS[continent(row["country"])][0],
                "owner": username(employees[owner]),
            }
        )
        if row["contact_name"]:
            contact_rows.append({**row, "is_primary": "1"})
    orders_by_id = {order["order_id"]: order for order in orders}
    lines = []
    position = Counter()
    for detail in details:
        order = orders_by_id[detail["order_id"]]
        position[detail["order_id"]] += 1
        lines.append(
            {
                "order_id": detail["order_id"],
                "line": str(position[detail["order_id"]]),
                "order_date": order["order_date"],
                "customer_id": order["customer_id"],
                "rep": username(employees[order["employee_id"]]),
                "sku": f"NW-{detail['product_id']}",
                "quantity": detail["quantity"],
                "unit_price": detail["unit_price"],
                "discount": detail["discount"],
                "shipped_date": order["shipped_date"],
            }
        )
    return {"products": products, "customers": customer_rows, "contacts": contact_rows, "orders_history": lines}


def category_code(category: dict) -> str:
    return "nw-" + category["category_name"].lower().replace("/", "-").replace(" ", "-")


def expected_revenue(folder: Path) -> Decimal:
    """The revenue of the Northwind order lines under FoodFlow's rounding rule (what the sales
    figures must show after the migration)."""
    from foodflow.core.money import line_amount

    return sum(
        (
            line_amount(unit_price=row["unit_price"], quantity=row["quantity"], discount=row["discount"])
            for row in _read(folder, "order_details")
        ),
        Decimal(0),
    )


def _org_and_reps(folder: Path, by) -> dict[str, int]:
    """Regions, teams and reps (what the import kinds then refer to)."""
    from foodflow.accounts.models import OrgUnit, Role, User
    from foodflow.accounts.services import org_unit_create, user_create

    made = Counter()
    company = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMPANY).order_by("pk").first()
    if company is None:
        company = org_unit_create(by=None, code="NW", name="Northwind", kind=OrgUnit.Kind.COMPANY, parent=None)
        made["units"] += 1
    teams = {}
    for key, (code, name, _english) in CONTINENTS.items():
        region = OrgUnit.objects.filter(code=code).first()
        if region is None:
            region = org_unit_create(by=None, code=code, name=name, kind=OrgUnit.Kind.REGION, parent=company)
            made["units"] += 1
        team = OrgUnit.objects.filter(code=f"{code}-1").first()
        if team is None:
            team = org_unit_create(
                by=None, code=f"{code}-1", name=f"{name}销售组", kind=OrgUnit.Kind.TEAM, parent=region
            )
            made["units"] += 1
        teams[key] = team
    customers = {row["customer_id"]: row["country"] for row in _read(folder, "customers")}
    sold = defaultdict(Counter)
    for order in _read(folder, "orders"):
        sold[order["employee_id"]][continent(customers[order["customer_id"]])] += 1
    rep_role = Role.objects.get(code="rep")
    for employee in _read(folder, "employees"):
        name = username(employee)
        if User.objects.filter(username=name).exists():
            continue
        where = sold[employee["employee_id"]].most_common(1)[0][0] if sold[employee["employee_id"]] else "NA"
        user_create(
            by=by,
            username=name,
            password=secrets.token_urlsafe(24),  # nobody knows it: an administrator sets one
            full_name=f"{employee['first_name']} {employee['last_name']}",
            org_unit=teams[where],
            roles=[rep_role],
        )
        made["reps"] += 1
    return dict(made)


def _categories(folder: Path) -> int:
    from foodflow.catalog.models import Category
    from foodflow.catalog.services import category_create

    made = 0
    for row in _read(folder, "categories"):
        code = category_code(row)
        if not Category.objects.filter(code=code).exists():
            category_create(by=None, code=code, name=row["category_name"], name_en=row["category_name"])
            made += 1
    return made


def presets(by) -> dict:
    """The Northwind column mappings, saved as presets (one per kind)."""
    from foodflow.imports.models import MappingPreset

    saved = {}
    for kind, mapping in json.loads(PRESETS.read_text(encoding="utf-8")).items():
        saved[kind], _created = MappingPreset.objects.update_or_create(
            kind=kind, name=f"Northwind {kind}", defaults={"mapping": mapping}
        )
    return saved


def migrate(folder: Path, *, by, log=print) -> dict:
    """Everything, in order; each file all or nothing. Returns what each step did."""
    from foodflow.imports import services

    folder = Path(folder)
    summary = {"org": _org_and_reps(folder, by), "categories": _categories(folder)}
    saved = presets(by)
    system = None  # the files are imported by the system: one person rarely holds every kind's right
    for kind, rows in tables(folder).items():
        data = _csv(rows)
        job = services.job_create(by=system, kind=kind, name=f"northwind-{kind}.csv", data=data, preset=saved[kind])
        job = services.job_validate(by=system, job=job)
        if job.rows_invalid:
            problems = "; ".join(f"row {i.row} {i.column}: {i.message}" for i in job.issues.all()[:5])
            raise RuntimeError(f"Northwind {kind}: {job.rows_invalid} rows not valid: {problems}")
        job = services.job_run(by=system, job=job)
        summary[kind] = {"created": job.rows_created, "updated": job.rows_updated, "unchanged": job.rows_unchanged}
        log(f"{kind}: {summary[kind]}")
    return summary
