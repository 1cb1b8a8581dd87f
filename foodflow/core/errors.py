"""Domain errors: a stable code for programs, a translated message for people.

Services raise these; the web UI shows the message, the API answers
``{"code": ..., "message": ..., "fields": {...}}``. Codes never change once released.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule said no. ``status`` is the HTTP status the API answers with."""

    code = "domain_error"
    default_message = _("The request could not be completed.")
    status = 400

    def __init__(self, message: Any = None, *, code: str | None = None, fields: dict | None = None, **params):
        self.code = code or self.code
        self.params = params
        template = message if message is not None else self.default_message
        self.message = str(template) % params if params else str(template)
        self.fields = fields or {}
        super().__init__(self.message)

    def as_dict(self) -> dict:
        data = {"code": self.code, "message": self.message}
        if self.fields:
            data["fields"] = self.fields
        return data


class ValidationFailed(DomainError):
    code = "invalid"
    default_message = _("Some values are not valid.")


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")
    status = 403


class NotFoundError(DomainError):
    code = "not_found"
    default_message = _("Not found.")
    status = 404


class ConflictError(DomainError):
    """The object changed since it was read (optimistic locking) or is in another state."""

    code = "conflict"
    default_message = _("The record was changed by someone else. Reload it and try again.")
    status = 409


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    default_message = _("The action “%(action)s” is not allowed in the state “%(state)s”.")
    status = 409
