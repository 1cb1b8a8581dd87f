"""Business vocabulary shared by several domains (so no domain imports a lower one for it)."""

from django.db import models
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    DISTRIBUTOR = "distributor", pgettext_lazy("sales channel", "Distributor")
    KA = "ka", pgettext_lazy("sales channel", "KA supermarket")
    RETAIL = "retail", pgettext_lazy("sales channel", "Retail")
    FOOD_SERVICE = "food_service", pgettext_lazy("sales channel", "Food service")
    ECOMMERCE = "ecommerce", pgettext_lazy("sales channel", "E-commerce")
    EXPORT = "export", pgettext_lazy("sales channel", "Export")


class Tier(models.TextChoices):
    A = "A", pgettext_lazy("customer tier", "Tier A")
    B = "B", pgettext_lazy("customer tier", "Tier B")
    C = "C", pgettext_lazy("customer tier", "Tier C")


class Storage(models.TextChoices):
    AMBIENT = "ambient", pgettext_lazy("storage condition", "Ambient")
    CHILLED = "chilled", pgettext_lazy("storage condition", "Chilled")
    FROZEN = "frozen", pgettext_lazy("storage condition", "Frozen")
