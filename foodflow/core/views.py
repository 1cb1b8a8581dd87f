"""View helpers shared by every domain: permission gates and list pagination."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def require(predicate: Callable[..., bool]):
    """Login first, then ``predicate(request.user)``; a 403 page when it says no."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def paginate(request: HttpRequest, queryset, *, per_page: int = 25):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def ordering_from(request, allowed: dict[str, tuple[str, ...]], default: str) -> tuple[str, list[str]]:
    """The ``?sort=`` key if it is one of ``allowed`` (``-key`` reverses it), and its fields."""
    sort = request.GET.get("sort", default)
    fields = allowed.get(sort.lstrip("-"))
    if fields is None:
        sort, fields = default, allowed[default.lstrip("-")]
    if sort.startswith("-"):
        fields = tuple(f"-{name}" for name in fields)
    return sort, list(fields)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client: REMOTE_ADDR, or behind our own reverse proxies (the settings'
    TRUSTED_PROXIES) the last address of X-Forwarded-For that is not one of them. A client can
    write anything into that header, so only what our proxies appended is believed."""
    address = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "TRUSTED_PROXIES", ()))
    if address not in trusted:
        return address
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        if hop and hop not in trusted:
            return hop if _is_ip(hop) else address
    return address


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Action:
    """A button on a document page (web/includes/document_actions.html). With ``form`` or
    ``confirm`` it opens a modal first (web/includes/document_action_modals.html)."""

    name: str
    label: Any
    icon: str
    button_class: str = "btn-outline-primary"
    url: str = ""
    form: Any = None
    confirm: bool = False
    explanation: Any = ""
    confirm_class: str = "btn-primary"
    link: bool = False  # a plain link (GET), not a form

    @property
    def modal_id(self) -> str:
        return f"modal-{self.name}"

    @property
    def testid(self) -> str:
        return f"confirm-{self.name}"

    @property
    def modal(self) -> bool:
        return self.form is not None or self.confirm


def perform(request, call: Callable[[], Any], success) -> Any:
    """Run one service for a page; its refusal becomes an error message, success a success
    message (``success`` may be a function of the result). The result, or None."""
    from django.contrib import messages

    from .errors import DomainError

    try:
        result = call()
    except DomainError as error:
        messages.error(request, error.message)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result
