"""Importing customers' contacts: keyed by customer code and contact name, with the rules of
``contact_save`` (one primary contact per customer, only the customer's editors), Chinese or
English headers, all or nothing, and the same file twice changes nothing."""

import io

import pytest
from openpyxl import Workbook

from foodflow.accounts.models import OrgUnit
from foodflow.core.errors import DomainError
from foodflow.crm.models import Contact
from foodflow.crm.services import contact_save, customer_create
from foodflow.imports import services
from foodflow.imports.models import ImportJob

pytestmark = pytest.mark.django_db

HEADER_ZH = "客户编号,联系人,角色,职务,电话,手机,邮箱,微信,主要联系人"


def csv_bytes(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def run(by, data: bytes, *, name="contacts.csv"):
    job = services.job_create(by=by, kind="contacts", name=name, data=data)
    job = services.job_validate(by=by, job=job)
    return services.job_run(by=by, job=job)


def refused(by, data: bytes) -> list[tuple[int, str]]:
    job = services.job_validate(by=by, job=services.job_create(by=by, kind="contacts", name="bad.csv", data=data))
    assert job.state == ImportJob.State.INVALID
    with pytest.raises(DomainError) as error:
        services.job_run(by=by, job=job)
    assert error.value.code == "rows_invalid"
    return sorted((issue.row, issue.code) for issue in job.issues.all())


def counts(job) -> tuple[int, int, int]:
    return job.rows_created, job.rows_updated, job.rows_unchanged


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="importer")


@pytest.fixture
def customers(make_user):
    """Two customers of region EAST (one with a primary contact already) and one of SOUTH."""
    rep_east = make_user("rep", username="rep_east1")
    rep_south = make_user("rep", unit="SOUTH-1", username="rep_south1")
    made = {}
    for code, name, owner, region in [
        ("east_a", "上海联华超市", rep_east, "EAST"),
        ("east_b", "杭州便民食品商行", rep_east, "EAST"),
        ("south", "广州天河餐饮管理有限公司", rep_south, "SOUTH"),
    ]:
        made[code] = customer_create(
            by=None, name=name, channel="ka", region=OrgUnit.objects.get(code=region), owner=owner, status="active"
        )
    contact_save(by=None, customer=made["east_b"], name="老联系人", is_primary=True)
    return made


def rows_for(customers) -> list[str]:
    a, b = customers["east_a"].code, customers["east_b"].code
    return [
        f"{a},张伟,采购,采购经理,021-12345678,13800000001,zhang@example.com,zw001,是",
        f"{a},李娜,finance,,,13800000002,,,否",
        f"{b},王芳,Warehouse,仓库主管,0571-7654321,,,,1",
    ]


def test_a_file_with_chinese_headers_creates_the_contacts_and_again_changes_nothing(admin, customers):
    job = run(admin, csv_bytes(HEADER_ZH, rows_for(customers)))
    assert (job.state, counts(job)) == (ImportJob.State.DONE, (3, 0, 0))
    zhang = Contact.objects.get(name="张伟")
    assert (zhang.customer, zhang.role, zhang.title) == (customers["east_a"], "purchasing", "采购经理")
    # one phone field: both numbers kept, the mobile first
    assert (zhang.phone, zhang.email, zhang.wechat, zhang.is_primary) == (
        "13800000001 / 021-12345678",
        "zhang@example.com",
        "zw001",
        True,
    )
    assert Contact.objects.get(name="李娜").phone == "13800000002"
    # one primary contact per customer: the file's demotes the one that was there
    primaries = Contact.objects.filter(customer=customers["east_b"], is_primary=True)
    assert list(primaries.values_list("name", flat=True)) == ["王芳"]
    again = run(admin, csv_bytes(HEADER_ZH, rows_for(customers)))
    assert counts(again) == (0, 0, 3)
    assert Contact.objects.count() == 4
    moved = rows_for(customers)[1].replace("13800000002", "13900000002")
    assert counts(run(admin, csv_bytes(HEADER_ZH, [moved]))) == (0, 1, 0)
    assert Contact.objects.get(name="李娜").phone == "13900000002"


def test_an_excel_file_with_english_headers_reads_the_same(admin, customers):
    book = Workbook()
    book.active.append(["Customer code", "Contact name", "Contact title", "Phone", "E-mail", "Primary contact"])
    book.active.append([customers["south"].code, "Maria Anders", "Sales Representative", "030-0074321", "", "yes"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(admin, buffer.getvalue(), name="contacts.xlsx")
    assert counts(job) == (1, 0, 0)
    maria = Contact.objects.get(name="Maria Anders")
    assert (maria.customer, maria.title, maria.phone, maria.is_primary) == (
        customers["south"],
        "Sales Representative",
        "030-0074321",
        True,
    )


def test_wrong_contact_rows_are_refused_with_stable_codes_and_nothing_is_saved(admin, customers):
    a = customers["east_a"].code
    rows = [
        rows_for(customers)[0],
        "NO-SUCH,赵六,采购,,,,,,",  # unknown customer
        f"{a},钱七,厨师,,,,,,",  # unknown role
        f"{a},孙八,采购,,,,not-an-email,,",  # not an e-mail address
        f"{a},张伟,采购,,,,,,",  # the key again
        f"{a},周九,采购,,,,,,是",  # a second primary contact of the same customer
        f"{a},吴十,采购,,,,,,也许",  # not yes or no
        f"{a},,采购,,,,,,",  # no name
    ]
    assert refused(admin, csv_bytes(HEADER_ZH, rows)) == [
        (3, "unknown_customer"),
        (4, "unknown_role"),
        (5, "invalid_email"),
        (6, "duplicate_key"),
        (7, "two_primary_contacts"),
        (8, "not_boolean"),
        (9, "required"),
    ]
    assert Contact.objects.count() == 1  # the one that was there


def test_only_the_customers_editors_import_their_contacts(make_user, customers):
    # a manager of team EAST-1 who also sees every customer (as finance): edits EAST-1's customers only
    manager = make_user("manager", "finance", username="manager_east1")
    south = customers["south"].code
    rows = [rows_for(customers)[0], f"{south},陈一,采购,,,,,,"]
    assert refused(manager, csv_bytes(HEADER_ZH, rows)) == [(3, "customer_out_of_scope")]
    blind = make_user("manager", username="manager_blind")  # does not even see the SOUTH customer
    assert refused(blind, csv_bytes(HEADER_ZH, rows)) == [(3, "unknown_customer")]
    assert counts(run(manager, csv_bytes(HEADER_ZH, rows[:1]))) == (1, 0, 0)
    rep = make_user("rep", username="rep_no_import")
    with pytest.raises(DomainError) as error:
        services.job_create(by=rep, kind="contacts", name="x.csv", data=csv_bytes(HEADER_ZH, rows[:1]))
    assert error.value.code == "permission_denied"
    assert Contact.objects.count() == 2


@pytest.mark.postgres
def test_contacts_on_postgresql(admin, customers):
    assert counts(run(admin, csv_bytes(HEADER_ZH, rows_for(customers)))) == (3, 0, 0)
    assert counts(run(admin, csv_bytes(HEADER_ZH, rows_for(customers)))) == (0, 0, 3)
    assert Contact.objects.filter(customer=customers["east_b"], is_primary=True).count() == 1
