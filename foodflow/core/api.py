"""API building blocks every domain's ``api.py`` uses: pagination, the error format and a
permission class that asks the permission module's predicates."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


def allow(predicate: Callable[..., bool]) -> type[BasePermission]:
    """A DRF permission class from a predicate of the permission module: ``allow(can_manage_users)``."""

    class Allowed(BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and predicate(request.user))

    Allowed.__name__ = f"Allowed_{getattr(predicate, '__name__', 'predicate')}"
    return Allowed


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else "invalid"


def exception_handler(exc, context):
    """Every error is ``{"code", "message"}`` (plus ``fields`` for invalid input)."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "message": _("Some values are not valid."), "fields": exc.detail}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {"code": _code_of(exc), "message": str(detail)}
    return response


class ErrorSerializer(serializers.Serializer):
    """The shape of every error answer (documented in the schema)."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)
