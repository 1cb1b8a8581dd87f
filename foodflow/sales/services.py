"""Inquiries, quotations and sales orders: creating, editing, versions, approval and
cancellation. Review lives in ``review.py``, deliveries in ``fulfilment.py``, money in
``receivables.py``; all of them change states only through the transition tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.catalog.models import Product
from foodflow.catalog.pricing import max_discount_of, price_resolve
from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO, document_total, line_amount, round_money, tax_included, to_decimal
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition, workflow_started
from foodflow.crm.models import Customer
from foodflow.crm.permissions import can_manage_customer

from . import approvals
from .approvals import Approvable, ApprovalFacts, register_approvable
from .models import (
    ApprovalStep,
    DocType,
    Inquiry,
    InquiryLine,
    OrderLine,
    Quotation,
    QuotationLine,
    SalesOrder,
)
from .permissions import can_create_docs, can_manage_doc, can_view_doc
from .selectors import customer_exposure
from .workflows import INQUIRY_FLOW, ORDER_FLOW, ORDER_OPEN, QUOTATION_FLOW

QUOTE_VALID_DAYS = 30
EDITABLE_QUOTE_STATES = ("draft", "pending_approval", "approved")
EDITABLE_ORDER_STATES = ("draft", "pending_approval")


class SalesRuleBroken(DomainError):
    code = "sales_rule"
    default_message = gettext_lazy("This is not allowed for the document in its current state.")
    status = 409


# --- shared: lines, locking, permission -----------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One line as a user enters it: the price defaults to the resolved list price."""

    product: Product
    quantity: object
    unit_price: object = None
    discount: object = ZERO


def _line_error(index: int, field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={f"lines.{index}.{field}": [message]})


def priced_lines(*, customer: Customer, lines: Iterable[LineInput], on: date) -> list[dict]:
    """Validate and price lines: the list price and its rule from the price service, the
    user's price and discount, amounts and VAT by the rounding rule."""
    result = []
    for index, line in enumerate(lines):
        quantity = to_decimal(line.quantity)
        if quantity <= 0:
            raise _line_error(index, "quantity", _("The quantity must be more than zero."), "invalid_quantity")
        if line.product.status != Product.Status.ACTIVE:
            raise _line_error(
                index, "product", _("%(sku)s is not sold any more.") % {"sku": line.product.sku}, "product_inactive"
            )
        resolution = price_resolve(
            product=line.product,
            quantity=quantity,
            on=on,
            channel=customer.channel,
            tier=customer.tier,
            customer_id=customer.pk,
        )
        unit_price = resolution.unit_price if line.unit_price in (None, "") else round_money(line.unit_price)
        if unit_price < 0:
            raise _line_error(index, "unit_price", _("A price cannot be negative."), "invalid_price")
        discount = to_decimal(line.discount or ZERO)
        if not ZERO <= discount < Decimal(1):
            raise _line_error(index, "discount", _("A discount is between 0 and 1 (0.05 for 5 %)."), "invalid_discount")
        amount = line_amount(unit_price=unit_price, quantity=quantity, discount=discount)
        cost = round_money((line.product.standard_cost or ZERO) * quantity)
        result.append(
            {
                "position": index + 1,
                "product": line.product,
                "quantity": quantity,
                "list_price": resolution.unit_price,
                "price_rule": resolution.rule[:200],
                "unit_price": unit_price,
                "discount": discount,
                "vat_rate": line.product.vat_rate,
                "amount": amount,
                "tax": tax_included(amount=amount, rate=line.product.vat_rate),
                "cost": cost,
            }
        )
    if not result:
        raise ValidationFailed(
            _("Add at least one line."), code="no_lines", fields={"lines": [_("Add at least one line.")]}
        )
    return result


def _totals(doc, priced: list[dict]) -> None:
    doc.total = document_total(values["amount"] for values in priced)
    doc.tax_total = sum((values["tax"] for values in priced), ZERO)


def _write_lines(doc, line_model, parent_field: str, priced: list[dict], *, new: bool = False) -> None:
    if not new:
        line_model.objects.filter(**{parent_field: doc}).delete()
    line_model.objects.bulk_create(line_model(**{parent_field: doc}, **values) for values in priced)
    _totals(doc, priced)


def _copy_lines(source_lines, line_model, parent_field: str, doc) -> list:
    fields = (
        "position",
        "product_id",
        "quantity",
        "list_price",
        "price_rule",
        "unit_price",
        "discount",
        "vat_rate",
        "amount",
        "tax",
        "cost",
    )
    return line_model.objects.bulk_create(
        line_model(**{parent_field: doc}, **{name: getattr(line, name) for name in fields}) for line in source_lines
    )


def _locked(model, doc, expected_version: int | None):
    """The row locked for update; a stale ``expected_version`` is a conflict (HTTP 409)."""
    locked = model._default_manager.select_for_update(of=("self",)).select_related("customer").get(pk=doc.pk)
    if expected_version is not None and int(expected_version) != locked.lock_version:
        raise ConflictError(code="stale_version", fields={"lock_version": [str(locked.lock_version)]})
    return locked


def _require_manage(by, doc) -> None:
    if by is not None and not can_manage_doc(by, doc):
        raise PermissionDeniedError()


def _require_customer(by, customer: Customer) -> None:
    require_unless_system(by, can_create_docs)
    if by is not None and not can_manage_customer(by, customer):
        raise PermissionDeniedError(_("This customer is not in your scope."), code="customer_out_of_scope")
    if customer.status == Customer.Status.BLOCKED:
        raise SalesRuleBroken(_("The customer %(name)s is blocked.") % {"name": customer.name}, code="customer_blocked")


def _commercial_fields(customer: Customer, fields: dict) -> dict:
    allowed = {"payment_terms_days", "delivery_terms", "wanted_date", "notes"}
    unknown = set(fields) - allowed - {"valid_until", "language", "customer_reference", "delivery_address"}
    if unknown:
        raise ValidationFailed(
            code="unknown_fields", fields={name: [_("Not a field you can set.")] for name in unknown}
        )
    values = dict(fields)
    if values.get("payment_terms_days") in (None, ""):
        values["payment_terms_days"] = customer.payment_terms_days
    return values


def _content(doc, lines) -> dict:
    """What an approval approves: customer, terms and every line's price."""
    return {
        "customer": doc.customer_id,
        "payment_terms_days": doc.payment_terms_days,
        "total": str(doc.total),
        "lines": [
            [line.product_id, str(line.quantity), str(line.unit_price), str(line.discount)]
            for line in sorted(lines, key=lambda item: item.position)
        ],
    }


def _facts(doc, lines, *, exposure_extra: Decimal) -> ApprovalFacts:
    customer = doc.customer
    below = sorted(
        {
            line.product.sku
            for line in lines
            if line.product.floor_price is not None
            and round_money(line.unit_price * (Decimal(1) - line.discount)) < line.product.floor_price
        }
    )
    return ApprovalFacts(
        amount=doc.total,
        max_discount=max((line.discount for line in lines), default=ZERO),
        owner_ceiling=max_discount_of(doc.owner),
        below_floor=below,
        payment_terms_days=doc.payment_terms_days,
        standard_terms_days=customer.payment_terms_days,
        credit_exposure=exposure_extra,
        credit_limit=customer.credit_limit,
    )


# --- inquiries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InquiryLineInput:
    quantity: object
    product: Product | None = None
    description: str = ""


def inquiry_create(
    *,
    by,
    customer: Customer,
    channel: str,
    lines: Iterable[InquiryLineInput],
    received_on: date | None = None,
    wanted_date: date | None = None,
    notes: str = "",
    owner=None,
) -> Inquiry:
    _require_customer(by, customer)
    items = list(lines)
    if not items:
        raise ValidationFailed(
            _("Add at least one line."), code="no_lines", fields={"lines": [_("Add at least one line.")]}
        )
    for index, item in enumerate(items):
        if to_decimal(item.quantity) <= 0:
            raise _line_error(index, "quantity", _("The quantity must be more than zero."), "invalid_quantity")
        if item.product is None and not item.description.strip():
            raise _line_error(index, "description", _("Name a product or describe what is wanted."), "line_empty")
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            number=number_next(doc_type="INQ"),
            customer=customer,
            owner=owner or acting_user(by) or customer.owner,
            channel=channel,
            received_on=received_on or timezone.localdate(),
            wanted_date=wanted_date,
            notes=notes,
            created_by=acting_user(by),
        )
        InquiryLine.objects.bulk_create(
            InquiryLine(
                inquiry=inquiry,
                position=index + 1,
                product=item.product,
                description=item.description.strip(),
                quantity=to_decimal(item.quantity),
            )
            for index, item in enumerate(items)
        )
        workflow_started(workflow=INQUIRY_FLOW, obj=inquiry, by=by)
        audit_record(action="inquiry.created", actor=by, obj=inquiry, changes={"customer": customer.code})
    return inquiry


def inquiry_lose(*, by, inquiry: Inquiry, reason: str) -> Inquiry:
    _require_manage(by, inquiry)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why it was lost."), code="reason_missing", fields={"reason": [_("Say why it was lost.")]}
        )
    return transition(
        workflow=INQUIRY_FLOW,
        obj=inquiry,
        action="lose",
        by=by,
        reason=reason,
        apply=lambda locked: setattr(locked, "lost_reason", reason[:200]) or ["lost_reason"],
    )


def inquiry_to_quotation(*, by, inquiry: Inquiry, **fields) -> Quotation:
    """A quotation from the inquiry's product lines; free-text lines go to the notes so that
    the rep picks products for them."""
    _require_manage(by, inquiry)
    product_lines = [line for line in inquiry.lines.select_related("product") if line.product_id]
    free = [
        f"{line.description} × {line.quantity.normalize():f}" for line in inquiry.lines.all() if not line.product_id
    ]
    if not product_lines:
        raise SalesRuleBroken(
            _("Pick a product for at least one line of the inquiry first."), code="inquiry_without_products"
        )
    notes = "\n".join(filter(None, [inquiry.notes, *free]))
    with transaction.atomic():
        quotation = quotation_create(
            by=by,
            customer=inquiry.customer,
            lines=[LineInput(product=line.product, quantity=line.quantity) for line in product_lines],
            wanted_date=inquiry.wanted_date,
            notes=fields.pop("notes", notes),
            inquiry=inquiry,
            owner=inquiry.owner,
            **fields,
        )
        transition(workflow=INQUIRY_FLOW, obj=inquiry, action="quote", by=by, changes={"quotation": quotation.number})
    return quotation


# --- quotations --------------------------------------------------------------------------------


def quotation_create(
    *, by, customer: Customer, lines: Iterable[LineInput], inquiry: Inquiry | None = None, owner=None, **fields
) -> Quotation:
    _require_customer(by, customer)
    values = _commercial_fields(customer, fields)
    today = timezone.localdate()
    values.setdefault("valid_until", today + timedelta(days=QUOTE_VALID_DAYS))
    if values["valid_until"] < today:
        raise ValidationFailed(
            _("The validity date is in the past."),
            code="valid_until_past",
            fields={"valid_until": [_("The validity date is in the past.")]},
        )
    priced = priced_lines(customer=customer, lines=lines, on=today)
    with transaction.atomic():
        quotation = Quotation(
            number=number_next(doc_type="QT"),
            customer=customer,
            owner=owner or acting_user(by) or customer.owner,
            inquiry=inquiry,
            created_by=acting_user(by),
            **values,
        )
        _totals(quotation, priced)
        quotation.save()
        _write_lines(quotation, QuotationLine, "quotation", priced, new=True)
        workflow_started(workflow=QUOTATION_FLOW, obj=quotation, by=by)
        audit_record(
            action="quotation.created",
            actor=by,
            obj=quotation,
            changes={"customer": customer.code, "total": str(quotation.total)},
        )
    return quotation


def quotation_update(
    *, by, quotation: Quotation, expected_version: int | None = None, lines: Iterable[LineInput] | None = None, **fields
) -> Quotation:
    """Edit a quotation not yet sent. An edit under or after approval voids that approval
    and takes the quotation back to draft: it has to be submitted again."""
    _require_manage(by, quotation)
    with transaction.atomic():
        locked = _locked(Quotation, quotation, expected_version)
        if locked.state not in EDITABLE_QUOTE_STATES:
            raise SalesRuleBroken(
                _("A quotation that was sent is revised (a new version), not edited."), code="quotation_not_editable"
            )
        values = _commercial_fields(locked.customer, {**{"payment_terms_days": locked.payment_terms_days}, **fields})
        before = _content(locked, locked.lines.all())
        for name, value in values.items():
            setattr(locked, name, value)
        if lines is not None:
            _write_lines(
                locked,
                QuotationLine,
                "quotation",
                priced_lines(customer=locked.customer, lines=lines, on=timezone.localdate()),
            )
        locked.lock_version = F("lock_version") + 1
        locked.updated_by = acting_user(by)
        locked.save()
        locked.refresh_from_db()
        after = _content(locked, locked.lines.all())
        audit_record(action="quotation.edited", actor=by, obj=locked, changes={"before": before, "after": after})
        if locked.state != "draft":
            approvals.approval_void(doc_type=DocType.QUOTATION, obj=locked, by=by, note=_("The quotation was edited."))
            transition(
                workflow=QUOTATION_FLOW, obj=locked, action="reopen", by=by, reason=_("Edited after submission.")
            )
    return locked


def quotation_submit(*, by, quotation: Quotation) -> Quotation:
    """Ask the policies: none applies → approved at once; otherwise to the approvers."""
    _require_manage(by, quotation)
    with transaction.atomic():
        locked = _locked(Quotation, quotation, None)
        if locked.state != "draft":
            raise SalesRuleBroken(code="transition_not_allowed")
        if locked.valid_until < timezone.localdate():
            raise SalesRuleBroken(
                _("The quotation's validity date has passed; change it first."), code="quotation_expired"
            )
        request = approvals.approval_submit(doc_type=DocType.QUOTATION, obj=locked, by=by, label=str(locked))
        action = "submit" if request is not None else "clear"
        return transition(workflow=QUOTATION_FLOW, obj=locked, action=action, by=by)


def _quotation_approved_now(quotation: Quotation) -> bool:
    """Approval that still holds for exactly this content (approved by people, or cleared
    at submission because no policy applied)."""
    return approvals.approval_valid(doc_type=DocType.QUOTATION, obj=quotation) is not None


def quotation_send(*, by, quotation: Quotation) -> Quotation:
    _require_manage(by, quotation)

    def check(locked):
        if not _quotation_approved_now(locked):
            raise SalesRuleBroken(
                _("The quotation has no valid approval for its current content."), code="approval_missing"
            )

    return transition(
        workflow=QUOTATION_FLOW,
        obj=quotation,
        action="send",
        by=by,
        check=check,
        apply=lambda locked: setattr(locked, "sent_at", timezone.now()) or ["sent_at"],
    )


def quotation_accept(*, by, quotation: Quotation) -> Quotation:
    _require_manage(by, quotation)

    def check(locked):
        if locked.valid_until < timezone.localdate():
            raise SalesRuleBroken(
                _("The quotation expired on %(date)s.") % {"date": locked.valid_until}, code="quotation_expired"
            )

    return transition(
        workflow=QUOTATION_FLOW,
        obj=quotation,
        action="accept",
        by=by,
        check=check,
        apply=lambda locked: setattr(locked, "decided_at", timezone.now()) or ["decided_at"],
    )


def quotation_decline(*, by, quotation: Quotation, reason: str = "") -> Quotation:
    _require_manage(by, quotation)

    def apply(locked):
        locked.decided_at, locked.decline_reason = timezone.now(), reason[:200]
        return ["decided_at", "decline_reason"]

    return transition(workflow=QUOTATION_FLOW, obj=quotation, action="decline", by=by, reason=reason, apply=apply)


def quotation_cancel(*, by, quotation: Quotation, reason: str) -> Quotation:
    _require_manage(by, quotation)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why it is cancelled."), code="reason_missing", fields={"reason": [_("Say why it is cancelled.")]}
        )
    with transaction.atomic():
        approvals.approval_void(doc_type=DocType.QUOTATION, obj=quotation, by=by, note=reason)
        return transition(workflow=QUOTATION_FLOW, obj=quotation, action="cancel", by=by, reason=reason)


def quotations_expire_due(*, on: date | None = None) -> int:
    """Approved or sent quotations past their validity date expire (the daily job)."""
    on = on or timezone.localdate()
    expired = 0
    for quotation in Quotation.objects.filter(state__in=("approved", "sent"), valid_until__lt=on):
        transition(workflow=QUOTATION_FLOW, obj=quotation, action="expire", by=None)
        expired += 1
    return expired


def _clone_quotation(
    *, by, source: Quotation, number: str, version: int, customer: Customer, copied_from=None
) -> Quotation:
    today = timezone.localdate()
    clone = Quotation.objects.create(
        number=number,
        version=version,
        customer=customer,
        owner=(acting_user(by) or source.owner) if copied_from else source.owner,
        inquiry=source.inquiry if not copied_from else None,
        copied_from=copied_from,
        payment_terms_days=source.payment_terms_days,
        delivery_terms=source.delivery_terms,
        wanted_date=source.wanted_date,
        notes=source.notes,
        valid_until=max(source.valid_until, today + timedelta(days=QUOTE_VALID_DAYS)),
        language=source.language,
        total=source.total,
        tax_total=source.tax_total,
        created_by=acting_user(by),
    )
    _copy_lines(source.lines.all(), QuotationLine, "quotation", clone)
    workflow_started(workflow=QUOTATION_FLOW, obj=clone, by=by)
    return clone


def quotation_revise(*, by, quotation: Quotation) -> Quotation:
    """A new version (draft) with the same number; the old one stays readable, superseded.
    The new version has no approval of its own until it is submitted."""
    _require_manage(by, quotation)
    with transaction.atomic():
        locked = _locked(Quotation, quotation, None)
        if not locked.is_current:
            raise SalesRuleBroken(_("Only the current version can be revised."), code="not_current_version")
        approvals.approval_void(doc_type=DocType.QUOTATION, obj=locked, by=by, note=_("Revised."))
        transition(workflow=QUOTATION_FLOW, obj=locked, action="supersede", by=by)
        Quotation.objects.filter(pk=locked.pk).update(is_current=False)
        clone = _clone_quotation(
            by=by, source=locked, number=locked.number, version=locked.version + 1, customer=locked.customer
        )
        audit_record(action="quotation.revised", actor=by, obj=clone, changes={"from_version": locked.version})
    return clone


def quotation_copy(*, by, quotation: Quotation, customer: Customer | None = None) -> Quotation:
    """A new quotation (new number, draft) with the same lines; it never inherits an
    approval: its id differs, so no approval request matches it."""
    customer = customer or quotation.customer
    _require_customer(by, customer)
    if by is not None and not can_view_doc(by, quotation):
        raise PermissionDeniedError()
    with transaction.atomic():
        clone = _clone_quotation(
            by=by,
            source=quotation,
            number=number_next(doc_type="QT"),
            version=1,
            customer=customer,
            copied_from=quotation,
        )
        if customer.pk != quotation.customer_id:  # another customer: prices resolved again
            lines = [
                LineInput(line.product, line.quantity, line.unit_price, line.discount)
                for line in quotation.lines.select_related("product")
            ]
            _write_lines(
                clone, QuotationLine, "quotation", priced_lines(customer=customer, lines=lines, on=timezone.localdate())
            )
            clone.save(update_fields=["total", "tax_total"])
        audit_record(action="quotation.copied", actor=by, obj=clone, changes={"from": str(quotation)})
    return clone


def _quotation_facts(quotation: Quotation) -> ApprovalFacts:
    lines = list(quotation.lines.select_related("product"))
    return _facts(quotation, lines, exposure_extra=customer_exposure(quotation.customer) + quotation.total)


def _quotation_approved(quotation, by) -> None:
    transition(workflow=QUOTATION_FLOW, obj=quotation, action="approve", by=None, changes={"approved_by": str(by)})


def _quotation_rejected(quotation, by, reason: str) -> None:
    transition(workflow=QUOTATION_FLOW, obj=quotation, action="reject", by=None, reason=reason)


register_approvable(
    DocType.QUOTATION,
    Approvable(
        model=Quotation,
        facts=_quotation_facts,
        content=lambda q: _content(q, q.lines.all()),
        owner=lambda q: q.owner,
        unit=lambda q: q.customer.region,
        on_approved=_quotation_approved,
        on_rejected=_quotation_rejected,
    ),
)


# --- orders ---------------------------------------------------------------------------------------


def order_create(
    *, by, customer: Customer, lines: Iterable[LineInput], quotation: Quotation | None = None, owner=None, **fields
) -> SalesOrder:
    """Direct entry by a rep: a draft that goes through the same policies on submission.
    ``source_number``: the order's number in a previous system (an import of open orders)."""
    _require_customer(by, customer)
    source_number = str(fields.pop("source_number", "") or "")[:32]
    values = _commercial_fields(customer, fields)
    values.pop("valid_until", None), values.pop("language", None)
    today = timezone.localdate()
    priced = priced_lines(customer=customer, lines=lines, on=today)
    if not values.get("delivery_address"):
        default = customer.addresses.filter(is_default=True).first() or customer.addresses.first()
        values["delivery_address"] = default.address if default else ""
    with transaction.atomic():
        order = SalesOrder(
            number=number_next(doc_type="SO"),
            customer=customer,
            owner=owner or acting_user(by) or customer.owner,
            quotation=quotation,
            ordered_on=today,
            source_number=source_number,
            created_by=acting_user(by),
            **values,
        )
        _totals(order, priced)
        order.save()
        _write_lines(order, OrderLine, "order", priced, new=True)
        workflow_started(workflow=ORDER_FLOW, obj=order, by=by)
        changes = {"customer": customer.code, "total": str(order.total)}
        if source_number:
            changes["source_number"] = source_number
        audit_record(action="order.created", actor=by, obj=order, changes=changes)
    return order


def order_from_quotation(*, by, quotation: Quotation, customer_reference: str = "") -> SalesOrder:
    """The order repeats the accepted quotation: same lines, same prices, same terms."""
    _require_manage(by, quotation)
    with transaction.atomic():
        locked = _locked(Quotation, quotation, None)
        if locked.state != "accepted":
            raise SalesRuleBroken(_("Only an accepted quotation becomes an order."), code="quotation_not_accepted")
        if SalesOrder.objects.filter(quotation=locked).exclude(state="cancelled").exists():
            raise SalesRuleBroken(_("This quotation already has an order."), code="quotation_has_order")
        default = locked.customer.addresses.filter(is_default=True).first() or locked.customer.addresses.first()
        order = SalesOrder.objects.create(
            number=number_next(doc_type="SO"),
            customer=locked.customer,
            owner=locked.owner,
            quotation=locked,
            ordered_on=timezone.localdate(),
            payment_terms_days=locked.payment_terms_days,
            delivery_terms=locked.delivery_terms,
            wanted_date=locked.wanted_date,
            notes=locked.notes,
            customer_reference=customer_reference,
            delivery_address=default.address if default else "",
            total=locked.total,
            tax_total=locked.tax_total,
            created_by=acting_user(by),
        )
        _copy_lines(locked.lines.all(), OrderLine, "order", order)
        workflow_started(workflow=ORDER_FLOW, obj=order, by=by)
        audit_record(action="order.created", actor=by, obj=order, changes={"quotation": str(locked)})
    return order


def order_update(
    *, by, order: SalesOrder, expected_version: int | None = None, lines: Iterable[LineInput] | None = None, **fields
) -> SalesOrder:
    """Edit an order not yet confirmed; a confirmed order is amended instead."""
    _require_manage(by, order)
    with transaction.atomic():
        locked = _locked(SalesOrder, order, expected_version)
        if locked.state not in EDITABLE_ORDER_STATES:
            raise SalesRuleBroken(
                _("A confirmed order is amended (a new version) or cancelled, never edited."), code="order_confirmed"
            )
        values = _commercial_fields(locked.customer, {**{"payment_terms_days": locked.payment_terms_days}, **fields})
        values.pop("valid_until", None), values.pop("language", None)
        before = _content(locked, locked.lines.all())
        for name, value in values.items():
            setattr(locked, name, value)
        if lines is not None:
            _write_lines(
                locked, OrderLine, "order", priced_lines(customer=locked.customer, lines=lines, on=timezone.localdate())
            )
        locked.lock_version = F("lock_version") + 1
        locked.updated_by = acting_user(by)
        locked.save()
        locked.refresh_from_db()
        audit_record(
            action="order.edited",
            actor=by,
            obj=locked,
            changes={"before": before, "after": _content(locked, locked.lines.all())},
        )
        if locked.state == "pending_approval":
            approvals.approval_void(doc_type=DocType.ORDER, obj=locked, by=by, note=_("The order was edited."))
            transition(workflow=ORDER_FLOW, obj=locked, action="reopen", by=by, reason=_("Edited after submission."))
    return locked


def order_submit(*, by, order: SalesOrder) -> SalesOrder:
    """Confirm at once when no policy applies; otherwise wait for the approvers."""
    _require_manage(by, order)
    with transaction.atomic():
        locked = _locked(SalesOrder, order, None)
        if locked.state != "draft":
            raise SalesRuleBroken(code="transition_not_allowed")
        if locked.previous_id:  # confirming an amendment releases the old version's stock
            from .review import order_stock_lock

            order_stock_lock(locked.previous)
        request = approvals.approval_submit(doc_type=DocType.ORDER, obj=locked, by=by, label=str(locked))
        if request is not None:
            return transition(workflow=ORDER_FLOW, obj=locked, action="submit", by=by)
        locked = transition(workflow=ORDER_FLOW, obj=locked, action="confirm", by=by)
        _order_confirmed(locked, by)
        return locked


def _order_confirmed(order: SalesOrder, by) -> None:
    """A version became binding: the version it amends is superseded (its reservations go
    back), and the customer's first order date is set."""
    # a conditional update, not a row lock: FOR UPDATE on the customer would block every
    # concurrent insert that references it (their foreign-key check) until we commit
    Customer.objects.filter(pk=order.customer_id, first_order_at__isnull=True).update(first_order_at=order.ordered_on)
    if order.previous_id:
        from .review import order_release_all

        previous = SalesOrder.objects.get(pk=order.previous_id)
        order_release_all(order=previous, by=by, note=_("Amended by version %(version)s.") % {"version": order.version})
        transition(
            workflow=ORDER_FLOW, obj=previous, action="supersede", by=None, changes={"by_version": order.version}
        )
        SalesOrder.objects.filter(pk=previous.pk).update(is_current=False)
        SalesOrder.objects.filter(pk=order.pk).update(is_current=True)


def order_amend(
    *, by, order: SalesOrder, expected_version: int | None = None, lines: Iterable[LineInput] | None = None, **fields
) -> SalesOrder:
    """A confirmed order changes through a new version (draft) that is submitted like any
    order; the confirmed version stays binding until the new one is confirmed."""
    _require_manage(by, order)
    with transaction.atomic():
        locked = _locked(SalesOrder, order, expected_version)
        if locked.state not in ORDER_OPEN or not locked.is_current:
            raise SalesRuleBroken(
                _("Only a confirmed order not yet shipped can be amended."), code="order_not_amendable"
            )
        if SalesOrder.objects.filter(previous=locked).exists():
            raise SalesRuleBroken(_("An amendment of this order is already in progress."), code="amendment_in_progress")
        amendment = SalesOrder.objects.create(
            number=locked.number,
            version=locked.version + 1,
            is_current=False,
            previous=locked,
            customer=locked.customer,
            owner=locked.owner,
            quotation=locked.quotation,
            ordered_on=locked.ordered_on,
            payment_terms_days=locked.payment_terms_days,
            delivery_terms=locked.delivery_terms,
            wanted_date=locked.wanted_date,
            notes=locked.notes,
            customer_reference=locked.customer_reference,
            source_number=locked.source_number,
            delivery_address=locked.delivery_address,
            total=locked.total,
            tax_total=locked.tax_total,
            created_by=acting_user(by),
        )
        _copy_lines(locked.lines.all(), OrderLine, "order", amendment)
        workflow_started(workflow=ORDER_FLOW, obj=amendment, by=by)
        audit_record(action="order.amendment_started", actor=by, obj=amendment, changes={"amends": str(locked)})
        if lines is not None or fields:
            amendment = order_update(by=by, order=amendment, lines=lines, **fields)
    return amendment


def order_cancel(*, by, order: SalesOrder, reason: str) -> SalesOrder:
    """Cancel with a reason: reservations go back to stock, planned production is cancelled."""
    _require_manage(by, order)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why it is cancelled."), code="reason_missing", fields={"reason": [_("Say why it is cancelled.")]}
        )
    from .review import order_release_all, order_stock_lock

    with transaction.atomic():
        _locked(SalesOrder, order, None)
        order_stock_lock(order)  # before the first audit entry (see order_stock_lock)
        approvals.approval_void(doc_type=DocType.ORDER, obj=order, by=by, note=reason)
        locked = transition(
            workflow=ORDER_FLOW,
            obj=order,
            action="cancel",
            by=by,
            reason=reason,
            apply=lambda o: setattr(o, "cancel_reason", reason[:200]) or ["cancel_reason"],
        )
        # (a cancelled amendment holds no stock: the confirmed version it amends stays as it was)
        order_release_all(order=locked, by=None, note=reason, cancel_production=True)
    return locked


def _order_facts(order: SalesOrder) -> ApprovalFacts:
    lines = list(order.lines.select_related("product"))
    facts = _facts(order, lines, exposure_extra=customer_exposure(order.customer, exclude=order) + order.total)
    quotation = order.quotation
    if (
        quotation is not None
        and quotation.state == "accepted"
        and _content(order, lines) == _content(quotation, quotation.lines.all())
    ):
        # the same terms were approved on the quotation: only the credit question is new
        facts.settled = frozenset(
            set(approvals.Condition.values) - {approvals.Condition.CREDIT_OVER, approvals.Condition.ALWAYS}
        )
    return facts


def _order_approved(order, by) -> None:
    # an approval that weighed the credit exposure is the credit decision: review does not
    # block the order for credit a second time
    credit_decided = any(
        reason.get("code") == approvals.Condition.CREDIT_OVER
        for reasons in ApprovalStep.objects.filter(
            request__doc_type=DocType.ORDER, request__object_id=order.pk, request__state="approved"
        ).values_list("reasons", flat=True)
        for reason in reasons
    )

    def apply(locked):
        if credit_decided:
            locked.credit_override = True
            return ["credit_override"]
        return []

    locked = transition(
        workflow=ORDER_FLOW, obj=order, action="approve", by=None, apply=apply, changes={"approved_by": str(by)}
    )
    _order_confirmed(locked, by)


def _order_rejected(order, by, reason: str) -> None:
    transition(workflow=ORDER_FLOW, obj=order, action="reject", by=None, reason=reason)


def _order_prepare(order) -> None:
    if order.previous_id:
        from .review import order_stock_lock

        order_stock_lock(order.previous)


register_approvable(
    DocType.ORDER,
    Approvable(
        prepare=_order_prepare,
        model=SalesOrder,
        facts=_order_facts,
        content=lambda o: _content(o, o.lines.all()),
        owner=lambda o: o.owner,
        unit=lambda o: o.customer.region,
        on_approved=_order_approved,
        on_rejected=_order_rejected,
    ),
)
