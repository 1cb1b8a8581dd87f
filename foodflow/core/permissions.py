"""Primitives of the permission module: the catalogue of permission codes and data scopes.

Each domain declares its codes in its own ``permissions.py`` (with the predicates built on
them, such as ``can_view_customer``); roles hold codes as data. Views, API endpoints,
exports and services all ask through those predicates, never through scattered checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .errors import PermissionDeniedError


class Scope(models.TextChoices):
    OWN = "own", pgettext_lazy("data scope", "Own")
    TEAM = "team", pgettext_lazy("data scope", "Team")
    REGION = "region", pgettext_lazy("data scope", "Region")
    ALL = "all", pgettext_lazy("data scope", "All")


SCOPE_RANK = {Scope.OWN: 1, Scope.TEAM: 2, Scope.REGION: 3, Scope.ALL: 4}


@dataclass(frozen=True)
class PermissionDef:
    code: str
    label: Any
    area: Any


PERMISSIONS: dict[str, PermissionDef] = {}


def declare(code: str, label: Any, area: Any) -> str:
    """Declare a permission code once, where its domain lives; returns the code."""
    PERMISSIONS[code] = PermissionDef(code, label, area)
    return code


AUDIT_VIEW = declare("core.view_audit", _("View the audit log"), _("System"))


def acting_user(by):
    """The user behind an action, or None when the system acts (a task, the demo seed)."""
    return by if getattr(by, "is_authenticated", False) else None


def require_unless_system(by, predicate) -> None:
    """Services take ``by=None`` for the system itself; any user must pass ``predicate``."""
    if by is not None and not predicate(by):
        raise PermissionDeniedError()
