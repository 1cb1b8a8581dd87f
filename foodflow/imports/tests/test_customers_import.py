"""Importing customers from CSV (UTF-8, GBK) and Excel, with Chinese or English headers: every row
checked with the customer rules first, all or nothing, the same file twice changes nothing, and
every kind of broken file gets a clear error with a stable code and stores nothing."""

import io

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from foodflow.core.errors import DomainError
from foodflow.core.exports import export_cell
from foodflow.core.models import AuditEntry
from foodflow.crm.models import Customer
from foodflow.imports import services
from foodflow.imports.models import ImportJob, MappingPreset

pytestmark = pytest.mark.django_db

HEADER_ZH = "客户编号,客户名称,渠道,大区,负责人,信用额度,账期天数"
ROWS = [
    "OLD-001,上海联华超市,ka,EAST,rep_east1,200000,30",
    "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,5000,0",
    "OLD-003,广州天河餐饮管理有限公司,food_service,SOUTH,rep_east1,80000.50,45",
]


def csv_bytes(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def run(by, data: bytes, *, name="customers.csv", valid_only=False, **kwargs):
    job = services.job_create(by=by, kind="customers", name=name, data=data, **kwargs)
    job = services.job_validate(by=by, job=job)
    return services.job_run(by=by, job=job, valid_only=valid_only)


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="importer")


@pytest.fixture
def rep_east1(make_user):
    return make_user("rep", username="rep_east1")


def test_a_utf8_file_with_chinese_headers_creates_the_customers_and_again_changes_nothing(admin, rep_east1):
    job = run(admin, csv_bytes(HEADER_ZH, ROWS))
    assert (job.state, job.rows_total, job.rows_created) == (ImportJob.State.DONE, 3, 3)
    stored = {c.code: c for c in Customer.objects.all()}
    assert set(stored) == {"OLD-001", "OLD-002", "OLD-003"}
    assert stored["OLD-002"].channel == "retail"  # the Chinese label of the channel
    assert stored["OLD-003"].region.code == "SOUTH"
    assert str(stored["OLD-003"].credit_limit) == "80000.50"
    assert stored["OLD-001"].owner == rep_east1
    again = run(admin, csv_bytes(HEADER_ZH, ROWS))
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert Customer.objects.count() == 3
    changed = run(admin, csv_bytes(HEADER_ZH, [ROWS[0].replace("200000", "250000")]))
    assert (changed.rows_created, changed.rows_updated) == (0, 1)
    assert AuditEntry.objects.filter(action="imports.imported").count() == 3


def test_a_gbk_file_and_an_excel_file_with_english_headers_read_the_same(admin, rep_east1):
    gbk = run(admin, csv_bytes(HEADER_ZH, ROWS, encoding="gbk"))
    assert (gbk.encoding, gbk.rows_created) == ("gbk", 3)
    book = Workbook()
    sheet = book.active
    sheet.append(["Customer code", "Name", "Channel", "Region", "Owner", "Credit limit", "Payment terms (days)"])
    sheet.append(["OLD-009", "Walmart Shenzhen", "KA", "EAST", "rep_east1", 1000, 30])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = run(admin, buffer.getvalue(), name="customers.xlsx")
    assert (xlsx.file_format, xlsx.rows_created) == ("xlsx", 1)
    assert Customer.objects.get(code="OLD-009").channel == "ka"


def problems(job):
    return sorted((issue.row, issue.code) for issue in job.issues.all())


def test_one_bad_row_stops_the_whole_file_and_the_report_says_where_and_why(admin, rep_east1):
    rows = [
        ROWS[0],
        "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,很多,0",  # not a number
        "OLD-003,,food_service,SOUTH,rep_east1,1,45",  # no name
        "OLD-004,某公司,telepathy,NORTH,nobody,1,45",  # unknown channel
        "OLD-001,重复的编号,ka,EAST,rep_east1,1,30",  # the key again
    ]
    job = services.job_create(by=admin, kind="customers", name="bad.csv", data=csv_bytes(HEADER_ZH, rows))
    job = services.job_validate(by=admin, job=job)
    assert (job.state, job.rows_invalid) == (ImportJob.State.INVALID, 4)
    assert problems(job) == [(3, "not_number"), (4, "required"), (5, "unknown_channel"), (6, "duplicate_key")]
    with pytest.raises(DomainError) as refused:
        services.job_run(by=admin, job=job)
    assert refused.value.code == "rows_invalid"
    assert Customer.objects.count() == 0
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    # the report: row, column, value, code, reason — in the reader's language
    with translation.override("zh-hans"):
        sheet = load_workbook(io.BytesIO(services.report_workbook(job))).active
    rows_of_report = list(sheet.iter_rows(values_only=True))
    assert rows_of_report[0] == ("行", "列", "数值", "编码", "原因")
    assert rows_of_report[1][:4] == (3, "信用额度", "很多", "not_number")


def test_importing_the_valid_rows_only_is_explicit_and_records_what_was_skipped(admin, rep_east1):
    rows = [ROWS[0], "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,很多,0", ROWS[2]]
    job = run(admin, csv_bytes(HEADER_ZH, rows), valid_only=True)
    assert (job.rows_created, job.rows_skipped) == (2, 1)
    assert set(Customer.objects.values_list("code", flat=True)) == {"OLD-001", "OLD-003"}
    entry = AuditEntry.objects.get(action="imports.imported")
    assert entry.changes["skipped_rows"] == [3]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "file_empty"),
        (b"\x00\x01\x02binary" * 100, "file_type"),
        ("客户编号,客户名称\n".encode("utf-16"), "file_type"),
        (b"PK\x03\x04 not really a workbook", "file_unreadable"),
        (b"\xff\xfe\xfa\xfb" * 10, "file_encoding"),
        ("客户编号,客户编号\nA,B\n".encode(), "duplicate_column"),
        (b"x" * (30 * 1024 * 1024 + 1), "file_too_large"),
    ],
)
def test_files_that_are_not_tables_are_refused_before_anything_is_stored(admin, data, code):
    with pytest.raises(DomainError) as refused:
        services.job_create(by=admin, kind="customers", name="x.csv", data=data)
    assert refused.value.code == code
    assert ImportJob.objects.count() == 0


def test_a_50_mb_file_is_refused_with_a_clear_error(admin):
    line = "OLD-{:07d},一家名字相当长的食品贸易有限公司,ka,EAST,rep_east1,1000,30\n"
    data = (HEADER_ZH + "\n").encode() + "".join(line.format(i) for i in range(640_000)).encode()
    assert len(data) > 50 * 1024 * 1024
    with pytest.raises(DomainError) as refused:
        services.job_create(by=admin, kind="customers", name="big.csv", data=data)
    assert refused.value.code == "file_too_large"
    assert (ImportJob.objects.count(), Customer.objects.count()) == (0, 0)


def test_a_header_without_rows_and_a_missing_required_column_are_refused(admin, rep_east1):
    job = services.job_create(by=admin, kind="customers", name="empty.csv", data=csv_bytes(HEADER_ZH, []))
    with pytest.raises(DomainError) as refused:
        services.job_validate(by=admin, job=job)
    assert refused.value.code == "no_rows"
    no_owner = services.job_create(
        by=admin, kind="customers", name="x.csv", data=csv_bytes("客户编号,客户名称,渠道,大区", ["A,甲,ka,EAST"])
    )
    assert "owner" not in no_owner.mapping
    with pytest.raises(DomainError) as refused:
        services.job_validate(by=admin, job=no_owner)
    assert (refused.value.code, list(refused.value.fields)) == ("missing_column", ["owner"])
    assert Customer.objects.count() == 0


def test_a_formula_in_a_cell_is_stored_as_text_and_exported_safely(admin, rep_east1, client_of):
    attack = "=cmd|' /C calc'!A0"
    run(admin, csv_bytes(HEADER_ZH, [f'OLD-001,"{attack}",ka,EAST,rep_east1,1,30']))
    assert Customer.objects.get(code="OLD-001").name == attack
    assert export_cell(attack) == "'" + attack
    response = client_of(admin).get("/crm/customers/export.xlsx")
    names = [row[1] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    assert "'" + attack in names or any(str(n).startswith("'=") for n in names)


def test_a_saved_mapping_reads_a_file_with_other_headers(admin, rep_east1):
    data = csv_bytes("ID,公司,Chan,Area,Who", ["OLD-100,天津某超市,ka,EAST,rep_east1"])
    job = services.job_create(by=admin, kind="customers", name="legacy.csv", data=data)
    mapping = {"code": "ID", "name": "公司", "channel": "Chan", "region": "Area", "owner": "Who"}
    services.job_map(by=admin, job=job, mapping=mapping, preset_name="旧系统客户")
    preset = MappingPreset.objects.get(kind="customers", name="旧系统客户")
    second = run(admin, data, preset=preset)
    assert (second.rows_created, Customer.objects.get(code="OLD-100").name) == (1, "天津某超市")


def test_people_without_the_right_may_not_import(make_user, rep_east1):
    rep = make_user("rep", username="rep_no_import")
    with pytest.raises(DomainError) as refused:
        services.job_create(by=rep, kind="customers", name="x.csv", data=csv_bytes(HEADER_ZH, ROWS))
    assert refused.value.code == "permission_denied"
