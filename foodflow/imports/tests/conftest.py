"""What the order imports' tests share: the director who imports, and two customers of two reps
(王小明 in Shanghai's team, 李丽 in the south), each customer with a credit limit."""

from decimal import Decimal

import pytest

from foodflow.accounts.models import OrgUnit
from foodflow.crm.services import customer_create, customer_set_credit


@pytest.fixture
def director(make_user):
    return make_user("director", unit="HQ", username="director")


@pytest.fixture
def two_reps(make_user) -> dict:
    rep = make_user("rep", username="rep_east1", full_name="王小明")
    other = make_user("rep", unit="SOUTH-1", username="rep_south1", full_name="李丽")
    east = customer_create(
        by=None, name="上海佳乐汇超市", channel="ka", region=OrgUnit.objects.get(code="EAST"), owner=rep
    )
    south = customer_create(
        by=None,
        name="广州天河餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=other,
    )
    return {
        "rep": rep,
        "other": other,
        "east": customer_set_credit(by=None, customer=east, credit_limit=Decimal("500000"), payment_terms_days=30),
        "south": customer_set_credit(by=None, customer=south, credit_limit=Decimal("500000"), payment_terms_days=30),
    }


def csv_bytes(rows: list[str], header: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def import_run(by, kind: str, data: bytes, *, valid_only=False):
    """Upload, check and import, as the page does one step after the other."""
    from foodflow.imports import services

    job = services.job_create(by=by, kind=kind, name=f"{kind}.csv", data=data)
    job = services.job_validate(by=by, job=job)
    return services.job_run(by=by, job=job, valid_only=valid_only)
