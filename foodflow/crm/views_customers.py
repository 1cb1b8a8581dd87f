"""Pages of customer development: the customer list, the customer 360, leads and their stages,
overdue revisits and development plans, each list with its Excel export (the same search as
the page, every page of it, audited). Views parse input and call one
service or selector of ``crm``; every rule (credit code, duplicates, stages, who may set credit
or a tier) lives in ``crm.services``, every scope in ``crm.selectors`` and ``crm.permissions``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from foodflow.core.errors import DomainError
from foodflow.core.exports import EXPORT_ROW_LIMIT, capped_xlsx_response, export_query, xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.panels import panels_for
from foodflow.core.views import paginate, require

from . import selectors, services
from .forms_customers import (
    ActivityForm,
    ContactForm,
    ConvertForm,
    CreditForm,
    CustomerFilterForm,
    CustomerForm,
    LeadFilterForm,
    LeadForm,
    LoseForm,
    PlanForm,
    TierOverrideForm,
)
from .models import Contact, Customer, Lead
from .permissions import (
    can_create_customers,
    can_export_customers,
    can_manage_customer,
    can_manage_lead,
    can_manage_plans,
    can_see_phone,
    can_set_credit,
    can_view_customer,
    can_view_customers,
    can_view_lead,
    mask_phone,
)
from .workflows import LEAD_FLOW

LEAD_SORTS = {"company", "-company", "created_at", "-created_at", "stage", "-stage"}


# --- helpers ------------------------------------------------------------------------------------


def _form_page(
    request,
    *,
    title,
    subject: str,
    form,
    action_url: str,
    back_url: str,
    button,
    testid: str,
    button_class: str = "btn-primary",
    warning: str = "",
):
    """A form sent from a card or a modal and refused (a field missing, a rule broken): the same
    form again with its errors, on a page of its own (a modal cannot be reopened without script)."""
    return render(
        request,
        "crm/customers/form_page.html",
        {
            "title": title,
            "subject": subject,
            "form": form,
            "action_url": action_url,
            "back_url": back_url,
            "button": button,
            "button_class": button_class,
            "testid": testid,
            "warning": warning,
        },
    )


def _customer_or_403(request, pk: int, predicate=can_view_customer) -> Customer:
    # The owner's org unit is what the scope predicates compare: loaded with the customer.
    customer = get_object_or_404(Customer.objects.select_related("owner__org_unit", "region"), pk=pk)
    if not predicate(request.user, customer):
        raise PermissionDenied
    return customer


def _lead_or_403(request, pk: int, predicate=can_view_lead) -> Lead:
    lead = get_object_or_404(Lead.objects.select_related("owner__org_unit", "region", "customer"), pk=pk)
    if not predicate(request.user, lead):
        raise PermissionDenied
    return lead


def _shown_phone(phone: str, *, visible: bool) -> str:
    return phone if visible or not phone else mask_phone(phone)


def _filters_used(values: dict, *, sort: str) -> dict:
    """The filters set, as the audit entry of an export records them (objects by id)."""
    used = {key: str(getattr(value, "pk", value)) for key, value in values.items() if value not in (None, "")}
    return {**used, "sort": sort}


def _customer_search(request):
    """The list's filters and sort, read the same way by the page and by its export."""
    filters = CustomerFilterForm(request.GET, user=request.user)
    arguments = filters.search_arguments()
    sort = request.GET.get("sort", "name")
    sort = sort if sort in selectors.CUSTOMER_SORTS else "name"
    customers = selectors.customers_search(request.user, sort=sort, **arguments)
    return filters, arguments, sort, customers


# --- customers ----------------------------------------------------------------------------------


@require(can_view_customers)
def customer_list_view(request):
    filters, arguments, sort, customers = _customer_search(request)
    export_params = request.GET.copy()
    export_params.pop("page", None)
    return render(
        request,
        "crm/customers/customer_list.html",
        {
            "page": paginate(request, customers),
            "filters": filters,
            "filtered": any(arguments.values()),
            "sort": sort,
            "can_create": can_create_customers(request.user),
            "can_export": can_export_customers(request.user),
            "export_query": export_params.urlencode(),
        },
    )


EXPORT_COLUMNS = (
    (gettext_lazy("Customer code"), lambda customer: customer.code),
    (gettext_lazy("Name"), lambda customer: customer.name),
    (gettext_lazy("Unified social credit code"), lambda customer: customer.credit_code or ""),
    (gettext_lazy("Channel"), lambda customer: customer.get_channel_display()),
    (gettext_lazy("Region"), lambda customer: customer.region.name),
    (gettext_lazy("Owner"), lambda customer: customer.owner.display_name),
    (gettext_lazy("Tier"), lambda customer: customer.get_tier_display()),
    (gettext_lazy("Status"), lambda customer: customer.get_status_display()),
    (gettext_lazy("Credit limit"), lambda customer: customer.credit_limit),
    (gettext_lazy("Payment terms (days)"), lambda customer: customer.payment_terms_days),
    (gettext_lazy("Tags"), lambda customer: "、".join(customer.tags or [])),
    (gettext_lazy("First order on"), lambda customer: customer.first_order_at),
    (gettext_lazy("Created on"), lambda customer: timezone.localtime(customer.created_at).date()),
)


@require(can_export_customers)
def customer_export_view(request):
    _filters, arguments, sort, customers = _customer_search(request)
    return xlsx_response(
        request,
        title=_("Customers"),
        columns=EXPORT_COLUMNS,
        rows=customers.iterator(chunk_size=1000),
        filename="customers",
        audit_action="crm.customers_exported",
        filters={**{key: value for key, value in arguments.items() if value}, "sort": sort},
    )


@require(can_create_customers)
def customer_create_view(request):
    form = CustomerForm(
        request.POST or None,
        initial={"owner": request.user.pk},
        offer_duplicate_confirm="confirm_duplicate" in request.POST,
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                by=request.user, confirm_duplicate=form.duplicate_confirmed, **form.service_fields()
            )
        except services.DuplicateWarning as warning:
            form_show_error(form, warning)
            form.offer_duplicate_confirm()
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The customer %(name)s was created.") % {"name": customer.name})
            return redirect("crm:customer_detail", pk=customer.pk)
    return render(request, "crm/customers/customer_form.html", {"form": form, "customer": None})


@require(can_view_customers)
def customer_edit_view(request, pk: int):
    customer = _customer_or_403(request, pk, can_manage_customer)
    form = CustomerForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.customer_update(by=request.user, customer=customer, **form.service_fields())
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The customer %(name)s was saved.") % {"name": saved.name})
            return redirect("crm:customer_detail", pk=saved.pk)
    return render(request, "crm/customers/customer_form.html", {"form": form, "customer": customer})


def _may_override_tier(user, customer: Customer) -> bool:
    # what services.customer_override_tier requires
    return can_manage_customer(user, customer) and can_manage_plans(user)


@require(can_view_customers)
def customer_detail_view(request, pk: int):
    customer = _customer_or_403(request, pk)
    user = request.user
    can_manage = can_manage_customer(user, customer)
    phone_visible = can_see_phone(user, customer)
    contacts = [
        # a WeChat id is often the phone number: it is masked by the same rule
        {
            "contact": contact,
            "phone": _shown_phone(contact.phone, visible=phone_visible),
            "wechat": _shown_phone(contact.wechat, visible=phone_visible),
        }
        for contact in customer.contacts.all()
    ]
    may_override_tier = _may_override_tier(user, customer)
    return render(
        request,
        "crm/customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": contacts,
            "addresses": [
                {"address": address, "phone": _shown_phone(address.phone, visible=phone_visible)}
                for address in customer.addresses.all()
            ],
            "leads": customer.leads.select_related("owner"),
            "page": paginate(request, selectors.customer_timeline(customer), per_page=20),
            "panels": panels_for(request, customer),
            "can_manage": can_manage,
            "activity_form": ActivityForm(auto_id="id_activity_%s") if can_manage else None,
            "contact_form": ContactForm(auto_id="id_contact_%s") if can_manage else None,
            "credit_form": CreditForm(
                initial={
                    "credit_limit": customer.credit_limit,
                    "payment_terms_days": customer.payment_terms_days,
                    "invoice_per_order": customer.invoice_per_order,
                },
                auto_id="id_credit_%s",
            )
            if can_set_credit(user)
            else None,
            "tier_form": TierOverrideForm(initial={"tier": customer.tier}, auto_id="id_tier_%s")
            if may_override_tier
            else None,
        },
    )


@require(can_view_customers)
def contact_edit_view(request, pk: int, contact_pk: int | None = None):
    customer = _customer_or_403(request, pk, can_manage_customer)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer) if contact_pk else None
    form = ContactForm(request.POST or None, contact=contact, phone_hidden=not can_see_phone(request.user, customer))
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.contact_save(by=request.user, customer=customer, contact=contact, **form.service_fields())
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The contact %(name)s was saved.") % {"name": saved.name})
            return redirect("crm:customer_detail", pk=customer.pk)
    action_url = (
        reverse("crm:contact_edit", args=[customer.pk, contact.pk])
        if contact
        else reverse("crm:contact_create", args=[customer.pk])
    )
    return _form_page(
        request,
        title=_("Edit the contact") if contact else _("Add a contact"),
        subject=str(customer),
        form=form,
        action_url=action_url,
        back_url=reverse("crm:customer_detail", args=[customer.pk]),
        button=_("Save"),
        testid="save-contact",
    )


def _activity_log(request, *, customer: Customer | None = None, lead: Lead | None = None):
    target = customer or lead
    back_url = (
        reverse("crm:customer_detail", args=[customer.pk]) if customer else reverse("crm:lead_detail", args=[lead.pk])
    )
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_log(by=request.user, customer=customer, lead=lead, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The activity was logged."))
            return redirect(back_url)
    return _form_page(
        request,
        title=_("Log an activity"),
        subject=str(target),
        form=form,
        action_url=request.path,
        back_url=back_url,
        button=_("Log activity"),
        testid="log-activity",
    )


@require(can_view_customers)
def customer_activity_log_view(request, pk: int):
    return _activity_log(request, customer=_customer_or_403(request, pk, can_manage_customer))


@require_POST
@require(can_set_credit)
def customer_credit_view(request, pk: int):
    customer = _customer_or_403(request, pk)
    form = CreditForm(request.POST)
    if form.is_valid():
        try:
            saved = services.customer_set_credit(by=request.user, customer=customer, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(
                request,
                _("Credit limit %(limit)s and payment terms of %(days)s days set.")
                % {"limit": saved.credit_limit, "days": saved.payment_terms_days},
            )
            return redirect("crm:customer_detail", pk=customer.pk)
    return _form_page(
        request,
        title=_("Credit limit and payment terms"),
        subject=str(customer),
        form=form,
        action_url=reverse("crm:customer_credit", args=[customer.pk]),
        back_url=reverse("crm:customer_detail", args=[customer.pk]),
        button=_("Save"),
        testid="save-credit",
    )


@require_POST
@require(can_view_customers)
def customer_tier_view(request, pk: int):
    customer = _customer_or_403(request, pk, _may_override_tier)
    form = TierOverrideForm(request.POST)
    if form.is_valid():
        try:
            saved = services.customer_override_tier(by=request.user, customer=customer, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The tier is set by hand to %(tier)s.") % {"tier": saved.get_tier_display()})
            return redirect("crm:customer_detail", pk=customer.pk)
    return _form_page(
        request,
        title=_("Set the tier by hand"),
        subject=str(customer),
        form=form,
        action_url=reverse("crm:customer_tier", args=[customer.pk]),
        back_url=reverse("crm:customer_detail", args=[customer.pk]),
        button=_("Set the tier"),
        button_class="btn-warning",
        testid="confirm-tier",
    )


# --- leads --------------------------------------------------------------------------------------


def _lead_search(request):
    """The lead list's filters and sort, read the same way by the page and by its export."""
    filters = LeadFilterForm(request.GET)
    values = filters.values()
    query = (values["q"] or "").strip()
    sort = request.GET.get("sort", "-created_at")
    sort = sort if sort in LEAD_SORTS else "-created_at"
    leads = selectors.leads_visible(request.user)
    if query:
        leads = leads.filter(
            Q(company__icontains=query) | Q(contact_name__icontains=query) | Q(credit_code__iexact=query)
        )
    if values["stage"]:
        leads = leads.filter(stage=values["stage"])
    if values["source"]:
        leads = leads.filter(source=values["source"])
    return filters, values, sort, leads.order_by(sort, "-id")


@require(can_view_customers)
def lead_list_view(request):
    filters, values, sort, leads = _lead_search(request)
    return render(
        request,
        "crm/customers/lead_list.html",
        {
            "page": paginate(request, leads),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "can_create": can_create_customers(request.user),
            "can_export": can_export_customers(request.user),
            "export_query": export_query(request),
        },
    )


LEAD_EXPORT_COLUMNS = (
    (gettext_lazy("Company"), lambda lead: lead.company),
    (gettext_lazy("Unified social credit code"), lambda lead: lead.credit_code),
    (gettext_lazy("Contact"), lambda lead: lead.contact_name),
    (gettext_lazy("Source"), lambda lead: lead.get_source_display()),
    (gettext_lazy("Channel"), lambda lead: lead.get_channel_display()),
    (gettext_lazy("Region"), lambda lead: lead.region.name),
    (gettext_lazy("Owner"), lambda lead: lead.owner.display_name),
    (gettext_lazy("Stage"), lambda lead: lead.get_stage_display()),
    (gettext_lazy("Reason lost"), lambda lead: lead.lost_reason),
    (gettext_lazy("Customer code"), lambda lead: lead.customer.code if lead.customer else ""),
    (gettext_lazy("Created on"), lambda lead: timezone.localtime(lead.created_at).date()),
)


@require(can_export_customers)
def lead_export_view(request):
    _filters, values, sort, leads = _lead_search(request)
    return capped_xlsx_response(
        request,
        title=_("Leads"),
        columns=LEAD_EXPORT_COLUMNS,
        rows=leads,
        filename="leads",
        audit_action="crm.leads_exported",
        filters=_filters_used(values, sort=sort),
    )


@require(can_create_customers)
def lead_create_view(request):
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(by=request.user, owner=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The lead %(company)s was created.") % {"company": lead.company})
            return redirect("crm:lead_detail", pk=lead.pk)
    return render(request, "crm/customers/lead_form.html", {"form": form})


@dataclass(frozen=True)
class LeadAction:
    """A stage change offered on the lead page; those with a form ask for confirmation first."""

    icon: str
    button_class: str
    done: Any
    form_class: type | None = None
    confirm_class: str = ""
    explanation: Any = ""


LEAD_ACTIONS = {
    "contact": LeadAction("ti-phone-check", "btn-outline-primary", gettext_lazy("The lead is marked contacted.")),
    "qualify": LeadAction("ti-circle-check", "btn-outline-success", gettext_lazy("The lead is qualified.")),
    "lose": LeadAction(
        "ti-x",
        "btn-outline-danger",
        gettext_lazy("The lead is marked lost."),
        LoseForm,
        "btn-danger",
        gettext_lazy("A lost lead stays on record with its reason; it cannot be reopened."),
    ),
    "convert": LeadAction(
        "ti-building-store",
        "btn-success",
        gettext_lazy("The customer was created."),
        ConvertForm,
        "btn-success",
        gettext_lazy(
            "A customer is made from the lead: its company, credit code, channel, region and owner; the contact"
            " becomes the customer's primary contact and the lead's activities move to the customer's timeline."
        ),
    ),
}


def _lead_actions_for(user, lead: Lead) -> list[dict]:
    """The stage changes the lead's stage allows (the workflow's table), if the user may manage it."""
    if not can_manage_lead(user, lead):
        return []
    actions = []
    for step in LEAD_FLOW.available(lead.stage):
        spec = LEAD_ACTIONS[step.action]
        actions.append(
            {
                "action": step.action,
                "label": step.label,
                "spec": spec,
                "url": reverse(f"crm:lead_{step.action}", args=[lead.pk]),
                "modal_id": f"modal-{step.action}",
                "testid": f"confirm-{step.action}",
                "confirm": spec.form_class is not None,
                "form": spec.form_class(auto_id=f"id_{step.action}_%s") if spec.form_class else None,
            }
        )
    return actions


@require(can_view_customers)
def lead_detail_view(request, pk: int):
    lead = _lead_or_403(request, pk)
    can_manage = can_manage_lead(request.user, lead)
    return render(
        request,
        "crm/customers/lead_detail.html",
        {
            "lead": lead,
            "phone": _shown_phone(lead.phone, visible=can_see_phone(request.user, lead)),
            "page": paginate(request, lead.activities.select_related("owner", "customer"), per_page=20),
            "actions": _lead_actions_for(request.user, lead),
            "can_manage": can_manage,
            "activity_form": ActivityForm(auto_id="id_activity_%s") if can_manage else None,
        },
    )


@require(can_view_customers)
def lead_activity_log_view(request, pk: int):
    return _activity_log(request, lead=_lead_or_403(request, pk, can_manage_lead))


def _lead_step(request, pk: int, action: str):
    lead = _lead_or_403(request, pk, can_manage_lead)
    service = {"contact": services.lead_contact, "qualify": services.lead_qualify}[action]
    try:
        service(by=request.user, lead=lead)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(LEAD_ACTIONS[action].done))
    return redirect("crm:lead_detail", pk=lead.pk)


@require_POST
@require(can_view_customers)
def lead_contact_view(request, pk: int):
    return _lead_step(request, pk, "contact")


@require_POST
@require(can_view_customers)
def lead_qualify_view(request, pk: int):
    return _lead_step(request, pk, "qualify")


@require_POST
@require(can_view_customers)
def lead_lose_view(request, pk: int):
    lead = _lead_or_403(request, pk, can_manage_lead)
    form = LoseForm(request.POST)
    if form.is_valid():
        try:
            services.lead_lose(by=request.user, lead=lead, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, str(LEAD_ACTIONS["lose"].done))
            return redirect("crm:lead_detail", pk=lead.pk)
    return _form_page(
        request,
        title=LEAD_FLOW.get("lose").label,
        subject=str(lead),
        form=form,
        action_url=reverse("crm:lead_lose", args=[lead.pk]),
        back_url=reverse("crm:lead_detail", args=[lead.pk]),
        button=LEAD_FLOW.get("lose").label,
        button_class=LEAD_ACTIONS["lose"].confirm_class,
        testid="confirm-lose",
    )


@require_POST
@require(can_view_customers)
def lead_convert_view(request, pk: int):
    lead = _lead_or_403(request, pk, can_manage_lead)
    form = ConvertForm(request.POST, offer_duplicate_confirm="confirm_duplicate" in request.POST)
    warning = ""
    if form.is_valid():
        try:
            customer = services.lead_convert(by=request.user, lead=lead, confirm_duplicate=form.duplicate_confirmed)
        except services.DuplicateWarning as duplicate:
            warning = duplicate.message
            form.offer_duplicate_confirm()
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The customer %(name)s was created from the lead.") % {"name": customer.name})
            return redirect("crm:customer_detail", pk=customer.pk)
    return _form_page(
        request,
        title=LEAD_FLOW.get("convert").label,
        subject=str(lead),
        form=form,
        action_url=reverse("crm:lead_convert", args=[lead.pk]),
        back_url=reverse("crm:lead_detail", args=[lead.pk]),
        button=LEAD_FLOW.get("convert").label,
        button_class=LEAD_ACTIONS["convert"].confirm_class,
        testid="confirm-convert",
        warning=warning,
    )


# --- revisits and plans -------------------------------------------------------------------------


def _revisit_search(request):
    """The revisits due, all the user may see or only their own, for the page and its export."""
    mine = request.GET.get("mine") == "1"
    return mine, selectors.revisits_overdue(request.user, mine_only=mine)


@require(can_view_customers)
def revisit_list_view(request):
    mine, activities = _revisit_search(request)
    return render(
        request,
        "crm/customers/revisit_list.html",
        {
            "page": paginate(request, activities),
            "mine": mine,
            "today": timezone.localdate(),
            "can_export": can_export_customers(request.user),
            "export_query": export_query(request),
        },
    )


REVISIT_EXPORT_COLUMNS = (
    (gettext_lazy("Revisit on"), lambda activity: activity.next_revisit),
    (gettext_lazy("Customer code"), lambda activity: activity.customer.code if activity.customer else ""),
    (
        gettext_lazy("Customer or lead"),
        lambda activity: activity.customer.name if activity.customer else activity.lead.company,
    ),
    (gettext_lazy("Last activity"), lambda activity: activity.happened_on),
    (gettext_lazy("Kind"), lambda activity: activity.get_kind_display()),
    (gettext_lazy("Subject"), lambda activity: activity.subject),
    (gettext_lazy("Outcome"), lambda activity: activity.outcome),
    (gettext_lazy("Owner"), lambda activity: activity.owner.display_name),
)


@require(can_export_customers)
def revisit_export_view(request):
    mine, activities = _revisit_search(request)
    return capped_xlsx_response(
        request,
        title=_("Revisits due"),
        columns=REVISIT_EXPORT_COLUMNS,
        rows=activities,
        filename="revisits",
        audit_action="crm.revisits_exported",
        filters={"mine": "1"} if mine else {},
    )


@dataclass(frozen=True)
class PlanRow:
    progress: selectors.PlanProgress

    @property
    def new_customers_bar(self) -> int:
        return min(self.progress.new_customers_rate, 100)

    @property
    def first_orders_bar(self) -> int:
        return min(self.progress.first_orders_rate, 100)


def _plans(request):
    """The development plans the user may see, in the page's order (also its export's)."""
    return selectors.plans_visible(request.user).order_by("-period_start", "name", "pk")


@require(can_view_customers)
def plan_list_view(request):
    can_manage = can_manage_plans(request.user)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    form = PlanForm(request.POST or None, auto_id="id_plan_%s") if can_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The plan %(name)s was created.") % {"name": plan.name})
            return redirect("crm:plans")
    page = paginate(request, _plans(request), per_page=20)
    return render(
        request,
        "crm/customers/plan_list.html",
        {
            "page": page,
            "rows": [PlanRow(selectors.plan_progress(plan)) for plan in page],
            "form": form,
            "can_export": can_export_customers(request.user),
        },
    )


PLAN_EXPORT_COLUMNS = (
    (gettext_lazy("Plan"), lambda progress: progress.plan.name),
    (gettext_lazy("Rep"), lambda progress: progress.plan.rep.display_name if progress.plan.rep else ""),
    (gettext_lazy("Team"), lambda progress: progress.plan.team.name if progress.plan.team else ""),
    (gettext_lazy("From"), lambda progress: progress.plan.period_start),
    (gettext_lazy("To"), lambda progress: progress.plan.period_end),
    (gettext_lazy("Channel"), lambda progress: progress.plan.get_channel_display() or _("All channels")),
    (gettext_lazy("New customers (target)"), lambda progress: progress.plan.target_new_customers),
    (gettext_lazy("New customers"), lambda progress: progress.new_customers),
    (gettext_lazy("First orders (target)"), lambda progress: progress.plan.target_first_orders),
    (gettext_lazy("First orders"), lambda progress: progress.first_orders),
)


@require(can_export_customers)
def plan_export_view(request):
    # the progress is counted per plan, as on the page (plans are few: one per rep or team and period)
    plans = _plans(request)[:EXPORT_ROW_LIMIT].iterator(chunk_size=1000)
    return xlsx_response(
        request,
        title=_("Development plans"),
        columns=PLAN_EXPORT_COLUMNS,
        rows=(selectors.plan_progress(plan) for plan in plans),
        filename="plans",
        audit_action="crm.plans_exported",
        filters={},
    )
