"""Input is checked before it is kept: every text field of every form and API body has a length
limit its column can hold, over-long text and wrong types are refused with a clear error and
nothing saved, an uploaded file is judged by its content (a program or a web page under a PDF's,
a picture's or a workbook's name is refused on every upload endpoint), and no SQL is built
from anything but constants and our own table names."""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from django import forms
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import reverse
from openpyxl import Workbook
from rest_framework import serializers

import foodflow
from foodflow.contracts.tests.conftest import PDF_BYTES, cworld  # noqa: F401  (the fixture, shared)
from foodflow.core.api import QUERY_MAX_LENGTH
from foodflow.core.forms import TEXT_MAX_LENGTH, BoundedTextMixin
from foodflow.sales.tests.conftest import world  # noqa: F401  (the fixture, shared)

FOODFLOW = Path(foodflow.__file__).parent


def _modules():
    """Every module of FoodFlow but tests, their helpers (``foodflow.testing``), migrations and
    the production settings (they need a secret), imported: so every form and serializer exists."""
    for info in pkgutil.walk_packages(foodflow.__path__, "foodflow."):
        if re.search(r"\.(tests|migrations)(\.|$)|settings\.production$|^foodflow\.testing", info.name):
            continue
        yield importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls) -> bool:
    return cls.__module__.startswith("foodflow.") and ".tests" not in cls.__module__


def _column_limits() -> dict[tuple[str, str], list[int]]:
    """(app, column name) → the limits of the text columns of that name in that app's models (a
    TextField's is ``TEXT_MAX_LENGTH``: what the forms and the API let into it)."""
    limits: dict[tuple[str, str], list[int]] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.TextField):
                limits.setdefault((model._meta.app_label, field.name), []).append(TEXT_MAX_LENGTH)
            elif isinstance(field, models.CharField):
                limits.setdefault((model._meta.app_label, field.name), []).append(field.max_length)
    return limits


def _app_of(cls) -> str:
    return cls.__module__.split(".")[1]


# --- length limits: forms ---------------------------------------------------------------------------


def test_every_text_field_of_every_form_has_a_limit_its_column_can_hold():
    list(_modules())
    limits = _column_limits()
    classes = [cls for cls in _subclasses(forms.BaseForm) if _ours(cls)]
    unbounded, too_long = [], []
    for cls in classes:
        for name, field in cls.base_fields.items():
            if not isinstance(field, forms.CharField):
                continue
            if field.max_length is None and not issubclass(cls, BoundedTextMixin):
                unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
            limit = field.max_length or TEXT_MAX_LENGTH
            # a field of a plain form is matched with the columns of its name in its app: a
            # limit none of them can hold is one no service could save (PostgreSQL refuses it)
            columns = limits.get((_app_of(cls), name))
            if columns and limit > max(columns):
                too_long.append(f"{cls.__module__}.{cls.__name__}.{name}: {limit} > {max(columns)}")

    assert len(classes) > 100
    assert not unbounded, unbounded
    assert not too_long, too_long


def test_text_fields_a_form_adds_after_it_is_made_get_the_limit_too():
    from foodflow.analytics.views_targets import SchemeForm
    from foodflow.contracts.forms_contracts import ClausesForm

    clause = SimpleNamespace(pk=7, key="quality", title="质量", body="", editable=True)
    made = [
        ClausesForm({"clause_7": "长" * (TEXT_MAX_LENGTH + 1)}, clauses=[clause]),
        SchemeForm({"name": "方案", "period": "month", "bands_sales": "长" * (TEXT_MAX_LENGTH + 1)}),
    ]
    for form in made:
        assert not form.is_valid()
        texts = [field for field in form.fields.values() if isinstance(field, forms.CharField)]
        assert texts and all(field.max_length for field in texts), type(form)
    assert "clause_7" in made[0].errors and "bands_sales" in made[1].errors


# --- length limits: the API -------------------------------------------------------------------------

UNBOUNDED_FORMATS = {"date", "date-time", "time", "duration", "decimal", "uuid", "binary", "byte"}


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    with django_db_blocker.unblock():
        schema = generator.get_schema(request=None, public=True)
    return schema, generator.registry


def _strings(schema: dict, components: dict, path: str, refs: set):
    """(path, schema) of every writable free-text string in a request body's schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        refs.add(name)
        schema = components[name]
    if schema.get("readOnly"):
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            yield from _strings(part, components, path, refs)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        for name, part in schema.get("properties", {}).items():
            yield from _strings(part, components, f"{path}.{name}", refs)
        if isinstance(schema.get("additionalProperties"), dict):
            yield from _strings(schema["additionalProperties"], components, f"{path}.*", refs)
    elif kind == "array":
        yield from _strings(schema.get("items", {}), components, f"{path}[]", refs)
    elif kind == "string" and "enum" not in schema and schema.get("format") not in UNBOUNDED_FORMATS:
        yield from [] if _bounded_pattern(schema.get("pattern", "")) else [(path, schema)]


def _bounded_pattern(pattern: str) -> bool:
    """A pattern that holds the whole text to a few characters (``^\\d{2}:\\d{2}$``)."""
    return pattern.startswith("^") and pattern.endswith("$") and not re.search(r"[*+]|\{\d*,\}", pattern)


def _writable_texts(serializer, prefix=""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.BaseSerializer):
            yield from _writable_texts(field, f"{prefix}{name}.")
            continue
        if isinstance(field, serializers.ListField | serializers.DictField):
            field = field.child
        if isinstance(field, serializers.CharField):
            yield f"{prefix}{name}", field, serializer


def test_every_text_in_every_api_body_has_a_limit_its_column_can_hold(api_schema):
    schema, registry = api_schema
    components = schema["components"]["schemas"]
    unbounded, refs, bodies = [], set(), 0
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                bodies += 1
                for path, text in _strings(content["schema"], components, "", refs):
                    if text.get("maxLength") is None or text["maxLength"] > TEXT_MAX_LENGTH:
                        unbounded.append(f"{method.upper()} {route} {path}: {text.get('maxLength')}")
    # the serializers of those bodies: a limit no column of the field's name can hold is one no
    # service could save (a model serializer's field is matched with its own column)
    limits, too_long = _column_limits(), []
    for (name, kind), component in registry._components.items():
        if kind != "schemas" or name not in refs or not isinstance(component.object, serializers.BaseSerializer):
            continue
        for path, field, owner in _writable_texts(component.object):
            model = getattr(getattr(owner, "Meta", None), "model", None)
            if model is not None:
                column = next((f for f in model._meta.concrete_fields if f.name == field.source), None)
                columns = (
                    [TEXT_MAX_LENGTH if isinstance(column, models.TextField) else column.max_length]
                    if (isinstance(column, models.CharField | models.TextField))
                    else []
                )
            else:
                columns = limits.get((_app_of(type(owner)), field.source), [])
            if columns and (field.max_length or TEXT_MAX_LENGTH) > max(columns):
                too_long.append(f"{name}.{path}: {field.max_length} > {max(columns)}")

    assert bodies > 100
    assert not unbounded, unbounded
    assert not too_long, too_long


def test_search_and_ordering_of_every_api_list_are_bounded(api_schema):
    schema, _registry = api_schema
    parameters = [
        (route, parameter)
        for route, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] in ("q", "search", "ordering")
    ]
    assert len(parameters) > 50
    unbounded = [
        f"{route} {p['name']}"
        for route, p in parameters
        if not ("enum" in p["schema"] or 0 < p["schema"].get("maxLength", 0) <= QUERY_MAX_LENGTH)
    ]
    assert not unbounded, unbounded


@pytest.mark.django_db
def test_over_long_search_or_ordering_gets_400_query_too_long(make_user, client_of):
    client = client_of(make_user("rep"))
    for name in ("search", "ordering"):
        fitting = client.get("/api/v1/orders/", {name: "x" * QUERY_MAX_LENGTH})
        assert fitting.status_code == 200, (name, fitting.content)
        response = client.get("/api/v1/orders/", {name: "x" * (QUERY_MAX_LENGTH + 1)})
        assert response.status_code == 400, name
        body = response.json()
        assert body["code"] == "query_too_long" and body["message"] and name in body["fields"], body


# --- over-long text and wrong types ------------------------------------------------------------------

TOO_LONG = "长" * (TEXT_MAX_LENGTH + 1)
# a well-formed address its column (254) cannot hold
LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".cn"


def _form_errors(response) -> set[str]:
    assert response.status_code in (200, 400), response.status_code
    return set(response.context["form"].errors)


@pytest.mark.django_db
def test_forms_refuse_over_long_text_and_wrong_types_and_save_nothing(world, admin_user, make_user, client_of):  # noqa: F811
    from foodflow.accounts.models import OrgUnit, User
    from foodflow.crm.models import Customer, Lead
    from foodflow.service.models import Complaint

    east = OrgUnit.objects.get(code="EAST")
    manager = client_of(world.manager)
    customer = {"name": "长" * 201, "channel": "ka", "region": east.pk, "owner": world.rep.pk, "status": "prospect"}
    customer |= {"min_shelf_life_days": "三十", "preferences": TOO_LONG}
    lead = {"company": "杭州新店", "source": "referral", "channel": "ka", "region": east.pk, "notes": TOO_LONG}
    user = {"username": "new_user", "email": LONG_EMAIL, "password": "Correct-Horse-42", "full_name": "长" * 101}
    complaint = {"channel": "phone", "category": "quality", "severity": "medium", "description": TOO_LONG}
    complaint |= {"contact_phone": "1" * 33}
    service = client_of(make_user("service", unit="HQ"))

    refused = {
        "customer": _form_errors(manager.post(reverse("crm:customer_create"), customer)),
        "lead": _form_errors(manager.post(reverse("crm:lead_create"), lead)),
        "user": _form_errors(client_of(admin_user).post(reverse("accounts:user_create"), user)),
        "complaint": _form_errors(service.post(reverse("service:complaint_new"), complaint)),
    }

    assert refused == {
        "customer": {"name", "min_shelf_life_days", "preferences"},
        "lead": {"notes"},
        "user": {"email", "full_name"},
        "complaint": {"description", "contact_phone"},
    }
    assert not Customer.objects.exclude(pk=world.customer.pk).exists()
    assert not Lead.objects.exists() and not Complaint.objects.exists()
    assert not User.objects.filter(username="new_user").exists()
    # the same forms take the same values within their limits
    lead["notes"] = "长" * TEXT_MAX_LENGTH
    assert manager.post(reverse("crm:lead_create"), lead).status_code == 302
    assert len(Lead.objects.get().notes) == TEXT_MAX_LENGTH


@pytest.mark.django_db
def test_the_api_refuses_over_long_text_and_wrong_types_with_400_invalid_and_saves_nothing(world, make_user, client_of):  # noqa: F811
    from foodflow.accounts.models import OrgUnit
    from foodflow.crm.models import Customer, Lead
    from foodflow.sales.models import Quotation
    from foodflow.service.models import Complaint, Survey

    east = OrgUnit.objects.get(code="EAST")
    manager = client_of(world.manager)
    service = client_of(make_user("service", unit="HQ"))
    surveys_before = Survey.objects.count()
    line = {"product": world.milk.pk, "quantity": "10"}
    calls = [
        (
            manager,
            "/api/v1/customers/",
            {
                "name": "长" * 201,
                "channel": "ka",
                "region": east.pk,
                "preferences": TOO_LONG,
                "min_shelf_life_days": "三十",
            },
        ),
        (
            manager,
            "/api/v1/leads/",
            {"company": "杭州新店", "source": "referral", "channel": "ka", "region": east.pk, "notes": TOO_LONG},
        ),
        (
            manager,
            "/api/v1/quotations/",
            {
                "customer": world.customer.pk,
                "lines": [line],
                "notes": TOO_LONG,
                "valid_until": "下个月",
                "delivery_terms": "长" * 201,
            },
        ),
        (
            service,
            "/api/v1/complaints/",
            {
                "channel": "phone",
                "category": "quality",
                "severity": "medium",
                "description": TOO_LONG,
                "received_at": "昨天",
            },
        ),
        (service, "/api/v1/surveys/", {"name": "长" * 121, "trigger": "manual", "questions": [TOO_LONG]}),
    ]

    answers = {path: client.post(path, body, content_type="application/json") for client, path, body in calls}

    refused = {}
    for path, answer in answers.items():
        assert answer.status_code == 400, (path, answer.content[:300])
        assert answer.json()["code"] == "invalid" and answer.json()["message"], path
        refused[path] = set(answer.json()["fields"])
    assert refused == {
        "/api/v1/customers/": {"name", "preferences", "min_shelf_life_days"},
        "/api/v1/leads/": {"notes"},
        "/api/v1/quotations/": {"notes", "valid_until", "delivery_terms"},
        "/api/v1/complaints/": {"description", "received_at"},
        "/api/v1/surveys/": {"name", "questions"},
    }
    assert Customer.objects.count() == 1 and not Lead.objects.exists() and not Quotation.objects.exists()
    assert not Complaint.objects.exists() and Survey.objects.count() == surveys_before


# --- uploads: judged by content ---------------------------------------------------------------------

PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
WEB_PAGE = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# what a PDF, a picture, a workbook is called, and what it holds
DISGUISES = [("contract.pdf", PROGRAM), ("scan.png", WEB_PAGE), ("photo.jpg", PROGRAM), ("scan.pdf", WEB_PAGE)]
SHEET_DISGUISES = [("customers.xlsx", PROGRAM), ("customers.xlsx", WEB_PAGE), ("customers.csv", WEB_PAGE)]
# every form and serializer that takes a file, and the test that checks it
UPLOADS = {
    "crm.forms_market.IntelForm": "test_market_records_take_only_documents",
    "crm.forms_market.ReportForm": "test_market_records_take_only_documents",
    "contracts.forms_contracts.SignForm": "test_a_signed_scan_is_a_document_on_the_page_and_in_the_api",
    "contracts.api.ContractSignSerializer": "test_a_signed_scan_is_a_document_on_the_page_and_in_the_api",
    "imports.forms.NewImportForm": "test_an_import_takes_only_a_table",
}


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_every_upload_of_a_form_or_the_api_is_checked_here():
    list(_modules())
    found = set()
    for cls in [*_subclasses(forms.BaseForm), *_subclasses(serializers.Serializer)]:
        if not _ours(cls):
            continue
        fields = getattr(cls, "_declared_fields", None) or getattr(cls, "base_fields", {})
        if getattr(cls, "with_attachment", False) or any(
            isinstance(field, forms.FileField | serializers.FileField) for field in fields.values()
        ):
            found.add(f"{cls.__module__.removeprefix('foodflow.')}.{cls.__name__}")
    assert found == set(UPLOADS), "a new upload: check that it judges files by content, and add it to UPLOADS"


@pytest.mark.django_db
def test_market_records_take_only_documents(make_user, org, client_of):
    from foodflow.core.models import Attachment
    from foodflow.crm.models import Competitor, IntelEntry, ResearchReport

    analyst = make_user("analyst", unit="HQ")
    client = client_of(analyst)
    competitor = Competitor.objects.create(name="竞品乳业")
    common = {"refresh_days": 90, "owner": analyst.pk}
    records = {
        reverse("crm:intel_create"): {
            **common,
            "competitor": competitor.pk,
            "product": "纯牛奶 250ml",
            "channel": "ka",
            "region": org["EAST"].pk,
            "observed_on": date.today().isoformat(),
            "source": "门店",
        },
        reverse("crm:report_create"): {
            **common,
            "title": "华东市场月报",
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "summary": "概要",
        },
    }
    for path, fields in records.items():
        for name, content in DISGUISES:
            answer = client.post(path, {**fields, "attachment": upload(name, content)})
            assert answer.status_code == 200 and answer.context["form"].errors, (path, name)
    assert not Attachment.objects.exists() and not IntelEntry.objects.exists() and not ResearchReport.objects.exists()
    for path, fields in records.items():
        assert client.post(path, {**fields, "attachment": upload("扫描件.png", PICTURE)}).status_code == 302
    kept = [record.attachment.content_type for record in [IntelEntry.objects.get(), ResearchReport.objects.get()]]
    assert kept == ["image/png", "image/png"]


@pytest.mark.django_db
def test_a_signed_scan_is_a_document_on_the_page_and_in_the_api(cworld, client_of):  # noqa: F811
    from foodflow.core.models import Attachment

    client = client_of(cworld.admin)
    on_page, in_api = cworld.approved(), cworld.approved()
    fields = {"signed_on": date.today().isoformat(), "our_signatory": "王经理", "customer_signatory": "李总"}
    page, api = reverse("contracts:sign", args=[on_page.pk]), f"/api/v1/contracts/{in_api.pk}/sign/"
    for name, content in DISGUISES:
        answer = client.post(page, {**fields, "scan": upload(name, content)})
        assert answer.status_code == 400 and answer.context["form"].errors, name
        answer = client.post(api, {**fields, "scan": upload(name, content)})
        assert answer.status_code == 400 and answer.json()["code"] == "file_type_not_allowed", name
    on_page.refresh_from_db()
    in_api.refresh_from_db()
    assert (on_page.state, in_api.state, Attachment.objects.count()) == ("approved", "approved", 0)
    assert client.post(page, {**fields, "scan": upload("合同.pdf", PDF_BYTES)}).status_code == 302
    assert client.post(api, {**fields, "scan": upload("合同.pdf", PDF_BYTES)}).status_code == 200
    on_page.refresh_from_db()
    in_api.refresh_from_db()
    assert on_page.scan.content_type == in_api.scan.content_type == "application/pdf"


@pytest.mark.django_db
def test_an_import_takes_only_a_table(admin_user, client_of):
    from foodflow.imports.models import ImportJob

    client = client_of(admin_user)
    for name, content in SHEET_DISGUISES:
        answer = client.post(reverse("imports:new"), {"kind": "customers", "file": upload(name, content)})
        assert answer.status_code == 200 and "file" in answer.context["form"].errors, name
    assert not ImportJob.objects.exists()
    book = Workbook()
    book.active.append(["客户编号", "客户名称"])
    book.active.append(["C-1", "上海联华超市"])
    workbook = io.BytesIO()
    book.save(workbook)
    for name, content in [
        ("customers.xlsx", workbook.getvalue()),
        ("客户.csv", "客户编号,客户名称\nC-1,联华\n".encode()),
    ]:
        assert (
            client.post(reverse("imports:new"), {"kind": "customers", "file": upload(name, content)}).status_code == 302
        )
    assert sorted(ImportJob.objects.values_list("file_format", flat=True)) == ["csv", "xlsx"]


# --- no SQL built from input --------------------------------------------------------------------------

SQL_CALLS = {"execute", "executemany", "executescript", "raw", "extra", "copy", "RawSQL", "RunSQL"}
# Places that build SQL from more than constants, each reviewed: what goes into the text is a
# model's table and column names (quoted by the backend), catalog names or counts of
# placeholders; every value is a parameter. (file, function) → why it is safe.
REVIEWED_SQL = {
    ("sales/history.py", "_insert_rows"): "a model's table and columns, quoted; values by COPY or parameters",
    ("sales/history.py", "_delivery_lines_insert"): "model tables and columns; one %s per id, ids as parameters",
    (
        "inventory/allocation.py",
        "_first_rows",
    ): "model tables, constant conditions, %s per warehouse; values as parameters",
    ("imports/kinds_sales.py", "_write_history"): "ANALYZE of two models' tables, quoted",
    ("analytics/rollup.py", "_bump"): "a summary model's table and columns, quoted; values as parameters",
    ("analytics/rollup.py", "rollup_rebuild"): "constant statements formatted with model tables and columns",
    (
        "analytics/rollup.py",
        "rollup_count_new",
    ): "constant statements, model tables, our temporary table; ids as parameters",
    ("core/backup.py", "_sqlite_states"): "table names read from sqlite_master, quoted by _quote",
    ("core/backup.py", "_postgres_states"): "table names read from the PostgreSQL catalog, quoted by _quote",
    ("core/backup.py", "_postgres_restore"): "table names read from the PostgreSQL catalog, quoted by _quote",
}
# the tests' own helpers (an app installed by the test settings only, reached by no request):
# they read and restore tables named by the database's catalogue, quoted (reviewed)
NOT_SERVED = ("testing/",)


class SqlSites(ast.NodeVisitor):
    """Calls that run SQL whose text is not a constant: an f-string, ``%``, ``+``, ``.format``
    or ``.join`` of anything but literals and UPPER_CASE constants, or a name assigned such."""

    def __init__(self, path: str):
        self.path, self.functions = path, []
        self.found: list[tuple[str, str, int]] = []

    def visit_FunctionDef(self, node):
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def assigned(self, name: str) -> list:
        """Every value the enclosing function assigns to ``name``."""
        statements = ast.walk(self.functions[-1]) if self.functions else ()
        kept = [s for s in statements if isinstance(s, ast.Assign | ast.AugAssign)]
        return [value for statement in kept for target, value in _targets(statement) if target == name]

    def visit_Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in SQL_CALLS:
            texts = node.args[:1] + [kw.value for kw in node.keywords if kw.arg in {"sql", "where", "select", "tables"}]
            if any(self.built(text) for text in texts):
                function = self.functions[-1].name if self.functions else "<module>"
                self.found.append((self.path, function, node.lineno))
        self.generic_visit(node)

    def built(self, node, depth: int = 0) -> bool:
        """Whether the SQL text ``node`` is made of more than constants."""
        if depth > 5:
            return True
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Name):
            if node.id.isupper():
                return False
            values = self.assigned(node.id)  # none: a parameter, anything
            return not values or any(self.built(value, depth + 1) for value in values)
        if isinstance(node, ast.List | ast.Tuple):
            return any(self.built(item, depth + 1) for item in node.elts)
        return True  # f-strings, %, +, .format(), .join(), calls: built from something


def _targets(statement):
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    for target in targets:
        if isinstance(target, ast.Name):
            # an augmented assignment (sql += …) builds the text further
            yield target.id, statement.value if isinstance(statement, ast.Assign) else ast.JoinedStr(values=[])


def test_no_sql_is_built_from_anything_but_constants_and_our_own_names():
    found = []
    for path in sorted(FOODFLOW.rglob("*.py")):
        relative = path.relative_to(FOODFLOW).as_posix()
        if "/tests/" in f"/{relative}" or relative.startswith(NOT_SERVED):
            continue
        sites = SqlSites(relative)
        sites.visit(ast.parse(path.read_text(), filename=relative))
        found += sites.found
    places = {(path, function) for path, function, _line in found}

    assert not places - set(REVIEWED_SQL), f"SQL built from more than constants: {sorted(places - set(REVIEWED_SQL))}"
    assert not set(REVIEWED_SQL) - places, f"reviewed places that no longer build SQL: {set(REVIEWED_SQL) - places}"


@pytest.mark.parametrize(
    ("source", "built"),
    [
        ("def f(cursor, name):\n    cursor.execute(f\"SELECT * FROM t WHERE name = '{name}'\")", True),
        ("def f(cursor, q):\n    sql = 'SELECT * FROM t WHERE q = ' + q\n    cursor.execute(sql)", True),
        ("def f(q):\n    return Customer.objects.raw('SELECT * FROM c WHERE n = %s' % q)", True),
        ("def f(qs, q):\n    return qs.extra(where=[\"name = '%s'\" % q])", True),
        ("def f(q):\n    return RawSQL('SELECT {}'.format(q), [])", True),
        ("def f(cursor, sql):\n    cursor.execute(sql)", True),
        ("def f(cursor, q):\n    cursor.execute('SELECT * FROM t WHERE q = %s', [q])", False),
        ("def f(cursor, q):\n    sql = 'SELECT * FROM t WHERE q = %s'\n    cursor.execute(sql, [q])", False),
        ("def f(cursor):\n    cursor.execute(HEALTH_QUERY)", False),
        ("def f(cursor, q):\n    sql = f'SELECT {q}'\n    sql = 'SELECT 1'\n    cursor.execute(sql)", True),
    ],
)
def test_the_sql_check_tells_built_sql_from_constant_sql(source, built):
    sites = SqlSites("example.py")
    sites.visit(ast.parse(source))
    assert bool(sites.found) is built


@pytest.mark.django_db
def test_an_order_numbered_by_a_previous_system_is_shown_and_taken_off_its_contract(cworld, client_of):  # noqa: F811
    """An order imported from a previous system keeps its number, slashes and all: the
    contract's page links it by that number (it answered 500 when the number had a slash)."""
    from foodflow.contracts.models import ContractOrder
    from foodflow.contracts.services import contract_link_order
    from foodflow.sales.models import SalesOrder

    contract = cworld.active()
    order = cworld.order()
    SalesOrder.objects.filter(pk=order.pk).update(number="SO/2019/001#2")
    order.refresh_from_db()
    contract_link_order(by=cworld.admin, contract=contract, order=order)
    client = client_of(cworld.admin)

    page = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert page.status_code == 200 and 'data-number="SO/2019/001#2"' in page.content.decode()
    answer = client.post(reverse("contracts:unlink_order", args=[contract.pk, order.number]))
    assert answer.status_code == 302 and not ContractOrder.objects.filter(order_number=order.number).exists()
