import re
from html.parser import HTMLParser

from django.test import Client

from foodflow.accounts.models import User
from foodflow.web.demo import DEMO_PASSWORD, DEMO_USERS, demo_seed
from foodflow.web.demo_crm import CRM_REPS
from foodflow.web.navigation import AREAS


def demo_client(username: str) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    client.session_user = User.objects.get(username=username)
    return client


class LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href", "action", "hx-get", "hx-post", "data-src"} and value:
                self.urls.append(value)


def external_urls(html: str) -> list[str]:
    collector = LinkCollector()
    collector.feed(html)
    found = [url for url in collector.urls if re.match(r"^(https?:)?//", url)]
    found += re.findall(r"url\((?:'|\")?(?:https?:)?//[^)]+\)", html)
    return found


def test_every_demo_login_reaches_its_home_page_in_chinese(demo):
    for username, full_name, roles, *_ in DEMO_USERS:
        page = demo_client(username).get("/")
        html = page.content.decode()
        assert page.status_code == 200, username
        assert '<html lang="zh-hans">' in html
        assert f"{full_name}，您好" in html, username
        assert 'data-testid="home-cards"' in html


def test_home_pages_differ_by_role(demo):
    rep_home = demo_client("rep").get("/").content.decode()
    finance_home = demo_client("finance").get("/").content.decode()
    assert "我的客户" in rep_home and "我的客户" not in finance_home
    assert "待核销回款" in finance_home or "回款" in finance_home


def test_the_menu_shows_only_the_areas_a_role_may_open_and_each_has_an_empty_state(demo):
    legal = demo_client("legal")
    html = legal.get("/").content.decode()
    assert 'aria-controls="nav-contracts"' in html and "/m/crm/" not in html
    assert legal.get("/m/crm/").status_code == 403
    director = demo_client("director")
    for area in AREAS:
        page = director.get(area.url)
        assert page.status_code == 200, area.code
        html = page.content.decode()
        if area.links:  # an area with pages built lists them; the others say what is coming
            assert all(link.url in html for link in area.links_for(director.session_user)), area.code
        else:
            assert 'data-testid="area-empty"' in html, area.code
    assert director.get("/m/nowhere/").status_code == 404


def test_no_page_references_an_external_host(demo):
    admin = demo_client("admin")
    urls = [
        "/",
        "/search/?q=张",
        "/notifications/",
        "/audit/",
        "/accounts/users/",
        "/accounts/roles/",
        "/accounts/org-units/",
        "/accounts/profile/",
        "/accounts/password/",
        "/accounts/users/new/",
        "/api/docs/",
        *[area.url for area in AREAS],
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert external_urls(response.content.decode()) == [], url
    assert external_urls(Client().get("/accounts/login/").content.decode()) == []


def test_the_global_search_respects_the_scope(demo):
    admin_hits = demo_client("admin").get("/search/?q=张伟").content.decode()
    assert "张伟" in admin_hits and "/accounts/users/" in admin_hits
    rep_hits = demo_client("rep2").get("/search/?q=张伟").content.decode()
    assert "/accounts/users/" not in rep_hits
    manager_hits = demo_client("manager").get("/search/?q=刘洋").content.decode()  # another region's rep
    assert "/accounts/users/" not in manager_hits
    assert "张伟" in demo_client("manager").get("/search/?q=张伟").content.decode()


def test_the_search_box_answers_htmx_with_a_fragment(demo):
    response = demo_client("admin").get("/search/?q=审计", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "/audit/" in html


def test_pages_are_responsive_and_load_htmx_from_our_static_files(demo):
    html = demo_client("rep").get("/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "/static/django_htmx/htmx" in html or "htmx.min.js" in html
    assert "navbar-toggler" in html  # the menu folds away on a phone


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in {"sqlite", "postgresql"}


def test_the_demo_seed_is_deterministic_and_idempotent(db):
    first = demo_seed()
    users_before = sorted(User.objects.values_list("username", "full_name", "org_unit__code"))
    demo_seed()
    assert sorted(User.objects.values_list("username", "full_name", "org_unit__code")) == users_before
    assert len(first["units"]) == 13 and User.objects.count() == len(DEMO_USERS) + len(CRM_REPS)
    assert first["units"]["EAST-SH"].manager.username == "manager"


def test_english_pages_are_complete(demo):
    client = demo_client("admin")
    client.post("/accounts/language/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "Good day" in html and "Order to cash" in html
    assert not re.search(
        r"[\u4e00-\u9fff]",
        re.sub(
            r"(系统管理员|中文|<span class=\"text-secondary.*?</span>)",
            "",
            html.split('data-testid="home-cards"')[1].split("Latest notifications")[0],
        ),
    )
