"""The import pages over HTTP: upload → mapping (the guess or a preset) → preview → check → import
(run inline here: ``IMPORTS_RUN_INLINE``), the problems and their report, all or nothing unless
the valid rows only are chosen explicitly, and who may see which job."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.crm.models import Customer
from foodflow.imports import services, tasks
from foodflow.imports.models import ImportJob, MappingPreset
from foodflow.imports.readers import MAX_BYTES

pytestmark = pytest.mark.django_db

HEADER_ZH = "客户编号,客户名称,渠道,大区,负责人,信用额度,账期天数"
ROWS = [
    "OLD-001,上海联华超市,ka,EAST,rep_east1,200000,30",
    "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,5000,0",
    "OLD-003,广州天河餐饮管理有限公司,food_service,SOUTH,rep_east1,80000.50,45",
]
BAD_ROW = "OLD-002,杭州便民食品商行,零售,EAST,rep_east1,很多,0"  # the credit limit is not a number
GUESS = {
    "code": "客户编号",
    "name": "客户名称",
    "channel": "渠道",
    "region": "大区",
    "owner": "负责人",
    "credit_limit": "信用额度",
    "payment_terms_days": "账期天数",
}


def csv_file(rows, header=HEADER_ZH, name="customers.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, ("\n".join([header, *rows]) + "\n").encode(encoding), content_type="text/csv")


def mapping_post(mapping, **extra):
    return {**{f"map_{field}": column for field, column in mapping.items()}, **extra}


@pytest.fixture
def inline_runs(settings):
    settings.IMPORTS_RUN_INLINE = True


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="importer")


@pytest.fixture
def rep_east1(make_user):
    return make_user("rep", username="rep_east1")


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="manager_east1")


def upload(client, rows, **kwargs):
    response = client.post("/imports/new/", {"kind": "customers", "file": csv_file(rows, **kwargs)})
    assert response.status_code == 302, response.content[:2000]
    return ImportJob.objects.latest("pk")


def count_of(response, name):
    return response.content.decode().count(f'data-testid="{name}"')


def test_a_csv_is_uploaded_mapped_checked_and_imported_through_the_pages(admin, rep_east1, client_of, inline_runs):
    client = client_of(admin)
    assert client.get("/imports/new/").status_code == 200
    job = upload(client, ROWS)
    assert (job.kind, job.state, job.created_by) == ("customers", ImportJob.State.UPLOADED, admin)

    # the mapping page: one select per field, prefilled from the guess; the preview as mapped
    page = client.get(f"/imports/{job.pk}/")
    assert page.status_code == 200
    form = page.context["form"]
    assert {name: form[f"map_{name}"].value() for name in GUESS} == GUESS
    assert form["map_status"].value() == ""
    assert count_of(page, "preview-row") == 3
    assert page.context["preview"]["rows"][0] == (
        2,
        ["OLD-001", "上海联华超市", None, "ka", "EAST", "rep_east1", None, "200000", "30", None, None],
    )

    # check the rows, saving the mapping as a preset
    checked = client.post(f"/imports/{job.pk}/", mapping_post(GUESS, preset_name="老系统客户"))
    assert checked.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.rows_total, job.rows_invalid) == (ImportJob.State.VALID, 3, 0)
    assert MappingPreset.objects.get(kind="customers", name="老系统客户").mapping == GUESS
    page = client.get(f"/imports/{job.pk}/")
    assert (count_of(page, "import-all"), count_of(page, "import-valid-only"), count_of(page, "issue-row")) == (1, 0, 0)

    # import: the run ends before the answer here, and the page shows its counts
    answer = client.post(f"/imports/{job.pk}/run/")
    assert answer.status_code == 302 and answer["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert (job.state, job.rows_created, job.rows_updated, job.rows_skipped) == (ImportJob.State.DONE, 3, 0, 0)
    assert set(Customer.objects.values_list("code", flat=True)) == {"OLD-001", "OLD-002", "OLD-003"}
    assert Customer.objects.get(code="OLD-002").channel == "retail"
    result = client.get(f"/imports/{job.pk}/")
    assert 'data-testid="count-created" data-value="3"' in result.content.decode()
    assert result.context["form"] is None and count_of(result, "import-progress") == 0
    # the run ended: the progress poll makes the page reload
    poll = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert poll.headers["HX-Refresh"] == "true"

    # a second file of the same customers, with the preset: nothing new
    preset = MappingPreset.objects.get(name="老系统客户")
    client.post("/imports/new/", {"kind": "customers", "preset": preset.pk, "file": csv_file(ROWS)})
    again = ImportJob.objects.latest("pk")
    assert (again.preset, again.mapping) == (preset, GUESS)
    client.post(f"/imports/{again.pk}/", mapping_post(GUESS))
    client.post(f"/imports/{again.pk}/run/")
    again.refresh_from_db()
    assert (again.rows_created, again.rows_unchanged, Customer.objects.count()) == (0, 3, 3)

    # the list: newest first, with its state and counts
    listing = client.get("/imports/")
    assert [job.pk for job in listing.context["page"]] == [again.pk, job.pk]
    assert count_of(listing, "job-row") == 2


@pytest.mark.parametrize(
    ("content", "code_message"),
    [
        (b"\x00\x01\x02binary" * 100, "This is not an Excel (.xlsx) or CSV file."),
        (b"\xff\xfe\xfa\xfb" * 10, "The file's text is neither UTF-8 nor GBK."),
        ("客户编号,客户编号\nA,B\n".encode(), "Two columns are named “%(name)s”."),
        (b",,\n1,2,3\n", "The first row must name the columns."),
    ],
)
def test_a_file_that_is_not_a_table_shows_the_error_on_the_field_and_stores_nothing(
    admin, client_of, content, code_message
):
    response = client_of(admin).post(
        "/imports/new/", {"kind": "customers", "file": SimpleUploadedFile("bad.csv", content)}
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):  # the page's language
        expected = gettext(code_message) % {"name": "客户编号"} if "%(name)s" in code_message else gettext(code_message)
    assert response.context["form"].errors["file"] == [expected]
    assert count_of(response, "field-error-file") == 1
    assert (ImportJob.objects.count(), Customer.objects.count()) == (0, 0)


def test_a_file_over_the_limit_is_refused_without_reading_it_all(admin, client_of):
    big = SimpleUploadedFile("big.csv", (HEADER_ZH + "\n").encode() + b"x" * (MAX_BYTES + 10))
    response = client_of(admin).post("/imports/new/", {"kind": "customers", "file": big})
    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert ImportJob.objects.count() == 0


def test_a_preset_of_another_kind_is_refused_on_its_field(admin, client_of):
    preset = MappingPreset.objects.create(kind="elsewhere", name="x", mapping={})
    form_page = client_of(admin).get("/imports/new/")
    assert preset not in form_page.context["form"].fields["preset"].queryset  # not offered
    response = client_of(admin).post(
        "/imports/new/", {"kind": "customers", "preset": preset.pk, "file": csv_file(ROWS)}
    )
    assert response.status_code == 200 and "preset" in response.context["form"].errors
    assert ImportJob.objects.count() == 0


def test_a_missing_required_column_is_shown_on_its_select_and_nothing_is_checked(admin, rep_east1, client_of):
    client = client_of(admin)
    job = upload(client, ["A,甲,ka,EAST"], header="客户编号,客户名称,渠道,大区")
    response = client.post(
        f"/imports/{job.pk}/", mapping_post({k: GUESS[k] for k in ("code", "name", "channel", "region")})
    )
    assert response.status_code == 200
    assert count_of(response, "field-error-owner") == 1 and count_of(response, "form-errors") == 1
    job.refresh_from_db()
    assert (job.state, job.rows_total) == (ImportJob.State.UPLOADED, 0)


def test_an_invalid_row_stops_the_import_unless_the_valid_rows_only_are_chosen(
    admin, rep_east1, client_of, inline_runs
):
    client = client_of(admin)
    job = upload(client, [ROWS[0], BAD_ROW, ROWS[2]])
    client.post(f"/imports/{job.pk}/", mapping_post(GUESS))
    job.refresh_from_db()
    assert (job.state, job.rows_total, job.rows_invalid) == (ImportJob.State.INVALID, 3, 1)
    page = client.get(f"/imports/{job.pk}/")
    html = page.content.decode()
    # no plain import; the valid-only import opens a confirmation first
    assert (count_of(page, "import-all"), count_of(page, "import-valid-only")) == (0, 1)
    assert count_of(page, "confirm-valid-only") == 1 and 'name="valid_only" value="True"' in html
    assert 'data-testid="issue-row" data-row="3" data-code="not_number"' in html
    client.post("/accounts/language/", {"language": "en", "next": "/imports/"})
    english = client.get(f"/imports/{job.pk}/").content.decode()
    assert "1 row with problems will be skipped; it stays in the report. Rows to be imported: 2." in english

    # all or nothing: the run is refused, nothing saved
    client.post(f"/imports/{job.pk}/run/")
    job.refresh_from_db()
    assert (job.state, Customer.objects.count()) == (ImportJob.State.FAILED, 0)
    failed = client.get(f"/imports/{job.pk}/")
    assert count_of(failed, "job-failed") == 1 and count_of(failed, "import-valid-only") == 1

    # the valid rows only, explicitly: the bad row is skipped and stays reported
    client.post(f"/imports/{job.pk}/run/", {"valid_only": "True"})
    job.refresh_from_db()
    assert (job.state, job.rows_created, job.rows_skipped, job.valid_only) == (ImportJob.State.DONE, 2, 1, True)
    assert set(Customer.objects.values_list("code", flat=True)) == {"OLD-001", "OLD-003"}
    done = client.get(f"/imports/{job.pk}/")
    assert 'data-testid="count-skipped" data-value="1"' in done.content.decode()
    assert 'data-testid="issue-row" data-row="3"' in done.content.decode()
    assert AuditEntry.objects.get(action="imports.imported").changes["skipped_rows"] == [3]
    # and it cannot be run again
    client.post(f"/imports/{job.pk}/run/", {"valid_only": "True"})
    assert ImportJob.objects.get(pk=job.pk).rows_created == 2 and Customer.objects.count() == 2


def test_the_report_download_is_an_excel_sheet_of_the_problems_and_is_audited(admin, rep_east1, client_of):
    client = client_of(admin)
    job = upload(client, [ROWS[0], BAD_ROW, "OLD-003,,food_service,SOUTH,rep_east1,1,45"])
    client.post(f"/imports/{job.pk}/", mapping_post(GUESS))
    response = client.get(f"/imports/{job.pk}/report.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    with translation.override("zh-hans"):  # the reader's language
        assert rows[0] == tuple(gettext(label) for label in ("Row", "Column", "Value", "Code", "Reason"))
    assert rows[0][4] == "原因"
    assert [row[:4] for row in rows[1:]] == [(3, "信用额度", "很多", "not_number"), (4, "客户名称", None, "required")]
    entry = AuditEntry.objects.get(action="imports.report_downloaded")
    assert (entry.actor, entry.object_id) == (admin, str(job.pk))


def test_the_problems_are_paginated(admin, rep_east1, client_of):
    client = client_of(admin)
    bad = [f"OLD-{n:03d},某店,telepathy,EAST,rep_east1,1,30" for n in range(60)]
    job = upload(client, bad)
    client.post(f"/imports/{job.pk}/", mapping_post(GUESS))
    first = client.get(f"/imports/{job.pk}/")
    second = client.get(f"/imports/{job.pk}/?page=2")
    assert (count_of(first, "issue-row"), count_of(second, "issue-row")) == (50, 10)
    assert count_of(first, "import-valid-only") == 0  # no valid row to import


@pytest.fixture
def admins_job(admin, rep_east1):
    data = ("\n".join([HEADER_ZH, *ROWS]) + "\n").encode()
    job = services.job_create(by=admin, kind="customers", name="c.csv", data=data)
    return services.job_validate(by=admin, job=job)


def job_urls(job):
    pk = job.pk
    return [
        ("get", f"/imports/{pk}/"),
        ("post", f"/imports/{pk}/"),
        ("get", f"/imports/{pk}/preview/"),
        ("post", f"/imports/{pk}/run/"),
        ("get", f"/imports/{pk}/progress/"),
        ("get", f"/imports/{pk}/report.xlsx"),
    ]


def test_a_rep_without_the_import_right_gets_403_on_every_page(rep_east1, admins_job, client_of):
    client = client_of(rep_east1)
    for method, url in [
        ("get", "/imports/"),
        ("get", "/imports/new/"),
        ("post", "/imports/new/"),
        *job_urls(admins_job),
    ]:
        assert getattr(client, method)(url).status_code == 403, url
    assert ImportJob.objects.get(pk=admins_job.pk).state == ImportJob.State.VALID


def test_another_users_job_is_not_found_for_a_non_admin(manager, admins_job, admin, make_user, client_of, inline_runs):
    client = client_of(manager)
    assert client.get("/imports/").status_code == 200
    assert list(client.get("/imports/").context["page"]) == []
    for method, url in job_urls(admins_job):
        assert getattr(client, method)(url).status_code == 404, url
    assert Customer.objects.count() == 0
    # the administrator sees everybody's jobs
    other = services.job_create(by=manager, kind="customers", name="m.csv", data=f"{HEADER_ZH}\n{ROWS[0]}\n".encode())
    listing = client_of(admin).get("/imports/")
    assert {job.pk for job in listing.context["page"]} == {admins_job.pk, other.pk}
    assert client_of(admin).get(f"/imports/{other.pk}/").status_code == 200
    assert client.get(f"/imports/{other.pk}/").status_code == 200


@pytest.fixture
def running_job(admins_job):
    """A run under way (another server process runs it): the job is importing, one row counted."""
    ImportJob.objects.filter(pk=admins_job.pk).update(state=ImportJob.State.IMPORTING, updated_at=timezone.now())
    cache.set(services.progress_key(admins_job.pk), 1, 60)
    yield admins_job
    cache.delete(services.progress_key(admins_job.pk))


def test_a_running_import_shows_its_progress_and_cannot_be_started_twice(admin, running_job, client_of, inline_runs):
    client = client_of(admin)
    page = client.get(f"/imports/{running_job.pk}/")
    assert count_of(page, "import-progress") == 1 and page.context["form"] is None
    assert count_of(page, "import-all") == 0 and count_of(page, "job-interrupted") == 0
    poll = client.get(f"/imports/{running_job.pk}/progress/", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "HX-Refresh" not in poll.headers
    assert 'data-done="1" data-total="3"' in poll.content.decode()
    # a poll answered by a process that has not the count shows what the page had seen
    cache.delete(services.progress_key(running_job.pk))
    poll = client.get(f"/imports/{running_job.pk}/progress/", {"seen": "2"}, headers={"HX-Request": "true"})
    assert 'data-done="2" data-total="3"' in poll.content.decode()
    # a second start (a double click) is refused: one run only
    client.post(f"/imports/{running_job.pk}/run/")
    assert (ImportJob.objects.get(pk=running_job.pk).state, Customer.objects.count()) == ("importing", 0)
    assert client.post(f"/imports/{running_job.pk}/").status_code == 302  # no re-check meanwhile
    assert ImportJob.objects.get(pk=running_job.pk).state == "importing"


def test_a_run_killed_with_its_server_can_be_started_again(admin, running_job, client_of, inline_runs):
    ImportJob.objects.filter(pk=running_job.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    client = client_of(admin)
    page = client.get(f"/imports/{running_job.pk}/")
    assert count_of(page, "job-interrupted") == 1 and count_of(page, "import-progress") == 0
    assert page.context["form"] is not None
    client.post(f"/imports/{running_job.pk}/run/")
    job = ImportJob.objects.get(pk=running_job.pk)
    assert (job.state, job.rows_created, Customer.objects.count()) == (ImportJob.State.DONE, 3, 3)


def test_a_run_refused_before_it_began_leaves_the_job_failed_not_importing(admins_job, rep_east1, inline_runs):
    assert tasks.import_start(job_id=admins_job.pk, user_id=rep_east1.pk) is True  # a rep may not import
    job = ImportJob.objects.get(pk=admins_job.pk)
    assert (job.state, Customer.objects.count()) == (ImportJob.State.FAILED, 0)
    assert job.message
    assert tasks.import_start(job_id=job.pk, user_id=rep_east1.pk) is True  # a failed job may start again
    assert tasks.import_start(job_id=ImportJob.objects.create(kind="customers").pk, user_id=rep_east1.pk) is False


def test_the_preview_follows_the_mapping_being_chosen(admin, admins_job, client_of):
    response = client_of(admin).get(f"/imports/{admins_job.pk}/preview/", {"map_code": "客户名称"})
    assert response.status_code == 200
    assert response.context["preview"]["rows"][0][1][0] == "上海联华超市"
    assert count_of(response, "preview-row") == 3


def test_the_jobs_list_takes_a_fixed_number_of_queries(admin, admins_job, client_of, django_assert_num_queries):
    data = f"{HEADER_ZH}\n{ROWS[0]}\n".encode()
    for number in range(5):
        services.job_create(by=admin, kind="customers", name=f"{number}.csv", data=data)
    client = client_of(admin)
    client.get("/imports/")
    with django_assert_num_queries(7):
        response = client.get("/imports/")
    assert count_of(response, "job-row") == 6
