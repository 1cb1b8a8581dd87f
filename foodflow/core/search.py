"""The global search box. Domains register a provider; each provider answers only with
what the asking user may see (its own scope check), so the box never leaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    title: str
    subtitle: str
    url: str
    icon: str = "ti-file"


@dataclass(frozen=True)
class SearchProvider:
    code: str
    label: Any
    search: Callable[..., list[SearchHit]]  # (user, query, limit) -> hits


PROVIDERS: dict[str, SearchProvider] = {}


def register_provider(provider: SearchProvider) -> SearchProvider:
    PROVIDERS[provider.code] = provider
    return provider


def search_everything(*, user, query: str, limit: int = 8) -> list[tuple[SearchProvider, list[SearchHit]]]:
    query = query.strip()
    if len(query) < 1:
        return []
    groups = []
    for provider in PROVIDERS.values():
        hits = provider.search(user, query, limit)
        if hits:
            groups.append((provider, hits))
    return groups
