"""The price of a product for a customer, a quantity and a date, and the price policy.

``price_resolve`` is the one place prices are decided; it says which rule gave the price so
that reps, approvers and the API all see the same reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.errors import DomainError
from foodflow.core.money import line_amount, net_of_tax, round_money, tax_included, to_decimal

from .models import PriceList, PriceListItem, Product

# The more specific list wins.
KIND_RANK = {PriceList.Kind.CUSTOMER: 4, PriceList.Kind.TIER: 3, PriceList.Kind.CHANNEL: 2, PriceList.Kind.BASE: 1}


class PriceNotFound(DomainError):
    code = "no_price"
    default_message = gettext_lazy("No valid price for %(sku)s on %(on)s.")
    status = 404


@dataclass(frozen=True)
class PriceResolution:
    product: Product
    quantity: Decimal
    on: date
    unit_price: Decimal
    item: PriceListItem

    @property
    def price_list(self) -> PriceList:
        return self.item.price_list

    @property
    def rule(self) -> str:
        """In words: which list, which kind, which break."""
        price_list = self.price_list
        target = {
            PriceList.Kind.CHANNEL: price_list.get_channel_display(),
            PriceList.Kind.TIER: price_list.get_tier_display(),
        }.get(price_list.kind, "")
        text = _("%(kind)s price list %(name)s") % {"kind": price_list.get_kind_display(), "name": price_list.name}
        if target:
            text += f" ({target})"
        if self.item.min_quantity > 0:
            text += _(", from %(quantity)s %(unit)s") % {
                "quantity": _plain(self.item.min_quantity),
                "unit": self.product.sales_unit,
            }
        return text

    @property
    def unit_tax(self) -> Decimal:
        return tax_included(amount=self.unit_price, rate=self.product.vat_rate)

    @property
    def unit_net_of_tax(self) -> Decimal:
        return net_of_tax(amount=self.unit_price, rate=self.product.vat_rate)

    @property
    def amount(self) -> Decimal:
        return line_amount(unit_price=self.unit_price, quantity=self.quantity)

    def as_dict(self) -> dict:
        return {
            "product": self.product.sku,
            "quantity": str(self.quantity),
            "on": self.on.isoformat(),
            "unit_price": str(self.unit_price),
            "unit_net_of_tax": str(self.unit_net_of_tax),
            "unit_tax": str(self.unit_tax),
            "vat_rate": str(self.product.vat_rate),
            "amount": str(self.amount),
            "price_list": self.price_list.code,
            "price_list_kind": self.price_list.kind,
            "from_quantity": str(self.item.min_quantity),
            "rule": self.rule,
        }


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def price_resolve(
    *, product: Product, quantity, on: date, channel: str = "", tier: str = "", customer_id: int | None = None
) -> PriceResolution:
    """Most specific list first (customer, tier, channel, base); among lists of one kind, the
    one that started last; within a list, the highest quantity break not above ``quantity``.
    A list without a break that fits falls through to the next, more general, kind."""
    quantity = to_decimal(quantity)
    targets = Q(price_list__kind=PriceList.Kind.BASE)
    if channel:
        targets |= Q(price_list__kind=PriceList.Kind.CHANNEL, price_list__channel=channel)
    if tier:
        targets |= Q(price_list__kind=PriceList.Kind.TIER, price_list__tier=tier)
    if customer_id:
        targets |= Q(price_list__kind=PriceList.Kind.CUSTOMER, price_list__customer_id=customer_id)
    candidates = (
        PriceListItem.objects.select_related("price_list")
        .filter(
            targets,
            product=product,
            min_quantity__lte=quantity,
            price_list__is_active=True,
            price_list__valid_from__lte=on,
        )
        .filter(Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gte=on))
    )
    best = max(
        candidates,
        key=lambda item: (KIND_RANK[item.price_list.kind], item.price_list.valid_from, item.min_quantity, item.pk),
        default=None,
    )
    if best is None:
        raise PriceNotFound(sku=product.sku, on=on.isoformat())
    return PriceResolution(product=product, quantity=quantity, on=on, unit_price=best.unit_price, item=best)


@dataclass(frozen=True)
class PolicyViolation:
    code: str
    message: str
    limit: str
    actual: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "limit": self.limit, "actual": self.actual}


def max_discount_of(user) -> Decimal:
    """The highest discount ceiling among the user's roles (the system and superusers: 100 %)."""
    if user is None or user.is_superuser:
        return Decimal("1")
    return max((role.max_discount for role in user.roles.all()), default=Decimal("0"))


def price_policy_check(*, user, product: Product, unit_price, discount=Decimal("0")) -> list[PolicyViolation]:
    """What a sale at this price breaks: the product's floor price, the user's discount
    ceiling. An empty list means the user may sell so without approval."""
    unit_price, discount = round_money(unit_price), to_decimal(discount)
    violations = []
    net_unit = round_money(unit_price * (Decimal(1) - discount))
    if product.floor_price is not None and net_unit < product.floor_price:
        violations.append(
            PolicyViolation(
                code="below_floor_price",
                message=_("The net price %(price)s is below the floor price %(floor)s.")
                % {"price": net_unit, "floor": product.floor_price},
                limit=str(product.floor_price),
                actual=str(net_unit),
            )
        )
    ceiling = max_discount_of(user)
    if discount > ceiling:
        violations.append(
            PolicyViolation(
                code="discount_above_ceiling",
                message=_("The discount %(discount)s %% is above your ceiling of %(ceiling)s %%.")
                % {"discount": _plain(discount * 100), "ceiling": _plain(ceiling * 100)},
                limit=str(ceiling),
                actual=str(discount),
            )
        )
    return violations
