"""The live process map: selectors that read the declared transition tables of
``core.workflows.REGISTRY``, the documents' current states and the stage events. Read only.

The diagram is drawn from the tables themselves, so it cannot drift from the code: a state or
a transition added to a workflow shows up here without a change in this module. What this
module keeps by hand is which model holds each workflow's documents, which list page shows them
filtered by state, and which states end the flow; a test fails when a workflow in the registry
is neither mapped nor excluded here."""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Aggregate, Count, FloatField
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from foodflow.core.models import StageEvent
from foodflow.core.workflows import REGISTRY, Workflow

# How far back the median time per stage looks.
MEDIAN_WINDOW_DAYS = 180


@dataclass(frozen=True)
class FlowSource:
    """Where a workflow's documents live and where a user reads them."""

    model: str  # "app_label.Model"
    title: Any
    final: tuple[str, ...]  # states that end the flow (the documents in them are not open)
    list_url: str = ""  # URL name of the list page that filters by state ("" when none does)
    list_param: str = "state"
    # extra query parameters per state: e.g. the version lists show superseded rows only on request
    list_extra: dict[str, dict[str, str]] = field(default_factory=dict)


# In the order of the department's work: order to cash, contracts, after-sales, stock, feedback.
FLOW_SOURCES: dict[str, FlowSource] = {
    "inquiry": FlowSource("sales.Inquiry", _("Inquiries"), ("quoted", "lost"), "sales:inquiries"),
    "quotation": FlowSource(
        "sales.Quotation",
        _("Quotations"),
        ("accepted", "rejected", "expired", "superseded", "cancelled"),
        "sales:quotations",
        list_extra={"superseded": {"versions": "on"}},
    ),
    "order": FlowSource(
        "sales.SalesOrder",
        _("Sales orders"),
        ("completed", "cancelled", "superseded"),
        "sales:orders",
        list_extra={"superseded": {"versions": "on"}},
    ),
    # the delivery board filters by state within one week only: its counts would not match
    "delivery": FlowSource("sales.Delivery", _("Deliveries"), ("received", "cancelled")),
    "receivable": FlowSource("sales.Invoice", _("Receivables"), ("paid", "written_off"), "sales:receivables"),
    "contract": FlowSource(
        "contracts.Contract",
        _("Contracts"),
        ("fulfilled", "terminated", "superseded", "cancelled"),
        "contracts:ledger",
    ),
    "complaint": FlowSource("service.Complaint", _("Complaints"), ("closed",), "service:complaints"),
    # remedies are listed on their complaint only
    "remedy": FlowSource("service.Remedy", _("Complaint remedies"), ("done", "rejected")),
    "suggestion": FlowSource(
        "service.Suggestion", _("Suggestions"), ("rejected", "implemented"), "feedback:suggestions"
    ),
    "lot": FlowSource("inventory.Lot", _("Lots"), ("recalled", "expired"), "inventory:stock", list_param="status"),
}

# Workflows in the registry that the map does not show, and why.
EXCLUDED: dict[str, str] = {
    "approval": "a step inside the quotation, order, contract and credit flows, not a flow of its own",
    "dispute": "not part of the process map of issue 8",
    "lead": "not part of the process map of issue 8",
    "sample": "the test suite's sample document",
}


class Median(Aggregate):
    """PostgreSQL's median (interpolated, like ``statistics.median``)."""

    function = "percentile_cont"
    name = "Median"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass
class StateNode:
    code: str
    label: Any
    count: int
    median_seconds: float | None
    final: bool
    depth: int
    row: int
    url: str = ""


@dataclass
class Edge:
    action: str
    label: Any
    sources: tuple[str, ...]
    target: str


@dataclass
class FlowMap:
    name: str
    title: Any
    workflow: Workflow
    states: list[StateNode]
    edges: list[Edge]
    window_days: int = MEDIAN_WINDOW_DAYS

    @property
    def open_count(self) -> int:
        return sum(state.count for state in self.states if not state.final)

    @property
    def total(self) -> int:
        return sum(state.count for state in self.states)

    def state(self, code: str) -> StateNode:
        return next(state for state in self.states if state.code == code)


def flows() -> list[str]:
    """The workflows the map shows, in the order of ``FLOW_SOURCES`` (registered ones only)."""
    return [name for name in FLOW_SOURCES if name in REGISTRY and _model(name) is not None]


def _model(name: str):
    try:
        return apps.get_model(FLOW_SOURCES[name].model)
    except (KeyError, LookupError):
        return None


def layout(workflow: Workflow) -> dict[str, tuple[int, int]]:
    """state → (depth, row): depth is the BFS distance from the initial state over the
    transition table (unreachable states go one layer past the last), row the declaration
    order within the layer. Deterministic: it depends on the table only."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target, _action in workflow.edges():
        if target not in successors[source]:
            successors[source].append(target)
    depth = {workflow.initial: 0}
    queue = deque([workflow.initial])
    while queue:
        state = queue.popleft()
        for target in successors[state]:
            if target not in depth:
                depth[target] = depth[state] + 1
                queue.append(target)
    last = max(depth.values())
    rows: dict[int, int] = defaultdict(int)
    placed = {}
    for state in workflow.states:  # declaration order
        level = depth.get(state, last + 1)
        placed[state] = (level, rows[level])
        rows[level] += 1
    return placed


def state_counts(name: str) -> dict[str, int]:
    """Documents per state now (every document: an aggregate, no data scope)."""
    workflow, model = REGISTRY[name], _model(name)
    field_name = workflow.state_field
    rows = model._default_manager.order_by().values(field_name).annotate(n=Count("pk"))
    return {row[field_name]: row["n"] for row in rows}


def stage_medians(name: str, *, now=None) -> dict[str, float]:
    """Median seconds spent in each state, from the stage events that left it within the window."""
    since = (now or timezone.now()) - timedelta(days=MEDIAN_WINDOW_DAYS)
    events = StageEvent.objects.filter(workflow=name, at__gte=since, seconds_in_previous__isnull=False).exclude(
        from_state=""
    )
    if connection.vendor == "postgresql":
        rows = events.order_by().values("from_state").annotate(median=Median("seconds_in_previous"))
        return {row["from_state"]: float(row["median"]) for row in rows}
    seconds: dict[str, list[int]] = defaultdict(list)
    for state, value in events.order_by().values_list("from_state", "seconds_in_previous").iterator():
        seconds[state].append(value)
    return {state: float(statistics.median(values)) for state, values in seconds.items()}


def drill_url(name: str, state: str) -> str:
    """The list page of the documents in ``state`` ("" when no list filters by state)."""
    source = FLOW_SOURCES[name]
    if not source.list_url:
        return ""
    params = {source.list_param: state, **source.list_extra.get(state, {})}
    return f"{reverse(source.list_url)}?{urlencode(params)}"


def edges(workflow: Workflow) -> list[Edge]:
    return [Edge(item.action, item.label or item.action, item.sources, item.target) for item in workflow.transitions]


def flow_map(name: str, *, now=None) -> FlowMap:
    """States with their count, median time and place in the diagram, and the transitions."""
    if name not in flows():
        raise KeyError(name)
    workflow, source = REGISTRY[name], FLOW_SOURCES[name]
    counts, medians, places = state_counts(name), stage_medians(name, now=now), layout(workflow)
    states = [
        StateNode(
            code=code,
            label=label,
            count=counts.get(code, 0),
            median_seconds=medians.get(code),
            final=code in source.final,
            depth=places[code][0],
            row=places[code][1],
            url=drill_url(name, code),
        )
        for code, label in workflow.states.items()
    ]
    return FlowMap(name=name, title=source.title, workflow=workflow, states=states, edges=edges(workflow))


def flow_summaries() -> list[dict]:
    """Each flow shown with its open and total documents (one grouped query per flow)."""
    summaries = []
    for name in flows():
        source, counts = FLOW_SOURCES[name], state_counts(name)
        summaries.append(
            {
                "name": name,
                "title": source.title,
                "open": sum(n for state, n in counts.items() if state not in source.final),
                "total": sum(counts.values()),
                "states": len(REGISTRY[name].states),
            }
        )
    return summaries
