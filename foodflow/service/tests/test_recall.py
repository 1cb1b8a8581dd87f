import pytest

from foodflow.sales.models import DeliveryLine

pytestmark = pytest.mark.django_db


def test_smoke(sworld, m_old_shipped):
    for dl in DeliveryLine.objects.select_related("delivery", "lot", "delivery__customer").order_by("pk"):
        print(dl.delivery.number, dl.delivery.state, dl.delivery.customer.name, dl.lot.lot_number, dl.quantity)
    assert 0
