"""Approval policies as data: an administrator creates, edits and deactivates them.

A policy is read by ``approvals.approval_plan`` at every submission, so what is saved here
must make sense to it: a threshold where the condition compares with one (an amount in CNY,
or a discount as a fraction between 0 and 1), and an approver role that may approve at all.
Requests already submitted keep the steps they were given; a change applies from the next
submission on."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from foodflow.accounts.models import Role
from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.money import to_decimal
from foodflow.core.permissions import acting_user

from .models import ApprovalPolicy, DocType
from .permissions import APPROVE, can_manage_policies

Condition = ApprovalPolicy.Condition
POLICY_FIELDS = ("name", "doc_type", "condition", "threshold", "approver_role", "level", "is_active")
# conditions that compare the document with the threshold: without one they would not work
THRESHOLD_REQUIRED = (Condition.AMOUNT_OVER, Condition.DISCOUNT_OVER)
# conditions that read a threshold at all (payment terms: a minimum in days; credit: a margin)
THRESHOLD_USED = (*THRESHOLD_REQUIRED, Condition.TERMS_LONGER, Condition.CREDIT_OVER)


def _field_error(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _cleaned(values: dict) -> dict:
    """The policy's fields checked as ``approval_plan`` needs them."""
    name = (values.get("name") or "").strip()
    if not name:
        raise _field_error("name", _("Give the policy a name."), "name_missing")
    values["name"] = name[:100]
    if values.get("doc_type") not in DocType.values:
        raise _field_error("doc_type", _("Choose a document type."), "invalid_doc_type")
    condition = values.get("condition")
    if condition not in Condition.values:
        raise _field_error("condition", _("Choose a condition."), "invalid_condition")
    threshold = values.get("threshold")
    threshold = None if threshold in (None, "") else to_decimal(threshold)
    if condition in THRESHOLD_REQUIRED and threshold is None:
        raise _field_error("threshold", _("This condition needs a threshold."), "threshold_missing")
    if threshold is not None and threshold < 0:
        raise _field_error("threshold", _("A threshold cannot be negative."), "invalid_threshold")
    if condition == Condition.DISCOUNT_OVER and threshold > Decimal(1):
        raise _field_error(
            "threshold",
            _("A discount threshold is a fraction between 0 and 1 (0.10 for 10 %)."),
            "invalid_threshold",
        )
    # a threshold the condition never reads would only mislead the next reader of the list
    values["threshold"] = threshold if condition in THRESHOLD_USED else None
    role = values.get("approver_role")
    if not isinstance(role, Role):
        raise _field_error("approver_role", _("Choose the approver role."), "role_missing")
    if APPROVE not in (role.permissions or ()):
        raise _field_error(
            "approver_role",
            _("The role %(role)s may not approve documents: nobody could decide its steps.")
            % {"role": role.display_name},
            "role_cannot_approve",
        )
    try:
        level = int(values.get("level") or 1)
    except (TypeError, ValueError):
        level = 0
    if level < 1:
        raise _field_error("level", _("Levels start at 1."), "invalid_level")
    values["level"] = level
    values["is_active"] = bool(values.get("is_active", True))
    return values


def _snapshot(policy: ApprovalPolicy) -> dict:
    return {
        "name": policy.name,
        "doc_type": policy.doc_type,
        "condition": policy.condition,
        "threshold": None if policy.threshold is None else str(policy.threshold),
        "approver_role": policy.approver_role.code if policy.approver_role_id else None,
        "level": policy.level,
        "is_active": policy.is_active,
    }


def policy_save(*, by, policy: ApprovalPolicy | None = None, **fields) -> ApprovalPolicy:
    """Create a policy (``policy`` None) or change one; fields not given keep their value.
    Deactivating is saving ``is_active=False``: the policy stays on record, unused."""
    if by is not None and not can_manage_policies(by):
        raise PermissionDeniedError()
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(
            code="unknown_fields", fields={name: [_("Not a field you can set.")] for name in unknown}
        )
    with transaction.atomic():
        if policy is None:
            values = _cleaned(dict(fields))
            saved = ApprovalPolicy.objects.create(**values, created_by=acting_user(by), updated_by=acting_user(by))
            audit_record(action="approval_policy.created", actor=by, obj=saved, changes={"after": _snapshot(saved)})
            return saved
        locked = (
            ApprovalPolicy.objects.select_for_update(of=("self",)).select_related("approver_role").get(pk=policy.pk)
        )
        before = _snapshot(locked)
        current = {name: getattr(locked, name) for name in POLICY_FIELDS}
        values = _cleaned({**current, **fields})
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_by = acting_user(by)
        locked.save(update_fields=[*POLICY_FIELDS, "updated_by", "updated_at"])
        after = _snapshot(locked)
        if after != before:
            deactivated = before["is_active"] and not after["is_active"]
            action = "approval_policy.deactivated" if deactivated else "approval_policy.edited"
            audit_record(action=action, actor=by, obj=locked, changes={"before": before, "after": after})
    return locked
