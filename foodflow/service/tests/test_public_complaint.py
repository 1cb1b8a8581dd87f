"""The public complaint form: no login, the lot typed or taken from the link, rate-limited
per address, a bot's hidden field ignored; a complaint with its SLA deadlines results."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from foodflow.sales.tests.conftest import world  # noqa: F401  (a lot to complain about)
from foodflow.service.models import Complaint
from foodflow.service.views_public import PUBLIC_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def form(**data):
    return {
        "contact_name": "陈女士",
        "contact_phone": "13900001111",
        "company": "",
        "lot_number": "",
        "category": "foreign_matter",
        "description": "酸奶里有一根头发",
        **data,
    }


def test_a_consumer_complains_about_a_lot_without_logging_in(client, world):  # noqa: F811
    url = reverse("service_public:complaint")
    page = client.get(f"{url}?lot=M-OLD")
    assert page.status_code == 200 and 'value="M-OLD"' in page.content.decode()
    response = client.post(url, form(lot_number="M-OLD", company="佳乐汇超市"))
    assert response.status_code == 200 and b'data-testid="complaint-done"' in response.content
    complaint = Complaint.objects.get()
    assert complaint.channel == "public_form" and complaint.severity == "high"
    assert complaint.lot.lot_number == "M-OLD" and complaint.product == world.milk
    assert complaint.description.startswith("佳乐汇超市: ") and complaint.created_by is None
    assert complaint.number.encode() in response.content


def test_an_unknown_lot_number_is_explained_and_nothing_is_stored(client, world):  # noqa: F811
    response = client.post(reverse("service_public:complaint"), form(lot_number="NOPE-1"))
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_required_fields_and_the_bot_trap(client, world):  # noqa: F811
    url = reverse("service_public:complaint")
    assert client.post(url, form(contact_name="", description="")).status_code == 400
    assert client.post(url, form(website="http://spam.example")).status_code == 200
    assert not Complaint.objects.exists()


def test_one_address_is_limited(client, world):  # noqa: F811
    url = reverse("service_public:complaint")
    for _ in range(PUBLIC_LIMIT):
        assert client.post(url, form()).status_code == 200
    assert client.post(url, form()).status_code == 429
    assert Complaint.objects.count() == PUBLIC_LIMIT
