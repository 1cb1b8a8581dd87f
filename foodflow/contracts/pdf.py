"""The contract as the parties read and sign it: heading, parties, every clause with its
placeholders filled, Annex 1 (附表一) with the lines, the payment milestones and the
signature block. Rendered by WeasyPrint exactly as the sales PDFs are (same base template,
same offline renderer, same Noto CJK fonts); marked 草稿 DRAFT on every page until the
contract is signed."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

# The sales PDFs' renderer and number formats, shared so that a contract looks like the
# quotation it came from. ``_render``, ``_money``, ``_percent`` and ``_quantity`` are private
# to foodflow.sales.pdf; imported anyway rather than copied (one renderer, one fetcher policy).
from foodflow.sales.pdf import (
    DEFAULT_LANGUAGE,
    _money,
    _percent,
    _quantity,
    _render,
    amount_in_chinese_words,
)

from .clauses import render
from .models import Contract, Language
from .workflows import SIGNED

# Once signed, the text is what binds the parties; before that every page says it is a draft.
# states in which the PDF names the state under the title (a signed, running contract does not)
PLAIN_STATES = frozenset({"active", "fulfilled"})

_CHINESE_DIGITS = "零一二三四五六七八九"


def _chinese_ordinal(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (clause numbers, below 100)."""
    tens, units = divmod(number, 10)
    if not tens:
        return _CHINESE_DIGITS[units]
    return ("" if tens == 1 else _CHINESE_DIGITS[tens]) + "十" + (_CHINESE_DIGITS[units] if units else "")


def _article(position: int, chinese: bool) -> str:
    """How a clause is numbered: 第一条 in a Chinese contract, 1. in an English one."""
    return f"第{_chinese_ordinal(position)}条" if chinese else f"{position}."


def _customer_address(customer) -> str:
    """The address and phone of the customer's invoicing data (地址、电话), else its default
    delivery address."""
    if customer.invoice_address_phone:
        return customer.invoice_address_phone
    default = customer.addresses.filter(is_default=True).first() or customer.addresses.first()
    return default.address if default is not None else ""


def contract_pdf(contract: Contract, *, language: str | None = None) -> bytes:
    """The contract in ``language``, else in the contract's own language. The clause texts
    are the contract's (written in the language it was drafted in); the labels around them
    follow ``language``."""
    contract = (
        Contract.objects.select_related("customer", "owner", "template", "previous")
        .prefetch_related("lines__product", "clauses", "milestones")
        .get(pk=contract.pk)
    )
    language = language or contract.language or DEFAULT_LANGUAGE
    with translation.override(language):
        chinese = language == Language.ZH
        lines = [
            {
                "position": line.position,
                "product": line.product.display_name,
                "sku": line.product.sku,
                "specification": line.product.specification,
                "unit": line.product.sales_unit,
                "quantity": "—" if line.quantity is None else _quantity(line.quantity),
                "unit_price": _money(line.unit_price),
                "discount": _percent(line.discount),
                "amount": "—" if line.quantity is None else _money(line.amount),
            }
            for line in contract.lines.all()
        ]
        clauses = [
            {"article": _article(index, chinese), "title": clause.title, "text": render(clause.body, contract)}
            for index, clause in enumerate(contract.clauses.all(), start=1)
        ]
        milestones = [
            {"label": milestone.label, "due_date": milestone.due_date, "amount": _money(milestone.amount)}
            for milestone in contract.milestones.all()
        ]
        signed = contract.state in SIGNED
        template = contract.template
        english_name = template.name_en or str(contract.get_kind_display())
        return _render(
            "contracts/pdf/contract.html",
            {
                "contract": contract,
                "heading": template.name if chinese else english_name,
                "subheading": english_name if chinese else template.name,
                "amends": contract.previous,
                "our_credit_code": getattr(settings, "FOODFLOW_COMPANY_CREDIT_CODE", ""),
                "our_address": getattr(settings, "FOODFLOW_COMPANY_ADDRESS", ""),
                "customer_address": _customer_address(contract.customer),
                "clauses": clauses,
                "lines": lines,
                "estimated": contract.kind != "single_order",
                "priced_only": all(line.quantity is None for line in contract.lines.all()),
                "total": _money(contract.total),
                "tax_total": _money(contract.tax_total),
                "net_total": _money(contract.total - contract.tax_total),
                "amount_in_words": amount_in_chinese_words(contract.total) if chinese else "",
                "milestones": milestones,
                "signed": signed,
                "draft": not signed,
                "state_label": "" if contract.state in PLAIN_STATES else contract.get_state_display(),
            },
        )
