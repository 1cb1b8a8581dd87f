"""Risk early warning: rules over contracts raise warnings with a severity and an owner.

``risk_evaluate`` runs every rule over the live contracts and reconciles the result with the
warnings on record: a new finding raises an open warning (and tells its owner), a finding
that still holds keeps its warning (acknowledged ones stay acknowledged), a warning whose
finding is gone is marked resolved. It runs daily (``contracts-risk-evaluate``) and after a
contract's submission, signing or end. Messages are rendered from ``details`` in the
reader's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.permissions import acting_user, require_unless_system

from .models import Contract, RiskPolicy, RiskWarning, Severity
from .permissions import can_acknowledge_warning, can_set_risk_policy
from .selectors import contract_fulfilment
from .workflows import LIVE


def risk_policy() -> RiskPolicy:
    policy = RiskPolicy.objects.order_by("pk").first()
    return policy if policy is not None else RiskPolicy.objects.create()


POLICY_FIELDS = (
    "expiry_warning_days",
    "max_payment_terms_days",
    "max_liability_cap_percent",
    "max_late_penalty_per_day",
    "delivery_lag_percent",
)


def risk_policy_update(*, by, **fields) -> RiskPolicy:
    require_unless_system(by, can_set_risk_policy)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(
            code="unknown_fields", fields={name: [_("Not a field you can set.")] for name in unknown}
        )
    with transaction.atomic():
        policy = RiskPolicy.objects.select_for_update().get(pk=risk_policy().pk)
        before = {name: str(getattr(policy, name)) for name in POLICY_FIELDS}
        for name, value in fields.items():
            if value is None or Decimal(str(value)) < 0:
                message = _("Enter a number of zero or more.")
                raise ValidationFailed(message, code="invalid_number", fields={name: [message]})
            setattr(policy, name, value)
        policy.updated_by = acting_user(by)
        policy.save()
        policy.refresh_from_db()
        audit_record(
            action="contracts.risk_policy",
            actor=by,
            obj=policy,
            changes={"before": before, "after": {name: str(getattr(policy, name)) for name in POLICY_FIELDS}},
        )
    return policy


# --- rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    severity: int
    owner_id: int
    details: dict


@dataclass(frozen=True)
class Rule:
    code: str
    label: object
    describe: Callable[[dict], str]
    check: Callable[[Contract, RiskPolicy, date], Finding | None]
    states: tuple[str, ...] = LIVE


def _admin(contract: Contract) -> int:
    """Document risks go to the contract admin who drafted it; commercial ones to the rep."""
    return contract.created_by_id or contract.owner_id


def _expiring(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    days = (contract.end_date - on).days
    if days > policy.expiry_warning_days:
        return None
    severity = Severity.HIGH if days <= 7 else Severity.MEDIUM
    return Finding(severity, _admin(contract), {"end_date": str(contract.end_date), "days": days})


def _describe_expiring(d: dict) -> str:
    if d["days"] < 0:
        return _("Ended on %(end)s but still active.") % {"end": d["end_date"]}
    return _("Ends on %(end)s, in %(days)s days.") % {"end": d["end_date"], "days": d["days"]}


def _fulfilment(contract: Contract, on: date):
    """The figures two rules read, computed once per contract and evaluation."""
    cached = getattr(contract, "_risk_fulfilment", None)
    if cached is None or cached[0] != on:
        cached = (on, contract_fulfilment(contract, on=on))
        contract._risk_fulfilment = cached
    return cached[1]


def _payments_overdue(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    figures = _fulfilment(contract, on)
    overdue = max(figures.overdue_amount, figures.milestone_overdue)
    if overdue <= 0:
        return None
    severity = (
        Severity.CRITICAL
        if figures.oldest_overdue_days > 90
        else (Severity.HIGH if figures.oldest_overdue_days > 30 else Severity.MEDIUM)
    )
    return Finding(
        severity,
        contract.owner_id,
        {"amount": str(overdue), "days": figures.oldest_overdue_days},
    )


def _money(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def _describe_payments(d: dict) -> str:
    return _("%(amount)s overdue against the contract (oldest %(days)s days).") % {
        "amount": _money(d["amount"]),
        "days": d["days"],
    }


def _below_floor(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    skus = sorted(
        line.product.sku
        for line in contract.lines.all()
        if line.product.floor_price is not None and line.net_unit_price < line.product.floor_price
    )
    if not skus:
        return None
    return Finding(Severity.HIGH, contract.owner_id, {"skus": skus})


def _describe_floor(d: dict) -> str:
    return _("Net price below the floor price: %(skus)s.") % {"skus": ", ".join(d["skus"])}


def _payment_terms(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    if contract.payment_terms_days <= policy.max_payment_terms_days:
        return None
    return Finding(
        Severity.MEDIUM,
        _admin(contract),
        {"days": contract.payment_terms_days, "max": policy.max_payment_terms_days},
    )


def _describe_terms(d: dict) -> str:
    return _("Payment terms of %(days)s days; the policy allows at most %(max)s.") % d


def _liability(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    problems = []
    if contract.liability_cap_percent is None:
        problems.append("uncapped")
    elif contract.liability_cap_percent > policy.max_liability_cap_percent:
        problems.append("cap")
    if contract.late_penalty_per_day > policy.max_late_penalty_per_day:
        problems.append("penalty")
    if not problems:
        return None
    return Finding(
        Severity.HIGH if "uncapped" in problems else Severity.MEDIUM,
        _admin(contract),
        {
            "problems": problems,
            "cap": None if contract.liability_cap_percent is None else str(contract.liability_cap_percent),
            "max_cap": str(policy.max_liability_cap_percent),
            "penalty": str(contract.late_penalty_per_day),
            "max_penalty": str(policy.max_late_penalty_per_day),
        },
    )


def _describe_liability(d: dict) -> str:
    parts = []
    if "uncapped" in d["problems"]:
        parts.append(_("Our liability is not capped."))
    if "cap" in d["problems"]:
        parts.append(_("Liability cap %(cap)s %% is above the allowed %(max_cap)s %%.") % d)
    if "penalty" in d["problems"]:
        parts.append(_("Late penalty %(penalty)s %% per day is above the allowed %(max_penalty)s %%.") % d)
    return " ".join(parts)


# one evaluation reads each customer's exposure once, however many contracts it has
_exposures: ContextVar[dict | None] = ContextVar("contract_risk_exposures", default=None)


def _exposure(customer) -> Decimal:
    from foodflow.sales.selectors import customer_exposure

    cache = _exposures.get()
    if cache is None:
        return customer_exposure(customer)
    if customer.pk not in cache:
        cache[customer.pk] = customer_exposure(customer)
    return cache[customer.pk]


def _credit(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    limit = contract.customer.credit_limit
    if limit is None:
        return None
    exposure = _exposure(contract.customer)
    if exposure <= limit:
        return None
    return Finding(Severity.HIGH, contract.owner_id, {"exposure": str(exposure), "limit": str(limit)})


def _describe_credit(d: dict) -> str:
    return _("The customer's credit exposure %(exposure)s is over the limit %(limit)s.") % {
        "exposure": _money(d["exposure"]),
        "limit": _money(d["limit"]),
    }


def _quality(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    if contract.quality_standard.strip():
        return None
    return Finding(Severity.MEDIUM, _admin(contract), {})


def _describe_quality(d: dict) -> str:
    return _("No quality standard is named.")


def _deliveries(contract: Contract, policy: RiskPolicy, on: date) -> Finding | None:
    figures = _fulfilment(contract, on)
    late = [order.number for order in figures.late_orders]
    lag = None
    span = (contract.end_date - contract.start_date).days
    if span > 0 and on > contract.start_date and figures.percent is not None:
        elapsed = min(Decimal((on - contract.start_date).days) / span * 100, Decimal(100))
        if elapsed - figures.percent > policy.delivery_lag_percent:
            lag = {"elapsed": str(elapsed.quantize(Decimal("1"))), "delivered": str(figures.percent)}
    if not late and lag is None:
        return None
    return Finding(Severity.HIGH if late else Severity.MEDIUM, contract.owner_id, {"late_orders": late, "lag": lag})


def _describe_deliveries(d: dict) -> str:
    parts = []
    if d.get("late_orders"):
        parts.append(_("Orders past their delivery date: %(orders)s.") % {"orders": ", ".join(d["late_orders"])})
    if d.get("lag"):
        parts.append(_("%(delivered)s %% delivered after %(elapsed)s %% of the term.") % d["lag"])
    return " ".join(parts)


SIGNED = ("active",)

RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("expiring", gettext_lazy("Contract expiring"), _describe_expiring, _expiring, SIGNED),
        Rule("payments_overdue", gettext_lazy("Payments overdue"), _describe_payments, _payments_overdue, SIGNED),
        Rule("below_floor", gettext_lazy("Price below floor"), _describe_floor, _below_floor),
        Rule("payment_terms", gettext_lazy("Payment terms outside policy"), _describe_terms, _payment_terms),
        Rule("liability", gettext_lazy("Liability clauses outside policy"), _describe_liability, _liability),
        Rule("credit", gettext_lazy("Credit exposure over limit"), _describe_credit, _credit),
        Rule("quality_missing", gettext_lazy("Quality standard missing"), _describe_quality, _quality),
        Rule(
            "deliveries_behind", gettext_lazy("Deliveries behind schedule"), _describe_deliveries, _deliveries, SIGNED
        ),
    )
}


def warning_message(warning: RiskWarning) -> str:
    rule = RULES.get(warning.rule)
    return rule.describe(warning.details) if rule is not None else warning.rule


def warning_rule_label(warning: RiskWarning) -> str:
    rule = RULES.get(warning.rule)
    return str(rule.label) if rule is not None else warning.rule


# --- evaluation ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    raised: int = 0
    kept: int = 0
    resolved: int = 0


def risk_evaluate(
    *, contracts: QuerySet[Contract] | None = None, on: date | None = None, notify_owners: bool = True
) -> Outcome:
    """Run the rules over ``contracts`` (default: every live current contract and every
    amendment under way) and reconcile the warnings of those contracts."""
    on = on or timezone.localdate()
    policy = risk_policy()
    if contracts is None:
        # the live contracts, and those that left the live states with warnings still on record
        # (a version an amendment replaced, a terminated contract): theirs are resolved
        live_warnings = RiskWarning.objects.filter(state__in=(RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED))
        contracts = Contract.objects.filter(Q(state__in=LIVE) | Q(pk__in=live_warnings.values("contract_id")))
    contracts = list(
        contracts.select_related("customer", "customer__region").prefetch_related("lines__product", "milestones")
    )
    outcome = Outcome()
    raised: list[RiskWarning] = []
    token = _exposures.set({})
    try:
        _evaluate_each(contracts, policy, on, outcome, raised)
    finally:
        _exposures.reset(token)
    if notify_owners and raised:
        _notify(raised)
    return outcome


def _evaluate_each(contracts, policy: RiskPolicy, on: date, outcome: Outcome, raised: list) -> None:
    for contract in contracts:
        findings: dict[str, Finding] = {}
        for rule in RULES.values():
            if contract.state in rule.states:
                finding = rule.check(contract, policy, on)
                if finding is not None:
                    findings[rule.code] = finding
        with transaction.atomic():
            # one evaluation of a contract at a time (the daily job and a signing may meet)
            if Contract.objects.select_for_update().filter(pk=contract.pk).values_list("pk").first() is None:
                continue
            live = {
                warning.rule: warning
                for warning in RiskWarning.objects.select_for_update().filter(
                    contract=contract, state__in=(RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)
                )
            }
            now = timezone.now()
            for code, warning in live.items():
                if code not in findings:
                    warning.state, warning.resolved_at = RiskWarning.State.RESOLVED, now
                    warning.save(update_fields=["state", "resolved_at"])
                    outcome.resolved += 1
            for code, finding in findings.items():
                warning = live.get(code)
                if warning is not None:
                    warning.last_seen_at, warning.details = now, finding.details
                    warning.severity = finding.severity
                    warning.save(update_fields=["last_seen_at", "details", "severity"])
                    outcome.kept += 1
                    continue
                warning = RiskWarning.objects.create(
                    rule=code,
                    contract=contract,
                    customer=contract.customer,
                    severity=finding.severity,
                    owner_id=finding.owner_id,
                    details=finding.details,
                    raised_at=now,
                    last_seen_at=now,
                )
                raised.append(warning)
                outcome.raised += 1


class _InReadersLanguage:
    """A text rendered when the notification is written, in the recipient's language."""

    def __init__(self, render: Callable[[], str]):
        self.render = render

    def __str__(self) -> str:
        return self.render()


def _notify(warnings: Iterable[RiskWarning]) -> None:
    from django.urls import reverse

    from foodflow.accounts.models import User
    from foodflow.core.notifications import notify

    from .notices import RISK_RAISED

    warnings = list(warnings)
    owners = User.objects.in_bulk({warning.owner_id for warning in warnings})
    for warning in warnings:
        notify(
            recipients=[owners[warning.owner_id]],
            kind=RISK_RAISED,
            params={
                "contract": str(warning.contract),
                "customer": warning.customer.name,
                "rule": RULES[warning.rule].label,
                "message": _InReadersLanguage(lambda w=warning: warning_message(w)),
            },
            url=reverse("contracts:detail", args=[warning.contract_id]),
        )


def warning_acknowledge(*, by, warning: RiskWarning, note: str) -> RiskWarning:
    """The owner (or whoever manages or reviews the contract) has seen it and says what is
    being done. It stays on the board, below the open ones, until the finding is gone."""
    if by is not None and not can_acknowledge_warning(by, warning):
        raise PermissionDeniedError()
    note = (note or "").strip()
    if not note:
        message = _("Say what is being done about it.")
        raise ValidationFailed(message, code="note_missing", fields={"note": [message]})
    with transaction.atomic():
        locked = RiskWarning.objects.select_for_update().get(pk=warning.pk)
        if locked.state != RiskWarning.State.OPEN:
            from foodflow.core.errors import ConflictError

            raise ConflictError(_("This warning is not open any more."), code="warning_not_open")
        locked.state = RiskWarning.State.ACKNOWLEDGED
        locked.acknowledged_by, locked.acknowledged_at, locked.note = by, timezone.now(), note[:300]
        locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "note"])
        audit_record(
            action="contracts.warning_acknowledged",
            actor=by,
            obj=locked.contract,
            changes={"rule": locked.rule, "note": locked.note},
        )
    return locked
