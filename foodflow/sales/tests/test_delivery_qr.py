"""The QR code on the delivery note: it opens the public complaint form with the delivery's
number and its first lot filled in (the complaint then names the delivery), and the note still
renders (and fast)."""

import time
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse

from foodflow.sales.pdf import delivery_complaint_url, delivery_note_html, delivery_note_pdf, qr_code_svg
from foodflow.sales.tests.test_pdf import (  # noqa: F401  (fixtures: a shipped delivery of M-OLD and Y-1)
    our_rep,
    pdf_text,
    quotation,
    sent_quotation,
    shipped_delivery,
)
from foodflow.service.models import Complaint

pytestmark = pytest.mark.django_db


def test_the_link_names_the_delivery_and_the_lot_on_the_public_url(settings):
    settings.FOODFLOW_PUBLIC_URL = "https://service.foodflow.example"

    url = delivery_complaint_url("DN-2026-000123", "M-OLD")

    assert url == "https://service.foodflow.example/s/complaint/?delivery=DN-2026-000123&lot=M-OLD"
    assert url.startswith(settings.FOODFLOW_PUBLIC_URL + reverse("service_public:complaint"))


def test_the_link_quotes_what_it_carries_and_leaves_out_a_missing_lot(settings):
    settings.FOODFLOW_PUBLIC_URL = "https://service.foodflow.example"

    assert delivery_complaint_url("DN-1", "L 1&x=2") == (
        "https://service.foodflow.example/s/complaint/?delivery=DN-1&lot=L+1%26x%3D2"
    )
    assert delivery_complaint_url("DN-1") == "https://service.foodflow.example/s/complaint/?delivery=DN-1"


def test_the_delivery_note_prints_the_qr_code_of_its_first_lot(world, shipped_delivery, settings):  # noqa: F811
    settings.FOODFLOW_PUBLIC_URL = "https://service.foodflow.example"
    first = shipped_delivery.lines.select_related("lot").order_by("order_line__position", "id").first()
    assert first.lot.lot_number == "M-OLD"  # FEFO: milk first, from its oldest lot
    expected = delivery_complaint_url(shipped_delivery.number, "M-OLD")

    html = delivery_note_html(shipped_delivery)

    assert qr_code_svg(expected) in html  # the code drawn is the code of this link
    assert f'data-url="{expected.replace("&", "&amp;")}"' in html
    assert qr_code_svg(delivery_complaint_url(shipped_delivery.number, "Y-1")) not in html
    assert html.count('class="qr-code"') == 1


def test_the_delivery_note_pdf_renders_with_the_code_and_its_caption(world, shipped_delivery, tmp_path):  # noqa: F811
    delivery_note_pdf(shipped_delivery)  # fonts loaded once: the timing below is one document's
    started = time.perf_counter()
    document = delivery_note_pdf(shipped_delivery)
    seconds = time.perf_counter() - started

    (tmp_path / "delivery-qr.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "扫码反馈质量问题" in text and "Scan to report a problem" in text
    assert shipped_delivery.number in text.split("送货单号（供扫码）")[1].split()  # the scan line is still there
    assert seconds < 10, f"a delivery note took {seconds:.2f} s"  # ~0.4 s here; 17 s means harfbuzz-subset is gone


def test_the_qr_code_is_plain_svg_without_text_of_the_link():
    svg = qr_code_svg("https://service.foodflow.example/s/complaint/?delivery=<script>&lot=x")

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "script" not in svg and "delivery" not in svg


# --- what the code opens -------------------------------------------------------------------------------


def public_path(url: str) -> str:
    """The path and query of a link on the public site (the test server is the site)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_scanned_link_opens_the_complaint_form_filled_in_and_the_complaint_names_the_delivery(
    world,
    shipped_delivery,  # noqa: F811
    client,
):
    cache.clear()  # the public form's per-address limit
    url = delivery_complaint_url(shipped_delivery.number, "M-OLD")

    page = client.get(public_path(url))

    assert page.status_code == 200
    form = page.context["form"]
    assert form["delivery_number"].value() == shipped_delivery.number
    assert form["lot_number"].value() == "M-OLD"
    html = page.content.decode()
    assert f'value="{shipped_delivery.number}"' in html and 'value="M-OLD"' in html

    sent = client.post(
        reverse("service_public:complaint"),
        {
            "contact_name": "王店长",
            "contact_phone": "13900002222",
            "delivery_number": shipped_delivery.number,
            "lot_number": "M-OLD",
            "category": "packaging",
            "description": "外箱破损",
        },
    )

    assert sent.status_code == 200 and b'data-testid="complaint-done"' in sent.content
    complaint = Complaint.objects.get()
    assert complaint.delivery == shipped_delivery and complaint.lot.lot_number == "M-OLD"
    assert complaint.customer == world.customer and complaint.order == shipped_delivery.order
    cache.clear()


def test_an_unknown_delivery_number_is_explained_and_nothing_is_stored(world, client):
    cache.clear()
    page = client.get(reverse("service_public:complaint"), {"delivery": "DN-NOPE"})
    assert page.context["form"]["delivery_number"].value() == "DN-NOPE"

    sent = client.post(
        reverse("service_public:complaint"),
        {
            "contact_name": "王店长",
            "contact_phone": "13900002222",
            "delivery_number": "DN-NOPE",
            "category": "packaging",
            "description": "外箱破损",
        },
    )

    assert sent.status_code == 400 and "delivery_number" in sent.context["form"].errors
    assert not Complaint.objects.exists()
    cache.clear()
