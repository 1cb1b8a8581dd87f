"""What the audit log must hold (issue 11): every state change, every export, logins and
permission changes; and the audit page finds entries by object, action, actor and day."""

from datetime import timedelta

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from foodflow.accounts.models import Role, User
from foodflow.catalog.models import PriceList
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.web.demo import DEMO_PASSWORD


def _export_names(patterns=None, namespace: str = "") -> list[tuple[str, list[str]]]:
    """Every page URL named ``…export`` (the API's lists have no exports), with its arguments."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            found += _export_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and (pattern.name or "").endswith("export"):
            found.append((f"{namespace}:{pattern.name}".strip(":"), list(pattern.pattern.converters)))
    return found


def _login(username: str) -> Client:
    """Signed in through the login page, as a person is (and audited as one)."""
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def test_every_state_change_of_the_demo_company_is_in_the_audit_log(demo):
    """The demo runs every flow (orders to cash, contracts, complaints, recalls…): each stage event
    a transition recorded has its audit entry, on the same object and named after the action."""
    audited = set(AuditEntry.objects.values_list("action", "object_type", "object_id"))
    events = StageEvent.objects.exclude(action="create").values_list("workflow", "action", "object_type", "object_id")
    missing = [event for event in events if (f"{event[0]}.{event[1]}", event[2], event[3]) not in audited]
    assert len(events) > 200
    assert not missing[:10], f"{len(missing)} stage changes without an audit entry"


def test_every_export_is_in_the_audit_log(demo):
    exports = _export_names()
    assert len(exports) >= 40
    # whose exports they are: the director's, the planner's (review queue), finance's, the desks'
    clients = [_login(name) for name in ("director", "admin", "planner", "finance", "contracts", "service")]
    price_list = PriceList.objects.order_by("pk").first()
    unaudited = []
    for name, arguments in exports:
        url = reverse(name, kwargs={"pk": price_list.pk} if arguments == ["pk"] else {})
        before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
        for client in clients:
            if (status := client.get(url).status_code) != 403:
                break
        assert status == 200, (url, status)
        if AuditEntry.objects.filter(seq__gt=before, action__contains="export").count() != 1:
            unaudited.append(url)
    assert not unaudited


def test_logins_refusals_and_logouts_are_in_the_audit_log(demo):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "rep", "password": "not-the-password"})
    client.post(reverse("accounts:login"), {"username": "rep", "password": DEMO_PASSWORD})
    client.post(reverse("accounts:logout"))
    rep = User.objects.get(username="rep")
    entries = AuditEntry.objects.filter(object_id=str(rep.pk), action__startswith="auth.").order_by("seq")
    actions = list(entries.values_list("action", flat=True))
    assert actions[-3:] == ["auth.login_failed", "auth.login", "auth.logout"]


def test_a_role_given_to_a_user_is_in_the_audit_log(demo):
    admin = _login("admin")
    planner = User.objects.get(username="planner")
    roles = list(Role.objects.filter(code__in=["planner", "qa"]).values_list("pk", flat=True))
    response = admin.post(
        reverse("accounts:user_detail", args=[planner.pk]),
        {
            "username": planner.username,
            "full_name": planner.full_name,
            "email": planner.email,
            "phone": planner.phone,
            "org_unit": planner.org_unit_id or "",
            "roles": roles,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="accounts.user_updated", object_id=str(planner.pk)).latest("seq")
    assert entry.changes["roles"] == [["planner"], ["planner", "qa"]]


def test_the_audit_page_finds_entries_by_action_actor_object_and_day(demo):
    director = _login("director")
    url = reverse("web:audit")
    newest = AuditEntry.objects.latest("seq")
    today = timezone.localdate(newest.at)

    def seqs(**query) -> set[int]:
        page = director.get(url, query)
        assert page.status_code == 200
        return {entry.seq for entry in page.context["page"]}

    assert newest.seq in seqs(action=newest.action, since=today.isoformat(), until=today.isoformat())
    assert newest.seq not in seqs(until=(today - timedelta(days=1)).isoformat())
    assert newest.seq not in seqs(since=(today + timedelta(days=1)).isoformat())
    # a day that is not a date is left out, not an error
    assert newest.seq in seqs(since="2026-02-31")
    login = AuditEntry.objects.filter(action="auth.login").exclude(actor=None).latest("seq")
    assert login.seq in seqs(actor=login.actor_name, action="auth.login")
    by_object = seqs(q=login.object_id)
    assert login.seq in by_object or len(by_object) == 50  # on the first page, or more than a page of it
    # nobody else reads it
    assert _login("rep").get(url).status_code == 403
