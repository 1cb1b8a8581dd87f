"""What we sell and at what price we may sell it."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from foodflow.core.models import TrackedModel
from foodflow.core.money import MoneyField
from foodflow.core.tree import tree_depth
from foodflow.core.vocab import Channel, Storage, Tier


class Category(TrackedModel):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # Lots of this category count as near expiry this many days before they expire;
    # empty: the parent's setting (or 30 days at the top).
    expiry_warning_days = models.PositiveSmallIntegerField(_("expiry warning (days)"), null=True, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if self.name_en and (get_language() or "").startswith("en") else self.name

    @property
    def depth(self) -> int:
        return tree_depth(self.path)


class Brand(TrackedModel):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")

    def __str__(self):
        return self.name


class ProductFamily(TrackedModel):
    """Products made on the same lines with the same capacity (e.g. UHT milk 250ml)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product family")
        verbose_name_plural = _("product families")

    def __str__(self):
        return self.name


class Allergen(models.TextChoices):
    MILK = "milk", pgettext_lazy("allergen", "Milk")
    EGG = "egg", pgettext_lazy("allergen", "Egg")
    PEANUT = "peanut", pgettext_lazy("allergen", "Peanut")
    TREE_NUTS = "tree_nuts", pgettext_lazy("allergen", "Tree nuts")
    SOY = "soy", pgettext_lazy("allergen", "Soy")
    GLUTEN = "gluten", pgettext_lazy("allergen", "Wheat (gluten)")
    FISH = "fish", pgettext_lazy("allergen", "Fish")
    CRUSTACEANS = "crustaceans", pgettext_lazy("allergen", "Crustaceans")
    SESAME = "sesame", pgettext_lazy("allergen", "Sesame")
    MUSTARD = "mustard", pgettext_lazy("allergen", "Mustard")
    SULPHITES = "sulphites", pgettext_lazy("allergen", "Sulphites")


class Product(TrackedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("product status", "Active")
        DISCONTINUED = "discontinued", pgettext_lazy("product status", "Discontinued")

    sku = models.CharField(_("SKU"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    specification = models.CharField(_("specification"), max_length=64, help_text=_("For example 250ml×24"))
    sales_unit = models.CharField(_("sales unit"), max_length=16, default="箱")
    base_unit = models.CharField(_("base unit"), max_length=16, default="瓶")
    units_per_sales_unit = models.PositiveIntegerField(
        _("base units per sales unit"), default=1, validators=[MinValueValidator(1)]
    )
    barcode = models.CharField(_("EAN-13 barcode"), max_length=13, blank=True, db_index=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    family = models.ForeignKey(
        ProductFamily,
        verbose_name=_("product family"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    storage = models.CharField(_("storage condition"), max_length=16, choices=Storage.choices, default=Storage.AMBIENT)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), validators=[MinValueValidator(1)])
    allergens = models.JSONField(_("allergens"), default=list, blank=True)
    allergens_other = models.CharField(_("other allergens"), max_length=200, blank=True)
    quality_standard = models.CharField(
        _("quality standard"), max_length=64, blank=True, help_text=_("For example GB 25190")
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2, default=Decimal("0.13"))
    floor_price = MoneyField(
        _("floor price"),
        null=True,
        blank=True,
        help_text=_("Tax-inclusive price per sales unit below which a sale needs approval."),
    )
    standard_cost = MoneyField(
        _("standard cost"),
        null=True,
        blank=True,
        help_text=_("Cost per sales unit (tax incl.), for gross margin."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.sku} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_en if self.name_en and (get_language() or "").startswith("en") else self.name

    @property
    def allergen_labels(self) -> list[str]:
        labels = [str(Allergen(code).label) for code in self.allergens if code in Allergen.values]
        return labels + ([self.allergens_other] if self.allergens_other else [])


class PriceList(TrackedModel):
    """A list of prices for everyone (base), a channel, a customer tier or one customer.

    The most specific list wins: customer, then tier, then channel, then base; among lists of
    the same kind valid on the date, the one that started last."""

    class Kind(models.TextChoices):
        BASE = "base", pgettext_lazy("price list kind", "Base")
        CHANNEL = "channel", pgettext_lazy("price list kind", "Channel")
        TIER = "tier", pgettext_lazy("price list kind", "Customer tier")
        CUSTOMER = "customer", pgettext_lazy("price list kind", "Single customer")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, blank=True)
    # The customer lives in the CRM domain, which builds on this one: it is referenced by id and
    # the CRM checks it when it assigns a list to a customer.
    customer_id = models.PositiveBigIntegerField(_("customer"), null=True, blank=True, db_index=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "-valid_from", "code"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            models.CheckConstraint(
                name="price_list_target_matches_kind",
                condition=(
                    models.Q(kind="base", channel="", tier="", customer_id__isnull=True)
                    | models.Q(kind="channel", tier="", customer_id__isnull=True) & ~models.Q(channel="")
                    | models.Q(kind="tier", channel="", customer_id__isnull=True) & ~models.Q(tier="")
                    | models.Q(kind="customer", channel="", tier="", customer_id__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="price_list_dates_in_order",
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class PriceListItem(models.Model):
    """One price of a product in a list, from a quantity on (a quantity break)."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="prices")
    min_quantity = models.DecimalField(
        _("from quantity"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit_price = MoneyField(_("unit price (tax incl.)"), validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["price_list", "product", "min_quantity"]
        verbose_name = _("price")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="uniq_price_break"),
            models.CheckConstraint(name="price_not_negative", condition=models.Q(unit_price__gte=0)),
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="price_product_idx")]

    def __str__(self):
        return f"{self.price_list.code} {self.product.sku} ≥{self.min_quantity}: {self.unit_price}"
