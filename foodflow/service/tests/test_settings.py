"""The service settings: the SLA of each severity, the desk's hours and the holiday calendar,
through the services, the page (administrators only) and the API. A change applies to the
complaints logged afterwards and leaves the deadlines already set alone; every change is
audited, every refusal names its field."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from foodflow.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.service.models import Holiday, ServiceHours, SlaPolicy
from foodflow.service.services import sla_deadlines
from foodflow.service.settings_services import (
    holiday_add,
    holiday_delete,
    service_hours_save,
    sla_policy_save,
)
from foodflow.service.tests.conftest import at

pytestmark = pytest.mark.django_db

FRIDAY_5PM = at(2026, 11, 20, 17)  # one business hour left on Friday
JSON = "application/json"


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="settings_admin")


def refusal(call) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as error:
        call()
    return error.value


def audit_actions(prefix: str = "service.") -> list[str]:
    return list(AuditEntry.objects.filter(action__startswith=prefix).order_by("seq").values_list("action", flat=True))


# --- service levels --------------------------------------------------------------------------------


def test_a_new_service_level_applies_to_complaints_logged_afterwards_only(sworld, admin):
    before = sworld.complaint(severity="high", received_at=FRIDAY_5PM)
    assert timezone.localtime(before.response_due) == at(2026, 11, 23, 12)  # 4 h: 1 on Friday, 3 on Monday

    policy = sla_policy_save(by=admin, severity="high", response_hours="2", resolution_hours="10.5", warn_minutes=45)

    assert (policy.response_hours, policy.resolution_hours, policy.warn_minutes) == (
        Decimal("2.00"),
        Decimal("10.50"),
        45,
    )
    after = sworld.complaint(severity="high", received_at=FRIDAY_5PM)
    assert timezone.localtime(after.response_due) == at(2026, 11, 23, 10)  # 1 h Friday + 1 h Monday
    assert timezone.localtime(after.resolution_due) == at(2026, 11, 24, 9, 30)  # 1 + 9 (Mon) + 0.5 (Tue)
    before.refresh_from_db()
    assert timezone.localtime(before.response_due) == at(2026, 11, 23, 12)  # unchanged
    entry = AuditEntry.objects.get(action="service.sla_saved")
    assert entry.actor == admin
    assert entry.changes["severity"] == "high"
    assert entry.changes["response_hours"] == ["4.00", "2.00"]
    assert entry.changes["warn_minutes"] == [60, 45]


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"response_hours": "0"}, "sla_invalid", "response_hours"),
        ({"response_hours": "-1"}, "sla_invalid", "response_hours"),
        ({"resolution_hours": "abc"}, "sla_invalid", "resolution_hours"),
        ({"response_hours": "1.005"}, "sla_invalid", "response_hours"),
        ({"warn_minutes": 0}, "sla_invalid", "warn_minutes"),
        ({"response_hours": "10", "resolution_hours": "8"}, "resolution_before_response", "resolution_hours"),
    ],
)
def test_a_service_level_is_more_than_0_and_resolves_after_the_first_response(sworld, admin, values, code, field):
    good = {"response_hours": "4", "resolution_hours": "24", "warn_minutes": 60}

    error = refusal(lambda: sla_policy_save(by=admin, severity="high", **{**good, **values}))

    assert error.code == code
    assert field in error.fields
    policy = SlaPolicy.objects.get(severity="high")
    assert (policy.response_hours, policy.resolution_hours, policy.warn_minutes) == (Decimal(4), Decimal(24), 60)
    assert audit_actions() == []


def test_the_same_response_and_resolution_time_is_allowed(sworld, admin):
    policy = sla_policy_save(by=admin, severity="low", response_hours="8", resolution_hours="8", warn_minutes=30)

    assert policy.resolution_hours == policy.response_hours == Decimal(8)


def test_only_who_manages_slas_changes_them(sworld):
    with pytest.raises(PermissionDeniedError):
        sla_policy_save(by=sworld.service, severity="high", response_hours="1", resolution_hours="2", warn_minutes=5)
    with pytest.raises(PermissionDeniedError):
        service_hours_save(by=sworld.qa, opens=time(8), closes=time(20), weekdays=[0])
    with pytest.raises(PermissionDeniedError):
        holiday_add(by=sworld.director, day=date(2026, 10, 1), name="国庆节")
    assert SlaPolicy.objects.get(severity="high").response_hours == Decimal(4)


# --- service hours and holidays ---------------------------------------------------------------------


def test_new_service_hours_count_for_complaints_logged_afterwards(sworld, admin):
    before = sworld.complaint(severity="high", received_at=FRIDAY_5PM)

    hours = service_hours_save(by=admin, opens=time(8), closes=time(20), weekdays=[5, 0, 1, 2, 3, 4])

    assert (hours.opens, hours.closes, hours.weekdays) == (time(8), time(20), [0, 1, 2, 3, 4, 5])
    assert ServiceHours.objects.count() == 1
    after = sworld.complaint(severity="high", received_at=FRIDAY_5PM)
    assert timezone.localtime(after.response_due) == at(2026, 11, 21, 9)  # 3 h on Friday, 1 on Saturday
    before.refresh_from_db()
    assert timezone.localtime(before.response_due) == at(2026, 11, 23, 12)
    entry = AuditEntry.objects.get(action="service.hours_saved")
    assert entry.changes["opens"] == ["09:00", "08:00"] and entry.changes["weekdays"][1] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("opens", "closes", "weekdays", "code", "field"),
    [
        (time(18), time(9), [0], "closes_before_opens", "closes"),
        (time(9), time(9), [0], "closes_before_opens", "closes"),
        (time(9), time(18), [], "no_working_day", "weekdays"),
        (time(9), time(18), [7], "hours_invalid", "weekdays"),
    ],
)
def test_the_desk_closes_after_it_opens_on_at_least_one_day(sworld, admin, opens, closes, weekdays, code, field):
    error = refusal(lambda: service_hours_save(by=admin, opens=opens, closes=closes, weekdays=weekdays))

    assert (error.code, list(error.fields)) == (code, [field])
    hours = ServiceHours.objects.get()
    assert (hours.opens, hours.closes, hours.weekdays) == (time(9), time(18), [0, 1, 2, 3, 4])


def test_a_holiday_moves_the_deadlines_of_complaints_logged_afterwards(sworld, admin):
    before = sworld.complaint(severity="high", received_at=FRIDAY_5PM)

    holiday = holiday_add(by=admin, day=date(2026, 11, 23), name="  公司假日 ")

    assert (holiday.name, holiday.is_workday) == ("公司假日", False)
    after = sworld.complaint(severity="high", received_at=FRIDAY_5PM)
    assert timezone.localtime(after.response_due) == at(2026, 11, 24, 12)  # Monday is off
    before.refresh_from_db()
    assert timezone.localtime(before.response_due) == at(2026, 11, 23, 12)

    holiday_delete(by=admin, holiday=holiday)

    assert sla_deadlines("high", FRIDAY_5PM)[0] == before.response_due
    assert audit_actions() == ["service.holiday_added", "service.holiday_deleted"]
    assert AuditEntry.objects.get(action="service.holiday_deleted").changes["day"] == "2026-11-23"


def test_a_make_up_working_day_on_a_saturday_counts(sworld, admin):
    holiday_add(by=admin, day=date(2026, 11, 21), name="调休上班", is_workday=True)

    response_due, _resolution_due = sla_deadlines("high", FRIDAY_5PM)

    assert timezone.localtime(response_due) == at(2026, 11, 21, 12)


def test_one_entry_per_day_with_a_clear_error(sworld, admin):
    holiday_add(by=admin, day=date(2026, 10, 1), name="国庆节")

    error = refusal(lambda: holiday_add(by=admin, day=date(2026, 10, 1), name="又一个", is_workday=True))

    assert error.code == "holiday_exists"
    assert "2026-10-01" in error.fields["day"][0]
    assert list(Holiday.objects.values_list("name", flat=True)) == ["国庆节"]
    assert refusal(lambda: holiday_add(by=admin, day=date(2026, 10, 2), name="  ")).fields.keys() == {"name"}


def test_deleting_a_day_that_is_gone_is_not_found(sworld, admin):
    holiday = holiday_add(by=admin, day=date(2026, 10, 1), name="国庆节")
    Holiday.objects.filter(pk=holiday.pk).delete()

    with pytest.raises(NotFoundError):
        holiday_delete(by=admin, holiday=holiday)


# --- the page --------------------------------------------------------------------------------------


def settings_url() -> str:
    return reverse("service:settings")


def test_the_settings_page_is_for_who_manages_slas(sworld, admin, client_of, client):
    page = client_of(admin).get(settings_url())

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="sla-row"') == 4
    assert 'data-testid="settings-applies"' in html  # existing deadlines stay: said on the page
    assert 'data-testid="empty-state"' in html  # no holiday yet
    for who in (sworld.service, sworld.qa, sworld.director, sworld.rep):
        other = client_of(who)
        assert other.get(settings_url()).status_code == 403, who.username
        assert other.post(reverse("service:sla_save", args=["high"]), {}).status_code == 403
        assert other.post(reverse("service:holiday_add"), {}).status_code == 403
    assert client.get(settings_url()).status_code == 302  # to the login page


def sla_post(severity: str, response: str, resolution: str, warn: str) -> dict:
    prefix = f"sla-{severity}"
    return {
        f"{prefix}-response_hours": response,
        f"{prefix}-resolution_hours": resolution,
        f"{prefix}-warn_minutes": warn,
    }


def test_the_sla_table_is_edited_in_place(sworld, admin, client_of):
    client = client_of(admin)

    response = client.post(reverse("service:sla_save", args=["critical"]), sla_post("critical", "1", "6", "20"))

    assert response.status_code == 302 and response["Location"].endswith("#sla")
    policy = SlaPolicy.objects.get(severity="critical")
    assert (policy.response_hours, policy.resolution_hours, policy.warn_minutes) == (Decimal(1), Decimal(6), 20)
    complaint = sworld.complaint(severity="critical", received_at=FRIDAY_5PM)
    assert timezone.localtime(complaint.resolution_due) == at(2026, 11, 23, 14)  # 1 h Friday + 5 h Monday
    page = client.get(settings_url())
    row = page.content.decode().split('data-severity="critical"')[1].split("</tr>")[0]
    assert 'value="1.00"' in row and 'value="6.00"' in row and 'value="20"' in row


def test_a_refused_service_level_is_shown_on_its_row(sworld, admin, client_of):
    client = client_of(admin)

    response = client.post(reverse("service:sla_save", args=["high"]), sla_post("high", "10", "8", "60"))

    assert response.status_code == 400
    form = next(row["form"] for row in response.context["sla_rows"] if row["severity"] == "high")
    assert "resolution_hours" in form.errors
    assert form["resolution_hours"].value() == "8"  # what was typed stays
    assert SlaPolicy.objects.get(severity="high").resolution_hours == Decimal(24)
    zero = client.post(reverse("service:sla_save", args=["high"]), sla_post("high", "0", "8", "60"))
    assert zero.status_code == 400
    assert "response_hours" in next(r["form"] for r in zero.context["sla_rows"] if r["severity"] == "high").errors
    assert (
        client.post(reverse("service:sla_save", args=["urgent"]), sla_post("urgent", "1", "2", "3")).status_code == 404
    )


def test_service_hours_need_a_working_day(sworld, admin, client_of):
    client = client_of(admin)

    refused = client.post(reverse("service:hours_save"), {"opens": "08:00", "closes": "17:00"})

    assert refused.status_code == 400
    assert "weekdays" in refused.context["hours_form"].errors
    saved = client.post(
        reverse("service:hours_save"), {"opens": "08:30", "closes": "17:00", "weekdays": ["0", "1", "2", "3"]}
    )
    assert saved.status_code == 302
    hours = ServiceHours.objects.get()
    assert (hours.opens, hours.closes, hours.weekdays) == (time(8, 30), time(17), [0, 1, 2, 3])
    backwards = client.post(reverse("service:hours_save"), {"opens": "18:00", "closes": "08:00", "weekdays": ["0"]})
    assert backwards.status_code == 400 and "closes" in backwards.context["hours_form"].errors


def test_holidays_are_added_listed_and_deleted_after_confirmation(sworld, admin, client_of):
    client = client_of(admin)
    added = client.post(reverse("service:holiday_add"), {"day": "2026-10-01", "name": "国庆节"})
    assert added.status_code == 302 and added["Location"].endswith("#holidays")
    client.post(reverse("service:holiday_add"), {"day": "2026-09-27", "name": "调休上班", "is_workday": "on"})
    client.post(reverse("service:holiday_add"), {"day": "2027-01-01", "name": "元旦"})

    twice = client.post(reverse("service:holiday_add"), {"day": "2026-10-01", "name": "国庆"})

    assert twice.status_code == 400
    assert "2026-10-01" in twice.context["holiday_form"].errors["day"][0]
    page = client.get(settings_url(), {"year": "2026", "sort": "-day"})
    html = page.content.decode()
    assert [row.split('"')[0] for row in html.split('data-testid="holiday-row" data-day="')[1:]] == [
        "2026-10-01",
        "2026-09-27",
    ]
    assert html.count('data-testid="confirm-delete-holiday"') == 2  # one confirmation modal per day
    workdays = client.get(settings_url(), {"kind": "workday"}).content.decode()
    assert workdays.count('data-testid="holiday-row"') == 1 and 'data-day="2026-09-27"' in workdays
    none = client.get(settings_url(), {"year": "2027", "kind": "workday"}).content.decode()
    assert 'data-testid="empty-state"' in none and 'data-testid="holiday-row"' not in none

    holiday = Holiday.objects.get(day=date(2026, 10, 1))
    back = f"{settings_url()}?year=2026"
    deleted = client.post(reverse("service:holiday_delete", args=[holiday.pk]) + f"?next={back}")

    assert deleted.status_code == 302 and deleted["Location"] == f"{back}#holidays"
    assert not Holiday.objects.filter(pk=holiday.pk).exists()
    assert client.post(reverse("service:holiday_delete", args=[holiday.pk])).status_code == 404
    assert client.get(reverse("service:holiday_delete", args=[holiday.pk])).status_code == 405
    assert audit_actions() == ["service.holiday_added"] * 3 + ["service.holiday_deleted"]


def test_the_holiday_list_pages(sworld, admin, client_of):
    for offset in range(30):
        Holiday.objects.create(day=date(2030, 1, 1) + timedelta(days=offset), name=f"假日 {offset}")
    client = client_of(admin)

    first = client.get(settings_url()).content.decode()
    second = client.get(settings_url(), {"page": "2"}).content.decode()

    assert first.count('data-testid="holiday-row"') == 25 and second.count('data-testid="holiday-row"') == 5
    assert 'data-day="2030-01-30"' in second


# --- the API -----------------------------------------------------------------------------------------


def test_the_desk_reads_the_settings_and_only_administrators_change_them(sworld, admin, client_of):
    desk, boss = client_of(sworld.service), client_of(admin)

    levels = desk.get("/api/v1/sla-policies/")
    assert levels.status_code == 200
    assert {row["severity"]: row["response_hours"] for row in levels.json()} == {
        "critical": "2.00",
        "high": "4.00",
        "medium": "8.00",
        "low": "16.00",
    }
    assert desk.get("/api/v1/service-hours/current/").json() == {
        "opens": "09:00",
        "closes": "18:00",
        "weekdays": [0, 1, 2, 3, 4],
    }
    planner = client_of(sworld.planner)  # does not see complaints
    assert planner.get("/api/v1/sla-policies/").status_code == 403
    assert planner.get("/api/v1/holidays/").status_code == 403
    body = {"response_hours": "3", "resolution_hours": "12", "warn_minutes": 30}
    assert desk.put("/api/v1/sla-policies/high/", body, content_type=JSON).status_code == 403
    assert desk.post("/api/v1/holidays/", {"day": "2026-10-01", "name": "国庆节"}, content_type=JSON).status_code == 403

    saved = boss.put("/api/v1/sla-policies/high/", body, content_type=JSON)

    assert saved.status_code == 200, saved.content
    assert saved.json()["resolution_hours"] == "12.00"
    patched = boss.patch("/api/v1/sla-policies/high/", {"warn_minutes": 15}, content_type=JSON)
    assert patched.json() == {**saved.json(), "warn_minutes": 15}
    assert boss.get("/api/v1/sla-policies/urgent/").status_code == 404


def test_api_refusals_carry_their_code_and_field(sworld, admin, client_of):
    boss = client_of(admin)

    backwards = boss.patch("/api/v1/sla-policies/low/", {"resolution_hours": "1"}, content_type=JSON)
    assert backwards.status_code == 400
    assert backwards.json()["code"] == "resolution_before_response" and "resolution_hours" in backwards.json()["fields"]

    no_day = boss.put(
        "/api/v1/service-hours/current/", {"opens": "09:00", "closes": "18:00", "weekdays": []}, content_type=JSON
    )
    assert (no_day.status_code, no_day.json()["code"]) == (400, "no_working_day")
    hours = boss.patch("/api/v1/service-hours/current/", {"closes": "20:00"}, content_type=JSON)
    assert hours.status_code == 200 and hours.json()["closes"] == "20:00"
    assert ServiceHours.objects.get().closes == time(20)

    created = boss.post("/api/v1/holidays/", {"day": "2026-10-01", "name": "国庆节"}, content_type=JSON)
    assert created.status_code == 201 and created.json()["is_workday"] is False
    again = boss.post("/api/v1/holidays/", {"day": "2026-10-01", "name": "国庆"}, content_type=JSON)
    assert (again.status_code, again.json()["code"]) == (400, "holiday_exists")
    assert "day" in again.json()["fields"]
    assert [row["day"] for row in boss.get("/api/v1/holidays/", {"year": "2026"}).json()["results"]] == ["2026-10-01"]
    assert boss.get("/api/v1/holidays/", {"year": "2027"}).json()["results"] == []
    gone = boss.delete(f"/api/v1/holidays/{created.json()['id']}/")
    assert gone.status_code == 204 and not Holiday.objects.exists()
