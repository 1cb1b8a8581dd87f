"""The Northwind migration (examples/northwind): from the public CSVs to customers, products, reps
and 830 historical orders whose revenue in the sales figures is the CSV lines' sum under the
rounding rule; running it again changes nothing."""

import csv
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command

from foodflow.accounts.models import User
from foodflow.analytics.figures import Slice, totals
from foodflow.catalog.models import Product
from foodflow.crm.models import Customer
from foodflow.imports import northwind
from foodflow.sales.models import OrderLine, SalesOrder

FOLDER = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "northwind"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not (FOLDER / "orders.csv").is_file(), reason="the Northwind CSVs are not on this machine"),
]


def csv_rows(name: str) -> list[dict]:
    with (FOLDER / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_readme_command_migrates_northwind_and_the_figures_equal_the_csv(make_user):
    make_user("admin", unit="HQ", username="boss")
    call_command("northwind", str(FOLDER))
    assert Customer.objects.filter(code__in=[r["customer_id"] for r in csv_rows("customers")]).count() == 91
    assert Product.objects.filter(sku__startswith="NW-").count() == len(csv_rows("products"))
    assert SalesOrder.objects.filter(imported=True).count() == len(csv_rows("orders"))
    assert OrderLine.objects.filter(order__imported=True).count() == len(csv_rows("order_details"))
    assert User.objects.filter(username__startswith="nw.").count() == len(csv_rows("employees"))
    figure = totals(Slice(date(1996, 1, 1), date(1998, 12, 31)))
    assert figure.amount == northwind.expected_revenue(FOLDER)
    assert figure.orders == len(csv_rows("orders"))

    again = northwind.migrate(FOLDER, by=User.objects.get(username="boss"), log=lambda *args: None)
    assert all(again[kind]["created"] == again[kind]["updated"] == 0 for kind in northwind.KINDS)
    assert totals(Slice(date(1996, 1, 1), date(1998, 12, 31))).amount == figure.amount
