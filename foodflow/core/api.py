"""API building blocks every domain's ``api.py`` uses: pagination, the error format and a
permission class that asks the permission module's predicates."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.validators import MaxLengthValidator
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, filters, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils.formatting import lazy_format
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, ValidationFailed
from .forms import TEXT_MAX_LENGTH


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


# The largest id a row can have (BigAutoField). A larger number names no row, and SQLite cannot even
# compare it with a column (OverflowError): ids from a caller are checked against it first.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    """The id of a row, given in a query or a body (``?owner=12``)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def row_id(value) -> int | None:
    """An id from a path or a query as a number, or None when it can name no row ("y", "²", 10**30)."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID else None


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


def text_field_bound(field) -> None:
    """``TEXT_MAX_LENGTH`` for a writable text field without a limit of its own, looking into
    lists, dicts and nested serializers: what ``forms.text_fields_bound`` does for forms. The
    schema then documents the limit (``maxLength``)."""
    if field.read_only:
        return
    if isinstance(field, serializers.ListSerializer | serializers.ListField | serializers.DictField):
        text_field_bound(field.child)
    elif isinstance(field, serializers.Serializer):
        for nested in field.fields.values():
            text_field_bound(nested)
    elif isinstance(field, serializers.CharField) and field.max_length is None:
        field.max_length = TEXT_MAX_LENGTH
        message = lazy_format(field.error_messages["max_length"], max_length=TEXT_MAX_LENGTH)
        field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH, message=message))


class BoundedTextMixin:
    """For a serializer that takes input: every text field has a length limit (a model's
    TextField has none; see ``forms.TEXT_MAX_LENGTH``). Put it first among the bases."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            text_field_bound(field)
        return fields


# --- search and ordering: bounded like every other input ----------------------------------------

QUERY_MAX_LENGTH = 200  # search words or ordering fields: never stored, but never unbounded either


def query_param_check(request, name: str) -> None:
    """Refuse a query parameter longer than ``QUERY_MAX_LENGTH`` (400 ``query_too_long``)."""
    value = request.query_params.get(name, "")
    if len(value) > QUERY_MAX_LENGTH:
        message = _("At most %(limit)s characters.") % {"limit": QUERY_MAX_LENGTH}
        raise ValidationFailed(message, code="query_too_long", fields={name: [message]})


def _bounded_parameters(parameters: list[dict]) -> list[dict]:
    return [{**p, "schema": {**p.get("schema", {}), "maxLength": QUERY_MAX_LENGTH}} for p in parameters]


class SearchFilter(filters.SearchFilter):
    """DRF's search, with its words at most ``QUERY_MAX_LENGTH`` characters."""

    def get_search_terms(self, request):
        query_param_check(request, self.search_param)
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        return _bounded_parameters(super().get_schema_operation_parameters(view))


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, with its fields at most ``QUERY_MAX_LENGTH`` characters."""

    def get_ordering(self, request, queryset, view):
        query_param_check(request, self.ordering_param)
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        return _bounded_parameters(super().get_schema_operation_parameters(view))
