"""Placeholders in template and contract clauses: ``{{customer_name}}`` and friends.

Clause texts are stored with their placeholders and rendered on reading (page, PDF, diff),
so a change of a contract's terms shows in every clause that names them. Only the names
below exist: a text naming anything else is refused when it is saved, and rendering is a
plain substitution (no template language, nothing a clause can reach beyond these values)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.errors import ValidationFailed

# anything in double braces is meant as a placeholder: a name that is not one is refused
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _date(value) -> str:
    if value is None:
        return "—"
    return f"{value:%Y年%m月%d日}" if translation.get_language() == "zh-hans" else f"{value:%d %B %Y}"


def _liability(contract) -> str:
    if contract.liability_cap_percent is None:
        return _("without limit")
    return f"{contract.liability_cap_percent.normalize():f} %"


def _company(contract) -> str:
    from foodflow.sales.pdf import DEFAULT_COMPANY_NAME

    return getattr(settings, "FOODFLOW_COMPANY_NAME", DEFAULT_COMPANY_NAME)


def _words(contract) -> str:
    from foodflow.sales.pdf import amount_in_chinese_words

    return amount_in_chinese_words(contract.total)


# name → (description shown to template editors, value for one contract)
PLACEHOLDERS: dict[str, tuple[object, Callable]] = {
    "our_company": (gettext_lazy("our company's name"), _company),
    "customer_name": (gettext_lazy("the customer's name"), lambda c: c.customer.name),
    "customer_credit_code": (
        gettext_lazy("the customer's unified social credit code"),
        lambda c: c.customer.credit_code or "—",
    ),
    "contract_number": (gettext_lazy("the contract number"), lambda c: c.number),
    "start_date": (gettext_lazy("valid from"), lambda c: _date(c.start_date)),
    "end_date": (gettext_lazy("valid until"), lambda c: _date(c.end_date)),
    "total_amount": (gettext_lazy("the contract amount"), lambda c: _money(c.total)),
    "total_amount_words": (gettext_lazy("the contract amount in Chinese capitals"), _words),
    "payment_terms_days": (gettext_lazy("payment terms in days"), lambda c: str(c.payment_terms_days)),
    "delivery_terms": (gettext_lazy("delivery terms"), lambda c: c.delivery_terms or "—"),
    "delivery_address": (gettext_lazy("delivery address"), lambda c: c.delivery_address or "—"),
    "quality_standard": (gettext_lazy("quality standard"), lambda c: c.quality_standard or "—"),
    "liability_cap": (gettext_lazy("our liability cap"), _liability),
    "late_penalty": (
        gettext_lazy("late delivery penalty per day"),
        lambda c: f"{c.late_penalty_per_day.normalize():f} %",
    ),
    "dispute_venue": (gettext_lazy("where disputes are resolved"), lambda c: c.dispute_venue or "—"),
}


def placeholders_check(text: str, *, field: str) -> None:
    unknown = sorted({name.strip() for name in PLACEHOLDER.findall(text) if name.strip() not in PLACEHOLDERS})
    if unknown:
        message = _("Unknown placeholder: %(names)s.") % {"names": ", ".join("{{" + n + "}}" for n in unknown)}
        raise ValidationFailed(message, code="unknown_placeholder", fields={field: [message]})


def render(text: str, contract) -> str:
    """``text`` with every placeholder replaced by the contract's value, in the contract's
    language."""
    with translation.override(contract.language):
        values: dict[str, str] = {}

        def value(match: re.Match) -> str:
            name = match.group(1).strip()
            if name not in PLACEHOLDERS:
                return match.group(0)
            if name not in values:
                values[name] = str(PLACEHOLDERS[name][1](contract))
            return values[name]

        return PLACEHOLDER.sub(value, text)
