"""Money arithmetic: the one rounding rule of FoodFlow.

A line's net amount is ``unit_price × quantity × (1 − discount)`` rounded half-up to 0.01;
a document total is the sum of its already rounded lines. Prices are tax-inclusive; the tax
in an amount is ``amount − amount / (1 + rate)`` rounded half-up to 0.01. Never floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

from .errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_DIGITS = 14
MONEY_PLACES = 2


def to_decimal(value: object) -> Decimal:
    """A Decimal from an int, str or Decimal; floats are refused (they are never exact)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money and quantities are never floats; pass a str or Decimal")
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(code="invalid_number", value=value) from exc


def round_money(value: object) -> Decimal:
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(*, unit_price: object, quantity: object, discount: object = ZERO) -> Decimal:
    """Net amount of one line; ``discount`` is a fraction (0.05 for 5 %)."""
    discount = to_decimal(discount)
    if not Decimal(0) <= discount <= Decimal(1):
        raise ValidationFailed(code="invalid_discount")
    return round_money(to_decimal(unit_price) * to_decimal(quantity) * (Decimal(1) - discount))


def document_total(line_amounts: Iterable[object]) -> Decimal:
    """Sum of lines that were each rounded already; adding never rounds again."""
    return sum((round_money(amount) for amount in line_amounts), ZERO)


def tax_included(*, amount: object, rate: object) -> Decimal:
    """The VAT inside a tax-inclusive amount."""
    amount = to_decimal(amount)
    return round_money(amount - amount / (Decimal(1) + to_decimal(rate)))


def net_of_tax(*, amount: object, rate: object) -> Decimal:
    """The tax-exclusive part of a tax-inclusive amount (amount minus its rounded tax)."""
    return round_money(amount) - tax_included(amount=amount, rate=rate)


class MoneyField(models.DecimalField):
    """A decimal with two places, wide enough for a year of a large company's sales."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "foodflow.core.money.MoneyField", args, kwargs
