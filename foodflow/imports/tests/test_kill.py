"""A kill in the middle of an import leaves nothing half-saved: ``foodflow import`` runs as a real
process on the test database, is killed (SIGKILL: no handler, no cleanup) while it is writing
order lines, and the database is as it was; the same command then imports the file whole."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from foodflow.accounts.models import OrgUnit
from foodflow.analytics.models import CustomerMonth, OrderFact
from foodflow.core.models import AuditEntry, DocumentSequence
from foodflow.crm.services import customer_create
from foodflow.imports.models import ImportJob
from foodflow.sales.models import Delivery, DeliveryLine, Invoice, OrderLine, Payment, SalesOrder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LINES = 30_000
LINES_PER_ORDER = 6
HEADER = "订单号,行号,订单日期,客户编号,产品编号,数量,含税单价,折扣,发货日期,付款日期"
HISTORY = (
    SalesOrder,
    OrderLine,
    Delivery,
    DeliveryLine,
    Invoice,
    Payment,
    OrderFact,
    CustomerMonth,
)


def history_csv(path, customers: list[str], skus: list[str]) -> int:
    """LINES rows in LINES / 6 orders over 2023–2024: every other one shipped, every fourth paid."""
    rows = [HEADER]
    orders = LINES // LINES_PER_ORDER
    for n in range(orders):
        month, day = 1 + n % 12, 1 + n % 27
        ordered = f"{2023 + n % 2}-{month:02d}-{day:02d}"
        shipped = f"{2023 + n % 2}-{month:02d}-{day + 1:02d}" if n % 2 == 0 else ""
        paid = f"{2023 + n % 2}-{month:02d}-{day + 1:02d}" if n % 4 == 0 else ""
        customer = customers[n % len(customers)]
        for position in range(1, LINES_PER_ORDER + 1):
            sku = skus[(n + position) % len(skus)]
            discount = ("", "5%", "0.1")[(n + position) % 3]
            price = f"{10 + (n * 7 + position) % 90}.{(n + position) % 100:02d}"
            rows.append(
                f"H-{n:06d},{position},{ordered},{customer},{sku},{1 + (n + position) % 40},{price},{discount},"
                f"{shipped},{paid}"
            )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return orders


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def import_command(path, var_dir) -> tuple[list[str], dict]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "foodflow.settings.test",
        "FOODFLOW_VAR_DIR": str(var_dir),  # its uploaded copy of the file goes to the test's folder
    }
    command = [sys.executable, "-m", "foodflow.cli", "import", "orders_history", str(path), "--user", "director"]
    return command, env


def scalar(sql: str, params=()) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


# another session of this database inserting order lines: the import inside its write
WRITING_LINES = """
    SELECT l.pid FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND a.datname = current_database()
      AND l.pid <> pg_backend_pid()
"""


def lines_inserted_ever() -> int:
    """Rows ever inserted into the order lines' table, committed or not (the server's statistics)."""
    scalar("SELECT pg_stat_clear_snapshot()")
    return scalar("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'sales_orderline'") or 0


def wait_for(condition, process, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if process.poll() is not None:
            pytest.fail(f"the import ended (status {process.returncode}) before {what}")
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"no {what} within {timeout} s")


def test_a_killed_import_leaves_the_database_unchanged_and_the_same_import_then_succeeds(
    make_user, make_product, tmp_path
):
    make_user("director", unit="HQ", username="director")
    reps = [make_user("rep", unit=unit, username=f"rep{n}") for n, unit in enumerate(["EAST-1", "EAST-2", "SOUTH-1"])]
    customers = [
        customer_create(
            by=None,
            name=f"历史客户{n:02d}食品商行",
            channel="retail",
            region=OrgUnit.objects.get(code="SOUTH" if n % 3 == 2 else "EAST"),
            owner=reps[n % 3],
            confirm_duplicate=True,
        ).code
        for n in range(12)
    ]
    skus = [make_product(sku=f"H{n:03d}", standard_cost=Decimal("8.00")).sku for n in range(40)]
    path = tmp_path / "history.csv"
    orders = history_csv(path, customers, skus)
    sequences = list(
        DocumentSequence.objects.order_by("doc_type", "year").values_list("doc_type", "year", "last_number")
    )
    audit_head = AuditEntry.objects.count()
    inserted_before = lines_inserted_ever()
    command, env = import_command(path, tmp_path)

    process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(
            lambda: ImportJob.objects.filter(state=ImportJob.State.IMPORTING).exists(), process, "the job was importing"
        )
        writer = wait_for(lambda: scalar(WRITING_LINES, ["sales_orderline"]), process, "it was writing order lines")
        time.sleep(0.1)  # inside the write
        assert process.poll() is None, "the import ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    # the server notices the client is gone and rolls its transaction back
    deadline = time.monotonic() + 60
    while scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [writer]) and time.monotonic() < deadline:
        time.sleep(0.05)

    # it had written order lines (the server counts rows inserted, also by a transaction that died) ...
    deadline = time.monotonic() + 30
    while lines_inserted_ever() == inserted_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lines_inserted_ever() > inserted_before
    # ... and none of them is there: nothing of the history, no number taken, no audit entry of it;
    # the job stays as the kill left it
    assert {model.__name__: model.objects.count() for model in HISTORY} == dict.fromkeys(
        (model.__name__ for model in HISTORY), 0
    )
    assert (
        list(DocumentSequence.objects.order_by("doc_type", "year").values_list("doc_type", "year", "last_number"))
        == sequences
    )
    assert AuditEntry.objects.count() == audit_head + 1  # the upload; neither the import nor the orders
    assert list(ImportJob.objects.values_list("state", flat=True)) == [ImportJob.State.IMPORTING]

    # the same command, to the end
    done = subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"imported: {LINES} created" in done.stdout
    assert (SalesOrder.objects.filter(imported=True).count(), OrderLine.objects.count()) == (orders, LINES)
    assert Delivery.objects.count() == orders // 2 and Payment.objects.count() == orders // 4
    assert OrderFact.objects.count() == orders
    assert AuditEntry.objects.filter(action="sales.orders_imported").count() == 1
    assert ImportJob.objects.filter(state=ImportJob.State.DONE).count() == 1
