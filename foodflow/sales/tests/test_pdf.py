"""PDFs of order to cash: rendered by WeasyPrint, read back with poppler's pdftotext."""

import re
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.accounts.services import user_update
from foodflow.crm.services import customer_update
from foodflow.sales import pdf
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.pdf import amount_in_chinese_words, delivery_note_pdf, quotation_pdf
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import (
    LineInput,
    order_from_quotation,
    order_submit,
    quotation_accept,
    quotation_create,
    quotation_send,
    quotation_submit,
    quotation_update,
)

# --- amount in words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.00", "零元整"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("1005.00", "壹仟零伍元整"),
        ("100000.10", "壹拾万元零壹角"),
        # zeros in the middle: one 零 for a run of zeros, none for trailing ones
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("1100", "壹仟壹佰元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("10", "壹拾元整"),
        ("15", "壹拾伍元整"),
        # the units of yuan are zero and jiao/fen follow: 零 after 元
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
        ("107000.53", "壹拾万柒仟元零伍角叁分"),
        # jiao zero, fen not: 零 before the fen
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1.05", "壹元零伍分"),
        ("10.05", "壹拾元零伍分"),
        # only jiao and fen
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("0.15", "壹角伍分"),
        # 万 boundaries
        ("10000", "壹万元整"),
        ("10001", "壹万零壹元整"),
        ("1000100", "壹佰万零壹佰元整"),
        ("1010000", "壹佰零壹万元整"),
        ("10000001", "壹仟万零壹元整"),
        ("99999", "玖万玖仟玖佰玖拾玖元整"),
        # 亿 boundaries, with an empty 万 group in between
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("101000000", "壹亿零壹佰万元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("120000000.01", "壹亿贰仟万元零壹分"),
        ("2000100000", "贰拾亿零壹拾万元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        # rounding half up to the fen, and a negative amount (a credit)
        ("1.005", "壹元零壹分"),
        ("-12.30", "负壹拾贰元叁角"),
    ],
)
def test_amount_in_chinese_words(amount, words):
    assert amount_in_chinese_words(Decimal(amount)) == words


def test_amount_in_chinese_words_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="too large"):
        amount_in_chinese_words(Decimal("1000000000000"))
    with pytest.raises(TypeError):
        amount_in_chinese_words(12.5)  # floats are never money


def test_the_renderer_fetches_nothing_from_the_network_or_the_disk():
    fetcher = pdf._OfflineFetcher()
    for url in ("http://example.com/logo.png", "https://example.com/a.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)


# --- the documents -----------------------------------------------------------------------------


def pdf_text(document: bytes, *, page: int | None = None) -> str:
    """The text of a PDF (or of one page) as poppler reads it."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run(["pdftotext", "-raw", *pages, "-", "-"], input=document, capture_output=True, check=True)
    return result.stdout.decode()


def page_count(document: bytes) -> int:
    result = subprocess.run(["pdfinfo", "-"], input=document, capture_output=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", result.stdout.decode(), re.MULTILINE).group(1))


@pytest.fixture
def our_rep(world, make_user):
    """The world's rep with the contact details a customer reads on a quotation."""
    admin = make_user("admin", unit="HQ", username="pdf_admin")
    return user_update(
        by=admin,
        user=world.rep,
        full_name="李娜",
        email="li.na@foodflow.example",
        phone="138-0013-8000",
        org_unit=world.rep.org_unit,
        roles=list(world.rep.roles.all()),
        is_active=True,
    )


@pytest.fixture
def quotation(world, our_rep):
    """A draft quotation of 12 boxes of milk and 7 of yoghurt at 3 % off: 720.00 + 247.84."""
    customer_update(by=None, customer=world.customer, invoice_title="上海佳乐汇商贸有限公司")
    return quotation_create(
        by=world.rep,
        customer=world.customer,
        lines=[LineInput(world.milk, "12"), LineInput(world.yoghurt, "7", discount="0.03")],
        delivery_terms="送货上门，冷链运输",
        notes="春节期间订单请提前一周下达。",
    )


@pytest.fixture
def sent_quotation(world, quotation):
    quotation = quotation_submit(by=world.rep, quotation=quotation)
    assert quotation.state == "approved"  # 3 % is within the rep's discount ceiling
    return quotation_send(by=world.rep, quotation=quotation)


@pytest.fixture
def shipped_delivery(world, sent_quotation):
    quotation = quotation_accept(by=world.rep, quotation=sent_quotation)
    order = order_submit(by=world.rep, order=order_from_quotation(by=world.rep, quotation=quotation))
    order = order_review_decide(by=world.planner, order=order, decision="reserve")
    delivery = delivery_create(
        by=world.planner,
        order=order,
        planned_date=timezone.localdate(),
        carrier="顺丰冷运",
        address="上海市浦东新区张杨路 500 号",
    )
    return delivery_ship(by=world.planner, delivery=delivery)


def test_quotation_pdf_in_chinese(world, quotation, our_rep, settings, tmp_path):
    del settings.FOODFLOW_COMPANY_NAME  # the default company name

    document = quotation_pdf(quotation)

    (tmp_path / "quotation.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "报价单" in text
    assert "FoodFlow 食品有限公司" in text
    assert quotation.number in text
    assert "上海佳乐汇超市" in text and "上海佳乐汇商贸有限公司" in text  # customer and invoice title
    assert "李娜" in text and "138-0013-8000" in text and "li.na@foodflow.example" in text
    assert world.milk.name in text and world.milk.name_en not in text  # product names in Chinese
    assert "250ml×24" in text and "箱" in text
    assert "967.84" in text and "111.34" in text  # total and its VAT
    assert quotation.total == Decimal("967.84")
    assert "玖佰陆拾柒元捌角肆分" in text
    assert "送货上门，冷链运输" in text and "春节期间订单请提前一周下达。" in text
    assert "草稿" in text and "DRAFT" in text  # not approved yet


def test_quotation_pdf_in_english_without_the_draft_mark_once_sent(world, sent_quotation, settings):
    settings.FOODFLOW_COMPANY_NAME = "Bright Dairy Test Co., Ltd."

    document = quotation_pdf(sent_quotation, language="en")

    text = pdf_text(document)
    assert "Quotation" in text and "Valid until" in text
    assert "Bright Dairy Test Co., Ltd." in text and "FoodFlow 食品有限公司" not in text
    assert world.milk.name_en in text and world.milk.name not in text  # product names in English
    assert "30 days after the invoice date" in text
    assert "3 %" in text  # the yoghurt's discount
    assert "玖佰陆拾柒元捌角肆分" in text
    assert "DRAFT" not in text and "草稿" not in text
    assert "Page 1 of 1" in text


def test_quotation_pdf_follows_the_quotation_language(world, quotation):
    quotation = quotation_update(by=world.rep, quotation=quotation, language="en")

    assert world.milk.name_en in pdf_text(quotation_pdf(quotation))
    assert world.milk.name in pdf_text(quotation_pdf(quotation, language="zh-hans"))


def test_a_long_quotation_repeats_the_table_header_and_numbers_its_pages(world, tmp_path):
    lines = [LineInput(world.milk if i % 2 else world.yoghurt, str(i + 1)) for i in range(60)]
    quotation = quotation_create(by=world.rep, customer=world.customer, lines=lines)

    document = quotation_pdf(quotation, language="en")

    (tmp_path / "long-quotation.pdf").write_bytes(document)

    pages = page_count(document)
    pages_with_lines = 0
    for page in range(1, pages + 1):
        text = pdf_text(document, page=page)
        assert f"Page {page} of {pages}" in text
        assert "DRAFT" in text  # the watermark is on every page
        if world.milk.name_en in text:
            pages_with_lines += 1
            assert "Unit price (CNY, tax incl.)" in text  # the table's header, again on each of its pages
    assert pages_with_lines >= 2
    assert amount_in_chinese_words(quotation.total) in pdf_text(document, page=pages)


def test_delivery_note_pdf(world, shipped_delivery, tmp_path):
    document = delivery_note_pdf(shipped_delivery)

    (tmp_path / "delivery.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "送货单" in text
    assert shipped_delivery.number in text and shipped_delivery.order.number in text
    assert "上海佳乐汇超市" in text
    assert "上海市浦东新区张杨路 500 号" in text and "顺丰冷运" in text
    lines = {line.lot.lot_number: line for line in shipped_delivery.lines.select_related("lot")}
    assert set(lines) == {"M-OLD", "Y-1"}  # FEFO: the oldest milk lot
    for lot_number, line in lines.items():
        assert lot_number in text
        assert line.lot.expiry_date.isoformat() in text
    assert "上海常温库" in text  # the warehouse
    assert world.milk.name in text and "250ml×24" in text
    # the scan line at the bottom: the delivery number alone, ready for a QR code
    assert shipped_delivery.number in text.split("送货单号（供扫码）")[1].split()


def test_delivery_note_pdf_in_english(world, shipped_delivery):
    text = pdf_text(delivery_note_pdf(shipped_delivery, language="en"))

    assert "Delivery note" in text and "Lot number" in text and "Received by" in text
    assert world.milk.name_en in text and "M-OLD" in text
