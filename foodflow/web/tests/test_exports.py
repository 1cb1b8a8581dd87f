"""The Excel export of the audit log, over HTTP on the real database: exactly the entries the
page lists under the same filters, newest first, with translated headers (Chinese by default)
and cells a spreadsheet cannot run; the export is itself audited (after the file is read, so it
is not in it), and whoever may not read the log gets a 403."""

import json
from datetime import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from foodflow.core.audit import audit_record
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.web import views

pytestmark = pytest.mark.django_db

FORMULA = "=cmd|' /C calc'!A0"


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def test_the_audit_export_gives_the_listed_entries_of_the_filter(client_of, admin_user, rep):
    first = audit_record(
        action="test.price_changed",
        actor=rep,
        object_type="catalog.product",
        object_id=7,
        object_repr=FORMULA,
        changes={"price": ["60.00", "58.00"], "备注": "促销"},
        ip_address="10.0.0.8",
    )
    second = audit_record(action="test.price_changed", actor=admin_user, object_type="catalog.product", object_id=8)
    audit_record(action="test.stock_moved", actor=rep, object_type="inventory.lot", object_id=3)
    client = client_of(admin_user)
    params = {"action": "price_changed"}

    rows = sheet_rows(client.get(reverse("web:audit_export"), params))

    with translation.override("zh-hans"):
        assert rows[0] == tuple(str(label) for label, _value in views.AUDIT_EXPORT_COLUMNS)
    on_page = client.get(reverse("web:audit"), params).context["page"].object_list
    assert [entry.seq for entry in on_page] == [second.seq, first.seq]  # newest first
    assert [row[0] for row in rows[1:]] == [second.seq, first.seq]
    _seq, at, actor, action, object_type, object_id, obj, changes, ip = rows[2]
    assert (actor, action, object_type, object_id) == (rep.username, "test.price_changed", "catalog.product", "7")
    assert obj == "'" + FORMULA  # never run as a formula
    assert json.loads(changes) == {"price": ["60.00", "58.00"], "备注": "促销"} and ip == "10.0.0.8"
    assert isinstance(at, datetime)
    # the export's own entry, appended after the rows were read
    entry = AuditEntry.objects.get(action="core.audit_exported")
    assert entry.seq > second.seq and entry.actor == admin_user
    assert entry.changes == {"count": 2, "filters": {"action": "price_changed"}}


def test_who_may_not_read_the_audit_log_may_not_export_it(client_of, rep):
    response = client_of(rep).get(reverse("web:audit_export"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="core.audit_exported").exists()


def test_the_export_button_keeps_the_filters_but_not_the_page(client_of, admin_user):
    page = client_of(admin_user).get(reverse("web:audit"), {"actor": "boss", "page": "3"}).content.decode()

    assert f'href="{reverse("web:audit_export")}?actor=boss" data-testid="export-audit"' in page
