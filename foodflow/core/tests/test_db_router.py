import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from foodflow.analytics.models import OrderFact, SalesTarget
from foodflow.core.db_router import AnalyticsReplicaRouter
from foodflow.crm.models import Customer
from foodflow.sales.models import SalesOrder

router = AnalyticsReplicaRouter()
DEFAULT = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
# Overriding DATABASES warns that connections do not follow; the router only reads the aliases.
with_replica = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@with_replica
@override_settings(DATABASES={"default": DEFAULT, "replica": {**DEFAULT, "TEST": {"MIRROR": "default"}}})
def test_with_a_replica_the_analytics_reads_go_there_and_nothing_else():
    assert router.db_for_read(OrderFact) == "replica"
    assert router.db_for_read(SalesTarget) == "replica"
    assert router.db_for_read(SalesOrder) == "default"
    assert router.db_for_read(Customer) == "default"
    assert router.db_for_write(OrderFact) == "default"


@with_replica
@override_settings(DATABASES={"default": DEFAULT, "replica": {**DEFAULT, "TEST": {"MIRROR": "default"}}})
def test_inside_a_transaction_analytics_reads_stay_on_the_primary(db):
    # the test runs in a transaction (pytest-django's db fixture), as a service's write does
    assert router.db_for_read(OrderFact) == "default"


def test_without_a_replica_everything_is_read_from_the_primary():
    assert router.db_for_read(OrderFact) == "default"
    assert router.db_for_read(SalesOrder) == "default"


def test_migrations_run_on_the_primary_only_and_relations_are_allowed():
    assert router.allow_migrate("default", "analytics", model_name="orderfact")
    assert not router.allow_migrate("replica", "analytics", model_name="orderfact")
    assert not router.allow_migrate("replica", "sales")
    assert router.allow_relation(OrderFact(), Customer())


SHOW_DATABASES = """
import json, django
django.setup()
from django.conf import settings
from foodflow.analytics.models import OrderFact
from foodflow.sales.models import SalesOrder
replica = settings.DATABASES.get("replica", {})
print(json.dumps({
    "replica": [replica.get("ENGINE"), replica.get("HOST"), replica.get("NAME"), replica.get("TEST", {}).get("MIRROR")],
    "facts": OrderFact.objects.all().db,
    "orders": SalesOrder.objects.all().db,
}))
"""


@pytest.mark.once
@pytest.mark.parametrize(
    ("replica_url", "expected"),
    [
        (
            "postgres://reader@db-replica.internal:5432/foodflow",
            {
                "replica": ["django.db.backends.postgresql", "db-replica.internal", "foodflow", "default"],
                "facts": "replica",
                "orders": "default",
            },
        ),
        ("", {"replica": [None, None, None, None], "facts": "default", "orders": "default"}),
    ],
)
def test_database_replica_url_adds_the_replica_the_analytics_querysets_use(tmp_path, replica_url, expected):

    environment = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_")}
    result = subprocess.run(
        [sys.executable, "-c", SHOW_DATABASES],
        env={
            **environment,
            "DJANGO_SETTINGS_MODULE": "foodflow.settings.test",
            "FOODFLOW_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@db-primary.internal:5432/foodflow",
            "DATABASE_REPLICA_URL": replica_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
