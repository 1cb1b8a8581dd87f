"""Contracts: templates, drafting from a quotation, an order or a customer, editing, legal
review through the approval engine, signing with the scan, amendments, orders under a
contract, termination and fulfilment, and disputes. Every state change goes through the
transition tables in ``workflows.py``; the risk rules live in ``risk.py``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.catalog.models import Product
from foodflow.catalog.pricing import price_resolve
from foodflow.core.attachments import DOCUMENTS, attachment_create, attachment_discard
from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO, document_total, line_amount, round_money, tax_included, to_decimal
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition, workflow_started
from foodflow.crm.models import Customer
from foodflow.sales import approvals
from foodflow.sales.approvals import Approvable, ApprovalFacts, register_approvable
from foodflow.sales.models import ApprovalStep, DocType, Quotation, SalesOrder
from foodflow.sales.selectors import customer_exposure

from .clauses import placeholders_check
from .models import (
    ClauseKey,
    Contract,
    ContractClause,
    ContractKind,
    ContractLine,
    ContractOrder,
    ContractTemplate,
    Dispute,
    DisputeAction,
    Language,
    PaymentMilestone,
    ReviewComment,
    TemplateClause,
)
from .permissions import (
    DISPUTABLE_STATES,
    REVIEW,
    can_draft_contracts,
    can_draft_for,
    can_manage_contract,
    can_manage_dispute,
    can_manage_disputes,
    can_manage_templates,
    can_open_dispute,
    can_review_contract,
)
from .workflows import CONTRACT_FLOW, DISPUTE_FLOW, EDITABLE

NUMBER_PREFIX = "CT"
DISPUTE_PREFIX = "DS"
# orders that can carry a contract: decided by the company, not cancelled or replaced
ORDER_STATES = ("confirmed", "credit_hold", "returned", "production", "reserved", "partially_delivered", "delivered")
QUOTATION_STATES = ("approved", "sent", "accepted")
DEFAULT_LIABILITY_CAP = Decimal("30")
DEFAULT_VENUE = {
    Language.ZH: "提交供方所在地有管辖权的人民法院诉讼解决",
    Language.EN: "the competent people's court at the seller's domicile",
}


class ContractRuleBroken(DomainError):
    code = "contract_rule"
    default_message = gettext_lazy("This is not allowed for the contract in its current state.")
    status = 409


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


# --- templates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseInput:
    key: str
    title: str
    body: str
    title_en: str = ""
    body_en: str = ""
    editable: bool = False


def _clean_clauses(clauses: Iterable[ClauseInput]) -> list[ClauseInput]:
    result = list(clauses)
    if not result:
        raise _invalid("clauses", _("A template needs at least one clause."), "no_clauses")
    for index, clause in enumerate(result):
        if clause.key not in ClauseKey.values:
            raise _invalid(f"clauses.{index}.key", _("Not a known kind of clause."), "invalid_clause_key")
        if not clause.title.strip() or not clause.body.strip():
            raise _invalid(f"clauses.{index}.body", _("A clause needs a title and a text."), "clause_empty")
        placeholders_check(clause.body, field=f"clauses.{index}.body")
        placeholders_check(clause.body_en, field=f"clauses.{index}.body_en")
    return result


def _write_template_clauses(template: ContractTemplate, clauses: list[ClauseInput]) -> None:
    TemplateClause.objects.bulk_create(
        TemplateClause(
            template=template,
            position=index,
            key=clause.key,
            title=clause.title.strip(),
            title_en=clause.title_en.strip(),
            body=clause.body.strip(),
            body_en=clause.body_en.strip(),
            editable=clause.editable,
        )
        for index, clause in enumerate(clauses, start=1)
    )


def template_create(*, by, code: str, kind: str, name: str, clauses: Iterable[ClauseInput], name_en: str = ""):
    require_unless_system(by, can_manage_templates)
    if kind not in ContractKind.values:
        raise _invalid("kind", _("Not a known kind of contract."), "invalid_kind")
    if ContractTemplate.objects.filter(code=code).exists():
        raise _invalid("code", _("A template with this code exists already."), "duplicate_code")
    clauses = _clean_clauses(clauses)
    with transaction.atomic():
        template = ContractTemplate.objects.create(
            code=code, kind=kind, name=name.strip(), name_en=name_en.strip(), created_by=acting_user(by)
        )
        _write_template_clauses(template, clauses)
        audit_record(action="contract_template.created", actor=by, obj=template, changes={"code": code})
    return template


def template_revise(
    *, by, template: ContractTemplate, name: str, clauses: Iterable[ClauseInput], name_en: str = "", change_note: str
) -> ContractTemplate:
    """A new version of the template; contracts drafted from the old one keep it."""
    require_unless_system(by, can_manage_templates)
    if not change_note.strip():
        raise _invalid("change_note", _("Say what changed."), "reason_missing")
    clauses = _clean_clauses(clauses)
    with transaction.atomic():
        current = ContractTemplate.objects.select_for_update().get(code=template.code, is_current=True)
        current.is_current = False
        current.save(update_fields=["is_current", "updated_at"])
        revised = ContractTemplate.objects.create(
            code=current.code,
            version=current.version + 1,
            kind=current.kind,
            name=name.strip(),
            name_en=name_en.strip(),
            change_note=change_note.strip()[:300],
            is_active=current.is_active,
            created_by=acting_user(by),
        )
        _write_template_clauses(revised, clauses)
        audit_record(
            action="contract_template.revised",
            actor=by,
            obj=revised,
            changes={"from_version": current.version, "note": change_note},
        )
    return revised


def template_set_active(*, by, template: ContractTemplate, active: bool) -> ContractTemplate:
    require_unless_system(by, can_manage_templates)
    with transaction.atomic():
        locked = ContractTemplate.objects.select_for_update().get(pk=template.pk)
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(action="contract_template.active", actor=by, obj=locked, changes={"is_active": active})
    return locked


# --- lines, content and facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContractLineInput:
    """A line as the contract admin enters it. The price defaults to the customer's resolved
    price; a framework agreement may leave the quantity empty (prices only)."""

    product: Product
    quantity: object = None
    unit_price: object = None
    discount: object = ZERO


def _priced(customer: Customer, lines: Iterable[ContractLineInput], on: date) -> list[dict]:
    result = []
    for index, line in enumerate(lines):
        quantity = None if line.quantity in (None, "") else to_decimal(line.quantity)
        if quantity is not None and quantity <= 0:
            raise _invalid(f"lines.{index}.quantity", _("The quantity must be more than zero."), "invalid_quantity")
        unit_price = line.unit_price
        if unit_price in (None, ""):
            unit_price = price_resolve(
                product=line.product,
                quantity=quantity or Decimal(1),
                on=on,
                channel=customer.channel,
                tier=customer.tier,
                customer_id=customer.pk,
            ).unit_price
        unit_price = round_money(unit_price)
        if unit_price < 0:
            raise _invalid(f"lines.{index}.unit_price", _("A price cannot be negative."), "invalid_price")
        discount = to_decimal(line.discount or ZERO)
        if not ZERO <= discount < Decimal(1):
            message = _("A discount is between 0 and 1 (0.05 for 5 %).")
            raise _invalid(f"lines.{index}.discount", message, "invalid_discount")
        amount = ZERO if quantity is None else line_amount(unit_price=unit_price, quantity=quantity, discount=discount)
        result.append(
            {
                "position": index + 1,
                "product": line.product,
                "quantity": quantity,
                "unit_price": unit_price,
                "discount": discount,
                "vat_rate": line.product.vat_rate,
                "amount": amount,
                "tax": tax_included(amount=amount, rate=line.product.vat_rate),
            }
        )
    return result


def _write_lines(contract: Contract, priced: list[dict]) -> None:
    ContractLine.objects.filter(contract=contract).delete()
    ContractLine.objects.bulk_create(ContractLine(contract=contract, **values) for values in priced)
    contract.total = document_total(values["amount"] for values in priced)
    contract.tax_total = sum((values["tax"] for values in priced), ZERO)


def contract_content(contract: Contract) -> dict:
    """Everything legal approves: terms, lines, clause texts and milestones. Its hash is the
    approval's fingerprint; the diff between versions compares it too."""
    return {
        "title": contract.title,
        "customer": contract.customer_id,
        "language": contract.language,
        "start_date": str(contract.start_date),
        "end_date": str(contract.end_date),
        "payment_terms_days": contract.payment_terms_days,
        "delivery_terms": contract.delivery_terms,
        "delivery_address": contract.delivery_address,
        "quality_standard": contract.quality_standard,
        "liability_cap_percent": None
        if contract.liability_cap_percent is None
        else str(contract.liability_cap_percent),
        "late_penalty_per_day": str(contract.late_penalty_per_day),
        "dispute_venue": contract.dispute_venue,
        "total": str(contract.total),
        "lines": [
            [
                line.product_id,
                None if line.quantity is None else str(line.quantity),
                str(line.unit_price),
                str(line.discount),
            ]
            for line in contract.lines.all()
        ],
        "clauses": [[clause.key, clause.title, clause.body] for clause in contract.clauses.all()],
        "milestones": [[m.label, str(m.due_date), str(m.amount)] for m in contract.milestones.all()],
    }


def contract_facts(contract: Contract) -> ApprovalFacts:
    lines = list(contract.lines.select_related("product"))
    below = sorted(
        {
            line.product.sku
            for line in lines
            if line.product.floor_price is not None and line.net_unit_price < line.product.floor_price
        }
    )
    return ApprovalFacts(
        amount=contract.total,
        max_discount=max((line.discount for line in lines), default=ZERO),
        below_floor=below,
        payment_terms_days=contract.payment_terms_days,
        standard_terms_days=contract.customer.payment_terms_days,
        credit_exposure=customer_exposure(contract.customer),
        credit_limit=contract.customer.credit_limit,
    )


# --- drafting ---------------------------------------------------------------------------------------


def _require_draft_for(by, customer: Customer) -> None:
    require_unless_system(by, can_draft_contracts)
    if by is not None and not can_draft_for(by, customer):
        raise PermissionDeniedError(_("This customer is not in your scope."), code="customer_out_of_scope")


def _require_manage(by, contract: Contract) -> None:
    if by is not None and not can_manage_contract(by, contract):
        raise PermissionDeniedError()


def _locked(contract: Contract, expected_version: int | None = None) -> Contract:
    locked = Contract.objects.select_for_update(of=("self",)).select_related("customer").get(pk=contract.pk)
    if expected_version is not None and int(expected_version) != locked.lock_version:
        raise ConflictError(code="stale_version", fields={"lock_version": [str(locked.lock_version)]})
    return locked


def _default_end(kind: str, start: date, source_date: date | None) -> date:
    if kind == ContractKind.SINGLE_ORDER:
        return (source_date or start) + timedelta(days=90)
    return start + timedelta(days=364)  # one year, the last day included


def _framework_lines(customer: Customer) -> list[ContractLineInput]:
    """The products the customer bought in the last year, priced for them today."""
    from foodflow.sales.models import OrderLine

    since = timezone.localdate() - timedelta(days=365)
    product_ids = list(
        OrderLine.objects.filter(order__customer=customer, order__ordered_on__gte=since, order__is_current=True)
        .exclude(order__state__in=("draft", "cancelled", "superseded"))
        .values_list("product_id", flat=True)
        .distinct()[:30]
    )
    products = Product.objects.filter(pk__in=product_ids, status=Product.Status.ACTIVE).order_by("sku")
    return [ContractLineInput(product=product) for product in products]


def contract_draft(
    *,
    by,
    template: ContractTemplate,
    order: SalesOrder | None = None,
    quotation: Quotation | None = None,
    customer: Customer | None = None,
    language: str = Language.ZH,
    start_date: date | None = None,
    end_date: date | None = None,
    title: str = "",
) -> Contract:
    """A draft filled from exactly one source: an order, a quotation, or a customer (a
    framework or distribution agreement priced for the customer)."""
    sources = [source for source in (order, quotation, customer) if source is not None]
    if len(sources) != 1:
        raise ValidationFailed(_("Draft from exactly one order, quotation or customer."), code="one_source")
    if not template.is_current or not template.is_active:
        raise _invalid("template", _("This template is not offered any more."), "template_inactive")
    if language not in Language.values:
        raise _invalid("language", _("Not a language contracts are written in."), "invalid_language")
    source = sources[0]
    today = timezone.localdate()
    if order is not None:
        if order.state not in ORDER_STATES or not order.is_current:
            message = _("Only a confirmed order that is not cancelled gets a contract.")
            raise ContractRuleBroken(message, code="order_not_contractable")
        customer = order.customer
    elif quotation is not None:
        if quotation.state not in QUOTATION_STATES or not quotation.is_current:
            message = _("Only an approved quotation gets a contract.")
            raise ContractRuleBroken(message, code="quotation_not_contractable")
        customer = quotation.customer
    _require_draft_for(by, customer)

    start = start_date or today
    wanted = getattr(source, "promised_date", None) or getattr(source, "wanted_date", None)
    end = end_date or _default_end(template.kind, start, wanted)
    if end < start:
        raise _invalid("end_date", _("The contract ends before it starts."), "dates_reversed")
    if customer is source:
        line_inputs = _framework_lines(customer)
        payment_terms, delivery_terms = customer.payment_terms_days, ""
        default = customer.addresses.filter(is_default=True).first() or customer.addresses.first()
        address = default.address if default else ""
    else:
        line_inputs = [
            ContractLineInput(
                product=line.product, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount
            )
            for line in source.lines.select_related("product")
        ]
        payment_terms, delivery_terms = source.payment_terms_days, source.delivery_terms
        address = getattr(source, "delivery_address", "")
        if not address:
            default = customer.addresses.filter(is_default=True).first() or customer.addresses.first()
            address = default.address if default else ""
    priced = _priced(customer, line_inputs, today)
    standards = sorted({values["product"].quality_standard for values in priced if values["product"].quality_standard})
    with translation.override(language):
        kind_label = str(ContractKind(template.kind).label)
        payment_label = _("Full payment")
    with transaction.atomic():
        # the source is locked first: two people drafting from one order at once get one contract
        if order is not None:
            SalesOrder.objects.select_for_update(of=("self",)).filter(pk=order.pk).first()
            if ContractOrder.objects.filter(order_number=order.number).exists():
                raise ContractRuleBroken(_("This order is under a contract already."), code="order_has_contract")
        if quotation is not None:
            Quotation.objects.select_for_update(of=("self",)).filter(pk=quotation.pk).first()
            if Contract.objects.filter(quotation__number=quotation.number).exclude(state="cancelled").exists():
                message = _("This quotation has a contract already.")
                raise ContractRuleBroken(message, code="quotation_has_contract")
        contract = Contract(
            number=number_next(doc_type=NUMBER_PREFIX),
            kind=template.kind,
            template=template,
            language=language,
            title=(title or f"{customer.name} · {kind_label}")[:200],
            customer=customer,
            owner=source.owner if customer is not source else customer.owner,
            quotation=quotation or (order.quotation if order is not None else None),
            order=order,
            start_date=start,
            end_date=end,
            payment_terms_days=payment_terms,
            delivery_terms=delivery_terms,
            delivery_address=address,
            quality_standard="; ".join(standards)[:300],
            liability_cap_percent=DEFAULT_LIABILITY_CAP,
            dispute_venue=DEFAULT_VENUE[language],
            created_by=acting_user(by),
        )
        contract.save()
        _write_lines(contract, priced)
        contract.save(update_fields=["total", "tax_total"])
        ContractClause.objects.bulk_create(
            ContractClause(
                contract=contract,
                position=clause.position,
                key=clause.key,
                title=_template_text(clause, language)[0],
                body=_template_text(clause, language)[1],
                editable=clause.editable,
            )
            for clause in template.clauses.all()
        )
        if contract.total > 0 and customer is not source:
            due = (wanted or today) + timedelta(days=payment_terms)
            PaymentMilestone.objects.create(
                contract=contract,
                position=1,
                label=payment_label,
                due_date=due,
                amount=contract.total,
            )
        if order is not None:
            ContractOrder.objects.create(
                contract_number=contract.number, order_number=order.number, linked_by=acting_user(by)
            )
        workflow_started(workflow=CONTRACT_FLOW, obj=contract, by=by)
        audit_record(
            action="contract.drafted",
            actor=by,
            obj=contract,
            changes={"source": str(source), "template": str(template), "total": str(contract.total)},
        )
    return contract


# --- editing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneInput:
    label: str
    due_date: date
    amount: object


# the terms a contract admin sets, in the order the pages and the diff show them
CONTRACT_FIELDS = (
    "title",
    "language",
    "start_date",
    "end_date",
    "payment_terms_days",
    "delivery_terms",
    "delivery_address",
    "quality_standard",
    "liability_cap_percent",
    "late_penalty_per_day",
    "dispute_venue",
)


def _apply_fields(contract: Contract, fields: dict) -> None:
    unknown = set(fields) - set(CONTRACT_FIELDS)
    if unknown:
        raise ValidationFailed(
            code="unknown_fields", fields={name: [_("Not a field you can set.")] for name in unknown}
        )
    for name, value in fields.items():
        setattr(contract, name, value)
    if contract.language not in Language.values:
        raise _invalid("language", _("Not a language contracts are written in."), "invalid_language")
    if contract.end_date < contract.start_date:
        raise _invalid("end_date", _("The contract ends before it starts."), "dates_reversed")
    if contract.liability_cap_percent is not None and contract.liability_cap_percent < 0:
        raise _invalid("liability_cap_percent", _("A percentage cannot be negative."), "invalid_percent")
    if contract.late_penalty_per_day is None or not ZERO <= to_decimal(contract.late_penalty_per_day) <= 100:
        raise _invalid("late_penalty_per_day", _("A percentage is between 0 and 100."), "invalid_percent")


def _write_milestones(contract: Contract, milestones: list[MilestoneInput]) -> None:
    rows = []
    for index, item in enumerate(milestones):
        amount = round_money(item.amount)
        if amount <= 0:
            raise _invalid(f"milestones.{index}.amount", _("The amount must be more than zero."), "invalid_amount")
        if not item.label.strip():
            raise _invalid(f"milestones.{index}.label", _("Name the milestone."), "label_missing")
        rows.append(
            PaymentMilestone(
                contract=contract,
                position=index + 1,
                label=item.label.strip()[:120],
                due_date=item.due_date,
                amount=amount,
            )
        )
    if contract.total > 0 and sum((row.amount for row in rows), ZERO) > contract.total:
        message = _("The milestones add up to more than the contract amount.")
        raise _invalid("milestones", message, "milestones_over_total")
    PaymentMilestone.objects.filter(contract=contract).delete()
    PaymentMilestone.objects.bulk_create(rows)


def _write_clauses(contract: Contract, clauses: dict[int, str], by) -> list[int]:
    """Change the text of free clauses (by id); answers the ids that changed. A fixed
    clause is the template's wording: legal changes it in the template."""
    existing = {clause.pk: clause for clause in contract.clauses.all()}
    changed = []
    for clause_id, body in clauses.items():
        clause = existing.get(int(clause_id)) if str(clause_id).isdigit() else None
        if clause is None:
            raise _invalid(f"clauses.{clause_id}", _("This clause is not part of the contract."), "unknown_clause")
        body = (body or "").strip()
        if body == clause.body:
            continue
        if not clause.editable:
            message = _("“%(title)s” is a fixed clause of the template.") % {"title": clause.title}
            raise _invalid(f"clauses.{clause_id}", message, "clause_not_editable")
        if not body:
            raise _invalid(f"clauses.{clause_id}", _("A clause cannot be empty."), "clause_empty")
        placeholders_check(body, field=f"clauses.{clause_id}")
        clause.body = body
        clause.save(update_fields=["body"])
        changed.append(clause.pk)
    if changed:
        # the comments on a clause that was rewritten are addressed
        ReviewComment.objects.filter(contract=contract, clause_id__in=changed, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    return changed


def _template_text(clause: TemplateClause, language: str) -> tuple[str, str]:
    if language == Language.EN and clause.body_en:
        return (clause.title_en or clause.title), clause.body_en
    return clause.title, clause.body


def _clauses_relanguage(contract: Contract, language: str) -> None:
    """Write the clauses again from the template in ``language``; refused when the contract
    admin changed a clause (switching would lose that wording)."""
    by_position = {clause.position: clause for clause in contract.template.clauses.all()}
    clauses = list(contract.clauses.all())
    for clause in clauses:
        source = by_position.get(clause.position)
        if source is None or (clause.title, clause.body) != _template_text(source, contract.language):
            message = _("The clauses were edited; draft a new contract to write it in another language.")
            raise _invalid("language", message, "language_fixed")
    for clause in clauses:
        clause.title, clause.body = _template_text(by_position[clause.position], language)
    ContractClause.objects.bulk_update(clauses, ["title", "body"])


def contract_update(
    *,
    by,
    contract: Contract,
    expected_version: int | None = None,
    lines: Iterable[ContractLineInput] | None = None,
    clauses: dict[int, str] | None = None,
    milestones: Iterable[MilestoneInput] | None = None,
    **fields,
) -> Contract:
    """Edit a contract that is not signed. An edit under review or after approval voids the
    approval and takes the contract back to draft: it is reviewed again."""
    _require_manage(by, contract)
    with transaction.atomic():
        locked = _locked(contract, expected_version)
        if locked.state not in EDITABLE:
            message = _("A signed contract is amended (a new version), not edited.")
            raise ContractRuleBroken(message, code="contract_not_editable")
        before = contract_content(locked)
        language = fields.get("language", locked.language)
        if language != locked.language and language in Language.values:
            _clauses_relanguage(locked, language)
        _apply_fields(locked, fields)
        if lines is not None:
            _write_lines(locked, _priced(locked.customer, lines, timezone.localdate()))
        changed_clauses = _write_clauses(locked, clauses, by) if clauses else []
        if milestones is not None:
            _write_milestones(locked, list(milestones))
        after = contract_content(locked)
        if before == after:
            return locked  # nothing changed: the version (and an approval) stays as it is
        locked.lock_version = F("lock_version") + 1
        locked.updated_by = acting_user(by)
        locked.save()
        locked.refresh_from_db()
        audit_record(
            action="contract.edited",
            actor=by,
            obj=locked,
            changes={"changed": sorted(k for k in after if after[k] != before[k]), "clauses": changed_clauses},
        )
        if locked.state in ("in_review", "approved"):
            approvals.approval_void(doc_type=DocType.CONTRACT, obj=locked, by=by, note=_("The contract was edited."))
            transition(workflow=CONTRACT_FLOW, obj=locked, action="reopen", by=by, reason=_("Edited after submission."))
    return locked


# --- legal review ----------------------------------------------------------------------------------


def contract_submit(*, by, contract: Contract) -> Contract:
    """Submit to legal: the policies (by default: legal reviews every contract) become the
    steps of a new review round."""
    _require_manage(by, contract)
    with transaction.atomic():
        locked = _locked(contract)
        if locked.state not in ("draft", "returned"):
            raise ContractRuleBroken(code="transition_not_allowed")
        if not locked.clauses.exists():
            raise ContractRuleBroken(_("The contract has no clauses."), code="no_clauses")
        locked.review_round += 1
        locked.save(update_fields=["review_round"])
        request = approvals.approval_submit(doc_type=DocType.CONTRACT, obj=locked, by=by, label=str(locked))
        locked = transition(
            workflow=CONTRACT_FLOW, obj=locked, action="submit", by=by, changes={"round": locked.review_round}
        )
        if request is None:
            locked = transition(
                workflow=CONTRACT_FLOW, obj=locked, action="approve", by=None, reason=_("No review policy applies.")
            )
    _risk_check(locked)
    return locked


def _pending_step(contract: Contract) -> ApprovalStep | None:
    return (
        ApprovalStep.objects.select_related("request", "role")
        .filter(
            request__doc_type=DocType.CONTRACT,
            request__object_id=contract.pk,
            request__state="pending",
            state=ApprovalStep.State.PENDING,
        )
        .first()
    )


def review_step(contract: Contract) -> ApprovalStep | None:
    """The review step waiting for a decision, if any."""
    return _pending_step(contract)


def _holds_role(user, step: ApprovalStep) -> bool:
    from foodflow.accounts.permissions import user_roles

    return user.is_superuser or step.role_id in {role.pk for role in user_roles(user)}


def review_step_for(user, contract: Contract) -> ApprovalStep | None:
    """The review step ``user`` may decide (and comment on) now, else None."""
    if contract.state != "in_review" or user is None or not can_review_contract(user, contract):
        return None
    step = _pending_step(contract)
    return step if step is not None and _holds_role(user, step) else None


def _require_reviewer(by, contract: Contract) -> ApprovalStep:
    step = _pending_step(contract)
    if contract.state != "in_review" or step is None:
        raise ContractRuleBroken(_("The contract is not in review."), code="not_in_review")
    if by is None or not can_review_contract(by, contract):
        raise PermissionDeniedError()
    if not _holds_role(by, step):
        raise approvals.ApprovalRefused(
            _("This step is for the role %(role)s, which you do not hold.") % {"role": step.role.name},
            code="wrong_role",
        )
    return step


def contract_comment(*, by, contract: Contract, text: str, clause: ContractClause | None = None) -> ReviewComment:
    """A reviewer's comment on one clause (or the whole contract) in the current round."""
    text = (text or "").strip()
    if not text:
        raise _invalid("text", _("Write the comment."), "comment_missing")
    if clause is not None and clause.contract_id != contract.pk:
        raise _invalid("clause", _("This clause is not part of the contract."), "unknown_clause")
    with transaction.atomic():
        locked = _locked(contract)
        _require_reviewer(by, locked)
        comment = ReviewComment.objects.create(
            contract=locked,
            round=locked.review_round,
            clause=clause,
            clause_title=clause.title if clause is not None else "",
            text=text[:4000],
            by=by,
        )
        audit_record(
            action="contract.commented",
            actor=by,
            obj=locked,
            changes={"round": locked.review_round, "clause": comment.clause_title, "text": comment.text},
        )
    return comment


def contract_review(*, by, contract: Contract, approve: bool, comment: str = "") -> Contract:
    """Legal's decision on the current round: approve, or return it to the contract admin.
    A return needs a reason: a comment here or comments on clauses in this round."""
    step = _require_reviewer(by, contract)
    if not approve and not comment.strip():
        count = ReviewComment.objects.filter(contract=contract, round=contract.review_round).count()
        if count == 0:
            message = _("Say why you return it: comment on the clauses or write a reason.")
            raise _invalid("comment", message, "reason_missing")
        comment = _("See the %(count)s comments on the clauses.") % {"count": count}
    approvals.approval_decide(step=step, by=by, approve=approve, comment=comment)
    contract.refresh_from_db()
    return contract


def _approved(contract: Contract, by) -> None:
    transition(workflow=CONTRACT_FLOW, obj=contract, action="approve", by=None, changes={"approved_by": str(by)})


def _returned(contract: Contract, by, reason: str) -> None:
    transition(workflow=CONTRACT_FLOW, obj=contract, action="return", by=None, reason=reason)


register_approvable(
    DocType.CONTRACT,
    Approvable(
        model=Contract,
        facts=contract_facts,
        content=contract_content,
        owner=lambda contract: contract.owner,
        unit=lambda contract: contract.customer.region,
        on_approved=_approved,
        on_rejected=_returned,
        permission=REVIEW,
        queue_url="/contracts/review/",
    ),
)


# --- signing, amendments, the end of a contract ----------------------------------------------------


def contract_sign(
    *,
    by,
    contract: Contract,
    signed_on: date,
    our_signatory: str,
    customer_signatory: str,
    scan: UploadedFile,
) -> Contract:
    """Record the signing with the signed scan (PDF or image, checked by content and size).
    An amendment, once signed, replaces the version it amends."""
    _require_manage(by, contract)
    errors: dict[str, list[str]] = {}
    if not (our_signatory or "").strip():
        errors["our_signatory"] = [_("Who signed for us?")]
    if not (customer_signatory or "").strip():
        errors["customer_signatory"] = [_("Who signed for the customer?")]
    if signed_on is None or signed_on > timezone.localdate():
        errors["signed_on"] = [_("The signing date cannot be in the future.")]
    if scan is None:
        errors["scan"] = [_("Attach the signed scan.")]
    if errors:
        raise ValidationFailed(_("Complete the signing details."), code="signing_incomplete", fields=errors)
    current = Contract.objects.get(pk=contract.pk)
    if current.state != "approved" or approvals.approval_valid(doc_type=DocType.CONTRACT, obj=current) is None:
        raise ContractRuleBroken(_("Only an approved contract is signed."), code="not_approved")
    # the file is checked (type by content, size) and stored before the state changes; a
    # refusal stores nothing
    try:
        attachment = attachment_create(upload=scan, by=acting_user(by), allowed=DOCUMENTS, obj=current)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, code=error.code, fields={"scan": [error.message]}) from error
    try:
        with transaction.atomic():
            locked = _locked(contract)

            def check(row):
                if approvals.approval_valid(doc_type=DocType.CONTRACT, obj=row) is None:
                    raise ContractRuleBroken(_("Only an approved contract is signed."), code="not_approved")

            def apply(row):
                row.signed_on = signed_on
                row.our_signatory = our_signatory.strip()[:100]
                row.customer_signatory = customer_signatory.strip()[:100]
                row.scan = attachment
                row.is_current = True
                return ["signed_on", "our_signatory", "customer_signatory", "scan", "is_current"]

            if locked.previous_id is not None:
                # the amended version steps down first (one current version per number)
                previous = Contract.objects.select_for_update().get(pk=locked.previous_id)
                Contract.objects.filter(pk=previous.pk).update(is_current=False)
                transition(
                    workflow=CONTRACT_FLOW,
                    obj=previous,
                    action="supersede",
                    by=by,
                    changes={"by_version": locked.version},
                )
            locked = transition(workflow=CONTRACT_FLOW, obj=locked, action="sign", by=by, check=check, apply=apply)
    except Exception:
        attachment_discard(attachment)
        raise
    _risk_check(locked)
    if locked.previous_id is not None:
        _risk_check(locked.previous)  # the replaced version's warnings are resolved
    return locked


def contract_amend(*, by, contract: Contract, reason: str) -> Contract:
    """A new draft version of a signed contract; the signed one stays in force (and
    readable) until the amendment is signed."""
    _require_manage(by, contract)
    if not (reason or "").strip():
        raise _invalid("reason", _("Say why the contract is amended."), "reason_missing")
    with transaction.atomic():
        locked = _locked(contract)
        if locked.state != "active":
            raise ContractRuleBroken(_("Only a signed, active contract is amended."), code="not_active")
        if locked.amendments.exclude(state__in=("cancelled", "superseded")).exists():
            raise ContractRuleBroken(_("An amendment of this contract is in progress."), code="amendment_open")
        clone = Contract.objects.create(
            number=locked.number,
            version=Contract.objects.filter(number=locked.number)
            .order_by("-version")
            .values_list("version", flat=True)[0]
            + 1,
            is_current=False,
            previous=locked,
            amendment_reason=reason.strip()[:300],
            **{
                name: getattr(locked, name)
                for name in (
                    "kind",
                    "template",
                    "language",
                    "title",
                    "customer",
                    "owner",
                    "quotation",
                    "order",
                    "start_date",
                    "end_date",
                    "payment_terms_days",
                    "delivery_terms",
                    "delivery_address",
                    "quality_standard",
                    "liability_cap_percent",
                    "late_penalty_per_day",
                    "dispute_venue",
                    "total",
                    "tax_total",
                )
            },
            created_by=acting_user(by),
        )
        ContractLine.objects.bulk_create(
            ContractLine(
                contract=clone,
                **{
                    name: getattr(line, name)
                    for name in (
                        "position",
                        "product",
                        "quantity",
                        "unit_price",
                        "discount",
                        "vat_rate",
                        "amount",
                        "tax",
                    )
                },
            )
            for line in locked.lines.all()
        )
        ContractClause.objects.bulk_create(
            ContractClause(
                contract=clone, position=c.position, key=c.key, title=c.title, body=c.body, editable=c.editable
            )
            for c in locked.clauses.all()
        )
        PaymentMilestone.objects.bulk_create(
            PaymentMilestone(contract=clone, position=m.position, label=m.label, due_date=m.due_date, amount=m.amount)
            for m in locked.milestones.all()
        )
        workflow_started(workflow=CONTRACT_FLOW, obj=clone, by=by)
        audit_record(
            action="contract.amendment_drafted",
            actor=by,
            obj=clone,
            changes={"amends": str(locked), "reason": reason},
        )
    return clone


def contract_cancel(*, by, contract: Contract, reason: str) -> Contract:
    """Drop a contract (or an amendment) that was never signed."""
    _require_manage(by, contract)
    if not (reason or "").strip():
        raise _invalid("reason", _("Say why the contract is cancelled."), "reason_missing")
    with transaction.atomic():
        locked = _locked(contract)
        approvals.approval_void(doc_type=DocType.CONTRACT, obj=locked, by=by, note=_("The contract was cancelled."))
        locked = transition(
            workflow=CONTRACT_FLOW,
            obj=locked,
            action="cancel",
            by=by,
            reason=reason,
            apply=lambda row: setattr(row, "end_reason", reason.strip()[:300]) or ["end_reason"],
        )
        if locked.previous_id is None:
            ContractOrder.objects.filter(contract_number=locked.number).delete()
    _risk_check(locked)
    return locked


def contract_terminate(*, by, contract: Contract, reason: str) -> Contract:
    _require_manage(by, contract)
    if not (reason or "").strip():
        raise _invalid("reason", _("Say why the contract is terminated."), "reason_missing")
    locked = transition(
        workflow=CONTRACT_FLOW,
        obj=contract,
        action="terminate",
        by=by,
        reason=reason,
        apply=lambda row: setattr(row, "end_reason", reason.strip()[:300]) or ["end_reason"],
    )
    _risk_check(locked)
    return locked


def contract_fulfil(*, by, contract: Contract) -> Contract:
    """Close a contract whose quantities are delivered and whose receivables are paid."""
    from .selectors import contract_fulfilment

    _require_manage(by, contract)

    def check(row):
        figures = contract_fulfilment(row)
        if not figures.complete:
            message = _("The contract is not fulfilled yet: deliveries or payments are open.")
            raise ContractRuleBroken(message, code="not_fulfilled")

    locked = transition(workflow=CONTRACT_FLOW, obj=contract, action="fulfil", by=by, check=check)
    _risk_check(locked)
    return locked


def contract_link_order(*, by, contract: Contract, order: SalesOrder) -> ContractOrder:
    """Put an order of the same customer under the contract (a framework agreement's call-off)."""
    _require_manage(by, contract)
    if order.customer_id != contract.customer_id:
        raise ContractRuleBroken(_("The order is for another customer."), code="other_customer")
    if order.state in ("draft", "cancelled", "superseded"):
        raise ContractRuleBroken(_("Only a confirmed order is put under a contract."), code="order_not_contractable")
    if contract.state not in ("approved", "active"):
        raise ContractRuleBroken(_("Orders go under an approved or signed contract."), code="not_active")
    with transaction.atomic():
        _locked(contract)
        SalesOrder.objects.select_for_update(of=("self",)).filter(pk=order.pk).first()
        if ContractOrder.objects.filter(order_number=order.number).exists():
            raise ContractRuleBroken(_("This order is under a contract already."), code="order_has_contract")
        link = ContractOrder.objects.create(
            contract_number=contract.number, order_number=order.number, linked_by=acting_user(by)
        )
        audit_record(action="contract.order_linked", actor=by, obj=contract, changes={"order": order.number})
    return link


def contract_unlink_order(*, by, contract: Contract, order_number: str) -> None:
    _require_manage(by, contract)
    with transaction.atomic():
        _locked(contract)
        deleted, _rows = ContractOrder.objects.filter(
            contract_number=contract.number, order_number=order_number
        ).delete()
        if not deleted:
            raise ContractRuleBroken(_("This order is not under the contract."), code="not_linked")
        audit_record(action="contract.order_unlinked", actor=by, obj=contract, changes={"order": order_number})


def _risk_check(contract: Contract) -> None:
    from .risk import risk_evaluate

    transaction.on_commit(lambda: risk_evaluate(contracts=Contract.objects.filter(pk=contract.pk), notify_owners=True))


# --- disputes -------------------------------------------------------------------------------------


def dispute_open(
    *,
    by,
    contract: Contract,
    category: str,
    description: str,
    amount: object = ZERO,
    complaint_reference: str = "",
    owner=None,
) -> Dispute:
    require_unless_system(by, can_manage_disputes)
    if contract.state not in DISPUTABLE_STATES:
        raise ContractRuleBroken(_("A dispute concerns a signed contract."), code="not_signed")
    if by is not None and not can_open_dispute(by, contract):
        raise PermissionDeniedError()
    if category not in Dispute.Category.values:
        raise _invalid("category", _("Not a known category."), "invalid_category")
    if not (description or "").strip():
        raise _invalid("description", _("Describe what happened."), "description_missing")
    amount = round_money(amount or ZERO)
    if amount < 0:
        raise _invalid("amount", _("An amount cannot be negative."), "invalid_amount")
    with transaction.atomic():
        dispute = Dispute.objects.create(
            number=number_next(doc_type=DISPUTE_PREFIX),
            contract=contract,
            category=category,
            amount=amount,
            description=description.strip(),
            complaint_reference=(complaint_reference or "").strip()[:64],
            owner=owner or acting_user(by) or contract.created_by or contract.owner,
            created_by=acting_user(by),
        )
        workflow_started(workflow=DISPUTE_FLOW, obj=dispute, by=by)
        audit_record(
            action="dispute.opened",
            actor=by,
            obj=dispute,
            changes={"contract": str(contract), "category": category, "amount": str(amount)},
        )
    return dispute


def _require_dispute(by, dispute: Dispute) -> None:
    if by is not None and not can_manage_dispute(by, dispute):
        raise PermissionDeniedError()


def dispute_add_action(*, by, dispute: Dispute, note: str) -> DisputeAction:
    _require_dispute(by, dispute)
    if not (note or "").strip():
        raise _invalid("note", _("Describe the action."), "note_missing")
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.state == "closed":
            raise ContractRuleBroken(_("The dispute is closed."), code="dispute_closed")
        action = DisputeAction.objects.create(dispute=locked, note=note.strip()[:4000], by=by)
        audit_record(action="dispute.action", actor=by, obj=locked, changes={"note": action.note})
        if locked.state == "open":
            transition(workflow=DISPUTE_FLOW, obj=locked, action="negotiate", by=by)
    return action


def dispute_resolve(*, by, dispute: Dispute, resolution: str, settled_amount: object = None) -> Dispute:
    _require_dispute(by, dispute)
    if not (resolution or "").strip():
        raise _invalid("resolution", _("Describe the resolution."), "resolution_missing")
    settled = None if settled_amount in (None, "") else round_money(settled_amount)
    if settled is not None and settled < 0:
        raise _invalid("settled_amount", _("An amount cannot be negative."), "invalid_amount")

    def apply(row):
        row.resolution = resolution.strip()
        row.settled_amount = settled
        row.resolved_on = timezone.localdate()
        return ["resolution", "settled_amount", "resolved_on"]

    return transition(workflow=DISPUTE_FLOW, obj=dispute, action="resolve", by=by, apply=apply)


def dispute_reopen(*, by, dispute: Dispute, reason: str) -> Dispute:
    _require_dispute(by, dispute)
    if not (reason or "").strip():
        raise _invalid("reason", _("Say why the dispute is reopened."), "reason_missing")
    return transition(workflow=DISPUTE_FLOW, obj=dispute, action="reopen", by=by, reason=reason)


def dispute_close(*, by, dispute: Dispute) -> Dispute:
    _require_dispute(by, dispute)
    return transition(workflow=DISPUTE_FLOW, obj=dispute, action="close", by=by)
