"""The approval engine, used by quotations, orders, credit-block releases, write-offs and
(later) contracts.

Policies are data (``ApprovalPolicy``): a condition on the document's facts names a role and
a level. Submitting a document evaluates them once and freezes the result as a request with
one step per (level, role), run in sequence. Invariants this module protects:

* nobody decides a step of a document they own or submitted;
* an approver decides only within their scope and their role's amount limit;
* an approval belongs to the exact content that was submitted (``fingerprint``): a document
  whose content changed has no valid approval, and a copy (another id) never has one.

A document type plugs in with ``register_approvable``: how to read its facts and content,
and what happens when its request is approved or rejected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.accounts.models import Role
from foodflow.accounts.permissions import in_scope, scope_q, user_roles
from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO
from foodflow.core.permissions import acting_user

from .models import ApprovalPolicy, ApprovalRequest, ApprovalStep
from .permissions import APPROVE
from .workflows import APPROVAL_FLOW

Condition = ApprovalPolicy.Condition


class ApprovalRefused(DomainError):
    code = "approval_refused"
    default_message = gettext_lazy("This approval is not allowed.")
    status = 403


@dataclass
class ApprovalFacts:
    """What the policies look at. Amounts in CNY, discounts as fractions."""

    amount: Decimal = ZERO
    max_discount: Decimal = ZERO
    owner_ceiling: Decimal = Decimal("1")
    below_floor: list[str] = field(default_factory=list)  # SKUs sold below their floor price
    payment_terms_days: int = 0
    standard_terms_days: int = 0
    credit_exposure: Decimal = ZERO
    credit_limit: Decimal | None = None
    # conditions already satisfied by an earlier approval of the same terms (an order that
    # repeats its approved quotation): those policies are not asked again
    settled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Approvable:
    """How the engine sees one document type."""

    model: type
    facts: Callable[[object], ApprovalFacts]
    content: Callable[[object], object]  # JSON-able content; its hash is the fingerprint
    owner: Callable[[object], object]
    unit: Callable[[object], object]
    on_approved: Callable[[object, object], None]
    on_rejected: Callable[[object, object, str], None]
    url: Callable[[object], str] = lambda obj: ""
    # locks the document's approval may need, taken before the first audit entry
    prepare: Callable[[object], None] = lambda obj: None
    # the permission whose data scope says whose documents an approver may decide (contracts
    # are reviewed by legal under their own code, not under the commercial approval)
    permission: str = APPROVE
    queue_url: str = "/sales/approvals/"


APPROVABLES: dict[str, Approvable] = {}


def register_approvable(doc_type: str, approvable: Approvable) -> Approvable:
    APPROVABLES[doc_type] = approvable
    return approvable


def fingerprint(doc_type: str, obj) -> str:
    content = APPROVABLES[doc_type].content(obj)
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


# --- evaluating policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _reason(policy: ApprovalPolicy, facts: ApprovalFacts) -> Reason | None:
    """The reason ``policy`` applies to a document with ``facts``, or None."""
    threshold = policy.threshold if policy.threshold is not None else ZERO
    condition = policy.condition
    if condition in facts.settled:
        return None
    if condition == Condition.ALWAYS:
        return Reason(condition, _("Always approved by this role (%(policy)s).") % {"policy": policy.name})
    if condition == Condition.AMOUNT_OVER and facts.amount > threshold:
        return Reason(
            condition,
            _("Total %(amount)s is above %(threshold)s.") % {"amount": facts.amount, "threshold": _plain(threshold)},
        )
    if condition == Condition.DISCOUNT_OVER and facts.max_discount > threshold:
        return Reason(
            condition,
            _("A line discount of %(discount)s %% is above %(threshold)s %%.")
            % {"discount": _plain(facts.max_discount * 100), "threshold": _plain(threshold * 100)},
        )
    if condition == Condition.DISCOUNT_ABOVE_CEILING and facts.max_discount > facts.owner_ceiling:
        return Reason(
            condition,
            _("A line discount of %(discount)s %% is above the owner's ceiling of %(ceiling)s %%.")
            % {"discount": _plain(facts.max_discount * 100), "ceiling": _plain(facts.owner_ceiling * 100)},
        )
    if condition == Condition.BELOW_FLOOR and facts.below_floor:
        return Reason(
            condition, _("Net price below the floor price: %(skus)s.") % {"skus": ", ".join(facts.below_floor)}
        )
    if condition == Condition.TERMS_LONGER and facts.payment_terms_days > max(
        facts.standard_terms_days, int(threshold)
    ):
        return Reason(
            condition,
            _("Payment terms of %(days)s days are longer than the standard %(standard)s days.")
            % {"days": facts.payment_terms_days, "standard": max(facts.standard_terms_days, int(threshold))},
        )
    if (
        condition == Condition.CREDIT_OVER
        and facts.credit_limit is not None
        and facts.credit_exposure > facts.credit_limit + threshold
    ):
        return Reason(
            condition,
            _("Credit exposure %(exposure)s would exceed the limit %(limit)s.")
            % {"exposure": facts.credit_exposure, "limit": facts.credit_limit},
        )
    return None


@dataclass
class PlannedStep:
    level: int
    role: Role
    reasons: list[Reason]
    escalated_from: Role | None = None


def _authority_role(role: Role, amount: Decimal, roles: list[Role], permission: str) -> tuple[Role, bool]:
    """The role that may approve ``amount``: ``role`` itself when its limit covers it (a limit
    of 0 means the role's approvals are not limited by amount), else the approving role
    with the smallest limit that does."""
    limit = role.approval_amount_limit
    if limit <= 0 or amount <= limit:
        return role, False
    above = sorted(
        (r for r in roles if r.approval_amount_limit >= amount and permission in (r.permissions or ())),
        key=lambda r: (r.approval_amount_limit, r.pk),
    )
    return (above[0], True) if above else (role, False)


def approval_plan(*, doc_type: str, facts: ApprovalFacts) -> list[PlannedStep]:
    """The steps a document with these facts needs, in order; empty when none."""
    policies = list(
        ApprovalPolicy.objects.filter(doc_type=doc_type, is_active=True)
        .select_related("approver_role")
        .order_by("level", "pk")
    )
    roles = list(Role.objects.all())
    permission = APPROVABLES[doc_type].permission if doc_type in APPROVABLES else APPROVE
    steps: dict[tuple[int, int], PlannedStep] = {}
    for policy in policies:
        reason = _reason(policy, facts)
        if reason is None:
            continue
        role, escalated = _authority_role(policy.approver_role, facts.amount, roles, permission)
        step = steps.setdefault((policy.level, role.pk), PlannedStep(policy.level, role, []))
        if escalated:
            step.escalated_from = policy.approver_role
            reason = Reason(
                reason.code,
                reason.message
                + " "
                + _("(Escalated: the amount is above the limit of %(role)s.)") % {"role": policy.approver_role.name},
            )
        step.reasons.append(reason)
    return [steps[key] for key in sorted(steps)]


# --- requests ----------------------------------------------------------------------------------


def _may_decide(user, *, owner, unit, by, permission: str) -> bool:
    if user.pk in (owner.pk, getattr(by, "pk", None)) or not user.is_active:
        return False
    return in_scope(user, permission, owner=owner, unit=unit)


def _with_someone_to_decide(
    planned: list[PlannedStep], *, owner, unit, by, permission: str = APPROVE
) -> list[PlannedStep]:
    """A step whose role nobody may decide for this document (a team without a manager, the
    only manager being the owner) goes up to the next role with a higher limit that has
    someone who may; a document never waits for nobody."""
    from foodflow.accounts.models import User

    if not planned:
        return planned
    holders: dict[int, bool] = {}

    def someone(role: Role) -> bool:
        # a role's holders are read only when a step asks for it (usually one role per step)
        if role.pk not in holders:
            users = User.objects.filter(roles=role, is_active=True).select_related("org_unit")
            holders[role.pk] = any(_may_decide(u, owner=owner, unit=unit, by=by, permission=permission) for u in users)
        return holders[role.pk]

    approving = None
    result: dict[tuple[int, int], PlannedStep] = {}
    for step in planned:
        role = step.role
        if not someone(role):
            if approving is None:
                approving = sorted(
                    (r for r in Role.objects.all() if permission in (r.permissions or ())),
                    key=lambda r: (r.approval_amount_limit <= 0, r.approval_amount_limit, r.pk),  # 0: no limit, last
                )
            higher = next(
                (
                    r
                    for r in approving
                    if r.pk != role.pk
                    and (r.approval_amount_limit <= 0 or r.approval_amount_limit > role.approval_amount_limit)
                    and someone(r)
                ),
                None,
            )
            if higher is not None:
                escalated = Reason(
                    "escalated",
                    _("(Escalated: nobody in the role %(role)s may decide this document.)") % {"role": role.name},
                )
                step = PlannedStep(step.level, higher, [*step.reasons, escalated], role)
        key = (step.level, step.role.pk)
        if key in result:
            result[key].reasons.extend(step.reasons)
        else:
            result[key] = step
    return [result[key] for key in sorted(result)]


def approval_submit(*, doc_type: str, obj, by, label: str) -> ApprovalRequest | None:
    """Freeze the policy result for ``obj`` as a request; None when no policy applies.
    Any earlier open request of the document is voided first (one live request at a time)."""
    approvable = APPROVABLES[doc_type]
    facts = approvable.facts(obj)
    planned = _with_someone_to_decide(
        approval_plan(doc_type=doc_type, facts=facts),
        owner=approvable.owner(obj),
        unit=approvable.unit(obj),
        by=by,
        permission=approvable.permission,
    )
    with transaction.atomic():
        approval_void(doc_type=doc_type, obj=obj, by=by, note=_("Submitted again."))
        if not planned:
            # recorded as approved with no steps: sending later checks this content, not the
            # policies again (which a policy change in between could otherwise flip)
            ApprovalRequest.objects.create(
                doc_type=doc_type,
                object_id=obj.pk,
                document_label=label,
                owner=approvable.owner(obj),
                unit=approvable.unit(obj),
                amount=facts.amount,
                fingerprint=fingerprint(doc_type, obj),
                state="approved",
                submitted_by=acting_user(by),
                submitted_at=timezone.now(),
                decided_at=timezone.now(),
                note=_("No approval policy applies."),
            )
            return None
        request = ApprovalRequest.objects.create(
            doc_type=doc_type,
            object_id=obj.pk,
            document_label=label,
            owner=approvable.owner(obj),
            unit=approvable.unit(obj),
            amount=facts.amount,
            fingerprint=fingerprint(doc_type, obj),
            submitted_by=acting_user(by),
            submitted_at=timezone.now(),
        )
        ApprovalStep.objects.bulk_create(
            ApprovalStep(
                request=request,
                sequence=index,
                level=step.level,
                role=step.role,
                reasons=[reason.as_dict() for reason in step.reasons],
                state=ApprovalStep.State.PENDING if index == 1 else ApprovalStep.State.WAITING,
            )
            for index, step in enumerate(planned, start=1)
        )
        _notify_step(request, request.steps.get(sequence=1))
        audit_record(
            action="approval.submitted",
            actor=by,
            obj=request,
            changes={"steps": [f"{s.level}:{s.role.code}" for s in planned], "amount": str(facts.amount)},
        )
    return request


def approval_void(*, doc_type: str, obj, by=None, note: str = "") -> int:
    """Void every pending or approved request of ``obj``: its content is changing."""
    voided = 0
    with transaction.atomic():
        for request in ApprovalRequest.objects.select_for_update().filter(
            doc_type=doc_type, object_id=obj.pk, state__in=("pending", "approved")
        ):
            request.state = "void"
            request.note = note[:300]
            request.decided_at = timezone.now()
            request.save(update_fields=["state", "note", "decided_at"])
            request.steps.filter(state__in=("pending", "waiting")).update(state=ApprovalStep.State.VOID)
            audit_record(action="approval.void", actor=by, obj=request, changes={"note": note})
            voided += 1
    return voided


def approval_valid(*, doc_type: str, obj) -> ApprovalRequest | None:
    """The approved request that still matches the document's content, if any."""
    current = fingerprint(doc_type, obj)
    return (
        ApprovalRequest.objects.filter(doc_type=doc_type, object_id=obj.pk, state="approved", fingerprint=current)
        .order_by("-submitted_at")
        .first()
    )


def user_approval_limit(user, role: Role) -> Decimal | None:
    """The user's limit when acting in ``role``: None for no limit."""
    if user.is_superuser:
        return None
    limit = role.approval_amount_limit
    return None if limit <= 0 else limit


def _check_decider(step: ApprovalStep, request: ApprovalRequest, by, permission: str) -> None:
    if by is None or not getattr(by, "is_authenticated", False):
        raise PermissionDeniedError()
    if by.pk in (request.owner_id, request.submitted_by_id):
        raise ApprovalRefused(_("Nobody approves their own document."), code="own_document")
    if not by.is_superuser and step.role_id not in {role.pk for role in user_roles(by)}:
        raise ApprovalRefused(
            _("This step is for the role %(role)s, which you do not hold.") % {"role": step.role.name},
            code="wrong_role",
        )
    if not in_scope(by, permission, owner=request.owner, unit=request.unit):
        raise PermissionDeniedError()
    limit = user_approval_limit(by, step.role)
    if limit is not None and request.amount > limit:
        raise ApprovalRefused(
            _("The amount %(amount)s is above your approval limit of %(limit)s.")
            % {"amount": request.amount, "limit": limit},
            code="above_limit",
        )


def approval_decide(*, step: ApprovalStep, by, approve: bool, comment: str = "") -> ApprovalRequest:
    """Approve or reject one step. The last approval approves the request and tells the
    document; a rejection ends the request and tells the document too."""
    if not approve and not comment.strip():
        raise ValidationFailed(
            _("Say why you reject it."), code="reason_missing", fields={"comment": [_("Say why you reject it.")]}
        )
    with transaction.atomic():
        # of=("self",): the region is a nullable join, which PostgreSQL cannot lock
        request = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("owner", "unit")
            .get(pk=step.request_id)
        )
        step = ApprovalStep.objects.select_related("role").get(pk=step.pk)
        if request.state != "pending" or step.state != ApprovalStep.State.PENDING:
            raise ConflictError(_("This approval step was already decided or is no longer open."), code="step_closed")
        approvable = APPROVABLES[request.doc_type]
        _check_decider(step, request, by, approvable.permission)
        obj = approvable.model._default_manager.select_for_update().get(pk=request.object_id)
        approvable.prepare(obj)
        if fingerprint(request.doc_type, obj) != request.fingerprint:
            # the document changed under the request: nobody may approve what they did not see
            approval_void(doc_type=request.doc_type, obj=obj, by=None, note=_("The document changed after submission."))
            raise ConflictError(
                _("The document changed after it was submitted; its approval is void."), code="document_changed"
            )
        step.state = ApprovalStep.State.APPROVED if approve else ApprovalStep.State.REJECTED
        step.decided_by, step.decided_at, step.comment = by, timezone.now(), comment[:300]
        step.save(update_fields=["state", "decided_by", "decided_at", "comment"])
        audit_record(
            action="approval.step_approved" if approve else "approval.step_rejected",
            actor=by,
            obj=request,
            changes={"step": step.sequence, "role": step.role.code, "comment": comment},
        )
        if not approve:
            _finish(request, "reject", by)
            _notify_owner(request, by, approve=False, comment=comment)
            request.steps.filter(state=ApprovalStep.State.WAITING).update(state=ApprovalStep.State.VOID)
            approvable.on_rejected(obj, by, comment)
            return request
        following = request.steps.filter(state=ApprovalStep.State.WAITING).order_by("sequence").first()
        if following is not None:
            following.state = ApprovalStep.State.PENDING
            following.save(update_fields=["state"])
            _notify_step(request, following)
            return request
        _finish(request, "approve", by)
        approvable.on_approved(obj, by)
        _notify_owner(request, by, approve=True, comment=comment)
    return request


def approvers_for(request: ApprovalRequest, step: ApprovalStep) -> list:
    """The people who may decide ``step``: the role's holders with the document in scope,
    except its owner and submitter."""
    from foodflow.accounts.models import User

    candidates = User.objects.filter(is_active=True, roles=step.role).exclude(
        pk__in=[request.owner_id, request.submitted_by_id or 0]
    )
    permission = APPROVABLES[request.doc_type].permission
    return [
        user
        for user in candidates.select_related("org_unit")
        if in_scope(user, permission, owner=request.owner, unit=request.unit)
    ]


def _notify_step(request: ApprovalRequest, step: ApprovalStep) -> None:
    from foodflow.core.notifications import notify

    from .notices import APPROVAL_NEEDED

    notify(
        recipients=approvers_for(request, step),
        kind=APPROVAL_NEEDED,
        params={"document": request.document_label, "reasons": " ".join(r["message"] for r in step.reasons)},
        url=APPROVABLES[request.doc_type].queue_url,
    )


def _notify_owner(request: ApprovalRequest, by, *, approve: bool, comment: str) -> None:
    from foodflow.core.notifications import notify

    from .notices import APPROVAL_DECIDED

    recipients = [u for u in (request.owner, request.submitted_by) if u is not None and u.pk != getattr(by, "pk", None)]
    notify(
        recipients=recipients,
        kind=APPROVAL_DECIDED,
        params={
            "document": request.document_label,
            "decision": _("approved") if approve else _("rejected"),
            "comment": comment,
        },
    )


def _finish(request: ApprovalRequest, action: str, by) -> None:
    from foodflow.core.workflows import transition

    transition(
        workflow=APPROVAL_FLOW,
        obj=request,
        action=action,
        by=by,
        apply=lambda locked: setattr(locked, "decided_at", timezone.now()) or ["decided_at"],
    )
    request.refresh_from_db(fields=["state", "decided_at"])


# --- queue ---------------------------------------------------------------------------------------


def approval_queue(user, *, permission: str = APPROVE) -> QuerySet[ApprovalStep]:
    """Pending steps the user may decide among the document types approved under
    ``permission``: their role, their scope, not their own documents. (The amount limit is
    shown on the page; planning already escalated what exceeds it.)"""
    doc_types = [code for code, approvable in APPROVABLES.items() if approvable.permission == permission]
    steps = ApprovalStep.objects.filter(
        state=ApprovalStep.State.PENDING, request__state="pending", request__doc_type__in=doc_types
    ).select_related("request", "request__owner", "request__unit", "role")
    if not user.is_superuser:
        steps = steps.filter(role__in=[role.pk for role in user_roles(user)])
    steps = steps.exclude(request__owner=user).exclude(request__submitted_by=user)
    q = scope_q(user, permission, owner="request__owner", unit="request__unit")
    if q is None:
        return steps.none()
    return steps.filter(q).order_by("request__submitted_at", "sequence")


def approval_history(*, doc_type: str, obj) -> QuerySet[ApprovalRequest]:
    return (
        ApprovalRequest.objects.filter(doc_type=doc_type, object_id=obj.pk)
        .prefetch_related("steps__role", "steps__decided_by")
        .order_by("-submitted_at", "-id")
    )
