"""The process map reads the transition tables, the documents' states and the stage events."""

import statistics
from collections import Counter
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone, translation

from foodflow.analytics import process
from foodflow.analytics.diagram import diagram, duration
from foodflow.analytics.standards import STANDARDS
from foodflow.core.models import StageEvent
from foodflow.core.workflows import REGISTRY
from foodflow.sales.models import SalesOrder
from foodflow.sales.services import LineInput, order_cancel, order_create
from foodflow.service.services import complaint_assign

pytestmark = pytest.mark.django_db

SHOWN = [
    "inquiry",
    "quotation",
    "order",
    "delivery",
    "receivable",
    "contract",
    "complaint",
    "remedy",
    "suggestion",
    "lot",
]


def test_every_registered_workflow_is_mapped_or_excluded():
    # a new workflow must be placed on the map (or excluded with a reason) before this passes
    assert set(REGISTRY) <= set(process.FLOW_SOURCES) | set(process.EXCLUDED)
    assert not set(process.FLOW_SOURCES) & set(process.EXCLUDED)
    assert sorted(process.flows()) == sorted(SHOWN)


@pytest.mark.parametrize("name", SHOWN)
def test_the_mapped_model_holds_the_workflow_in_its_state_field(name):
    workflow, source = REGISTRY[name], process.FLOW_SOURCES[name]
    model = apps.get_model(source.model)
    field = model._meta.get_field(workflow.state_field)
    assert dict(field.choices) == dict(workflow.states)
    assert set(source.final) <= set(workflow.states)
    assert set(source.list_extra) <= set(workflow.states)


@pytest.mark.parametrize("name", SHOWN)
def test_the_diagram_edges_are_the_transition_table(name):
    workflow = REGISTRY[name]
    flow = process.flow_map(name)
    assert [state.code for state in flow.states] == list(workflow.states)
    assert {(e.action, e.sources, e.target) for e in flow.edges} == {
        (t.action, t.sources, t.target) for t in workflow.transitions
    }
    drawn = {(a.source, a.target, a.action) for a in diagram(flow).arrows}
    assert drawn == set(workflow.edges())
    assert len(diagram(flow).arrows) == len(list(workflow.edges()))


@pytest.mark.parametrize("name", SHOWN)
def test_the_layout_is_the_bfs_depth_from_the_initial_state(name):
    workflow = REGISTRY[name]
    places = process.layout(workflow)
    assert places[workflow.initial] == (0, 0)
    assert places == process.layout(workflow)  # deterministic
    assert len(set(places.values())) == len(places)  # no two states on one spot
    for source, target, _action in workflow.edges():
        # a transition goes at most one layer further
        assert places[target][0] <= places[source][0] + 1


def test_the_order_layout_in_layers():
    places = process.layout(REGISTRY["order"])
    assert places["draft"] == (0, 0)
    assert places["pending_approval"] == (1, 0)
    assert places["confirmed"] == (1, 1)
    assert places["cancelled"][0] == 1
    assert places["reserved"][0] == 2
    assert places["delivered"][0] == 3
    assert places["completed"][0] == 4


@pytest.mark.parametrize("name", SHOWN)
def test_every_state_has_its_standard(name):
    from foodflow.accounts.roles import BUILTIN_ROLES

    roles = {code for code, *_rest in BUILTIN_ROLES}
    assert set(STANDARDS[name]) == set(REGISTRY[name].states)
    for step in STANDARDS[name].values():
        assert set(step.owners) <= roles
        assert str(step.requires).strip()


def test_counts_per_state_are_the_documents_states(sworld):
    w = sworld
    w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "5")])
    w.deliver(w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.yoghurt, "3")]))
    order_create(by=w.rep, customer=w.customer, lines=[LineInput(w.milk, "1")])
    dropped = order_create(by=w.rep, customer=w.customer, lines=[LineInput(w.milk, "2")])
    order_cancel(by=w.rep, order=dropped, reason="客户取消")
    first = w.complaint()
    w.complaint(severity="low")
    complaint_assign(by=w.service, complaint=first, owner=w.service)

    orders = process.flow_map("order")
    assert {s.code: s.count for s in orders.states if s.count} == {
        "draft": 1,
        "cancelled": 1,
        "reserved": 1,
        "delivered": 1,
    }
    assert orders.open_count == 3  # draft, reserved, delivered (not paid yet)
    complaints = process.flow_map("complaint")
    assert {s.code: s.count for s in complaints.states if s.count} == {"new": 1, "assigned": 1}
    deliveries = process.flow_map("delivery")
    assert deliveries.state("shipped").count == 1
    assert process.flow_map("receivable").state("open").count == 1
    # every flow, against a count made by hand over the rows
    for name in SHOWN:
        workflow = REGISTRY[name]
        model = apps.get_model(process.FLOW_SOURCES[name].model)
        expected = Counter(getattr(row, workflow.state_field) for row in model.objects.all())
        flow = process.flow_map(name)
        assert {s.code: s.count for s in flow.states if s.count} == dict(expected), name
    lots = process.flow_map("lot")
    assert lots.state("available").count == 3  # M-OLD, M-NEW, Y-1
    summaries = {row["name"]: row for row in process.flow_summaries()}
    assert summaries["order"]["open"] == 3
    assert summaries["order"]["total"] == SalesOrder.objects.count() == 4


def _event(state, seconds, *, at=None, workflow="complaint", to="in_progress"):
    return StageEvent.objects.create(
        workflow=workflow,
        object_type="service.complaint",
        object_id="1",
        action="test",
        from_state=state,
        to_state=to,
        at=at or timezone.now(),
        seconds_in_previous=seconds,
    )


def test_the_median_time_per_state_comes_from_the_stage_events(db):
    now = timezone.now()
    for seconds in (600, 60, 3600, 7200):
        _event("new", seconds)
    for seconds in (100, 300, 200):
        _event("assigned", seconds)
    _event("new", 10**7, at=now - timedelta(days=process.MEDIAN_WINDOW_DAYS + 1))  # outside the window
    _event("", None, to="new")  # a start: no previous state
    _event("in_progress", None)  # no time known
    _event("new", 5, workflow="order")  # another flow's state of the same name

    medians = process.stage_medians("complaint", now=now)
    assert medians == {
        "new": pytest.approx(statistics.median([600, 60, 3600, 7200])),
        "assigned": pytest.approx(200),
    }
    flow = process.flow_map("complaint")
    assert flow.state("new").median_seconds == pytest.approx(2100)
    assert flow.state("resolved").median_seconds is None


def test_real_transitions_feed_the_median(sworld):
    complaint = sworld.complaint()
    complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    event = StageEvent.objects.get(workflow="complaint", from_state="new")
    assert process.stage_medians("complaint") == {"new": float(event.seconds_in_previous)}


def test_durations_read_well():
    with translation.override("en"):
        assert duration(None) == "—"
        assert duration(20) == "< 1 min"
        assert duration(40 * 60) == "40 min"
        assert duration(5 * 3600 + 12 * 60) == "5 h 12 min"
        assert duration(3 * 86400 + 4 * 3600) == "3 d 4 h"


def test_drill_down_urls():
    assert process.drill_url("order", "reserved") == "/sales/orders/?state=reserved"
    assert process.drill_url("order", "superseded") == "/sales/orders/?state=superseded&versions=on"
    assert process.drill_url("lot", "on_hold") == "/stock/?status=on_hold"
    assert process.drill_url("suggestion", "new") == "/feedback/?state=new"
    assert process.drill_url("remedy", "done") == ""


@pytest.mark.postgres
def test_postgresql_takes_the_median_in_sql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
    for seconds in (1, 2, 3, 10):
        _event("assigned", seconds)
    assert process.stage_medians("complaint") == {"assigned": pytest.approx(2.5)}
