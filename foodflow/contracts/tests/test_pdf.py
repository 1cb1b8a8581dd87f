"""The contract PDF: rendered by WeasyPrint like the sales PDFs, read back with poppler's
pdftotext and pdffonts."""

import re
import subprocess
from decimal import Decimal

import pytest

from foodflow.contracts import services
from foodflow.contracts.clauses import render
from foodflow.contracts.pdf import _chinese_ordinal, contract_pdf
from foodflow.crm.services import customer_update
from foodflow.sales.pdf import amount_in_chinese_words
from foodflow.sales.tests.test_pdf import page_count, pdf_text

pytestmark = pytest.mark.django_db

CREDIT_CODE = "91310000MAPD4WA4N9"


def flat(text: str) -> str:
    """The text without any white space: pdftotext breaks long lines where the PDF wraps them."""
    return "".join(text.split())


def one_line(text: str) -> str:
    """The text with every run of white space made one space."""
    return " ".join(text.split())


def fonts(document: bytes) -> str:
    result = subprocess.run(["pdffonts", "-"], input=document, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture
def customer_with_papers(cworld):
    """The world's customer with the credit code and invoicing address a contract names."""
    return customer_update(
        by=None,
        customer=cworld.customer,
        credit_code=CREDIT_CODE,
        invoice_address_phone="上海市宝山区友谊路29号 021-38443358",
    )


@pytest.mark.parametrize(
    ("number", "words"), [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (35, "三十五")]
)
def test_clauses_are_numbered_the_chinese_way(number, words):
    assert _chinese_ordinal(number) == words


def test_a_draft_in_chinese(cworld, customer_with_papers, settings, tmp_path):
    del settings.FOODFLOW_COMPANY_NAME  # the default company name
    contract = cworld.draft()

    document = contract_pdf(contract)

    (tmp_path / "contract.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "单笔销售合同" in text  # the template's name is the heading
    assert "FoodFlow 食品有限公司" in text
    assert contract.number in text
    assert "上海佳乐汇超市" in text and CREDIT_CODE in text and "上海市宝山区友谊路29号" in text
    # every clause in order, numbered, its placeholders filled in the contract's language
    clauses = list(contract.clauses.all())
    positions = [text.index(clause.title) for clause in clauses]
    assert positions == sorted(positions)
    assert "第一条" in text and f"第{_chinese_ordinal(len(clauses))}条" in text
    products = contract.clauses.get(key="products")
    assert "{{total_amount}}" in products.body
    assert contract.total == Decimal("782.50")  # the world's order: 10 × 60.00 + 5 × 36.50
    assert flat(render(products.body, contract)) in flat(text)
    assert "人民币782.50元（大写：柒佰捌拾贰元伍角）" in flat(text)
    assert "{{" not in text
    # the line breaks of a clause stay: Party B starts its own line
    assert re.search(r"^需方（乙方）：上海佳乐汇超市", text, re.MULTILINE)
    # Annex 1: the lines, the total in figures and in Chinese capitals
    assert cworld.milk.name in text and cworld.milk.sku in text and "60.00" in text
    assert "782.50" in text and amount_in_chinese_words(contract.total) in text
    assert "柒佰捌拾贰元伍角" in text
    # the payment milestone the draft got from the order
    assert contract.milestones.get().due_date.isoformat() in text
    # not signed: a draft on every page, no signatories
    assert "草稿" in text and "DRAFT" in text
    assert "王经理" not in text


def test_a_signed_contract_has_no_draft_mark_and_names_the_signatories(cworld, customer_with_papers):
    contract = cworld.active()

    document = contract_pdf(contract)

    text = pdf_text(document)
    assert contract.state == "active"
    assert "草稿" not in text and "DRAFT" not in text
    assert "王经理" in text and "李总" in text
    assert contract.signed_on.isoformat() in text


@pytest.mark.parametrize("state", ["in_review", "approved"])
def test_the_draft_mark_stays_until_signing(cworld, state):
    contract = services.contract_submit(by=cworld.admin, contract=cworld.draft())
    if state == "approved":
        contract = services.contract_review(by=cworld.legal, contract=contract, approve=True)
    assert contract.state == state

    text = pdf_text(contract_pdf(contract))

    assert "草稿" in text and "DRAFT" in text


def test_an_english_contract_has_english_clauses_and_labels(cworld, customer_with_papers, settings):
    settings.FOODFLOW_COMPANY_NAME = "Bright Dairy Test Co., Ltd."
    contract = cworld.draft(language="en")

    text = pdf_text(contract_pdf(contract))

    assert "Single-order sales contract" in text
    for title in ("Parties", "Quality standard", "Payment", "Liability", "Disputes"):
        assert title in text
    assert "合同双方" not in text and "质量标准" not in text
    assert f"Contract number {contract.number}." in text  # a placeholder filled in English
    assert "Bright Dairy Test Co., Ltd." in text and "上海佳乐汇超市" in text
    assert cworld.milk.name_en in text and cworld.milk.name not in text
    assert "Annex 1" in text and "Contract number" in text and "Party B (buyer)" in text
    assert "782.50" in text
    assert "柒佰捌拾贰元伍角" not in text  # Chinese capitals belong to the Chinese contract
    assert "DRAFT" in text


def test_the_language_argument_switches_the_labels_not_the_contract_text(cworld):
    contract = cworld.draft()

    text = pdf_text(contract_pdf(contract, language="en"))

    assert "Contract number" in text and "Annex 1" in text
    assert "合同双方" in text  # the clauses are the Chinese contract's
    assert cworld.milk.name_en in text


def test_every_page_is_marked_and_numbered(cworld):
    contract = cworld.draft(language="en")

    document = contract_pdf(contract)

    pages = page_count(document)
    assert pages >= 2  # Annex 1 starts a page of its own
    for page in range(1, pages + 1):
        text = pdf_text(document, page=page)
        assert "DRAFT" in text
        assert f"Page {page} of {pages}" in text
    assert "Annex 1" in pdf_text(document, page=pages)


def test_a_framework_agreement_lists_prices_without_quantities(cworld):
    cworld.order()  # what the customer bought: the agreement's products
    framework = services.contract_draft(
        by=cworld.admin, template=cworld.template("framework"), customer=cworld.customer
    )
    assert all(line.quantity is None for line in framework.lines.all()) and framework.lines.exists()

    text = pdf_text(contract_pdf(framework, language="en"))

    assert "Annual sales framework agreement" in text and "Estimated quantity" in text
    row = next(line for line in text.splitlines() if cworld.milk.sku in line)
    assert "—" in row and "60.00" in row  # no quantity, no amount: the price only
    assert "Prices only" in text


def test_an_amendment_says_which_version_it_replaces(cworld):
    contract = cworld.active()
    amendment = services.contract_amend(by=cworld.admin, contract=contract, reason="客户追加数量")

    text = pdf_text(contract_pdf(amendment, language="en"))

    assert "version 2" in text
    assert f"This amendment replaces version 1 of contract {contract.number}." in one_line(text)
    assert "客户追加数量" in text
    assert "DRAFT" in text  # the amendment is not signed yet


def test_the_chinese_fonts_are_embedded(cworld):
    document = contract_pdf(cworld.draft())

    listing = fonts(document)
    rows = [line for line in listing.splitlines()[2:] if line.strip()]
    assert any(re.search(r"Noto.?(Sans|Serif).?CJK", row) for row in rows), listing
    # the columns are: name type encoding emb sub uni object ID
    assert all(row.split()[-5] == "yes" for row in rows), listing
