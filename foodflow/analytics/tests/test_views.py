"""The process pages: who may open them, the SVG diagram and its links to the lists."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from foodflow.analytics import process
from foodflow.analytics.standards import STANDARDS
from foodflow.core.workflows import REGISTRY
from foodflow.sales.services import LineInput

pytestmark = pytest.mark.django_db


def test_a_rep_may_not_open_the_process_map(make_user, client_of):
    client = client_of(make_user("rep"))
    assert client.get("/analytics/process/").status_code == 403
    assert client.get("/analytics/process/order/").status_code == 403


def test_anonymous_users_go_to_the_login(client):
    response = client.get("/analytics/process/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["manager", "director", "analyst", "admin"])
def test_the_roles_that_see_the_process_map(make_user, client_of, role):
    client = client_of(make_user(role, unit="HQ"))
    response = client.get("/analytics/process/")
    assert response.status_code == 200
    names = re.findall(r'data-flow="([a-z_]+)"', response.content.decode())
    assert names == process.flows()


def test_an_unknown_flow_is_404(make_user, client_of):
    client = client_of(make_user("manager"))
    assert client.get("/analytics/process/nothing/").status_code == 404
    assert client.get("/analytics/process/approval/").status_code == 404  # registered but not on the map


def test_the_menu_of_the_area_links_the_process_map(make_user, client_of):
    client = client_of(make_user("manager"))
    response = client.get(reverse("web:area", args=["analytics"]))
    assert response.status_code == 200
    assert 'href="/analytics/process/"' in response.content.decode()


def test_the_flow_page_draws_the_table_with_counts_and_links(sworld, make_user, client_of):
    w = sworld
    w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "5")])
    w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.yoghurt, "2")])
    client = client_of(make_user("manager"))
    response = client.get("/analytics/process/order/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="pm-diagram"' in html
    states = dict(re.findall(r'data-testid="process-state" data-state="(\w+)" data-count="(\d+)"', html))
    assert list(states) == list(REGISTRY["order"].states)
    assert states["reserved"] == "2"
    assert states["draft"] == "0"
    edges = set(re.findall(r'data-action="(\w+)" data-source="(\w+)" data-target="(\w+)"', html))
    assert edges == {(action, source, target) for source, target, action in REGISTRY["order"].edges()}
    assert 'href="/sales/orders/?state=reserved"' in html
    # the standard beside it: every state with its owner and requirement
    rows = re.findall(r'data-testid="standard-row" data-state="(\w+)"', html)
    assert rows == list(REGISTRY["order"].states)
    with translation.override("zh-hans"):  # the page's language
        requirement = escape(str(STANDARDS["order"]["reserved"].requires))
    assert requirement in html
    assert "Planner" in html or "计划/仓储" in html


def test_the_link_opens_the_filtered_list(sworld, make_user, client_of):
    w = sworld
    order = w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "5")])
    manager = make_user("manager")
    html = client_of(manager).get("/analytics/process/order/").content.decode()
    assert 'href="/sales/orders/?state=reserved" data-testid="state-link"' in html
    listing = client_of(manager).get(process.drill_url("order", "reserved"))
    assert listing.status_code == 200
    assert order.number in listing.content.decode()


def test_flows_without_a_filtering_list_have_no_links(make_user, client_of):
    client = client_of(make_user("director", unit="HQ"))
    html = client.get("/analytics/process/remedy/").content.decode()
    assert 'data-testid="process-diagram"' in html
    assert 'data-testid="state-link"' not in html


@pytest.mark.parametrize(
    "name", ["inquiry", "quotation", "delivery", "receivable", "contract", "complaint", "remedy", "suggestion", "lot"]
)
def test_every_flow_page_renders(make_user, client_of, name):
    client = client_of(make_user("admin", unit="HQ"))
    response = client.get(f"/analytics/process/{name}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="process-state"') == len(REGISTRY[name].states)
    assert html.count('data-testid="process-edge"') == len(list(REGISTRY[name].edges()))


def test_the_chinese_page_keeps_working(make_user, client_of):
    client = client_of(make_user("manager"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get("/analytics/process/complaint/")
    assert response.status_code == 200


def test_the_pages_query_a_fixed_number_of_times(sworld, make_user, client_of, django_assert_max_num_queries):
    w = sworld
    for _ in range(3):
        w.deliver(w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "1")]))
    client = client_of(make_user("manager"))
    client.get("/analytics/process/order/")  # warm the session and the user's roles
    # session, user, roles, counts, medians, role names; nothing per document
    with django_assert_max_num_queries(12):
        assert client.get("/analytics/process/order/").status_code == 200
    with django_assert_max_num_queries(8 + len(process.flows())):
        assert client.get("/analytics/process/").status_code == 200
