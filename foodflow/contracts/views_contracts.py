"""Pages of the contract admin, legal and everyone who reads contracts: the ledger (台账) and
its Excel export, the orders waiting for a contract, drafting, the contract page with its
review, fulfilment, versions, disputes and warnings, editing, signing with the scan,
amendments and their diff, the PDF and the signed scan.

Views parse input and call one service; every rule (states, who may act, the scan's type and
size, what a version may still change) lives in ``services``, every read in ``selectors``. A
contract out of the user's scope is a 403 (404 if it does not exist); a service's refusal is
shown as its message, on the form when it names fields."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from foodflow.accounts.models import User
from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError
from foodflow.core.exports import capped_xlsx_response, xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.views import Action, paginate, perform, require
from foodflow.crm.models import Customer
from foodflow.sales.approvals import approval_history
from foodflow.sales.forms_docs import percent_of
from foodflow.sales.models import DocType, Quotation, SalesOrder

from . import pdf, risk, selectors, services
from .forms_contracts import (
    ApproveForm,
    ClausesForm,
    CommentForm,
    ContractForm,
    ContractLineForm,
    ContractLineFormSet,
    DraftForCustomerForm,
    DraftForm,
    LedgerFilterForm,
    LinkOrderForm,
    MilestoneForm,
    MilestoneFormSet,
    ReasonForm,
    ReturnForm,
    SignForm,
    filled_forms,
)
from .models import Contract, ContractKind, ReviewComment, RiskWarning
from .permissions import (
    can_draft_contracts,
    can_draft_for,
    can_export_contracts,
    can_manage_contract,
    can_open_dispute,
    can_review_contract,
    can_view_contract,
    can_view_contracts,
    contracts_in_scope,
    customers_to_draft_for,
)
from .workflows import CONTRACT_FLOW, EDITABLE

DEFAULT_SORT = "-created"
LINES = "lines"  # the prefix of the lines formset
MILESTONES = "milestones"  # the prefix of the payment milestones formset
PDF_LANGUAGES = ("zh-hans", "en")
LIVE_WARNINGS = (RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)


# --- helpers --------------------------------------------------------------------------------------


def _contract_or_403(request, pk: int, predicate=can_view_contract) -> Contract:
    # owner's org unit and customer's region: what the scope predicates compare
    contract = (
        Contract.objects.select_related(
            "customer__region", "owner__org_unit", "template", "scan", "previous", "order", "quotation"
        )
        .filter(pk=pk)
        .first()
    )
    if contract is None:
        raise Http404
    if not predicate(request.user, contract):
        raise PermissionDenied
    return contract


def _reason(request) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


def _to_detail(contract: Contract, anchor: str = ""):
    url = reverse("contracts:detail", args=[contract.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _with_added_row(data, prefix: str):
    """The posted data with one more row in ``prefix``'s formset (the "add" button without
    JavaScript)."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        data[key] = str(int(data.get(key, "0")) + 1)
    except ValueError:
        data[key] = "1"
    return data


def _customers_to_draft_for(user):
    """Customers the user may draft a contract for."""
    customers = Customer.objects.exclude(status=Customer.Status.BLOCKED).select_related("region")
    return customers_to_draft_for(user, customers).order_by("name", "pk")


# --- the ledger -------------------------------------------------------------------------------------


def _ledger_search(request):
    """The ledger's filters and sort, read the same way by the page and by its export."""
    in_scope_now = contracts_in_scope(request.user, Contract.objects.filter(is_current=True))
    filters = LedgerFilterForm(
        request.GET,
        customers=Customer.objects.filter(pk__in=in_scope_now.values("customer_id")).order_by("name", "pk"),
        owners=User.objects.filter(pk__in=in_scope_now.values("owner_id")).order_by("username"),
    )
    arguments = filters.arguments()
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in selectors.LEDGER_SORTS:
        sort = DEFAULT_SORT
    contracts = selectors.with_open_warnings(selectors.ledger(request.user, sort=sort, **arguments))
    return filters, arguments, sort, contracts


@require(can_view_contracts)
def ledger_view(request):
    filters, arguments, sort, contracts = _ledger_search(request)
    export_params = request.GET.copy()
    export_params.pop("page", None)
    return render(
        request,
        "contracts/contracts/ledger.html",
        {
            "page": paginate(request, contracts),
            "filters": filters,
            "filtered": any(value not in (None, "") for value in arguments.values()),
            "sort": sort,
            "can_export": can_export_contracts(request.user),
            "can_draft": can_draft_contracts(request.user),
            "export_query": export_params.urlencode(),
        },
    )


EXPORT_COLUMNS = (
    (gettext_lazy("Contract number"), lambda c: c.number),
    (gettext_lazy("Version"), lambda c: c.version),
    (gettext_lazy("Title"), lambda c: c.title),
    (gettext_lazy("Customer code"), lambda c: c.customer.code),
    (gettext_lazy("Customer"), lambda c: c.customer.name),
    (gettext_lazy("Kind"), lambda c: c.get_kind_display()),
    (gettext_lazy("State"), lambda c: c.get_state_display()),
    (gettext_lazy("Amount (tax incl.)"), lambda c: c.total),
    (gettext_lazy("Of which VAT"), lambda c: c.tax_total),
    (gettext_lazy("Valid from"), lambda c: c.start_date),
    (gettext_lazy("Valid until"), lambda c: c.end_date),
    (gettext_lazy("Signed on"), lambda c: c.signed_on),
    (gettext_lazy("Signed for us by"), lambda c: c.our_signatory),
    (gettext_lazy("Signed for the customer by"), lambda c: c.customer_signatory),
    (gettext_lazy("Payment terms (days)"), lambda c: c.payment_terms_days),
    (gettext_lazy("Owner"), lambda c: c.owner.display_name),
    (gettext_lazy("Open risk warnings"), lambda c: c.open_warnings),
)


@require(can_export_contracts)
def ledger_export_view(request):
    _filters, arguments, sort, contracts = _ledger_search(request)
    filters_used = {
        **{key: str(getattr(value, "pk", value)) for key, value in arguments.items() if value not in (None, "")},
        "sort": sort,
    }
    return xlsx_response(
        request,
        title=_("Contract ledger"),
        columns=EXPORT_COLUMNS,
        rows=contracts.iterator(chunk_size=1000),
        filename="contracts",
        audit_action="contracts.ledger_exported",
        filters=filters_used,
    )


# --- drafting ----------------------------------------------------------------------------------------


@require(can_draft_contracts)
def to_draft_view(request):
    return render(
        request,
        "contracts/contracts/to_draft.html",
        {
            "page": paginate(request, selectors.orders_without_contract(request.user)),
            "customer_form": DraftForCustomerForm(customers=_customers_to_draft_for(request.user)),
            "can_export": can_export_contracts(request.user),
        },
    )


TO_DRAFT_EXPORT_COLUMNS = (
    (gettext_lazy("Order"), lambda order: str(order)),
    (gettext_lazy("Customer code"), lambda order: order.customer.code),
    (gettext_lazy("Customer"), lambda order: order.customer.name),
    (gettext_lazy("Owner"), lambda order: order.owner.display_name),
    (gettext_lazy("Order date"), lambda order: order.ordered_on),
    (gettext_lazy("State"), lambda order: order.get_state_display()),
    (gettext_lazy("Total (tax incl.)"), lambda order: order.total),
)


def _may_export_to_draft(user) -> bool:
    # the page's own permission, then the right to take contract data out
    return can_draft_contracts(user) and can_export_contracts(user)


@require(_may_export_to_draft)
def to_draft_export_view(request):
    orders = selectors.orders_without_contract(request.user)
    return capped_xlsx_response(
        request,
        title=_("Contracts to draft"),
        columns=TO_DRAFT_EXPORT_COLUMNS,
        rows=orders,
        filename="contracts-to-draft",
        audit_action="contracts.to_draft_exported",
        filters={},
    )


@dataclass(frozen=True)
class _Source:
    """What a draft is made from: exactly one order, quotation or customer."""

    name: str  # the service's keyword: order / quotation / customer
    obj: Any
    customer: Customer

    @property
    def default_kind(self) -> str:
        return ContractKind.FRAMEWORK if self.name == "customer" else ContractKind.SINGLE_ORDER


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _draft_source(request) -> _Source | None:
    given = [(name, _int(request.GET.get(name))) for name in ("order", "quotation", "customer")]
    given = [(name, pk) for name, pk in given if pk is not None]
    if len(given) != 1:
        return None
    name, pk = given[0]
    if name == "order":
        obj = SalesOrder.objects.select_related("customer__region", "customer__owner__org_unit").filter(pk=pk).first()
        customer = obj.customer if obj is not None else None
    elif name == "quotation":
        obj = Quotation.objects.select_related("customer__region", "customer__owner__org_unit").filter(pk=pk).first()
        customer = obj.customer if obj is not None else None
    else:
        obj = Customer.objects.select_related("region", "owner__org_unit").filter(pk=pk).first()
        customer = obj
    if obj is None:
        raise Http404
    # the drafting service's scope rule, asked before the form is shown
    if not can_draft_for(request.user, customer):
        raise PermissionDenied
    return _Source(name, obj, customer)


@require(can_draft_contracts)
def draft_view(request):
    source = _draft_source(request)
    if source is None:
        messages.info(request, _("Choose an order or a customer to draft a contract for."))
        return redirect("contracts:to_draft")
    form = DraftForm(request.POST if request.method == "POST" else None, default_kind=source.default_kind)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_draft(by=request.user, **{source.name: source.obj}, **form.service_fields())
        except PermissionDeniedError as error:
            raise PermissionDenied from error
        except DomainError as error:
            form_show_error(form, error)
            if error.fields:
                messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The contract %(number)s was drafted: check its terms and clauses, then submit it for review.")
                % {"number": contract.number},
            )
            return redirect("contracts:detail", pk=contract.pk)
    return render(request, "contracts/contracts/draft_form.html", {"form": form, "source": source})


# --- the contract page -----------------------------------------------------------------------------


def _actions(user, contract: Contract, amendment_open: bool) -> list[Action]:
    """The buttons the contract's state (the workflow's table) and the user's rights allow."""
    actions: list[Action] = []
    if can_manage_contract(user, contract):
        available = {step.action: step for step in CONTRACT_FLOW.available(contract.state)}

        def url(name: str) -> str:
            return reverse(f"contracts:{name}", args=[contract.pk])

        if contract.state in EDITABLE:
            actions.append(Action("edit", _("Edit"), "ti-pencil", url=url("edit"), link=True))
        if "submit" in available:
            actions.append(Action("submit", available["submit"].label, "ti-send", "btn-primary", url("submit")))
        if "sign" in available:
            actions.append(
                Action("sign", available["sign"].label, "ti-signature", "btn-success", url("sign"), link=True)
            )
        if "supersede" in available and contract.is_current and not amendment_open:
            actions.append(
                Action(
                    "amend",
                    _("Amend (new version)"),
                    "ti-versions",
                    url=url("amend"),
                    form=ReasonForm(auto_id="id_amend_%s"),
                    explanation=gettext_lazy(
                        "A new draft version is made for your changes and goes through review again; this version"
                        " stays in force until the new one is signed."
                    ),
                )
            )
        if "fulfil" in available:
            actions.append(
                Action(
                    "fulfil",
                    available["fulfil"].label,
                    "ti-circle-check",
                    "btn-outline-success",
                    url("fulfil"),
                    confirm=True,
                    explanation=gettext_lazy(
                        "The contract is closed as fulfilled: every quantity delivered and every receivable paid."
                    ),
                    confirm_class="btn-success",
                )
            )
        if "terminate" in available:
            actions.append(
                Action(
                    "terminate",
                    _("Terminate the contract"),
                    "ti-player-stop",
                    "btn-outline-danger",
                    url("terminate"),
                    form=ReasonForm(auto_id="id_terminate_%s"),
                    explanation=gettext_lazy("A terminated contract ends now; it stays readable with its reason."),
                    confirm_class="btn-danger",
                )
            )
        if "cancel" in available:
            actions.append(
                Action(
                    "cancel",
                    _("Cancel the contract"),  # not "Cancel": the modal's dismiss button says that
                    "ti-ban",
                    "btn-outline-danger",
                    url("cancel"),
                    form=ReasonForm(auto_id="id_cancel_%s"),
                    explanation=gettext_lazy(
                        "A cancelled contract is never signed; it stays on record with its reason."
                    ),
                    confirm_class="btn-danger",
                )
            )
    actions.append(
        Action(
            "pdf",
            _("PDF"),
            "ti-file-type-pdf",
            "btn-outline-secondary",
            reverse("contracts:pdf", args=[contract.pk]),
            link=True,
        )
    )
    return actions


def _review_rounds(contract: Contract, comments: list[ReviewComment]) -> list[dict]:
    """Each review round (an approval request), newest first, with the comments legal made
    while it was open."""
    requests = sorted(approval_history(doc_type=DocType.CONTRACT, obj=contract), key=lambda r: (r.submitted_at, r.pk))
    rounds = [{"number": index, "request": request, "comments": []} for index, request in enumerate(requests, 1)]
    for comment in comments:
        opened = [item for item in rounds if item["request"].submitted_at <= comment.at]
        if opened:
            opened[-1]["comments"].append(comment)
    rounds.reverse()
    return rounds


def _clause_rows(contract: Contract, comments: list[ReviewComment], with_forms: bool) -> list[dict]:
    by_clause: dict[int, list] = defaultdict(list)
    for comment in comments:
        if comment.clause_id is not None:
            by_clause[comment.clause_id].append(comment)
    return [
        {
            "clause": clause,
            "text": text,
            "comments": by_clause.get(clause.pk, []),
            "comment_form": CommentForm(initial={"clause": clause.pk}, auto_id=f"id_comment_{clause.pk}_%s")
            if with_forms
            else None,
        }
        for clause, text in selectors.clauses_rendered(contract)
    ]


def _fulfilment_context(contract: Contract, can_manage: bool) -> dict:
    figures = selectors.contract_fulfilment(contract)
    linked = selectors.linked_order_numbers(contract)
    link_form = None
    if can_manage and contract.state in ("approved", "active"):
        link_form = LinkOrderForm(orders=selectors.orders_to_link(contract), auto_id="id_link_%s")
    return {"fulfilment": figures, "linked_numbers": linked, "link_form": link_form}


@require(can_view_contracts)
def detail_view(request, pk: int):
    contract = _contract_or_403(request, pk)
    user = request.user
    can_manage = can_manage_contract(user, contract)
    comments = list(contract.review_comments.select_related("by"))
    step = services.review_step_for(user, contract)
    versions = list(selectors.versions_of(contract))
    amendments_open = [v for v in versions if v.previous_id == contract.pk and v.state in EDITABLE]
    warnings = [
        {"warning": warning, "label": risk.warning_rule_label(warning), "message": risk.warning_message(warning)}
        for warning in contract.warnings.filter(state__in=LIVE_WARNINGS).select_related("owner")
    ]
    context = {
        "contract": contract,
        "lines": [
            {"line": line, "discount": percent_of(line.discount)} for line in contract.lines.select_related("product")
        ],
        "net_total": contract.total - contract.tax_total,
        "clauses": _clause_rows(contract, comments, with_forms=step is not None),
        "general_comments": [comment for comment in comments if comment.clause_id is None],
        "milestones": contract.milestones.all(),
        "rounds": _review_rounds(contract, comments),
        "versions": versions,
        "amendment_open": amendments_open[0] if amendments_open else None,
        # an amendment under way: the version it amends is still the one in force
        "amends": contract.previous if contract.previous_id and not contract.is_current else None,
        "disputes": contract.disputes.select_related("owner").order_by("-created_at", "-id"),
        "can_open_dispute": can_open_dispute(user, contract),
        "warnings": warnings,
        "actions": _actions(user, contract, bool(amendments_open)),
        "review_step": step,
        "review_url": reverse("contracts:review", args=[contract.pk]),
        "general_comment_form": CommentForm(auto_id="id_comment_general_%s") if step else None,
        "approve_form": ApproveForm(auto_id="id_approve_%s") if step else None,
        "return_form": ReturnForm(auto_id="id_return_%s") if step else None,
        "round_comment_count": sum(1 for comment in comments if comment.round == contract.review_round),
        "can_manage": can_manage,
        **_fulfilment_context(contract, can_manage),
    }
    return render(request, "contracts/contracts/detail.html", context)


# --- editing ----------------------------------------------------------------------------------------


def _show_edit_errors(error: DomainError, form, line_forms, milestone_forms, clauses_form) -> None:
    """A service's refusal on the edit page: ``lines.<n>.<field>`` and ``milestones.<n>.<field>``
    under the n-th filled row, ``clauses.<id>`` under the clause, every other field's under
    the terms, the rest on top."""
    for key, texts in error.fields.items():
        parts = key.split(".")
        target, field = form, key
        if len(parts) == 3 and parts[1].isdigit() and parts[0] in (LINES, MILESTONES):
            rows = line_forms if parts[0] == LINES else milestone_forms
            if int(parts[1]) < len(rows):
                target = rows[int(parts[1])]
                field = getattr(target, "SERVICE_FIELDS", {}).get(parts[2], parts[2])
        elif len(parts) == 2 and parts[0] == "clauses":
            target, field = clauses_form, ClausesForm.field_name(parts[1])
        for text in texts:
            target.add_error(field if field in target.fields else None, str(text))
    if not error.fields:
        form.add_error(None, error.message)


@require(can_view_contracts)
def edit_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    if contract.state not in EDITABLE:
        messages.error(request, _("A signed contract is amended (a new version), not edited."))
        return _to_detail(contract)
    data = request.POST if request.method == "POST" else None
    adding = data is not None and ("add_line" in data or "add_milestone" in data)
    if adding:
        data = _with_added_row(data, LINES if "add_line" in data else MILESTONES)
    clauses = list(contract.clauses.all())
    form = ContractForm(data, contract=contract)
    lines = ContractLineFormSet(
        data, prefix=LINES, initial=[ContractLineForm.initial_of(line) for line in contract.lines.all()]
    )
    milestones = MilestoneFormSet(
        data, prefix=MILESTONES, initial=[MilestoneForm.initial_of(m) for m in contract.milestones.all()]
    )
    clauses_form = ClausesForm(data, clauses=clauses)
    conflict = ""
    failed = False
    if data is not None and not adding:
        valid = [part.is_valid() for part in (form, lines, milestones, clauses_form)]
        failed = not all(valid)
        if all(valid):
            line_forms, milestone_forms = filled_forms(lines), filled_forms(milestones)
            try:
                saved = services.contract_update(
                    by=request.user,
                    contract=contract,
                    expected_version=form.cleaned_data.get("lock_version"),
                    lines=[line.line_input() for line in line_forms],
                    clauses=clauses_form.bodies(),
                    milestones=[milestone.milestone_input() for milestone in milestone_forms],
                    **form.service_fields(),
                )
            except ConflictError as error:
                current = (error.fields.get("lock_version") or [""])[0]
                if str(current).isdigit():
                    form.stale(int(current))
                conflict = error.message
            except DomainError as error:
                _show_edit_errors(error, form, line_forms, milestone_forms, clauses_form)
                failed = True
            else:
                if saved.state == "draft" and contract.state in ("in_review", "approved"):
                    messages.warning(
                        request, _("The contract was saved; its review is void: submit it for review again.")
                    )
                else:
                    messages.success(request, _("The contract %(contract)s was saved.") % {"contract": str(saved)})
                return _to_detail(saved)
    open_comments: dict[int, list] = defaultdict(list)
    general_comments = []
    for comment in contract.review_comments.filter(
        round=contract.review_round, resolved_at__isnull=True
    ).select_related("by"):
        (open_comments[comment.clause_id] if comment.clause_id else general_comments).append(comment)
    clause_rows = [
        {
            "clause": clause,
            "field": clauses_form[ClausesForm.field_name(clause.pk)] if clause.editable else None,
            "comments": open_comments.get(clause.pk, []),
        }
        for clause in clauses
    ]
    return render(
        request,
        "contracts/contracts/edit_form.html",
        {
            "contract": contract,
            "form": form,
            "formset": lines,
            "milestones": milestones,
            "clauses_form": clauses_form,
            "clause_rows": clause_rows,
            "general_comments": general_comments,
            "conflict": conflict,
            "failed": failed,
            "empty_line": lines.empty_form,
            "empty_milestone": milestones.empty_form,
            "under_review": contract.state in ("in_review", "approved"),
        },
    )


# --- review --------------------------------------------------------------------------------------------


@require_POST
@require(can_view_contracts)
def submit_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)

    def success(submitted):
        if submitted.state == "in_review":
            return _("%(contract)s was submitted for legal review.") % {"contract": str(submitted)}
        return _("%(contract)s needs no review and is approved.") % {"contract": str(submitted)}

    perform(request, lambda: services.contract_submit(by=request.user, contract=contract), success)
    return _to_detail(contract)


@require_POST
@require(can_view_contracts)
def comment_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_review_contract)
    form = CommentForm(request.POST)
    clause_id = form.cleaned_data.get("clause") if form.is_valid() else None
    clause = None if clause_id is None else contract.clauses.filter(pk=clause_id).first()
    if not form.is_valid() or (clause_id is not None and clause is None):
        # never turn a comment meant for a clause into one on the whole contract
        messages.error(request, _("This clause is not part of the contract."))
        return _to_detail(contract)
    perform(
        request,
        lambda: services.contract_comment(
            by=request.user, contract=contract, text=form.cleaned_data.get("text") or "", clause=clause
        ),
        _("Your comment was recorded; it goes to the contract admin when you return the contract."),
    )
    return _to_detail(contract, f"clause-{clause.pk}" if clause is not None else "review")


@require_POST
@require(can_view_contracts)
def review_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_review_contract)
    approve = request.POST.get("approve") == "1"
    form = (ApproveForm if approve else ReturnForm)(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""

    def success(decided):
        if not approve:
            return _("%(contract)s was returned to the contract admin with your comments.") % {"contract": str(decided)}
        if decided.state == "approved":
            return _("%(contract)s is approved and can be signed.") % {"contract": str(decided)}
        return _("Your step of %(contract)s is approved; the next reviewer decides now.") % {"contract": str(decided)}

    perform(
        request,
        lambda: services.contract_review(by=request.user, contract=contract, approve=approve, comment=comment),
        success,
    )
    return _to_detail(contract)


# --- signing, amendments, the end of a contract -------------------------------------------------------


@require(can_view_contracts)
def sign_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    if contract.state != "approved":
        messages.error(request, _("Only an approved contract is signed."))
        return _to_detail(contract)
    status = 200
    error_message = ""
    if request.method == "POST":
        form = SignForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.contract_sign(
                    by=request.user,
                    contract=contract,
                    signed_on=data.get("signed_on"),
                    our_signatory=data.get("our_signatory") or "",
                    customer_signatory=data.get("customer_signatory") or "",
                    scan=data.get("scan"),
                )
            except DomainError as error:
                form_show_error(form, error)
                error_message, status = error.message, error.status
            else:
                messages.success(
                    request, _("The signing was recorded: %(contract)s is in force.") % {"contract": contract}
                )
                return _to_detail(contract)
        else:
            status = 400
    else:
        form = SignForm()
    return render(
        request,
        "contracts/contracts/sign_form.html",
        {"contract": contract, "form": form, "error_message": error_message},
        status=status,
    )


@require_POST
@require(can_view_contracts)
def amend_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    reason = _reason(request)
    amendment = perform(
        request,
        lambda: services.contract_amend(by=request.user, contract=contract, reason=reason),
        lambda made: (
            _("Version %(version)s of %(number)s is a draft: make your changes and submit it for review.")
            % {"version": made.version, "number": made.number}
        ),
    )
    if amendment is None:
        return _to_detail(contract)
    return redirect("contracts:edit", pk=amendment.pk)


@require_POST
@require(can_view_contracts)
def cancel_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    reason = _reason(request)
    perform(
        request,
        lambda: services.contract_cancel(by=request.user, contract=contract, reason=reason),
        _("The contract was cancelled."),
    )
    return _to_detail(contract)


@require_POST
@require(can_view_contracts)
def terminate_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    reason = _reason(request)
    perform(
        request,
        lambda: services.contract_terminate(by=request.user, contract=contract, reason=reason),
        _("The contract was terminated."),
    )
    return _to_detail(contract)


@require_POST
@require(can_view_contracts)
def fulfil_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    perform(
        request,
        lambda: services.contract_fulfil(by=request.user, contract=contract),
        _("The contract is marked fulfilled."),
    )
    return _to_detail(contract)


# --- orders under the contract -----------------------------------------------------------------------


@require_POST
@require(can_view_contracts)
def link_order_view(request, pk: int):
    contract = _contract_or_403(request, pk, can_manage_contract)
    form = LinkOrderForm(request.POST, orders=selectors.orders_to_link(contract))
    if not form.is_valid():
        messages.error(request, _("Choose an order from the list."))
        return _to_detail(contract, "fulfilment")
    order = form.cleaned_data["order"]
    perform(
        request,
        lambda: services.contract_link_order(by=request.user, contract=contract, order=order),
        _("The order %(number)s is now under the contract.") % {"number": order.number},
    )
    return _to_detail(contract, "fulfilment")


@require_POST
@require(can_view_contracts)
def unlink_order_view(request, pk: int, number: str):
    contract = _contract_or_403(request, pk, can_manage_contract)
    perform(
        request,
        lambda: services.contract_unlink_order(by=request.user, contract=contract, order_number=number),
        _("The order %(number)s is no longer under the contract.") % {"number": number},
    )
    return _to_detail(contract, "fulfilment")


# --- versions, the PDF and the scan -----------------------------------------------------------------


@require_GET
@require(can_view_contracts)
def diff_view(request, pk: int):
    contract = _contract_or_403(request, pk)
    previous = contract.previous
    if previous is None:
        raise Http404
    if not can_view_contract(request.user, previous):
        raise PermissionDenied
    return render(
        request,
        "contracts/contracts/diff.html",
        {"contract": contract, "previous": previous, "diff": selectors.contract_diff(previous, contract)},
    )


@require_GET
@require(can_view_contracts)
def pdf_view(request, pk: int):
    contract = _contract_or_403(request, pk)
    language = request.GET.get("lang")
    content = pdf.contract_pdf(contract, language=language if language in PDF_LANGUAGES else None)
    response = HttpResponse(content, content_type="application/pdf")
    suffix = f"-v{contract.version}" if contract.version > 1 else ""
    response["Content-Disposition"] = f'inline; filename="{contract.number}{suffix}.pdf"'
    return response


@require_GET
@require(can_view_contracts)
def scan_view(request, pk: int):
    """The signed scan, always as a download (never shown inline, whatever its type), under
    the name it was uploaded with."""
    contract = _contract_or_403(request, pk)
    attachment = contract.scan
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
