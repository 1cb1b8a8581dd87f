from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from foodflow.core.models import TrackedModel
from foodflow.core.money import MoneyField
from foodflow.core.permissions import Scope
from foodflow.core.tree import tree_depth


class OrgUnit(TrackedModel):
    """company → region → team. ``path`` ("/0000001/0000004/") makes "this unit and everything below"
    one indexed prefix query."""

    class Kind(models.TextChoices):
        COMPANY = "company", pgettext_lazy("org unit kind", "Company")
        REGION = "region", pgettext_lazy("org unit kind", "Region")
        TEAM = "team", pgettext_lazy("org unit kind", "Team")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_units",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return tree_depth(self.path)


class Role(TrackedModel):
    """A role as data: its permission codes, its data scope and its approval authority."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    scope = models.CharField(_("data scope"), max_length=8, choices=Scope.choices, default=Scope.OWN)
    permissions = models.JSONField(_("permissions"), default=list, blank=True)
    # Authority limits: an approver may approve documents up to this total and this discount.
    approval_amount_limit = MoneyField(_("approval amount limit"), default=Decimal("0.00"))
    max_discount = models.DecimalField(
        _("maximum discount"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("As a fraction: 0.1000 is 10 %."),
    )
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    failed_logins = models.PositiveSmallIntegerField(_("failed logins in a row"), default=0)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None
