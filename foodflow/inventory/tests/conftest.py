"""What the stock pages' and exports' tests share: a dairy category (30 days' expiry warning)
and its UHT milk (180 days' shelf life, ambient)."""

import pytest

from foodflow.catalog.services import category_create, family_for, product_create


@pytest.fixture
def dairy(db):
    return category_create(by=None, code="dairy-stock", name="乳制品", name_en="Dairy", expiry_warning_days=30)


@pytest.fixture
def milk(dairy):
    return product_create(
        by=None,
        sku="UHT-250",
        name="纯牛奶",
        name_en="UHT milk",
        specification="250ml×24",
        category=dairy,
        shelf_life_days=180,
        storage="ambient",
        vat_rate="0.13",
        family=family_for("uht-250"),
    )
