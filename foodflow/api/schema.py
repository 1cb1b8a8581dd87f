"""The OpenAPI schema's view inspector: drf-spectacular's, with the error answers documented."""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from foodflow.core.api import ErrorSerializer


class AutoSchema(SpectacularAutoSchema):
    """The schema of every API view, with the error answers it can give documented as
    ``ErrorSerializer`` (unless the view documents that status itself), so that a client knows
    every status code it can get. Which ones follows from the view, as DRF and the exception
    handler answer them:

    * 400 invalid input: a request body (every unsafe method) or query parameters (filters, paging);
    * 401 no or a wrong token, 403 not allowed (or a session request without its CSRF token):
      every view that authenticates or asks a permission;
    * 404 an object (path parameter) not found or in no scope of the caller, a page past the end;
    * 409 the object is in another state or changed meanwhile: every unsafe method;
    * 429 throttled: views with a throttle.

    A read-only choice of a model field that may be blank keeps ``""`` among its values (DRF drops
    ``allow_blank`` from read-only fields, so the schema would not allow the blank it answers).
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.ChoiceField) and field.read_only and _model_field_blank(field):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for status in sorted(self._error_statuses(operation)):
            operation["responses"].setdefault(
                str(status),
                self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=HTTPStatus(status).phrase), str(status)
                ),
            )
        return operation

    def _error_statuses(self, operation: dict) -> set[int]:
        parameters = operation.get("parameters", [])
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        authenticates = bool(self.view.authentication_classes)
        restricted = any(permission is not AllowAny for permission in self.view.permission_classes)
        statuses = set()
        if unsafe or any(parameter["in"] == "query" for parameter in parameters):
            statuses.add(400)
        if authenticates:
            statuses.add(401)
        if authenticates or restricted:
            statuses.add(403)
        if any(parameter["in"] == "path" or parameter["name"] == "page" for parameter in parameters):
            statuses.add(404)
        if unsafe:
            statuses.add(409)
        if self.view.throttle_classes:
            statuses.add(429)
        return statuses


def _model_field_blank(field) -> bool:
    """Whether the serializer field shows a model field (its own model's) that may be blank."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or len(field.source_attrs) != 1:
        return False
    try:
        return model._meta.get_field(field.source_attrs[0]).blank
    except FieldDoesNotExist:
        return False
