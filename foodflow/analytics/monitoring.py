"""Process monitoring: the time each document spends in each stage, from the stage events;
stage SLA targets, the documents breaching them now, bottlenecks and trends; the overstay alert.

A stage is one state of one workflow in which a document waits for someone (``STAGES``). Every
state change writes a ``core.StageEvent``; the event that *leaves* a state carries the seconds
since the document's previous event (``seconds_in_previous``), which is the time it spent in the
state it leaves. So a *passage* through a stage is one leaving event, and it counts in the range
in which it ended. A document still in a stage is timed from its latest event entering that state
(or its creation when it has none: documents made before stage events were written).

Targets: each stage has a default here; a ``StageTarget`` row (edited on the targets page)
overrides it. Every figure compares with the target in force now.

Scope: ``reps`` is the set of users whose documents count (``permissions.scope_reps``; None:
everyone). A document belongs to its owner; a complaint also to the rep who owns its customer,
since the service desk, not the rep, handles it.

Speed: the counts and sums are one grouped query; the medians and 90th percentiles are
``percentile_cont`` on PostgreSQL and one pass over the events of the range on SQLite (the
embedded mode's data stay small). Owners and regions of passages come from correlated
subqueries on the documents' primary keys, never from a query per document."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import StageEvent
from foodflow.core.notifications import NotificationKind, notify, register_kind
from foodflow.core.workflows import REGISTRY

from .models import OverstayAlert, StageTarget
from .permissions import can_manage_schemes

HOUR = 3600
# A target longer than a year is no target.
MAX_TARGET_HOURS = 24 * 366
DEFAULT_RANGE_DAYS = 90
BOTTLENECK_GROUPS = ("stage", "person", "region")


@dataclass(frozen=True)
class Stage:
    """One state of one workflow in which a document waits, and who answers for it."""

    code: str
    label: Any
    workflow: str
    state: str
    model: str  # "app_label.Model"
    detail_url: str  # URL name of the document's page, with its pk
    target_hours: int  # default; a StageTarget row overrides it
    alert_owner: bool = True  # default; a StageTarget row overrides it
    owner: str = "owner"  # the user answering for the document (alerted, "by person")
    region: str = "customer__region"  # the org unit of "by region"
    # user fields that bring a document into a rep's scope
    scope: tuple[str, ...] = ("owner",)

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def object_type(self) -> str:
        return self.model_class._meta.label_lower


def _flow(workflow: str, model: str, detail_url: str, stages: list[tuple[str, Any, int]], **common) -> list[Stage]:
    """The stages of one workflow: (state, label, default target hours) each."""
    return [
        Stage(f"{workflow}.{state}", label, workflow, state, model, detail_url, target, **common)
        for state, label, target in stages
    ]


# Order to cash in its order, then after-sales. The after-sales stages do not alert by default:
# the complaint desk's own service levels (by severity) already escalate them. Excluded on
# purpose: drafts of orders (a rep's scratch pad), delivered orders (their cash is the
# receivable's stages) and the final states.
STAGES: list[Stage] = [
    *_flow(
        "inquiry",
        "sales.Inquiry",
        "sales:inquiry_detail",
        [("open", _("Inquiry open, not yet quoted"), 24)],
    ),
    *_flow(
        "quotation",
        "sales.Quotation",
        "sales:quotation_detail",
        [
            ("draft", _("Quotation in draft, not yet submitted"), 24),
            ("pending_approval", _("Quotation awaiting approval"), 24),
            ("approved", _("Quotation approved, not yet sent"), 24),
            ("sent", _("Quotation sent, awaiting the customer"), 168),
        ],
    ),
    *_flow(
        "order",
        "sales.SalesOrder",
        "sales:order_detail",
        [
            ("pending_approval", _("Order awaiting approval"), 24),
            ("confirmed", _("Order confirmed, awaiting review"), 24),
            ("credit_hold", _("Order on credit hold"), 48),
            ("returned", _("Order returned to sales"), 48),
            ("production", _("Order awaiting production"), 168),
            ("reserved", _("Stock reserved, awaiting delivery"), 72),
            ("partially_delivered", _("Order partially delivered"), 120),
        ],
    ),
    *_flow(
        "receivable",
        "sales.Invoice",
        "sales:invoice_detail",
        [
            ("open", _("Receivable open, no VAT invoice yet"), 168),
            ("issued", _("VAT invoice issued, awaiting payment"), 720),
        ],
    ),
    *_flow(
        "complaint",
        "service.Complaint",
        "service:complaint_detail",
        [
            ("new", _("Complaint new, not yet assigned"), 4),
            ("assigned", _("Complaint assigned, awaiting the first response"), 24),
            ("in_progress", _("Complaint in progress"), 72),
            ("resolved", _("Complaint resolved, awaiting the customer"), 168),
        ],
        alert_owner=False,
        scope=("owner", "customer__owner"),
    ),
]
STAGE_BY_CODE: dict[str, Stage] = {stage.code: stage for stage in STAGES}
STAGE_BY_KEY: dict[tuple[str, str], Stage] = {(stage.workflow, stage.state): stage for stage in STAGES}

OVERSTAY = register_kind(
    NotificationKind(
        code="stage_overstay",
        label=_("A document of yours stays in a stage longer than its target"),
        title=_("%(document)s: %(hours)s h in “%(stage)s”"),
        body=_("The target of the stage is %(target)s h; the document entered it on %(entered)s."),
    )
)


# --- targets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSetting:
    stage: Stage
    target_hours: int
    alert_owner: bool
    custom: bool  # set on the targets page (a StageTarget row), not the default

    @property
    def target_seconds(self) -> int:
        return self.target_hours * HOUR


def stage_settings() -> dict[str, StageSetting]:
    """Each stage's target and alert flag in force: its StageTarget row, else the default."""
    rows = {row.stage: row for row in StageTarget.objects.filter(stage__in=STAGE_BY_CODE)}
    settings = {}
    for stage in STAGES:
        row = rows.get(stage.code)
        settings[stage.code] = (
            StageSetting(stage, row.target_hours, row.alert_owner, True)
            if row is not None
            else StageSetting(stage, stage.target_hours, stage.alert_owner, False)
        )
    return settings


def stage_targets_save(*, by, values: dict[str, tuple[Any, bool]]) -> int:
    """Set the target hours and the alert flag of the stages in ``values`` ({code: (hours,
    alert)}); returns how many changed. Hours are whole numbers from 1 to a year; nothing is
    saved when one is not."""
    if by is None or not can_manage_schemes(by):
        raise PermissionDeniedError()
    errors: dict[str, list] = {}
    parsed: dict[str, tuple[int, bool]] = {}
    for code, (value, alert) in values.items():
        if code not in STAGE_BY_CODE:
            raise ValidationFailed(_("Unknown stage."), code="unknown_stage", fields={code: [_("Unknown stage.")]})
        number = _whole_hours(value)
        if number is None:
            errors[code] = [_("Enter a whole number of hours from 1 to %(most)s.") % {"most": MAX_TARGET_HOURS}]
        else:
            parsed[code] = (number, bool(alert))
    if errors:
        raise ValidationFailed(
            _("Some targets are not valid: enter whole hours from 1 to %(most)s.") % {"most": MAX_TARGET_HOURS},
            code="stage_target_invalid",
            fields=errors,
        )
    current = stage_settings()
    changed = 0
    with transaction.atomic():
        rows = {row.stage: row for row in StageTarget.objects.select_for_update().filter(stage__in=parsed)}
        for code, (hours_, alert) in parsed.items():
            before = current[code]
            if (hours_, alert) == (before.target_hours, before.alert_owner):
                continue
            row = rows.get(code)
            if row is None:
                row = StageTarget.objects.create(stage=code, target_hours=hours_, alert_owner=alert, created_by=by)
            else:
                row.target_hours, row.alert_owner, row.updated_by = hours_, alert, by
                row.save(update_fields=["target_hours", "alert_owner", "updated_by", "updated_at"])
            audit_record(
                action="analytics.stage_target_set",
                actor=by,
                obj=row,
                changes={
                    "stage": code,
                    "target_hours": [before.target_hours, hours_],
                    "alert_owner": [before.alert_owner, alert],
                },
            )
            changed += 1
    return changed


def _whole_hours(value) -> int | None:
    """``value`` as whole hours within the limits, else None (blank, negative, fractional, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text.isascii() or not text.isdigit():
            return None
        number = int(text)
    return number if 1 <= number <= MAX_TARGET_HOURS else None


# --- the events ---------------------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile (interpolated like ``percentile`` below)."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` with linear interpolation (``percentile_cont``)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_RANGE_DAYS), today


def moments(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of ``date_from``, start of the day after ``date_to``) on the local clock."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(date_from, time.min, tzinfo=zone),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone),
    )


def hours(seconds: float | int | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / HOUR).quantize(Decimal("0.1"), ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _scope_q(stage: Stage, reps: frozenset[int], *, owner_only: bool = False) -> Q:
    q = Q()
    for path in (stage.owner,) if owner_only else stage.scope:
        q |= Q(**{f"{path}__in": reps})
    return q


def owned_keys(stage: Stage, reps: frozenset[int], *, owner_only: bool = False) -> QuerySet:
    """The primary keys (as text, like ``StageEvent.object_id``) of the documents of the stage's
    model that ``reps`` answer for (``owner_only``: that they own): a subquery."""
    return (
        stage.model_class._default_manager.filter(_scope_q(stage, reps, owner_only=owner_only))
        .order_by()
        .annotate(key=Cast("pk", CharField()))
        .values("key")
    )


def _by_workflow(stages: list[Stage]) -> list[tuple[str, list[Stage]]]:
    ordered = sorted(stages, key=lambda stage: stage.workflow)
    return [(name, list(group)) for name, group in groupby(ordered, key=lambda stage: stage.workflow)]


def passages(
    reps: frozenset[int] | None,
    start: datetime,
    end: datetime,
    stages: list[Stage] | None = None,
    *,
    owner_only: bool = False,
) -> QuerySet:
    """The stage events that ended a passage through one of ``stages`` in [start, end), of the
    documents ``reps`` answer for (``owner_only``: of those they own)."""
    stages = STAGES if stages is None else stages
    if (reps is not None and not reps) or not stages:
        return StageEvent.objects.none()
    q = Q()
    for name, group in _by_workflow(stages):
        part = Q(workflow=name, from_state__in=[stage.state for stage in group])
        if reps is not None:
            part &= Q(object_id__in=owned_keys(group[0], reps, owner_only=owner_only))
        q |= part
    return StageEvent.objects.filter(q, at__gte=start, at__lt=end, seconds_in_previous__isnull=False).order_by()


def _target_expression(settings: dict[str, StageSetting], stages: list[Stage]) -> Case:
    return Case(
        *[
            When(workflow=stage.workflow, from_state=stage.state, then=Value(settings[stage.code].target_seconds))
            for stage in stages
        ],
        default=Value(0),
        output_field=BigIntegerField(),
    )


def _document_attribute(stages: list[Stage], attribute: str) -> Case:
    """Per event, a field of its document (``attribute`` names the stage's path, "owner" or
    "region"): a correlated subquery on the document's primary key."""
    whens = []
    for name, group in _by_workflow(stages):
        stage = group[0]
        path = getattr(stage, attribute)
        document = stage.model_class._default_manager.filter(pk=Cast(OuterRef("object_id"), BigIntegerField()))
        whens.append(When(workflow=name, then=Subquery(document.values(path)[:1])))
    return Case(*whens, default=Value(None), output_field=IntegerField())


@dataclass
class Figures:
    """What the passages of one group add up to."""

    passages: int = 0
    within: int = 0
    breaches: int = 0
    overstay_seconds: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def within_rate(self) -> Decimal | None:
        return percent(self.within, self.passages)

    @property
    def breach_rate(self) -> Decimal | None:
        return percent(self.breaches, self.passages)

    @property
    def median_hours(self) -> Decimal | None:
        return hours(self.median_seconds)

    @property
    def p90_hours(self) -> Decimal | None:
        return hours(self.p90_seconds)

    @property
    def overstay_hours(self) -> Decimal:
        return hours(self.overstay_seconds)


def _figures(events: QuerySet, keys: tuple[str, ...], *, target, percentiles: bool) -> dict[tuple, Figures]:
    """``events`` grouped by ``keys``: counts, passages within and over the target, the time
    over it and, if asked, the median and 90th percentile."""
    events = events.annotate(target=target)
    over = Q(seconds_in_previous__gt=F("target"))
    excess = Case(
        When(over, then=F("seconds_in_previous") - F("target")), default=Value(0), output_field=BigIntegerField()
    )
    measures = {
        "n": Count("pk"),
        "within": Count("pk", filter=~over),
        "excess": Coalesce(Sum(excess), Value(0), output_field=BigIntegerField()),
    }
    postgres = connection.vendor == "postgresql"
    if percentiles and postgres:
        measures["median"] = Percentile("seconds_in_previous", 0.5)
        measures["p90"] = Percentile("seconds_in_previous", 0.9)
    result: dict[tuple, Figures] = {}
    for row in events.values(*keys).annotate(**measures).order_by():
        result[tuple(row[key] for key in keys)] = Figures(
            passages=row["n"],
            within=row["within"],
            breaches=row["n"] - row["within"],
            overstay_seconds=int(row["excess"]),
            median_seconds=row.get("median"),
            p90_seconds=row.get("p90"),
        )
    if percentiles and not postgres:
        seconds: dict[tuple, list[int]] = defaultdict(list)
        for *key, value in events.values_list(*keys, "seconds_in_previous").iterator():
            seconds[tuple(key)].append(value)
        for key, values in seconds.items():
            result[key].median_seconds = percentile(values, 0.5)
            result[key].p90_seconds = percentile(values, 0.9)
    return result


# --- stage durations ------------------------------------------------------------------------------------


@dataclass
class StageRow:
    stage: Stage
    setting: StageSetting
    figures: Figures

    @property
    def code(self) -> str:
        return self.stage.code

    @property
    def label(self):
        return self.stage.label

    @property
    def target_hours(self) -> int:
        return self.setting.target_hours

    @property
    def passages(self) -> int:
        return self.figures.passages

    @property
    def within(self) -> int:
        return self.figures.within

    @property
    def breaches(self) -> int:
        return self.figures.breaches

    @property
    def within_rate(self) -> Decimal | None:
        return self.figures.within_rate

    @property
    def median_hours(self) -> Decimal | None:
        return self.figures.median_hours

    @property
    def p90_hours(self) -> Decimal | None:
        return self.figures.p90_hours

    @property
    def overstay_hours(self) -> Decimal:
        return self.figures.overstay_hours


def stage_durations(
    reps: frozenset[int] | None, date_from: date, date_to: date, *, stages: list[Stage] | None = None
) -> list[StageRow]:
    """Per stage (in the order of ``STAGES``): the passages that ended in the range, their median
    and 90th-percentile hours and the share within the target."""
    stages = STAGES if stages is None else stages
    settings = stage_settings()
    start, end = moments(date_from, date_to)
    figures = _figures(
        passages(reps, start, end, stages),
        ("workflow", "from_state"),
        target=_target_expression(settings, stages),
        percentiles=True,
    )
    return [
        StageRow(stage, settings[stage.code], figures.get((stage.workflow, stage.state), Figures())) for stage in stages
    ]


def compliance_rate(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """The share (%, 1 decimal) of the stage passages that ended in the range, of documents owned by
    ``reps`` (None: everyone), that stayed within their stage's target; None when there were none.

    The process-compliance figure of the KPI appraisal: a rep answers for the documents they own
    (not for the complaints about their customers that the service desk handles)."""
    settings = stage_settings()
    start, end = moments(date_from, date_to)
    events = passages(reps, start, end, owner_only=True).annotate(target=_target_expression(settings, STAGES))
    totals = events.aggregate(n=Count("pk"), within=Count("pk", filter=Q(seconds_in_previous__lte=F("target"))))
    return percent(totals["within"], totals["n"])


# --- breaches now -----------------------------------------------------------------------------------------


@dataclass
class Breach:
    stage: Stage
    document: Any
    entered_at: datetime
    seconds: int
    target_hours: int

    @property
    def label(self) -> str:
        return str(self.document)

    @property
    def url(self) -> str:
        return reverse(self.stage.detail_url, args=[self.document.pk])

    @property
    def owner(self):
        return getattr(self.document, self.stage.owner)

    @property
    def customer(self):
        return self.document.customer

    @property
    def region(self):
        return self.document.customer.region if self.document.customer_id else None

    @property
    def hours(self) -> Decimal:
        return hours(self.seconds)

    @property
    def overstay_seconds(self) -> int:
        return self.seconds - self.target_hours * HOUR

    @property
    def overstay_hours(self) -> Decimal:
        return hours(self.overstay_seconds)


def entered_at(stage: Stage) -> Coalesce:
    """When a document of the stage's model last entered the stage's state: its latest stage
    event into it, else its creation."""
    entry = (
        StageEvent.objects.filter(
            object_type=stage.object_type,
            object_id=Cast(OuterRef("pk"), CharField()),
            to_state=stage.state,
        )
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return Coalesce(Subquery(entry), F("created_at"))


def breaches_now(
    reps: frozenset[int] | None, now: datetime | None = None, *, stages: list[Stage] | None = None
) -> list[Breach]:
    """The documents in a stage for longer than its target now, longest over first: one query per
    stage (the documents in the stage with their entry time, past the target)."""
    now = now or timezone.now()
    stages = STAGES if stages is None else stages
    if reps is not None and not reps:
        return []
    settings = stage_settings()
    found = []
    for stage in stages:
        target = settings[stage.code].target_hours
        documents = stage.model_class._default_manager.filter(**{REGISTRY[stage.workflow].state_field: stage.state})
        if reps is not None:
            documents = documents.filter(_scope_q(stage, reps))
        documents = (
            documents.annotate(entered=entered_at(stage))
            .filter(entered__lte=now - timedelta(hours=target))
            .select_related(stage.owner, "customer__region")
            .order_by("entered", "pk")
        )
        for document in documents:
            found.append(
                Breach(stage, document, document.entered, int((now - document.entered).total_seconds()), target)
            )
    found.sort(key=lambda breach: (-breach.overstay_seconds, breach.stage.code, breach.document.pk))
    return found


# --- bottlenecks ------------------------------------------------------------------------------------------


@dataclass
class Bottleneck:
    """Where time is lost: the passages of a group that ended in the range, how many broke the
    target and by how much in all, and the documents over it now."""

    key: Any
    label: Any
    figures: Figures
    now: int = 0
    now_overstay_seconds: int = 0

    @property
    def passages(self) -> int:
        return self.figures.passages

    @property
    def breaches(self) -> int:
        return self.figures.breaches

    @property
    def breach_rate(self) -> Decimal | None:
        return self.figures.breach_rate

    @property
    def overstay_hours(self) -> Decimal:
        return self.figures.overstay_hours

    @property
    def now_overstay_hours(self) -> Decimal:
        return hours(self.now_overstay_seconds)

    @property
    def lost_seconds(self) -> int:
        return self.figures.overstay_seconds + self.now_overstay_seconds

    @property
    def lost_hours(self) -> Decimal:
        return hours(self.lost_seconds)


def _breach_key(breach: Breach, by: str):
    if by == "stage":
        return breach.stage.code
    if by == "person":
        return getattr(breach.document, f"{breach.stage.owner}_id")
    region = breach.region
    return region.pk if region is not None else None


def bottlenecks(
    reps: frozenset[int] | None,
    date_from: date,
    date_to: date,
    by: str = "stage",
    *,
    breaches: list[Breach] | None = None,
    now: datetime | None = None,
) -> list[Bottleneck]:
    """Time over target per stage, person (the document's owner) or region (its customer's),
    of the passages that ended in the range plus the documents over their target now (pass
    ``breaches`` when they are at hand), most hours lost first. Groups without a breach are
    left out."""
    if by not in BOTTLENECK_GROUPS:
        raise ValueError(by)
    settings = stage_settings()
    start, end = moments(date_from, date_to)
    events = passages(reps, start, end)
    if by == "stage":
        keys = ("workflow", "from_state")
    else:
        events = events.annotate(group=_document_attribute(STAGES, "owner" if by == "person" else "region"))
        keys = ("group",)
    figures = _figures(events, keys, target=_target_expression(settings, STAGES), percentiles=False)
    if by == "stage":
        figures = {STAGE_BY_KEY[key].code: value for key, value in figures.items() if key in STAGE_BY_KEY}
    else:
        figures = {key[0]: value for key, value in figures.items()}
    rows: dict[Any, Bottleneck] = {key: Bottleneck(key, "", value) for key, value in figures.items()}
    for breach in breaches if breaches is not None else breaches_now(reps, now):
        key = _breach_key(breach, by)
        row = rows.setdefault(key, Bottleneck(key, "", Figures()))
        row.now += 1
        row.now_overstay_seconds += breach.overstay_seconds
    found = [row for row in rows.values() if row.breaches or row.now]
    _label(found, by)
    found.sort(key=lambda row: (-row.lost_seconds, -row.breaches, str(row.label)))
    return found


def _label(rows: list[Bottleneck], by: str) -> None:
    if by == "stage":
        for row in rows:
            row.label = STAGE_BY_CODE[row.key].label
        return
    ids = [row.key for row in rows if row.key is not None]
    if by == "person":
        from foodflow.accounts.models import User

        names = {user.pk: user.display_name for user in User.objects.filter(pk__in=ids)}
        nobody = _("Nobody (not assigned)")
    else:
        from foodflow.accounts.models import OrgUnit

        names = {unit.pk: unit.name for unit in OrgUnit.objects.filter(pk__in=ids)}
        nobody = _("No region")
    for row in rows:
        row.label = names.get(row.key, nobody) if row.key is not None else nobody


# --- trend ------------------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class TrendRow:
    stage: Stage
    setting: StageSetting
    months: list[date]
    points: dict[date, Figures] = field(default_factory=dict)

    @property
    def cells(self) -> list[tuple[date, Figures]]:
        return [(month, self.points.get(month, Figures())) for month in self.months]


def trend(
    reps: frozenset[int] | None, stage: str | None = None, months: int = 12, *, now: datetime | None = None
) -> list[TrendRow]:
    """Per stage (or only ``stage``), per month of the last ``months`` (this one included): the
    passages that ended in it, their median hours and the share within the target."""
    now = now or timezone.now()
    stages = [STAGE_BY_CODE[stage]] if stage else STAGES
    settings = stage_settings()
    this_month = timezone.localdate(now).replace(day=1)
    month_list = [_add_months(this_month, -offset) for offset in range(months - 1, -1, -1)]
    today = timezone.localdate(now)
    start, end = moments(month_list[0], today)
    events = passages(reps, start, end, stages).annotate(month=TruncMonth("at", output_field=DateField()))
    figures = _figures(
        events, ("workflow", "from_state", "month"), target=_target_expression(settings, stages), percentiles=True
    )
    rows = {item.code: TrendRow(item, settings[item.code], month_list) for item in stages}
    for (workflow, state, month), value in figures.items():
        item = STAGE_BY_KEY.get((workflow, state))
        if item is not None and item.code in rows:
            rows[item.code].points[month] = value
    return [rows[item.code] for item in stages]


# --- the overstay alert ------------------------------------------------------------------------------------


def overstay_alerts_send(now=None) -> int:
    """Alert each document's owner once per stage entry when it overstays its stage's target;
    returns the alerts sent (idempotent: a second run sends none)."""
    now = now or timezone.now()
    settings = stage_settings()
    alerting = [stage for stage in STAGES if settings[stage.code].alert_owner]
    found = [breach for breach in breaches_now(None, now, stages=alerting) if breach.owner is not None]
    if not found:
        return 0
    oldest = min(breach.entered_at for breach in found)
    done = set(
        OverstayAlert.objects.filter(stage__in=[stage.code for stage in alerting], entered_at__gte=oldest).values_list(
            "stage", "object_type", "object_id", "entered_at"
        )
    )
    sent = 0
    for breach in found:
        key = (breach.stage.code, breach.stage.object_type, str(breach.document.pk), breach.entered_at)
        if key in done:
            continue
        try:
            # The row first: a concurrent run's insert waits on the unique key and then fails,
            # so each stage entry is alerted once. The inbox entry commits with it (its e-mail
            # goes after the commit): either both or neither.
            with transaction.atomic():
                OverstayAlert.objects.create(
                    stage=key[0], object_type=key[1], object_id=key[2], entered_at=key[3], owner=breach.owner
                )
                notify(
                    recipients=[breach.owner],
                    kind=OVERSTAY,
                    params={
                        "document": breach.label,
                        "stage": breach.stage.label,
                        "hours": breach.hours,
                        "target": breach.target_hours,
                        "entered": f"{timezone.localtime(breach.entered_at):%Y-%m-%d %H:%M}",
                    },
                    url=breach.url,
                )
        except IntegrityError:
            continue
        sent += 1
    return sent
