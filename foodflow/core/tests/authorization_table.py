"""Who may reach every URL of FoodFlow: one entry per URL name (web pages, actions, exports,
the API's routes with each of their methods), read by ``test_authorization_matrix.py``.

An entry's rules say, per HTTP method, who may call it: ``PUBLIC`` (anyone, no login),
``LOGGED_IN`` (any signed-in user) or a predicate of the domains' ``permissions.py`` modules,
asked for each demo user; an object URL adds the object-level predicate of the permission
module (``can_view_customer``…) and a ``Target``: where the demo company keeps such objects.
Expectations come from asking those predicates, never from lists of roles. For each role the
test finds an object the predicate lets the user reach ("own") and one it does not ("other").

A new URL without an entry, or an API route answering a method the entry has no rule for,
fails ``test_every_url_has_an_entry``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from foodflow.accounts import permissions as acc
from foodflow.analytics import permissions as ana
from foodflow.catalog import permissions as cat
from foodflow.contracts import permissions as con
from foodflow.core.permissions import Scope
from foodflow.crm import permissions as crm
from foodflow.imports import permissions as imp
from foodflow.inventory import permissions as inv
from foodflow.sales import permissions as sal
from foodflow.service import permissions as svc

PUBLIC = "public"
LOGGED_IN = "logged-in"

Predicate = Callable[[Any], bool] | str
ObjectPredicate = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Target:
    """Where the demo company keeps the objects of an object URL.

    ``objects`` returns a queryset or a list; of a queryset the candidates are the first object
    of each distinct value of ``spread`` (an owner: so that some are the acting user's and some
    are not), or the first ``limit`` objects without ``spread``. ``kwargs`` builds the URL's
    arguments from one object. ``ensure`` creates objects the demo company does not have."""

    key: str
    objects: Callable[[], Iterable]
    spread: str | None = None
    kwargs: Callable[[Any], dict] = lambda obj: {"pk": obj.pk}
    ensure: Callable[[dict], None] | None = None
    limit: int = 12


@dataclass(frozen=True)
class Rule:
    may: Predicate
    on: ObjectPredicate | None = None  # the object-level predicate (scope) of the permission module


@dataclass(frozen=True)
class Entry:
    name: str
    rules: dict[str, Rule]
    target: Target | None = None
    query: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)  # fixed URL arguments of an entry without a target
    fresh_client: bool = False  # the request changes the client itself (logout, language)
    all_roles: bool = True  # False: a public URL asked anonymously only

    @property
    def api(self) -> bool:
        return ":" not in self.name and self.name not in WEB_TOP_LEVEL


WEB_TOP_LEVEL = {"healthz", "readyz"}


def _rule(value) -> Rule:
    if isinstance(value, Rule):
        return value
    if isinstance(value, tuple):
        return Rule(*value)
    return Rule(value)


def page(name: str, may: Predicate, on: ObjectPredicate | None = None, **options) -> Entry:
    """A page, list, detail or export: GET."""
    return Entry(name, {"get": Rule(may, on)}, **options)


def act(name: str, may: Predicate, on: ObjectPredicate | None = None, **options) -> Entry:
    """A POST-only action (sent with an empty body)."""
    return Entry(name, {"post": Rule(may, on)}, **options)


def form(name: str, may: Predicate, on: ObjectPredicate | None = None, post: Predicate | None = None, **options):
    """A page that also takes a POST whose rule differs from the GET's (a list with a form)."""
    return Entry(name, {"get": Rule(may, on), "post": Rule(post, on)}, **options)


def api(name: str, target: Target | None = None, query: dict | None = None, **methods) -> Entry:
    """An API route; one rule per HTTP method the route answers: ``get=``, ``post=``… as a
    predicate or ``(predicate, object predicate)``."""
    return Entry(name, {m: _rule(rule) for m, rule in methods.items()}, target=target, query=query or {})


# --- predicates the domains combine here -------------------------------------------------------


def any_of(*predicates):
    def check(user) -> bool:
        return any(p(user) for p in predicates)

    return check


def has(code: str):
    return lambda user: acc.has_perm(user, code)


def sees_rep(user, rep_id: int) -> bool:
    """Scorecards and a rep's history: the rep is in the viewer's sales or appraisal scope."""
    sales, appraise = ana.scope_reps(user, ana.VIEW_SALES), ana.scope_reps(user, ana.APPRAISE)
    return sales is None or appraise is None or rep_id in sales | appraise


def dashboard_allowed(user, code: str) -> bool:
    scope = acc.perm_scope(user, ana.VIEW_SALES)
    return {
        "rep": ana.can_view_sales(user),
        "manager": scope in (Scope.TEAM, Scope.REGION, Scope.ALL),
        "director": scope == Scope.ALL,
        "finance": ana.can_view_finance(user),
        "service": ana.can_view_service(user),
    }[code]


def any_dashboard(user) -> bool:
    return any(dashboard_allowed(user, code) for code in ("rep", "manager", "director", "finance", "service"))


def may_see_deliveries(user) -> bool:
    return sal.can_manage_deliveries(user) or sal.can_view_sales(user)


def may_view_delivery(user, delivery) -> bool:
    return sal.can_manage_deliveries(user) or sal.can_view_doc(user, delivery.order)


def activity_visible(user, activity) -> bool:
    if activity.customer_id and crm.can_view_customer(user, activity.customer):
        return True
    return bool(activity.lead_id) and crm.can_view_lead(user, activity.lead)


def plan_visible(user, plan) -> bool:
    if plan.rep_id and acc.in_scope(user, crm.CUSTOMERS_VIEW, owner=plan.rep):
        return True
    if not plan.team_id or acc.perm_scope(user, crm.CUSTOMERS_VIEW) in (None, Scope.OWN):
        return False
    return acc.in_scope(user, crm.CUSTOMERS_VIEW, owner=None, unit=plan.team)


def dispute_visible(user, dispute) -> bool:
    return con.can_view_contract(user, dispute.contract)


def may_open_dispute_on(user, contract) -> bool:
    from foodflow.contracts.models import Dispute

    return con.can_manage_dispute(user, Dispute(contract=contract))


def warning_visible(user, warning) -> bool:
    return con.can_view_contract(user, warning.contract)


def may_draft_and_export(user) -> bool:
    return con.can_draft_contracts(user) and con.can_export_contracts(user)


def revisit_visible(user, revisit) -> bool:
    from foodflow.service.models import Revisit

    return svc.revisits_in_scope(user, Revisit.objects.filter(pk=revisit.pk)).exists()


def revisit_doable(user, revisit) -> bool:
    return revisit_visible(user, revisit) and svc.can_do_revisit(user, revisit)


def target_in_scope(code: str):
    def check(user, target) -> bool:
        from foodflow.analytics.targets import targets_visible

        return targets_visible(user, code).filter(pk=target.pk).exists()

    return check


def scorecard_visible(user, card) -> bool:
    return sees_rep(user, card.rep_id)


def appraisable(user, card) -> bool:
    reps = ana.scope_reps(user, ana.APPRAISE)
    return card.rep_id != user.pk and (reps is None or card.rep_id in reps)


def import_job_visible(user, job) -> bool:
    """Administrators (user managers) see every import, everyone else their own; the kind's
    own permission decides the rest."""
    from foodflow.imports.kinds import REGISTRY

    return (job.created_by_id == user.pk or acc.can_manage_users(user)) and REGISTRY[job.kind].allowed(user)


def own_notification(user, notification) -> bool:
    return notification.recipient_id == user.pk


def area_open(user, area) -> bool:
    return acc.can_access_area(user, area.permission)


def approvable(user, step) -> bool:
    return sal.can_approve_for(user, owner=step.request.owner, unit=step.request.unit)


def user_in_directory(user, other) -> bool:
    return acc.can_manage_users(user) or acc.in_scope(user, acc.USERS_VIEW, owner=other)


def credit_note_visible(user, note) -> bool:
    return sal.can_manage_receivables(user) or acc.in_scope(
        user, sal.RECEIVABLES_VIEW, owner=note.order.owner, unit=note.order.customer.region
    )


def return_visible(user, customer_return) -> bool:
    return sal.can_view_doc(user, customer_return.delivery.order)


def contact_manageable(user, contact) -> bool:
    return crm.can_manage_customer(user, contact.customer)


def remedy_complaint_manageable(user, remedy) -> bool:
    return svc.can_manage_complaint(user, remedy.complaint)


def of_order(predicate: ObjectPredicate) -> ObjectPredicate:
    return lambda user, obj: predicate(user, obj.order)


# --- where the demo company keeps the objects ----------------------------------------------------


def _q(model_path: str, **filters):
    """A queryset factory, imported when the test asks (the table is imported at collection)."""

    def objects():
        from django.apps import apps

        app_label, model_name = model_path.split(".")
        return apps.get_model(app_label, model_name).objects.filter(**filters)

    return objects


def _areas():
    from foodflow.web.navigation import AREAS

    return AREAS


def _flows():
    from foodflow.analytics.process import flows

    return [type("Flow", (), {"name": name, "pk": name})() for name in flows()[:2]]


def _dashboards():
    codes = ("rep", "manager", "director", "finance", "service")
    return [type("Dashboard", (), {"code": code, "pk": code})() for code in codes]


def _ensure_holiday(users: dict) -> None:
    from datetime import date

    from foodflow.service.models import Holiday

    if not Holiday.objects.exists():
        Holiday.objects.create(day=date(2031, 10, 1), name="国庆节")


def _ensure_import_jobs(users: dict) -> None:
    """Two uploads that were never run: the manager's and the director's."""
    from foodflow.imports import services
    from foodflow.imports.models import ImportJob

    if ImportJob.objects.exists():
        return
    data = "code,name,channel\nMX-1,矩阵测试客户,retail\n".encode()
    for username in ("manager", "director"):
        services.job_create(by=users[username], kind="customers", name="customers.csv", data=data)


USERS = Target("users", _q("accounts.User", is_active=True), limit=20)
ROLES = Target("roles", _q("accounts.Role"), limit=1)
ORG_UNITS = Target("org_units", _q("accounts.OrgUnit"), limit=1)
AREAS = Target("areas", _areas, kwargs=lambda area: {"code": area.code})
NOTIFICATIONS = Target("notifications", _q("core.Notification"), spread="recipient")
AUDIT_ENTRIES = Target("audit_entries", _q("core.AuditEntry"), kwargs=lambda e: {"seq": e.seq}, limit=1)
PRODUCTS = Target("products", _q("catalog.Product"), limit=1)
PRICE_LISTS = Target("price_lists", _q("catalog.PriceList"), limit=1)
PRICE_ITEMS = Target("price_items", _q("catalog.PriceListItem"), limit=1)
PRICE_ITEMS_BY_ITEM_PK = Target("price_items_web", _q("catalog.PriceListItem"), kwargs=lambda i: {"item_pk": i.pk})
LOTS = Target("lots", _q("inventory.Lot"), limit=1)
RESERVATIONS = Target("reservations", _q("inventory.Reservation"), limit=1)
PRODUCTION_REQUESTS = Target("production_requests", _q("inventory.ProductionRequest"), limit=1)
CUSTOMERS = Target("customers", _q("crm.Customer"), spread="owner")
CONTACTS = Target(
    "contacts", _q("crm.Contact"), spread="customer__owner", kwargs=lambda c: {"pk": c.customer_id, "contact_pk": c.pk}
)
API_CONTACTS = Target(
    "api_contacts",
    _q("crm.Contact"),
    spread="customer__owner",
    kwargs=lambda c: {"pk": c.customer_id, "contact_id": c.pk},
)
LEADS = Target("leads", _q("crm.Lead"), spread="owner")
ACTIVITIES = Target("activities", _q("crm.Activity", customer__isnull=False), spread="customer__owner")
PLANS = Target("plans", _q("crm.DevelopmentPlan"), spread="rep")
COMPETITORS = Target("competitors", _q("crm.Competitor"), limit=1)
INTEL = Target("intel", _q("crm.IntelEntry"), limit=1)
DEMAND = Target("demand", _q("crm.DemandRecord"), limit=1)
REPORTS = Target("reports", _q("crm.ResearchReport"), limit=1)


def _market_attachments():
    from foodflow.crm.selectors import market_attachments

    return market_attachments()


def _ensure_market_attachment(users: dict) -> None:
    """The analyst's report on an intelligence entry (the demo company's have no file)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from foodflow.core.attachments import attachment_create
    from foodflow.crm.models import IntelEntry

    if _market_attachments().exists():
        return
    entry = IntelEntry.objects.order_by("pk").first()
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    entry.attachment = attachment_create(upload=SimpleUploadedFile("报告.pdf", pdf), by=users["analyst"])
    entry.save(update_fields=["attachment"])


MARKET_ATTACHMENTS = Target("market_attachments", _market_attachments, ensure=_ensure_market_attachment, limit=1)
INQUIRIES = Target("inquiries", _q("sales.Inquiry"), spread="owner")
QUOTATIONS = Target("quotations", _q("sales.Quotation"), spread="owner")
ORDERS = Target("orders", _q("sales.SalesOrder"), spread="owner")
ORDERS_BY_ORDER_PK = Target(
    "orders_delivery_new", _q("sales.SalesOrder"), spread="owner", kwargs=lambda o: {"order_pk": o.pk}
)
APPROVAL_STEPS = Target(
    "approval_steps", _q("sales.ApprovalStep", request__doc_type__in=["quotation", "order"]), spread="request__owner"
)
APPROVAL_POLICIES = Target("approval_policies", _q("sales.ApprovalPolicy"), limit=1)
DELIVERIES = Target("deliveries", _q("sales.Delivery"), spread="order__owner")
RETURNS = Target("returns", _q("sales.CustomerReturn"), spread="delivery__order__owner")
INVOICES = Target("invoices", _q("sales.Invoice"), spread="owner")
PAYMENTS = Target("payments", _q("sales.Payment"), spread="customer__owner")
CREDIT_NOTES = Target("credit_notes", _q("sales.CreditNote"), spread="order__owner")
CONTRACTS = Target("contracts", _q("contracts.Contract"), spread="owner")
AMENDED_CONTRACTS = Target("amended_contracts", _q("contracts.Contract", previous__isnull=False), spread="owner")
SCANNED_CONTRACTS = Target("scanned_contracts", _q("contracts.Contract", scan__isnull=False), spread="owner")


def _contracts_with_orders():
    from foodflow.contracts.models import Contract, ContractOrder

    return Contract.objects.filter(number__in=ContractOrder.objects.values("contract_number"))


def _linked_order(contract) -> dict:
    from foodflow.contracts.models import ContractOrder

    link = ContractOrder.objects.filter(contract_number=contract.number).order_by("pk").first()
    return {"pk": contract.pk, "number": link.order_number}


CONTRACT_ORDERS = Target("contract_orders", _contracts_with_orders, spread="owner", kwargs=_linked_order)
TEMPLATES = Target("templates", _q("contracts.ContractTemplate"), limit=1)
DISPUTES = Target("disputes", _q("contracts.Dispute"), spread="contract__owner")
RISK_WARNINGS = Target("risk_warnings", _q("contracts.RiskWarning"), spread="owner")
COMPLAINTS = Target("complaints", _q("service.Complaint"), spread="owner")
REMEDIES = Target("remedies", _q("service.Remedy"), limit=1)
API_REMEDIES = Target(
    "api_remedies", _q("service.Remedy"), kwargs=lambda r: {"pk": r.complaint_id, "remedy_id": r.pk}, limit=1
)
RECALLS = Target("recalls", _q("service.Recall"), limit=1)
RECALL_LINES = Target("recall_lines", _q("service.RecallLine"), limit=1)
RECALL_NOTICES = Target(
    "recall_notices",
    _q("service.RecallLine"),
    kwargs=lambda line: {"pk": line.recall_id, "customer_id": line.customer_id},
    limit=1,
)
SURVEYS = Target("surveys", _q("service.Survey"), limit=1)
REVISITS = Target("service_revisits", _q("service.Revisit"), spread="owner")
SLA_POLICIES = Target("sla_policies", _q("service.SlaPolicy"), kwargs=lambda p: {"severity": p.severity}, limit=1)
HOLIDAYS = Target("holidays", _q("service.Holiday"), ensure=_ensure_holiday, limit=1)
SUGGESTIONS = Target("suggestions", _q("service.Suggestion"), limit=1)
FLOWS = Target("flows", _flows, kwargs=lambda flow: {"name": flow.name})
DASHBOARDS = Target("dashboards", _dashboards, kwargs=lambda board: {"code": board.code})
SALES_TARGETS = Target("sales_targets", _q("analytics.SalesTarget", holder="rep"), spread="rep")
SCORECARDS = Target("scorecards", _q("analytics.Scorecard"), spread="rep")
REPS = Target("reps", _q("accounts.User", roles__code="rep"), kwargs=lambda rep: {"rep_id": rep.pk})
KPI_SCHEMES = Target("kpi_schemes", _q("analytics.KpiScheme"), limit=1)
IMPORT_JOBS = Target("import_jobs", _q("imports.ImportJob"), spread="created_by", ensure=_ensure_import_jobs)


# --- the entries ---------------------------------------------------------------------------------

V_PRODUCTS, M_PRODUCTS, M_PRICES = cat.can_view_products, cat.can_manage_products, cat.can_manage_prices
V_STOCK, M_STOCK = inv.can_view_stock, inv.can_manage_stock
V_CUST, M_CUST = crm.can_view_customers, crm.can_create_customers
V_MARKET, M_MARKET = crm.can_view_market, crm.can_manage_market
V_SALES, M_DOCS = sal.can_view_sales, sal.can_create_docs
V_RECV, M_RECV = sal.can_view_receivables, sal.can_manage_receivables
V_CON, M_CON = con.can_view_contracts, con.can_draft_contracts
V_COMPL, M_COMPL = svc.can_view_complaints, svc.can_log_complaints

WEB = [
    # shell, search, notifications, audit
    page("web:home", LOGGED_IN),
    page("web:area", LOGGED_IN, area_open, target=AREAS),
    page("web:search", LOGGED_IN, query={"q": "矩阵"}),
    page("web:notifications", LOGGED_IN),
    act("web:notifications_read", LOGGED_IN),
    page("web:audit", acc.can_view_audit),
    page("web:audit_export", acc.can_view_audit, query={"q": "no-such-entry"}),
    page("healthz", PUBLIC),
    page("readyz", PUBLIC),
    # accounts
    page("accounts:login", PUBLIC),
    act("accounts:logout", PUBLIC, fresh_client=True),
    act("accounts:language", PUBLIC, fresh_client=True),
    page("accounts:password_change", LOGGED_IN),
    page("accounts:profile", LOGGED_IN),
    page("accounts:users", acc.can_view_user_directory),
    page("accounts:users_export", acc.can_view_user_directory),
    page("accounts:user_create", acc.can_manage_users),
    page("accounts:user_detail", LOGGED_IN, acc.can_view_user, target=USERS),
    act("accounts:user_unlock", acc.can_manage_users, target=USERS),
    act("accounts:user_set_password", acc.can_manage_users, target=USERS),
    page("accounts:roles", acc.can_manage_users),
    page("accounts:role_create", acc.can_manage_users),
    page("accounts:role_edit", acc.can_manage_users, target=ROLES),
    page("accounts:org_units", acc.can_manage_users),
    # catalog
    page("catalog:products", V_PRODUCTS),
    page("catalog:products_export", V_PRODUCTS, query={"q": "no-such-product"}),
    page("catalog:product_create", M_PRODUCTS),
    page("catalog:product_detail", V_PRODUCTS, target=PRODUCTS),
    page("catalog:product_edit", M_PRODUCTS, target=PRODUCTS),
    form("catalog:categories", V_PRODUCTS, post=M_PRODUCTS),
    page("catalog:price_lists", V_PRODUCTS),
    page("catalog:price_lists_export", V_PRODUCTS),
    page("catalog:price_list_create", M_PRICES),
    form("catalog:price_list_detail", V_PRODUCTS, post=M_PRICES, target=PRICE_LISTS),
    page("catalog:price_list_items_export", V_PRODUCTS, target=PRICE_LISTS),
    act("catalog:price_remove", M_PRICES, target=PRICE_ITEMS_BY_ITEM_PK),
    page("catalog:price_check", V_PRODUCTS),
    # inventory
    page("inventory:stock", V_STOCK),
    page("inventory:stock_export", V_STOCK, query={"q": "no-such-lot"}),
    page("inventory:lot_detail", V_STOCK, target=LOTS),
    act("inventory:lot_hold", inv.can_hold_lot, target=LOTS),
    act("inventory:lot_release", inv.can_hold_lot, target=LOTS),
    act("inventory:lot_recall", inv.can_recall_lot, target=LOTS),
    act("inventory:lot_adjust", M_STOCK, target=LOTS),
    act("inventory:lot_scrap", M_STOCK, target=LOTS),
    page("inventory:receive", M_STOCK),
    page("inventory:near_expiry", V_STOCK),
    page("inventory:near_expiry_export", V_STOCK),
    page("inventory:warehouses", V_STOCK),
    page("inventory:warehouses_export", V_STOCK),
    page("inventory:capacity", V_STOCK),
    page("inventory:production_requests", inv.can_manage_capacity),
    page("inventory:production_requests_export", inv.can_manage_capacity),
    page("inventory:production_request_create", inv.can_manage_capacity),
    act("inventory:production_request_cancel", inv.can_manage_capacity, target=PRODUCTION_REQUESTS),
    # customers and leads
    page("crm:customers", V_CUST),
    page("crm:customers_export", crm.can_export_customers, query={"q": "no-such-customer"}),
    page("crm:customer_create", M_CUST),
    page("crm:customer_detail", V_CUST, crm.can_view_customer, target=CUSTOMERS),
    page("crm:customer_edit", M_CUST, crm.can_manage_customer, target=CUSTOMERS),
    page("crm:contact_create", M_CUST, crm.can_manage_customer, target=CUSTOMERS),
    page("crm:contact_edit", M_CUST, contact_manageable, target=CONTACTS),
    page("crm:customer_activity_log", M_CUST, crm.can_manage_customer, target=CUSTOMERS),
    act("crm:customer_credit", crm.can_set_credit, crm.can_view_customer, target=CUSTOMERS),
    act("crm:customer_tier", crm.can_manage_plans, crm.can_manage_customer, target=CUSTOMERS),
    page("crm:leads", V_CUST),
    page("crm:leads_export", crm.can_export_customers, query={"q": "no-such-lead"}),
    page("crm:lead_create", M_CUST),
    page("crm:lead_detail", V_CUST, crm.can_view_lead, target=LEADS),
    page("crm:lead_activity_log", M_CUST, crm.can_manage_lead, target=LEADS),
    act("crm:lead_contact", M_CUST, crm.can_manage_lead, target=LEADS),
    act("crm:lead_qualify", M_CUST, crm.can_manage_lead, target=LEADS),
    act("crm:lead_lose", M_CUST, crm.can_manage_lead, target=LEADS),
    act("crm:lead_convert", M_CUST, crm.can_manage_lead, target=LEADS),
    page("crm:revisits", V_CUST),
    page("crm:revisits_export", crm.can_export_customers),
    form("crm:plans", V_CUST, post=crm.can_manage_plans),
    page("crm:plans_export", crm.can_export_customers),
    # market research
    form("crm:competitors", V_MARKET, post=M_MARKET),
    page("crm:competitors_export", V_MARKET),
    page("crm:competitor_edit", M_MARKET, target=COMPETITORS),
    page("crm:intel_list", V_MARKET),
    page("crm:intel_export", V_MARKET, query={"q": "no-such-entry"}),
    page("crm:intel_create", M_MARKET),
    page("crm:intel_edit", M_MARKET, target=INTEL),
    act("crm:intel_refresh", M_MARKET, target=INTEL),
    page("crm:demand_list", V_MARKET),
    page("crm:demand_export", V_MARKET, query={"q": "no-such-record"}),
    page("crm:demand_create", M_MARKET),
    page("crm:demand_edit", M_MARKET, target=DEMAND),
    act("crm:demand_refresh", M_MARKET, target=DEMAND),
    page("crm:report_list", V_MARKET),
    page("crm:report_export", V_MARKET),
    page("crm:report_create", M_MARKET),
    page("crm:report_edit", M_MARKET, target=REPORTS),
    act("crm:report_refresh", M_MARKET, target=REPORTS),
    page("crm:stale", V_MARKET),
    page("crm:market_attachment", V_MARKET, target=MARKET_ATTACHMENTS),
    # order to cash: documents
    page("sales:inquiries", V_SALES),
    page("sales:inquiries_export", V_SALES),
    page("sales:inquiry_create", M_DOCS),
    page("sales:inquiry_detail", V_SALES, sal.can_view_doc, target=INQUIRIES),
    act("sales:inquiry_quote", M_DOCS, sal.can_manage_doc, target=INQUIRIES),
    act("sales:inquiry_lose", M_DOCS, sal.can_manage_doc, target=INQUIRIES),
    page("sales:quotations", V_SALES),
    page("sales:quotations_export", V_SALES),
    page("sales:quotation_create", M_DOCS),
    page("sales:line_price", V_SALES),
    page("sales:quotation_detail", V_SALES, sal.can_view_doc, target=QUOTATIONS),
    page("sales:quotation_edit", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    page("sales:quotation_pdf", V_SALES, sal.can_view_doc, target=QUOTATIONS),
    act("sales:quotation_submit", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_send", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_accept", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_decline", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_revise", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_copy", M_DOCS, sal.can_view_doc, target=QUOTATIONS),
    act("sales:quotation_cancel", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    act("sales:quotation_order", M_DOCS, sal.can_manage_doc, target=QUOTATIONS),
    page("sales:orders", V_SALES),
    page("sales:orders_export", V_SALES),
    page("sales:order_create", M_DOCS),
    page("sales:order_detail", V_SALES, sal.can_view_doc, target=ORDERS),
    page("sales:order_edit", M_DOCS, sal.can_manage_doc, target=ORDERS),
    act("sales:order_submit", M_DOCS, sal.can_manage_doc, target=ORDERS),
    act("sales:order_amend", M_DOCS, sal.can_manage_doc, target=ORDERS),
    act("sales:order_cancel", M_DOCS, sal.can_manage_doc, target=ORDERS),
    page("sales:approvals", sal.can_approve),
    act("sales:approval_approve", sal.can_approve, approvable, target=APPROVAL_STEPS),
    act("sales:approval_reject", sal.can_approve, approvable, target=APPROVAL_STEPS),
    page("sales:policies", sal.can_manage_policies),
    page("sales:policy_create", sal.can_manage_policies),
    page("sales:policy_edit", sal.can_manage_policies, target=APPROVAL_POLICIES),
    act("sales:policy_deactivate", sal.can_manage_policies, target=APPROVAL_POLICIES),
    # order to cash: review, deliveries, receivables
    page("sales:review_queue", sal.can_open_review),
    page("sales:review_queue_export", sal.can_open_review),
    page("sales:order_review", sal.can_open_review, sal.can_view_doc, target=ORDERS),
    act("sales:credit_release", M_RECV, sal.can_view_doc, target=ORDERS),
    act("sales:order_reserve_rest", sal.can_review_orders, sal.can_view_doc, target=ORDERS),
    page("sales:deliveries", sal.can_manage_deliveries),
    page("sales:deliveries_ready_export", sal.can_manage_deliveries),
    page("sales:deliveries_week_export", sal.can_manage_deliveries),
    page("sales:delivery_create", sal.can_manage_deliveries, target=ORDERS_BY_ORDER_PK),
    page("sales:delivery_detail", may_see_deliveries, may_view_delivery, target=DELIVERIES),
    act("sales:delivery_ship", sal.can_manage_deliveries, target=DELIVERIES),
    act("sales:delivery_receive", sal.can_manage_deliveries, target=DELIVERIES),
    act("sales:delivery_cancel", sal.can_manage_deliveries, target=DELIVERIES),
    page("sales:delivery_pdf", may_see_deliveries, may_view_delivery, target=DELIVERIES),
    page("sales:return_create", sal.can_manage_returns, may_view_delivery, target=DELIVERIES),
    act("sales:order_close_short", sal.can_manage_deliveries, target=ORDERS),
    page("sales:return_detail", may_see_deliveries, lambda u, r: may_view_delivery(u, r.delivery), target=RETURNS),
    page("sales:receivables", V_RECV),
    page("sales:receivables_export", V_RECV),
    page("sales:aging", V_RECV),
    page("sales:aging_export", V_RECV),
    page("sales:invoice_detail", V_RECV, sal.can_view_receivable, target=INVOICES),
    act("sales:invoice_issue", M_RECV, target=INVOICES),
    act("sales:invoice_writeoff", M_RECV, target=INVOICES),
    page("sales:payments", V_RECV),
    page("sales:payments_export", V_RECV),
    page("sales:payment_create", M_RECV),
    page("sales:payment_detail", V_RECV, sal.can_view_payment, target=PAYMENTS),
    act("sales:payment_allocate", M_RECV, target=PAYMENTS),
    page("sales:reconciliation", sal.can_reconcile),
    page("sales:reconciliation_export", sal.can_reconcile),
    # contracts
    page("contracts:ledger", V_CON),
    page("contracts:export", con.can_export_contracts),
    page("contracts:to_draft", M_CON),
    page("contracts:to_draft_export", may_draft_and_export),
    page("contracts:draft", M_CON),
    page("contracts:detail", V_CON, con.can_view_contract, target=CONTRACTS),
    page("contracts:edit", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:submit", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:comment", con.can_review_contracts, con.can_review_contract, target=CONTRACTS),
    act("contracts:review", con.can_review_contracts, con.can_review_contract, target=CONTRACTS),
    page("contracts:sign", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:amend", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:cancel", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:terminate", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:fulfil", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:link_order", M_CON, con.can_manage_contract, target=CONTRACTS),
    act("contracts:unlink_order", M_CON, con.can_manage_contract, target=CONTRACT_ORDERS),
    page("contracts:diff", V_CON, con.can_view_contract, target=AMENDED_CONTRACTS),
    page("contracts:pdf", V_CON, con.can_view_contract, target=CONTRACTS),
    page("contracts:scan", V_CON, con.can_view_contract, target=SCANNED_CONTRACTS),
    page("contracts:review_queue", con.can_review_contracts),
    page("contracts:templates", V_CON),
    page("contracts:template_new", con.can_manage_templates),
    page("contracts:template_detail", V_CON, target=TEMPLATES),
    page("contracts:template_edit", con.can_manage_templates, target=TEMPLATES),
    act("contracts:template_active", con.can_manage_templates, target=TEMPLATES),
    page("contracts:disputes", V_CON),
    page("contracts:disputes_export", con.can_export_contracts),
    page("contracts:dispute_new", con.can_manage_disputes, may_open_dispute_on, target=CONTRACTS),
    page("contracts:dispute_detail", V_CON, dispute_visible, target=DISPUTES),
    act("contracts:dispute_action", con.can_manage_disputes, con.can_manage_dispute, target=DISPUTES),
    act("contracts:dispute_resolve", con.can_manage_disputes, con.can_manage_dispute, target=DISPUTES),
    act("contracts:dispute_reopen", con.can_manage_disputes, con.can_manage_dispute, target=DISPUTES),
    act("contracts:dispute_close", con.can_manage_disputes, con.can_manage_dispute, target=DISPUTES),
    page("contracts:risks", V_CON),
    page("contracts:risks_export", con.can_export_contracts),
    act("contracts:risk_acknowledge", V_CON, con.can_acknowledge_warning, target=RISK_WARNINGS),
    act("contracts:risk_evaluate", con.can_set_risk_policy),
    page("contracts:risk_policy", con.can_set_risk_policy),
    # after-sales
    page("service:complaints", V_COMPL),
    page("service:complaint_new", M_COMPL),
    page("service:complaint_detail", V_COMPL, svc.can_view_complaint, target=COMPLAINTS),
    act("service:complaint_assign", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    act("service:complaint_action", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    act("service:complaint_resolve", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    act("service:complaint_confirm", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    act("service:complaint_reopen", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    act("service:complaint_hold", svc.can_recall, svc.can_view_complaint, target=COMPLAINTS),
    act("service:complaint_recall", svc.can_recall, svc.can_view_complaint, target=COMPLAINTS),
    page("service:recalls", svc.can_trace_lots),
    page("service:recalls_export", svc.can_trace_lots),
    act("service:recall_drill", svc.can_recall),
    page("service:recall_detail", svc.can_trace_lots, target=RECALLS),
    act("service:recall_close", svc.can_recall, target=RECALLS),
    act("service:recall_return", svc.can_recall, target=RECALL_LINES),
    page("service:remedy_replace", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    page("service:remedy_credit", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    page("service:remedy_return", M_COMPL, svc.can_manage_complaint, target=COMPLAINTS),
    page("service:credits_to_issue", M_RECV),
    page("service:credits_export", M_RECV),
    act("service:remedy_issue", M_RECV, target=REMEDIES),
    page("service:complaints_export", V_COMPL),
    page("service:surveys", svc.can_manage_surveys),
    page("service:surveys_export", svc.can_manage_surveys),
    page("service:survey_new", svc.can_manage_surveys),
    page("service:survey_edit", svc.can_manage_surveys, target=SURVEYS),
    act("service:survey_set_active", svc.can_manage_surveys, target=SURVEYS),
    page("service:survey_send", svc.can_manage_surveys),
    page("service:survey_results", V_COMPL),
    page("service:survey_results_export", V_COMPL),
    page("service:revisits", V_COMPL),
    page("service:revisits_export", V_COMPL),
    act("service:revisit_done", V_COMPL, revisit_doable, target=REVISITS),
    page("service:complaint_rates", V_COMPL),
    page("service:complaint_rates_export", V_COMPL),
    page("service:settings", svc.can_manage_sla),
    act("service:sla_save", svc.can_manage_sla, target=SLA_POLICIES),
    act("service:hours_save", svc.can_manage_sla),
    act("service:holiday_add", svc.can_manage_sla),
    act("service:holiday_delete", svc.can_manage_sla, target=HOLIDAYS),
    page("service:recall_notice_pdf", svc.can_trace_lots, target=RECALL_NOTICES),
    act("service:recall_notify", svc.can_trace_lots, target=RECALLS),
    act("service:recall_notified_phone", svc.can_trace_lots, target=RECALL_NOTICES),
    # feedback and improvement
    page("feedback:suggestions", svc.can_suggest),
    page("feedback:suggestions_export", svc.can_suggest),
    page("feedback:suggestion_new", svc.can_suggest),
    page("feedback:suggestion_detail", svc.can_suggest, target=SUGGESTIONS),
    act("feedback:suggestion_review", svc.can_manage_suggestions, target=SUGGESTIONS),
    act("feedback:suggestion_decide", svc.can_manage_suggestions, target=SUGGESTIONS),
    act("feedback:suggestion_implemented", svc.can_manage_suggestions, target=SUGGESTIONS),
    page("feedback:summary", svc.can_manage_suggestions),
    page("feedback:summary_export", svc.can_manage_suggestions),
    # analysis and performance
    page("analytics:process", ana.can_view_process),
    page("analytics:process_flow", ana.can_view_process, target=FLOWS),
    page("analytics:monthly_report", ana.can_view_sales),
    page("analytics:sales", ana.can_view_sales),
    page("analytics:sales_export", ana.can_view_sales),
    page("analytics:sales_documents", ana.can_view_sales),
    page("analytics:dashboard", any_dashboard),
    page("analytics:dashboard_of", any_dashboard, lambda u, board: dashboard_allowed(u, board.code), target=DASHBOARDS),
    page("analytics:monitoring", ana.can_view_process),
    page("analytics:monitoring_export", ana.can_view_process),
    page("analytics:stage_targets", ana.can_manage_schemes),
    page("analytics:targets", ana.can_view_sales),
    act("analytics:target_set", ana.can_manage_targets),
    act("analytics:target_delete", ana.can_manage_targets, target_in_scope(ana.MANAGE_TARGETS), target=SALES_TARGETS),
    page("analytics:targets_export", ana.can_view_sales),
    page("analytics:scorecards", ana.can_see_scorecards),
    act("analytics:scorecards_compute", ana.can_appraise),
    page("analytics:scorecards_export", ana.can_see_scorecards),
    page("analytics:scorecard", ana.can_see_scorecards, scorecard_visible, target=SCORECARDS),
    act("analytics:scorecard_recompute", ana.can_appraise, scorecard_visible, target=SCORECARDS),
    act("analytics:scorecard_review", ana.can_appraise, scorecard_visible, target=SCORECARDS),
    act("analytics:scorecard_finalise", ana.can_appraise, scorecard_visible, target=SCORECARDS),
    act("analytics:scorecard_reward", ana.can_appraise, scorecard_visible, target=SCORECARDS),
    act("analytics:scorecard_meeting", ana.can_appraise, scorecard_visible, target=SCORECARDS),
    page("analytics:kpi_schemes", ana.can_see_schemes),
    page("analytics:kpi_scheme_new", ana.can_manage_schemes),
    page("analytics:kpi_scheme_edit", ana.can_manage_schemes, target=KPI_SCHEMES),
    page("analytics:teamwork", ana.can_rate_teamwork),
    act("analytics:teamwork_rate", ana.can_rate_teamwork),
    page("analytics:rep_history", ana.can_see_scorecards, lambda u, rep: sees_rep(u, rep.pk), target=REPS),
    act("analytics:rep_reward", ana.can_appraise, lambda u, rep: sees_rep(u, rep.pk), target=REPS),
    page("analytics:receivables_figures", ana.can_view_finance),
    page("analytics:receivables_figures_export", ana.can_view_finance),
    page("analytics:service_figures", ana.can_view_service),
    page("analytics:service_figures_export", ana.can_view_service),
    # imports
    page("imports:jobs", imp.can_import),
    page("imports:new", imp.can_import),
    page("imports:job", imp.can_import, import_job_visible, target=IMPORT_JOBS),
    page("imports:preview", imp.can_import, import_job_visible, target=IMPORT_JOBS),
    act("imports:run", imp.can_import, import_job_visible, target=IMPORT_JOBS),
    page("imports:progress", imp.can_import, import_job_visible, target=IMPORT_JOBS),
    page("imports:report", imp.can_import, import_job_visible, target=IMPORT_JOBS),
    # public pages: the complaint and suggestion forms, a survey link (an unknown one is refused)
    page("service_public:complaint", PUBLIC),
    page("service_public:suggestion", PUBLIC),
    page("service_public:survey", PUBLIC, kwargs={"token": "no-such-survey-link"}),
]

API = [
    api("api-root", get=LOGGED_IN),
    api("api-token", post=PUBLIC),
    api("api-search", query={"q": "矩阵"}, get=LOGGED_IN),
    # the schema takes seconds to build and is the same for everyone (AllowAny): asked anonymously
    Entry("api-schema", {"get": Rule(PUBLIC)}, all_roles=False),
    api("api-docs", get=PUBLIC),
    # accounts, notifications, audit
    api("user-list", get=acc.can_view_user_directory),
    api("user-me", get=LOGGED_IN),
    api("user-detail", USERS, get=(acc.can_view_user_directory, user_in_directory)),
    api("user-unlock", USERS, post=acc.can_manage_users),
    api("role-list", get=acc.can_manage_users),
    api("role-detail", ROLES, get=acc.can_manage_users),
    api("org-unit-list", get=LOGGED_IN),
    api("org-unit-detail", ORG_UNITS, get=LOGGED_IN),
    api("notification-list", get=LOGGED_IN),
    api("notification-mark-read", post=LOGGED_IN),
    api("notification-unread", get=LOGGED_IN),
    api("notification-detail", NOTIFICATIONS, get=(LOGGED_IN, own_notification)),
    api("audit-entry-list", get=acc.can_view_audit),
    api("audit-entry-detail", AUDIT_ENTRIES, get=acc.can_view_audit),
    # catalog
    api("category-list", get=V_PRODUCTS, post=M_PRODUCTS),
    api("product-list", get=V_PRODUCTS, post=M_PRODUCTS),
    api("product-detail", PRODUCTS, get=V_PRODUCTS, patch=M_PRODUCTS),
    api("price-list-list", get=V_PRODUCTS, post=M_PRICES),
    api("price-list-detail", PRICE_LISTS, get=V_PRODUCTS),
    api("price-list-prices", PRICE_LISTS, post=M_PRICES),
    api("price-detail", PRICE_ITEMS, delete=M_PRICES),
    api("api-price-resolve", get=V_PRODUCTS),
    api("api-price-policy-check", post=V_PRODUCTS),
    # inventory
    api("warehouse-list", get=V_STOCK),
    api("lot-list", get=V_STOCK),
    api("lot-detail", LOTS, get=V_STOCK),
    api("lot-hold", LOTS, post=inv.can_hold_lot),
    api("lot-release", LOTS, post=inv.can_hold_lot),
    api("lot-recall", LOTS, post=inv.can_recall_lot),
    api("stock-balance-list", get=V_STOCK),
    api("stock-move-list", get=V_STOCK),
    api("reservation-list", get=V_STOCK, post=M_STOCK),
    api("reservation-detail", RESERVATIONS, get=V_STOCK),
    api("reservation-issue", RESERVATIONS, post=M_STOCK),
    api("reservation-release", RESERVATIONS, post=M_STOCK),
    api("near-expiry-list", get=V_STOCK),
    api("production-request-list", get=inv.can_manage_capacity, post=inv.can_manage_capacity),
    api("production-request-detail", PRODUCTION_REQUESTS, get=inv.can_manage_capacity),
    api("production-request-cancel", PRODUCTION_REQUESTS, post=inv.can_manage_capacity),
    api("api-receipts", post=M_STOCK),
    api("api-allocation-plan", post=V_STOCK),
    api("api-capacity-earliest", get=V_STOCK),
    # customers, leads, activities, plans
    api("customer-list", get=V_CUST, post=M_CUST),
    api(
        "customer-detail",
        CUSTOMERS,
        get=(V_CUST, crm.can_view_customer),
        patch=(M_CUST, crm.can_manage_customer),
    ),
    api("customer-contact", API_CONTACTS, patch=(M_CUST, contact_manageable)),
    api(
        "customer-contacts",
        CUSTOMERS,
        get=(V_CUST, crm.can_view_customer),
        post=(M_CUST, crm.can_manage_customer),
    ),
    api("customer-credit", CUSTOMERS, post=(crm.can_set_credit, crm.can_view_customer)),
    api("customer-tier", CUSTOMERS, post=(crm.can_manage_plans, crm.can_manage_customer)),
    api("lead-list", get=V_CUST, post=M_CUST),
    api("lead-detail", LEADS, get=(V_CUST, crm.can_view_lead)),
    api("lead-contact", LEADS, post=(M_CUST, crm.can_manage_lead)),
    api("lead-convert", LEADS, post=(M_CUST, crm.can_manage_lead)),
    api("lead-lose", LEADS, post=(M_CUST, crm.can_manage_lead)),
    api("lead-qualify", LEADS, post=(M_CUST, crm.can_manage_lead)),
    api("activity-list", get=V_CUST, post=M_CUST),
    api("activity-detail", ACTIVITIES, get=(V_CUST, activity_visible)),
    api("revisit-list", get=V_CUST),
    api("plan-list", get=V_CUST, post=crm.can_manage_plans),
    api("plan-detail", PLANS, get=(V_CUST, plan_visible)),
    # market research
    api("competitor-list", get=V_MARKET, post=M_MARKET),
    api("competitor-detail", COMPETITORS, get=V_MARKET, patch=M_MARKET),
    api("intel-entry-list", get=V_MARKET, post=M_MARKET),
    api("intel-entry-detail", INTEL, get=V_MARKET, patch=M_MARKET),
    api("demand-record-list", get=V_MARKET, post=M_MARKET),
    api("demand-record-detail", DEMAND, get=V_MARKET, patch=M_MARKET),
    api("research-report-list", get=V_MARKET, post=M_MARKET),
    api("research-report-detail", REPORTS, get=V_MARKET, patch=M_MARKET),
    api("api-market-stale", get=V_MARKET),
    # order to cash
    api("inquiry-list", get=V_SALES, post=M_DOCS),
    api("inquiry-detail", INQUIRIES, get=(V_SALES, sal.can_view_doc)),
    api("inquiry-lose", INQUIRIES, post=(M_DOCS, sal.can_manage_doc)),
    api("inquiry-quote", INQUIRIES, post=(M_DOCS, sal.can_manage_doc)),
    api("quotation-list", get=V_SALES, post=M_DOCS),
    api("quotation-detail", QUOTATIONS, get=(V_SALES, sal.can_view_doc), patch=(M_DOCS, sal.can_manage_doc)),
    *[
        api(f"quotation-{step}", QUOTATIONS, post=(M_DOCS, sal.can_manage_doc))
        for step in ("accept", "cancel", "decline", "order", "revise", "send", "submit")
    ],
    api("quotation-copy", QUOTATIONS, post=(M_DOCS, sal.can_view_doc)),
    api("quotation-pdf", QUOTATIONS, get=(V_SALES, sal.can_view_doc)),
    api("sales-order-list", get=V_SALES, post=M_DOCS),
    api("sales-order-detail", ORDERS, get=(V_SALES, sal.can_view_doc), patch=(M_DOCS, sal.can_manage_doc)),
    *[api(f"sales-order-{step}", ORDERS, post=(M_DOCS, sal.can_manage_doc)) for step in ("amend", "cancel", "submit")],
    api("sales-order-close-short", ORDERS, post=(sal.can_manage_deliveries, sal.can_view_doc)),
    api("sales-order-credit-release", ORDERS, post=(M_RECV, sal.can_view_doc)),
    api("sales-order-reserve-rest", ORDERS, post=(sal.can_review_orders, sal.can_view_doc)),
    api(
        "sales-order-review",
        ORDERS,
        get=(sal.can_open_review, sal.can_view_doc),
        post=(sal.can_review_orders, sal.can_view_doc),
    ),
    api("approval-list", get=sal.can_approve),
    api("approval-decide", APPROVAL_STEPS, post=(sal.can_approve, approvable)),
    api("approval-policy-list", get=sal.can_manage_policies, post=sal.can_manage_policies),
    api("approval-policy-detail", APPROVAL_POLICIES, get=sal.can_manage_policies, patch=sal.can_manage_policies),
    api("delivery-list", get=V_SALES, post=sal.can_manage_deliveries),
    api("delivery-detail", DELIVERIES, get=(V_SALES, of_order(sal.can_view_doc))),
    api("delivery-cancel", DELIVERIES, post=(sal.can_manage_deliveries, of_order(sal.can_view_doc))),
    api("delivery-receive", DELIVERIES, post=(sal.can_manage_deliveries, of_order(sal.can_view_doc))),
    api("delivery-ship", DELIVERIES, post=(sal.can_manage_deliveries, of_order(sal.can_view_doc))),
    api("delivery-pdf", DELIVERIES, get=(V_SALES, of_order(sal.can_view_doc))),
    api("receivable-list", get=V_RECV),
    api("receivable-aging", get=V_RECV),
    api("receivable-detail", INVOICES, get=(V_RECV, sal.can_view_receivable)),
    api("receivable-issue", INVOICES, post=M_RECV),
    api("receivable-write-off", INVOICES, post=M_RECV),
    api("payment-list", get=V_RECV, post=M_RECV),
    api("payment-detail", PAYMENTS, get=(V_RECV, sal.can_view_payment)),
    api("payment-allocate", PAYMENTS, post=M_RECV),
    api("customer-return-list", get=V_SALES, post=sal.can_manage_returns),
    api("customer-return-detail", RETURNS, get=(V_SALES, return_visible)),
    api("credit-note-list", get=V_RECV),
    api("credit-note-detail", CREDIT_NOTES, get=(V_RECV, credit_note_visible)),
    api("reconciliation-list", get=sal.can_reconcile),
    # contracts
    api("contract-list", get=V_CON, post=M_CON),
    api("contract-detail", CONTRACTS, get=(V_CON, con.can_view_contract), patch=(M_CON, con.can_manage_contract)),
    *[
        api(f"contract-{step}", CONTRACTS, post=(M_CON, con.can_manage_contract))
        for step in ("amend", "cancel", "fulfil", "link-order", "sign", "submit", "terminate", "unlink-order")
    ],
    api("contract-comment", CONTRACTS, post=(con.can_review_contracts, con.can_review_contract)),
    api("contract-review", CONTRACTS, post=(con.can_review_contracts, con.can_review_contract)),
    *[
        api(f"contract-{view}", CONTRACTS, get=(V_CON, con.can_view_contract))
        for view in ("fulfilment", "history", "versions", "pdf")
    ],
    api("contract-diff", AMENDED_CONTRACTS, get=(V_CON, con.can_view_contract)),
    api("contract-template-list", get=V_CON, post=con.can_manage_templates),
    api("contract-template-detail", TEMPLATES, get=V_CON),
    api("contract-template-active", TEMPLATES, post=con.can_manage_templates),
    api("contract-template-revise", TEMPLATES, post=con.can_manage_templates),
    api("contract-dispute-list", get=V_CON, post=con.can_manage_disputes),
    api("contract-dispute-detail", DISPUTES, get=(V_CON, dispute_visible)),
    *[
        api(f"contract-dispute-{step}", DISPUTES, post=(con.can_manage_disputes, con.can_manage_dispute))
        for step in ("actions", "close", "reopen", "resolve")
    ],
    api("contract-risk-list", get=V_CON),
    api("contract-risk-evaluate", post=con.can_set_risk_policy),
    api("contract-risk-detail", RISK_WARNINGS, get=(V_CON, warning_visible)),
    api("contract-risk-acknowledge", RISK_WARNINGS, post=(V_CON, con.can_acknowledge_warning)),
    api("contract-review-queue-list", get=con.can_review_contracts),
    api("api-contract-risk-policy", get=V_CON, patch=con.can_set_risk_policy),
    # after-sales
    api("complaint-list", get=V_COMPL, post=M_COMPL),
    api("complaint-detail", COMPLAINTS, get=(V_COMPL, svc.can_view_complaint)),
    *[
        api(f"complaint-{step}", COMPLAINTS, post=(M_COMPL, svc.can_manage_complaint))
        for step in ("actions", "assign", "confirm", "reopen", "resolve", "credit", "replace", "return-goods")
    ],
    api("complaint-hold-lot", COMPLAINTS, post=(svc.can_recall, svc.can_view_complaint)),
    api("complaint-recall", COMPLAINTS, post=(svc.can_recall, svc.can_view_complaint)),
    api("complaint-remedies", COMPLAINTS, get=(V_COMPL, svc.can_view_complaint)),
    api("complaint-remedy-issue", API_REMEDIES, post=M_RECV),
    api("recall-list", get=svc.can_trace_lots, post=svc.can_recall),
    api("recall-trace", get=svc.can_trace_lots),
    api("recall-detail", RECALLS, get=svc.can_trace_lots),
    api("recall-close", RECALLS, post=svc.can_recall),
    api("recall-returns", RECALLS, post=svc.can_recall),
    api("survey-list", get=svc.can_manage_surveys, post=svc.can_manage_surveys),
    api(
        "survey-detail",
        SURVEYS,
        get=svc.can_manage_surveys,
        put=svc.can_manage_surveys,
        patch=svc.can_manage_surveys,
    ),
    api("survey-send", SURVEYS, post=svc.can_manage_surveys),
    api("survey-result-list", get=V_COMPL),
    api("service-revisit-list", get=V_COMPL),
    api("service-revisit-detail", REVISITS, get=(V_COMPL, revisit_visible)),
    api("service-revisit-done", REVISITS, post=(V_COMPL, revisit_doable)),
    api("complaint-rate-list", get=V_COMPL),
    api("sla-policy-list", get=V_COMPL),
    api("sla-policy-detail", SLA_POLICIES, get=V_COMPL, put=svc.can_manage_sla, patch=svc.can_manage_sla),
    Entry(
        "service-hours-detail",
        {"get": Rule(V_COMPL), "put": Rule(svc.can_manage_sla), "patch": Rule(svc.can_manage_sla)},
        kwargs={"pk": "current"},
    ),
    api("holiday-list", get=V_COMPL, post=svc.can_manage_sla),
    api("holiday-detail", HOLIDAYS, get=V_COMPL, delete=svc.can_manage_sla),
    api("suggestion-list", get=svc.can_suggest, post=svc.can_suggest),
    api("suggestion-summary", get=svc.can_manage_suggestions),
    api("suggestion-detail", SUGGESTIONS, get=svc.can_suggest),
    *[
        api(f"suggestion-{step}", SUGGESTIONS, post=svc.can_manage_suggestions)
        for step in ("decide", "implemented", "review")
    ],
    # analysis and performance
    api("analytics-revenue-list", get=ana.can_view_sales),
    api("analytics-trend-list", get=ana.can_view_sales),
    api("analytics-customers-list", get=ana.can_view_sales),
    api("analytics-receivables-list", get=ana.can_view_finance),
    api("analytics-service-list", get=ana.can_view_service),
    api("sales-target-list", get=ana.can_view_sales, post=ana.can_manage_targets),
    api(
        "sales-target-detail",
        SALES_TARGETS,
        put=(ana.can_manage_targets, target_in_scope(ana.MANAGE_TARGETS)),
        delete=(ana.can_manage_targets, target_in_scope(ana.MANAGE_TARGETS)),
    ),
    api("scorecard-list", get=ana.can_see_scorecards),
    api("scorecard-compute", post=ana.can_appraise),
    api("scorecard-detail", SCORECARDS, get=(ana.can_see_scorecards, scorecard_visible)),
    api("scorecard-review", SCORECARDS, post=(ana.can_appraise, appraisable)),
    api("scorecard-finalise", SCORECARDS, post=(ana.can_appraise, appraisable)),
    api("kpi-scheme-list", get=ana.can_see_schemes),
    api("kpi-scheme-detail", KPI_SCHEMES, get=ana.can_see_schemes),
    api("monitoring-stage-list", get=ana.can_view_process),
    api("monitoring-breach-list", get=ana.can_view_process),
]

ENTRIES: list[Entry] = [*WEB, *API]
BY_NAME: dict[str, Entry] = {entry.name: entry for entry in ENTRIES}
TARGETS: list[Target] = sorted({e.target for e in ENTRIES if e.target is not None}, key=lambda t: t.key)
