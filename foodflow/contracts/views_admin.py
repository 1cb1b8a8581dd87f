"""Pages beside the contracts themselves: legal's review queue, the templates, disputes, the
risk board and the risk policy; the dispute list and the board export to Excel.

Views parse input and call one service (``services`` for templates and disputes, ``risk``
for warnings and the policy); every rule lives there, every list comes from ``selectors``. An
object out of the user's scope is a 403 (404 if it does not exist); a service's refusal is
shown as its message, on the field it names where the page has a form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.views import paginate, perform, require, safe_next

from . import risk, selectors, services
from .clauses import PLACEHOLDER, PLACEHOLDERS
from .forms_admin import (
    AcknowledgeForm,
    ClauseForm,
    ClauseFormSet,
    DisputeActionForm,
    DisputeFilterForm,
    DisputeForm,
    DisputeReopenForm,
    DisputeResolveForm,
    NewClauseFormSet,
    RiskFilterForm,
    RiskPolicyForm,
    TemplateForm,
    filled_clause_forms,
    show_template_errors,
)
from .models import Contract, ContractKind, ContractTemplate, Dispute, RiskWarning
from .permissions import (
    can_acknowledge_warning,
    can_export_contracts,
    can_manage_dispute,
    can_manage_disputes,
    can_manage_templates,
    can_review_contracts,
    can_set_risk_policy,
    can_view_contract,
    can_view_contracts,
)
from .workflows import DISPUTE_FLOW

CLAUSES = "clauses"  # the prefix of the clause formset
RECENT_DECISIONS = 20


# --- helpers --------------------------------------------------------------------------------------


def _posted(request):
    return request.POST if request.method == "POST" else None


# --- legal review queue ---------------------------------------------------------------------------


@require(can_review_contracts)
def review_queue_view(request):
    return render(
        request,
        "contracts/admin/review_queue.html",
        {
            "rows": selectors.review_queue_rows(request.user),
            "decided": selectors.reviews_decided_by(request.user, limit=RECENT_DECISIONS),
        },
    )


# --- templates ------------------------------------------------------------------------------------


def _placeholders_in(*texts: str) -> list[tuple[str, Any]]:
    """The placeholders the texts name, in order of first use, with what each stands for."""
    names: list[str] = []
    for text in texts:
        for found in PLACEHOLDER.findall(text or ""):
            name = found.strip()
            if name not in names:
                names.append(name)
    return [(name, PLACEHOLDERS[name][0] if name in PLACEHOLDERS else "?") for name in names]


def _all_placeholders() -> list[tuple[str, Any]]:
    return [(name, description) for name, (description, _value) in PLACEHOLDERS.items()]


@require(can_view_contracts)
def templates_view(request):
    templates = list(selectors.templates_current())
    groups = [(kind, label, [t for t in templates if t.kind == kind]) for kind, label in ContractKind.choices]
    return render(
        request,
        "contracts/admin/template_list.html",
        {"groups": groups, "any": bool(templates), "can_manage": can_manage_templates(request.user)},
    )


@require(can_view_contracts)
def template_detail_view(request, pk: int):
    template = get_object_or_404(ContractTemplate.objects.select_related("created_by"), pk=pk)
    versions = list(selectors.template_versions(template))
    clauses = [
        {"clause": clause, "placeholders": _placeholders_in(clause.body, clause.body_en)}
        for clause in template.clauses.all()
    ]
    return render(
        request,
        "contracts/admin/template_detail.html",
        {
            "template": template,
            "clauses": clauses,
            "versions": versions,
            "current": next((version for version in versions if version.is_current), None),
            "placeholders": _all_placeholders(),
            "can_manage": can_manage_templates(request.user),
        },
    )


def _with_added_clause(request) -> Any:
    """The posted data with one more clause (the "add clause" button without JavaScript)."""
    data = request.POST.copy()
    key = f"{CLAUSES}-TOTAL_FORMS"
    try:
        data[key] = str(int(data.get(key, "0")) + 1)
    except ValueError:
        data[key] = "1"
    return data


def _template_page(request, *, current: ContractTemplate | None):
    """The page that creates a template (``current`` None) or revises the current version:
    header and clause formset. A refusal of the service shows under the field it names."""
    revising = current is not None
    data = _posted(request)
    adding = data is not None and "add_clause" in data
    if adding:
        data = _with_added_clause(request)
    if revising:
        form = TemplateForm(data, revising=True, initial={"name": current.name, "name_en": current.name_en})
        initial = [ClauseForm.initial_of(clause) for clause in current.clauses.all()]
        formset = ClauseFormSet(data, prefix=CLAUSES, initial=initial)
    else:
        form = TemplateForm(data, initial={"kind": request.GET.get("kind")})
        formset = NewClauseFormSet(data, prefix=CLAUSES)
    if data is not None and not adding and form.is_valid() and formset.is_valid():
        clause_forms = filled_clause_forms(formset)
        values = form.cleaned_data
        clauses = [clause.clause_input() for clause in clause_forms]
        try:
            if revising:
                saved = services.template_revise(
                    by=request.user,
                    template=current,
                    name=values["name"],
                    name_en=values.get("name_en") or "",
                    clauses=clauses,
                    change_note=values.get("change_note") or "",
                )
            else:
                saved = services.template_create(
                    by=request.user,
                    code=values["code"],
                    kind=values["kind"],
                    name=values["name"],
                    name_en=values.get("name_en") or "",
                    clauses=clauses,
                )
        except DomainError as error:
            show_template_errors(form, clause_forms, error)
        else:
            if revising:
                message = _("Version %(version)s of the template %(name)s was saved.")
            else:
                message = _("The template %(name)s was created.")
            messages.success(request, message % {"version": saved.version, "name": saved.name})
            return redirect("contracts:template_detail", pk=saved.pk)
    back = reverse("contracts:template_detail", args=[current.pk]) if revising else reverse("contracts:templates")
    return render(
        request,
        "contracts/admin/template_form.html",
        {
            "form": form,
            "formset": formset,
            "empty_clause": formset.empty_form,
            "template": current,
            "placeholders": _all_placeholders(),
            "back_url": back,
        },
    )


@require(can_manage_templates)
def template_new_view(request):
    return _template_page(request, current=None)


@require(can_manage_templates)
def template_edit_view(request, pk: int):
    template = get_object_or_404(ContractTemplate, pk=pk)
    if not template.is_current:
        # a revision always starts from the version in force, never from an old one
        messages.info(request, _("An older version is not edited: this is the current version of the template."))
        current = ContractTemplate.objects.get(code=template.code, is_current=True)
        return redirect("contracts:template_edit", pk=current.pk)
    return _template_page(request, current=template)


@require_POST
@require(can_manage_templates)
def template_active_view(request, pk: int):
    template = get_object_or_404(ContractTemplate, pk=pk)
    if not template.is_current:
        messages.error(request, _("Only the current version of a template is offered or withdrawn."))
        return redirect("contracts:template_detail", pk=template.pk)
    active = request.POST.get("active") == "1"
    perform(
        request,
        lambda: services.template_set_active(by=request.user, template=template, active=active),
        _("The template is offered for new contracts.") if active else _("The template is withdrawn."),
    )
    return redirect("contracts:template_detail", pk=template.pk)


# --- disputes -------------------------------------------------------------------------------------


def _dispute_or_403(request, pk: int, predicate) -> Dispute:
    dispute = get_object_or_404(
        Dispute.objects.select_related(
            "contract__customer__region", "contract__owner__org_unit", "owner", "created_by"
        ),
        pk=pk,
    )
    if not predicate(request.user, dispute):
        raise PermissionDenied
    return dispute


def _can_view_dispute(user, dispute: Dispute) -> bool:
    return can_view_contract(user, dispute.contract)


def _dispute_search(request):
    """The dispute list's filters, read the same way by the page and by its export."""
    filters = DisputeFilterForm(request.GET)
    values = filters.values()
    disputes = selectors.disputes_list(request.user, q=values["q"], state=values["state"], category=values["category"])
    return filters, values, disputes


@require(can_view_contracts)
def disputes_view(request):
    filters, values, disputes = _dispute_search(request)
    return render(
        request,
        "contracts/admin/dispute_list.html",
        {
            "page": paginate(request, disputes),
            "filters": filters,
            "filtered": any(values.values()),
            "can_export": can_export_contracts(request.user),
            "export_query": export_query(request),
        },
    )


DISPUTE_EXPORT_COLUMNS = (
    (gettext_lazy("Number"), lambda d: d.number),
    (gettext_lazy("Contract"), lambda d: str(d.contract)),
    (gettext_lazy("Customer code"), lambda d: d.contract.customer.code),
    (gettext_lazy("Customer"), lambda d: d.contract.customer.name),
    (gettext_lazy("Category"), lambda d: d.get_category_display()),
    (gettext_lazy("Amount in dispute"), lambda d: d.amount),
    (gettext_lazy("Related complaint"), lambda d: d.complaint_reference),
    (gettext_lazy("What happened"), lambda d: d.description),
    (gettext_lazy("Handled by"), lambda d: d.owner.display_name),
    (gettext_lazy("Opened"), lambda d: timezone.localtime(d.created_at).date()),
    (gettext_lazy("State"), lambda d: d.get_state_display()),
    (gettext_lazy("Resolution"), lambda d: d.resolution),
    (gettext_lazy("Settled amount"), lambda d: d.settled_amount),
    (gettext_lazy("Resolved on"), lambda d: d.resolved_on),
)


@require(can_export_contracts)
def disputes_export_view(request):
    _filters, values, disputes = _dispute_search(request)
    return capped_xlsx_response(
        request,
        title=_("Disputes"),
        columns=DISPUTE_EXPORT_COLUMNS,
        rows=disputes,
        filename="disputes",
        audit_action="contracts.disputes_exported",
        filters={key: value for key, value in values.items() if value},
    )


@require(can_manage_disputes)
def dispute_new_view(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("customer__region", "owner__org_unit"), pk=pk)
    # the question the service asks: may the user handle a dispute about this contract?
    if not can_manage_dispute(request.user, Dispute(contract=contract)):
        raise PermissionDenied
    form = DisputeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            dispute = services.dispute_open(
                by=request.user,
                contract=contract,
                category=values["category"],
                description=values["description"],
                amount=values.get("amount"),
                complaint_reference=values.get("complaint_reference") or "",
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The dispute %(number)s was opened.") % {"number": dispute.number})
            return redirect("contracts:dispute_detail", pk=dispute.pk)
    return render(request, "contracts/admin/dispute_form.html", {"form": form, "contract": contract})


@require(can_view_contracts)
def dispute_detail_view(request, pk: int):
    dispute = _dispute_or_403(request, pk, _can_view_dispute)
    can_manage = can_manage_dispute(request.user, dispute)
    available = {step.action for step in DISPUTE_FLOW.available(dispute.state)} if can_manage else set()
    return render(
        request,
        "contracts/admin/dispute_detail.html",
        {
            "dispute": dispute,
            "contract": dispute.contract,
            "timeline": selectors.dispute_timeline(dispute),
            "can_manage": can_manage,
            "action_form": DisputeActionForm(auto_id="id_action_%s")
            if can_manage and dispute.state != "closed"
            else None,
            "resolve_form": DisputeResolveForm(auto_id="id_resolve_%s") if "resolve" in available else None,
            "reopen_form": DisputeReopenForm(auto_id="id_reopen_%s") if "reopen" in available else None,
            "can_close": "close" in available,
        },
    )


@require_POST
@require(can_manage_disputes)
def dispute_action_view(request, pk: int):
    dispute = _dispute_or_403(request, pk, can_manage_dispute)
    form = DisputeActionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.dispute_add_action(by=request.user, dispute=dispute, note=note),
        _("The action was recorded."),
    )
    return redirect("contracts:dispute_detail", pk=dispute.pk)


@require_POST
@require(can_manage_disputes)
def dispute_resolve_view(request, pk: int):
    dispute = _dispute_or_403(request, pk, can_manage_dispute)
    form = DisputeResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the settled amount as a number, or leave it empty."))
        return redirect("contracts:dispute_detail", pk=dispute.pk)
    perform(
        request,
        lambda: services.dispute_resolve(
            by=request.user,
            dispute=dispute,
            resolution=form.cleaned_data["resolution"],
            settled_amount=form.cleaned_data["settled_amount"],
        ),
        _("The resolution was recorded."),
    )
    return redirect("contracts:dispute_detail", pk=dispute.pk)


@require_POST
@require(can_manage_disputes)
def dispute_reopen_view(request, pk: int):
    dispute = _dispute_or_403(request, pk, can_manage_dispute)
    form = DisputeReopenForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    perform(
        request,
        lambda: services.dispute_reopen(by=request.user, dispute=dispute, reason=reason),
        _("The dispute is open again."),
    )
    return redirect("contracts:dispute_detail", pk=dispute.pk)


@require_POST
@require(can_manage_disputes)
def dispute_close_view(request, pk: int):
    dispute = _dispute_or_403(request, pk, can_manage_dispute)
    perform(
        request,
        lambda: services.dispute_close(by=request.user, dispute=dispute),
        _("The dispute is closed."),
    )
    return redirect("contracts:dispute_detail", pk=dispute.pk)


# --- risks ----------------------------------------------------------------------------------------


def _risk_row(request, warning: RiskWarning) -> dict:
    row = {
        "warning": warning,
        "rule": risk.warning_rule_label(warning),
        "message": risk.warning_message(warning),  # in the reader's language, from the details
        "form": None,
        "modal_id": f"modal-ack-{warning.pk}",
    }
    if warning.state == RiskWarning.State.OPEN and can_acknowledge_warning(request.user, warning):
        row["form"] = AcknowledgeForm(auto_id=f"id_ack_{warning.pk}_%s", initial={"next": request.get_full_path()})
    return row


def _risk_search(request):
    """The risk board's filters, read the same way by the page and by its export."""
    filters = RiskFilterForm(request.GET)
    values = filters.values()
    warnings = (
        selectors.risk_board(request.user, **values)
        # what the acknowledgement predicate reads for each row
        .select_related("contract__owner__org_unit", "contract__customer__region")
    )
    return filters, values, warnings


@require(can_view_contracts)
def risks_view(request):
    filters, values, warnings = _risk_search(request)
    page = paginate(request, warnings)
    return render(
        request,
        "contracts/admin/risk_board.html",
        {
            "page": page,
            "rows": [_risk_row(request, warning) for warning in page],
            "filters": filters,
            "filtered": values != {"state": "live", "rule": "", "severity": None, "mine": False},
            "can_set_policy": can_set_risk_policy(request.user),
            "can_export": can_export_contracts(request.user),
            "export_query": export_query(request),
        },
    )


def _local(moment):
    """A moment as the wall-clock time of the company (a spreadsheet cell has no time zone)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


RISK_EXPORT_COLUMNS = (
    (gettext_lazy("Severity"), lambda w: w.get_severity_display()),
    (gettext_lazy("Rule"), lambda w: risk.warning_rule_label(w)),
    # in the reader's language, from the details (as on the board)
    (gettext_lazy("Finding"), lambda w: risk.warning_message(w)),
    (gettext_lazy("Contract"), lambda w: str(w.contract)),
    (gettext_lazy("Customer code"), lambda w: w.customer.code),
    (gettext_lazy("Customer"), lambda w: w.customer.name),
    (gettext_lazy("Owner"), lambda w: w.owner.display_name),
    (gettext_lazy("Raised"), lambda w: _local(w.raised_at)),
    (gettext_lazy("Last seen"), lambda w: _local(w.last_seen_at)),
    (gettext_lazy("State"), lambda w: w.get_state_display()),
    (gettext_lazy("Acknowledged by"), lambda w: w.acknowledged_by.display_name if w.acknowledged_by else ""),
    (gettext_lazy("Acknowledged at"), lambda w: _local(w.acknowledged_at)),
    (gettext_lazy("Note"), lambda w: w.note),
)


@require(can_export_contracts)
def risks_export_view(request):
    _filters, values, warnings = _risk_search(request)
    return capped_xlsx_response(
        request,
        title=_("Risk board"),
        columns=RISK_EXPORT_COLUMNS,
        rows=warnings,
        filename="contract-risks",
        audit_action="contracts.risks_exported",
        filters={key: str(value) for key, value in values.items() if value not in (None, "", False)},
    )


@require_POST
@require(can_view_contracts)
def risk_acknowledge_view(request, pk: int):
    warning = get_object_or_404(
        RiskWarning.objects.select_related("contract__owner__org_unit", "contract__customer__region"), pk=pk
    )
    if not can_acknowledge_warning(request.user, warning):
        raise PermissionDenied
    form = AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(
        request,
        lambda: risk.warning_acknowledge(by=request.user, warning=warning, note=note),
        _("The warning is acknowledged; it stays on the board until the finding is gone."),
    )
    return redirect(safe_next(request, reverse("contracts:risks")))


@require_POST
@require(can_set_risk_policy)
def risk_evaluate_view(request):
    outcome = risk.risk_evaluate()
    messages.success(
        request,
        _("The rules ran: %(raised)s warnings raised, %(kept)s still open, %(resolved)s resolved.")
        % {"raised": outcome.raised, "kept": outcome.kept, "resolved": outcome.resolved},
    )
    return redirect(safe_next(request, reverse("contracts:risks")))


@require(can_set_risk_policy)
def risk_policy_view(request):
    policy = risk.risk_policy()
    form = RiskPolicyForm(_posted(request), policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            risk.risk_policy_update(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The risk policy was saved; the next evaluation applies it."))
            return redirect("contracts:risk_policy")
    return render(request, "contracts/admin/risk_policy.html", {"form": form, "policy": policy})
