"""Menu entries a domain offers to the navigation (the web layer arranges them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class MenuLink:
    label: Any
    url_name: str
    icon: str
    allowed: Callable[..., bool]  # predicate(user) -> bool
    description: Any = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)
