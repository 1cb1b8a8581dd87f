"""The Excel export of the user directory, over HTTP on the real database: exactly the users the
page lists under the same search, status and scope, with translated headers (Chinese by
default), cells a spreadsheet cannot run and an audit entry naming the filters; a user who may
not see the directory gets a 403 and nothing is audited."""

from datetime import datetime
from io import BytesIO

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from foodflow.accounts import views
from foodflow.accounts.models import Role
from foodflow.accounts.services import login_attempt
from foodflow.core.errors import DomainError
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def headers_in_chinese() -> tuple:
    with translation.override("zh-hans"):
        return tuple(str(label) for label, _value in views.USER_EXPORT_COLUMNS)


def by_column(row: tuple) -> dict:
    """A row by the source (English) names of its columns, to read it in a test."""
    with translation.override("en"):
        return dict(zip((str(label) for label, _value in views.USER_EXPORT_COLUMNS), row, strict=True))


def locked_out(user):
    """Wrong passwords until the account locks, as at the login page."""
    for _attempt in range(settings.FOODFLOW_LOGIN_MAX_FAILURES):
        with pytest.raises(DomainError):
            login_attempt(username=user.username, password="wrong")
    user.refresh_from_db()
    assert user.is_locked
    return user


def test_the_user_export_gives_the_listed_users_of_the_search_and_status(client_of, admin_user, make_user):
    locked = locked_out(make_user("rep", "manager", username="sales_locked", full_name="=1+2"))
    make_user("rep", username="sales_open", full_name="王五")
    admin = client_of(admin_user)
    params = {"q": "sales", "status": "locked"}

    rows = sheet_rows(admin.get(reverse("accounts:users_export"), params))

    assert rows[0] == headers_in_chinese()
    on_page = admin.get(reverse("accounts:users"), params).context["page"].object_list
    assert [user.username for user in on_page] == ["sales_locked"]
    assert len(rows) == 2
    row = by_column(rows[1])
    assert row["User name"] == "sales_locked" and row["Full name"] == "'=1+2"  # never run as a formula
    assert row["Org unit"] == str(locked.org_unit) and row["Last login"] is None
    assert isinstance(row["Joined"], datetime)
    with translation.override("zh-hans"):
        roles = [role.display_name for role in Role.objects.filter(code__in=["rep", "manager"]).order_by("id")]
        assert sorted(row["Roles"].split("、")) == sorted(roles)
        assert row["Status"] == translation.gettext("Locked")
    entry = AuditEntry.objects.get(action="accounts.users_exported")
    assert entry.actor == admin_user
    assert entry.changes == {"count": 1, "filters": {"q": "sales", "status": "locked", "sort": "username"}}


def test_a_manager_exports_only_the_users_of_the_team(client_of, make_user):
    manager = make_user("manager", unit="EAST-1", username="manager_east1")
    make_user("rep", unit="EAST-1", username="rep_east1")
    make_user("rep", unit="SOUTH-1", username="rep_south1")  # another region: out of scope
    client = client_of(manager)
    params = {"sort": "-username"}

    rows = sheet_rows(client.get(reverse("accounts:users_export"), params))

    on_page = [user.username for user in client.get(reverse("accounts:users"), params).context["page"].object_list]
    assert on_page == ["rep_east1", "manager_east1"]
    assert [row[0] for row in rows[1:]] == on_page


def test_a_rep_may_not_export_the_directory(client_of, rep):
    response = client_of(rep).get(reverse("accounts:users_export"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="accounts.users_exported").exists()


def test_the_export_button_keeps_the_search_but_not_the_page(client_of, admin_user):
    page = client_of(admin_user).get(reverse("accounts:users"), {"q": "sales", "page": "2"}).content.decode()

    assert f'href="{reverse("accounts:users_export")}?q=sales" data-testid="export-users"' in page
