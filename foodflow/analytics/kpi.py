"""KPI appraisal: schemes, metric values, scorecards, rewards and penalties, review meetings. (Helper B.)

A scheme weighs some of the six metrics (the weights add up to 100 %) and scores each with
bands: a list of [lowest value, score] from the highest band down; the first band whose lowest
value the metric reaches gives its score (0–100), none reached gives 0. A metric without data
(no target, nothing fell due, no survey answer, no rating, no stage passage) scores 0 and is
flagged "no data" on the scorecard so that the reviewer sees why.

A scorecard is one rep's appraisal for one period of the scheme (month, quarter or year):
``scorecard_compute`` writes the values, scores and weighted scores into ``results`` and their sum
into ``total``. It moves draft → reviewed → final; computing again sends a reviewed card back to
draft, a final one is never computed again: the figures it was decided on stay as they were.

Who: ``can_appraise`` within its data scope (a manager their team's reps), never oneself; the
rep sees their own scorecards read only (``can_view_sales``). Teamwork is rated 1–5 by peers of
the same team or by whoever has the rep in their ``can_rate_teamwork`` scope, once per rater,
rep and period (a second rating replaces the first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Avg, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.accounts.models import OrgUnit, User
from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from foodflow.core.notifications import NotificationKind, notify, register_kind

from . import finance_figures, monitoring, targets
from .models import (
    CustomerMonth,
    KpiMetric,
    KpiScheme,
    KpiSchemeItem,
    PeriodKind,
    ReviewMeeting,
    RewardPenalty,
    Scorecard,
    TeamworkRating,
)
from .permissions import (
    APPRAISE,
    RATE_TEAMWORK,
    VIEW_SALES,
    can_appraise,
    can_manage_schemes,
    can_rate_teamwork,
    scope_reps,
)
from .targets import REP_ROLE, period_check, period_end

State = Scorecard.State
TWO = Decimal("0.01")
HUNDRED = Decimal(100)
LIMIT = Decimal("1e9")  # a band's lowest value stays a plain JSON number
# the state each action moves a scorecard from and to
TRANSITIONS = {
    "review": (State.DRAFT, State.REVIEWED),
    "finalise": (State.REVIEWED, State.FINAL),
}
ACTION_LABELS = {"review": gettext_lazy("Mark reviewed"), "finalise": gettext_lazy("Finalise")}

SCORECARD_FINAL = register_kind(
    NotificationKind(
        code="scorecard_final",
        label=gettext_lazy("My KPI scorecard was finalised"),
        title=gettext_lazy("Your KPI scorecard for %(period)s is final: %(total)s points"),
        body=gettext_lazy("Open it to see each metric's score, and the rewards and review meetings linked to it."),
    )
)

METRIC_DEFINITIONS = {
    KpiMetric.SALES: gettext_lazy("Revenue of the period ÷ the rep's sales target for the period × 100 %."),
    KpiMetric.COLLECTION: gettext_lazy(
        "Of the receivables of the rep's customers falling due in the period, the share paid by its end (%)."
    ),
    KpiMetric.NEW_CUSTOMERS: gettext_lazy(
        "Customers whose first confirmed order ever falls in the period and was sold by the rep "
        "(counted by month: the rep sold to them in their first month)."
    ),
    KpiMetric.SATISFACTION: gettext_lazy(
        "The average CSAT (1–5) of the survey answers received in the period from the rep's customers."
    ),
    KpiMetric.TEAMWORK: gettext_lazy("The average of the teamwork ratings (1–5) given to the rep for the period."),
    KpiMetric.COMPLIANCE: gettext_lazy(
        "Of the stages the rep's documents left in the period, the share that stayed within the stage's target time."
    ),
}
DEFINITIONS = (
    gettext_lazy("Score: the first band (from the top) whose lowest value the metric reaches gives the score; else 0."),
    gettext_lazy("A metric without data scores 0 and is marked “no data”."),
    gettext_lazy("Weighted: score × weight ÷ 100, to 0.01; the total is the sum of the weighted scores."),
)


def _dec(value) -> Decimal:
    """A Decimal from a stored JSON number or a string (floats through their shortest text)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _number(value: Decimal):
    """A Decimal as a JSON number: an int when whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def _actor(by):
    return by if getattr(by, "is_authenticated", False) else None


# --- schemes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    metric: str
    weight: Decimal
    bands: list  # [[lowest, score], …] as JSON numbers, highest band first


def _invalid(message, code: str, field: str = "items") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _items_check(items) -> list[Item]:
    items = list(items or ())
    if not items:
        raise _invalid(_("Choose at least one metric."), "kpi_items_missing")
    checked, seen = [], set()
    for entry in items:
        try:
            metric, weight, bands = entry
        except (TypeError, ValueError):
            raise _invalid(_("Each item is a metric, a weight and its bands."), "kpi_item_invalid") from None
        if metric not in KpiMetric.values:
            raise _invalid(_("Unknown metric: %(metric)s.") % {"metric": metric}, "kpi_metric_unknown")
        if metric in seen:
            raise _invalid(_("Each metric may appear once."), "kpi_metric_twice")
        seen.add(metric)
        try:
            weight = _dec(weight)
        except (InvalidOperation, ValueError, TypeError):
            weight = None
        if (
            weight is None
            or not weight.is_finite()
            or weight <= 0
            or weight > HUNDRED
            or weight != weight.quantize(TWO)
        ):
            raise _invalid(_("A weight is a percentage above 0 and at most 100, to 0.01."), "kpi_weight_invalid")
        checked.append(Item(metric, weight, _bands_check(bands)))
    if sum(item.weight for item in checked) != HUNDRED:
        raise _invalid(
            _("The weights add up to %(sum)s %%; they must add up to 100 %%.")
            % {"sum": sum(item.weight for item in checked)},
            "kpi_weights_sum",
        )
    return checked


def _bands_check(bands) -> list:
    message = _(
        "Bands are pairs of a lowest value and a score from 0 to 100, from the highest lowest value down, "
        "each lowest value lower than the one before."
    )
    if not isinstance(bands, list | tuple) or not bands:
        raise _invalid(message, "kpi_bands_invalid")
    result, previous = [], None
    for band in bands:
        try:
            lowest, score = band
            lowest, score = _dec(lowest), _dec(score)
        except (TypeError, ValueError, InvalidOperation):
            raise _invalid(message, "kpi_bands_invalid") from None
        if not (lowest.is_finite() and score.is_finite()) or not 0 <= score <= HUNDRED or abs(lowest) >= LIMIT:
            raise _invalid(message, "kpi_bands_invalid")
        if previous is not None and lowest >= previous:
            raise _invalid(message, "kpi_bands_invalid")
        previous = lowest
        result.append([_number(lowest), _number(score)])
    return result


def _scheme_fields_check(name: str, period: str, scheme: KpiScheme | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _invalid(_("Give the scheme a name of at most 100 characters."), "kpi_scheme_name", "name")
    if period not in PeriodKind.values:
        raise _invalid(_("Choose month, quarter or year."), "period_unknown", "period")
    others = KpiScheme.objects.filter(name=name)
    if scheme is not None:
        others = others.exclude(pk=scheme.pk)
    if others.exists():
        raise _invalid(_("A scheme with this name exists already."), "kpi_scheme_name_taken", "name")
    return name


def scheme_create(*, by, name: str, period: str, items, note: str = "", is_active: bool = True) -> KpiScheme:
    """A new scheme from ``items``: [(metric, weight %, bands)]."""
    if not can_manage_schemes(by):
        raise PermissionDeniedError()
    name = _scheme_fields_check(name, period, None)
    checked = _items_check(items)
    with transaction.atomic():
        scheme = KpiScheme.objects.create(
            name=name, period=period, note=(note or "").strip(), is_active=is_active, created_by=_actor(by)
        )
        _items_write(scheme, checked)
        audit_record(
            action="analytics.kpi_scheme_created", actor=by, obj=scheme, changes=_scheme_changes(scheme, checked)
        )
    return scheme


def scheme_update(
    *, by, scheme: KpiScheme, name: str, period: str, items, note: str = "", is_active: bool = True
) -> KpiScheme:
    """Replace the scheme's fields and items. Scorecards keep the weights and bands they were
    computed with (in their results) until they are computed again."""
    if not can_manage_schemes(by):
        raise PermissionDeniedError()
    name = _scheme_fields_check(name, period, scheme)
    checked = _items_check(items)
    with transaction.atomic():
        scheme = KpiScheme.objects.select_for_update().get(pk=scheme.pk)
        before = _scheme_changes(scheme, [Item(i.metric, i.weight, i.bands) for i in scheme.items.all()])
        scheme.name, scheme.period, scheme.note, scheme.is_active = name, period, (note or "").strip(), is_active
        scheme.updated_by = _actor(by)
        scheme.save(update_fields=["name", "period", "note", "is_active", "updated_by", "updated_at"])
        scheme.items.all().delete()
        _items_write(scheme, checked)
        audit_record(
            action="analytics.kpi_scheme_updated",
            actor=by,
            obj=scheme,
            changes={"before": before, "after": _scheme_changes(scheme, checked)},
        )
    return scheme


def _items_write(scheme: KpiScheme, items: list[Item]) -> None:
    KpiSchemeItem.objects.bulk_create(
        KpiSchemeItem(scheme=scheme, metric=item.metric, weight=item.weight, bands=item.bands) for item in items
    )


def _scheme_changes(scheme: KpiScheme, items: list[Item]) -> dict:
    return {
        "name": scheme.name,
        "period": scheme.period,
        "is_active": scheme.is_active,
        "items": [[item.metric, str(item.weight), item.bands] for item in items],
    }


def score(value, bands) -> Decimal:
    """The score of ``value``: the first band (highest first) whose lowest value it reaches; 0
    when none or when there is no value."""
    if value is None:
        return Decimal(0)
    value = _dec(value)
    for lowest, points in bands:
        if value >= _dec(lowest):
            return _dec(points)
    return Decimal(0)


# --- teamwork ------------------------------------------------------------------------------------


def may_rate(rater, rep) -> bool:
    """Peers of the same team, or whoever has the rep in their teamwork scope; never oneself."""
    if not can_rate_teamwork(rater) or rater.pk == rep.pk:
        return False
    reps = scope_reps(rater, RATE_TEAMWORK)
    if reps is None or rep.pk in reps:
        return True
    unit = rater.org_unit
    return unit is not None and unit.kind == OrgUnit.Kind.TEAM and rep.org_unit_id == unit.pk


def colleagues_to_rate(rater):
    """The reps ``rater`` may rate (the page's list)."""
    if not can_rate_teamwork(rater):
        return User.objects.none()
    reps = scope_reps(rater, RATE_TEAMWORK)
    rows = User.objects.filter(is_active=True, roles__code=REP_ROLE).exclude(pk=rater.pk)
    if reps is not None:
        same_team = (
            Q(org_unit_id=rater.org_unit_id)
            if rater.org_unit and rater.org_unit.kind == OrgUnit.Kind.TEAM
            else Q(pk=None)
        )
        rows = rows.filter(Q(pk__in=sorted(reps)) | same_team)
    return rows.distinct().select_related("org_unit").order_by("org_unit__path", "full_name", "username")


def teamwork_rate(*, by, rep, period: str, period_start: date, score: int, comment: str = "") -> TeamworkRating:
    """Rate ``rep``'s teamwork 1–5 for the period; a second rating by the same rater replaces it."""
    if not can_rate_teamwork(by):
        raise PermissionDeniedError()
    period_check(period, period_start)
    if by.pk == rep.pk:
        raise PermissionDeniedError(_("Nobody rates their own teamwork."), code="teamwork_self")
    if not may_rate(by, rep):
        raise PermissionDeniedError(
            _("You may rate the reps of your team or of your data scope only."), code="teamwork_out_of_scope"
        )
    try:
        value = int(score)
        if str(value) != str(score).strip() or not 1 <= value <= 5:
            raise ValueError
    except (TypeError, ValueError):
        raise _invalid(_("Choose a score from 1 to 5."), "teamwork_score_invalid", "score") from None
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise _invalid(_("The comment is at most 300 characters."), "teamwork_comment_too_long", "comment")
    with transaction.atomic():
        if Scorecard.objects.filter(rep=rep, period=period, period_start=period_start, state=State.FINAL).exists():
            raise ConflictError(
                _("The rep's scorecard for this period is final: its ratings are closed."), code="teamwork_closed"
            )
        rating = (
            TeamworkRating.objects.select_for_update()
            .filter(rep=rep, period=period, period_start=period_start, rater=by)
            .first()
        )
        before = None
        if rating is None:
            rating = TeamworkRating.objects.create(
                rep=rep,
                period=period,
                period_start=period_start,
                rater=by,
                score=value,
                comment=comment,
                created_by=_actor(by),
            )
        else:
            before = rating.score
            rating.score, rating.comment, rating.updated_by = value, comment, _actor(by)
            rating.save(update_fields=["score", "comment", "updated_by", "updated_at"])
        audit_record(
            action="analytics.teamwork_rated",
            actor=by,
            obj=rating,
            changes={
                "rep": rep.pk,
                "period": period,
                "period_start": period_start.isoformat(),
                "score": [before, value],
            },
        )
    return rating


# --- metric values --------------------------------------------------------------------------------


def new_customers(rep_id: int, date_from: date, date_to: date) -> int:
    """Customers whose first counted month falls in the range and who bought from the rep in it."""
    first_month = CustomerMonth.objects.filter(customer_id=OuterRef("customer_id")).order_by("month").values("month")
    return (
        CustomerMonth.objects.filter(rep_id=rep_id, month__range=(date_from.replace(day=1), date_to))
        .annotate(first_month=Subquery(first_month[:1]))
        .filter(month=F("first_month"))
        .values("customer_id")
        .distinct()
        .count()
    )


def teamwork_average(rep_id: int, period: str, period_start: date) -> Decimal | None:
    average = TeamworkRating.objects.filter(rep_id=rep_id, period=period, period_start=period_start).aggregate(
        value=Avg("score")
    )["value"]
    return None if average is None else _dec(average).quantize(TWO, ROUND_HALF_UP)


def metric_values(rep, period: str, period_start: date, metrics=None) -> dict[str, Decimal | int | None]:
    """Each metric's value for ``rep`` over the period (only ``metrics`` if given); None: no data."""
    period_check(period, period_start)
    start, end = period_start, period_end(period, period_start)
    reps = frozenset({rep.pk})
    readers = {
        KpiMetric.SALES: lambda: targets.rep_achievement(rep.pk, period, period_start),
        KpiMetric.COLLECTION: lambda: finance_figures.collection_rate(reps, start, end),
        KpiMetric.NEW_CUSTOMERS: lambda: new_customers(rep.pk, start, end),
        KpiMetric.SATISFACTION: lambda: finance_figures.csat_average(reps, start, end),
        KpiMetric.TEAMWORK: lambda: teamwork_average(rep.pk, period, period_start),
        KpiMetric.COMPLIANCE: lambda: monitoring.compliance_rate(reps, start, end),
    }
    wanted = list(metrics) if metrics is not None else list(KpiMetric.values)
    return {str(metric): readers[metric]() for metric in wanted}


def results_of(values: dict, items) -> tuple[dict, Decimal]:
    """The scorecard's results from the metric values and the scheme's items, and the total."""
    results, total = {}, Decimal(0)
    for item in items:
        value = values.get(item.metric)
        points = score(value, item.bands)
        weight = _dec(item.weight)
        weighted = (points * weight / HUNDRED).quantize(TWO, ROUND_HALF_UP)
        total += weighted
        results[item.metric] = {
            "value": None if value is None else str(value),
            "no_data": value is None,
            "score": str(points),
            "weight": str(weight),
            "weighted": str(weighted),
            "bands": item.bands,
        }
    return results, total.quantize(TWO)


# --- scorecards ------------------------------------------------------------------------------------


def appraisable(by, rep) -> bool:
    """May ``by`` appraise ``rep``: the permission, the rep in its scope, and not oneself."""
    if not can_appraise(by) or by.pk == rep.pk:
        return False
    reps = scope_reps(by, APPRAISE)
    return reps is None or rep.pk in reps


def _appraisal_check(by, rep) -> None:
    if not can_appraise(by):
        raise PermissionDeniedError()
    if by.pk == rep.pk:
        raise PermissionDeniedError(_("Nobody appraises themselves."), code="appraise_self")
    if not appraisable(by, rep):
        raise PermissionDeniedError(_("This rep is not in your data scope."), code="appraise_out_of_scope")


def reps_to_appraise(by):
    """The reps ``by`` may appraise (the compute-all button)."""
    if not can_appraise(by):
        return User.objects.none()
    rows = User.objects.filter(is_active=True, roles__code=REP_ROLE).exclude(pk=by.pk).distinct()
    reps = scope_reps(by, APPRAISE)
    if reps is not None:
        rows = rows.filter(pk__in=sorted(reps))
    return rows.order_by("full_name", "username")


def scorecard_compute(*, by, rep, scheme: KpiScheme, period_start: date, today: date | None = None) -> Scorecard:
    """Create or compute again the rep's draft scorecard for the scheme's period."""
    _appraisal_check(by, rep)
    period = scheme.period
    period_check(period, period_start)
    if not scheme.is_active:
        raise _invalid(_("This scheme is not active."), "kpi_scheme_inactive", "scheme")
    if period_start > (today or timezone.localdate()):
        raise _invalid(_("The period has not started yet."), "scorecard_future", "period_start")
    items = list(scheme.items.all())
    values = metric_values(rep, period, period_start, [item.metric for item in items])
    results, total = results_of(values, items)
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().filter(rep=rep, period=period, period_start=period_start).first()
        if card is not None and card.state == State.FINAL:
            raise ConflictError(_("This scorecard is final: it is not computed again."), code="scorecard_final")
        before = None
        if card is None:
            card = Scorecard.objects.create(
                rep=rep,
                scheme=scheme,
                period=period,
                period_start=period_start,
                results=results,
                total=total,
                computed_at=timezone.now(),
                created_by=_actor(by),
            )
        else:
            before = {"state": card.state, "total": str(card.total), "scheme": card.scheme_id}
            card.scheme, card.results, card.total, card.state = scheme, results, total, State.DRAFT
            card.computed_at, card.updated_by = timezone.now(), _actor(by)
            card.save(update_fields=["scheme", "results", "total", "state", "computed_at", "updated_by", "updated_at"])
        audit_record(
            action="analytics.scorecard_computed",
            actor=by,
            obj=card,
            changes={
                "before": before,
                "scheme": scheme.pk,
                "total": str(total),
                "values": {metric: result["value"] for metric, result in results.items()},
            },
        )
    return card


@dataclass(frozen=True)
class Computed:
    cards: list
    skipped_final: int


def scorecards_compute(*, by, scheme: KpiScheme, period_start: date, today: date | None = None) -> Computed:
    """Compute the scorecards of every rep ``by`` may appraise; final ones stay as they are."""
    if not can_appraise(by):
        raise PermissionDeniedError()
    period_check(scheme.period, period_start)
    reps = list(reps_to_appraise(by))
    final = set(
        Scorecard.objects.filter(
            rep__in=reps, period=scheme.period, period_start=period_start, state=State.FINAL
        ).values_list("rep_id", flat=True)
    )
    cards = [
        scorecard_compute(by=by, rep=rep, scheme=scheme, period_start=period_start, today=today)
        for rep in reps
        if rep.pk not in final
    ]
    return Computed(cards, len(final))


def _step(*, by, scorecard: Scorecard, action: str) -> Scorecard:
    _appraisal_check(by, scorecard.rep)
    source, target = TRANSITIONS[action]
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().select_related("rep", "scheme").get(pk=scorecard.pk)
        if card.state != source:
            raise TransitionNotAllowed(
                action=ACTION_LABELS[action], state=card.get_state_display(), code="scorecard_wrong_state"
            )
        card.state, card.updated_by = target, _actor(by)
        card.save(update_fields=["state", "updated_by", "updated_at"])
        audit_record(
            action=f"analytics.scorecard_{'reviewed' if action == 'review' else 'finalised'}",
            actor=by,
            obj=card,
            changes={"state": [source, target], "total": str(card.total)},
        )
        if target == State.FINAL:
            label = targets.period_name(card.period, card.period_start)
            url = reverse("analytics:scorecard", args=[card.pk])
            transaction.on_commit(
                lambda: notify(
                    recipients=[card.rep], kind=SCORECARD_FINAL, params={"period": label, "total": card.total}, url=url
                )
            )
    return card


def scorecard_review(*, by, scorecard: Scorecard) -> Scorecard:
    """Draft → reviewed: the figures were checked (with the rep, in a review meeting or not)."""
    return _step(by=by, scorecard=scorecard, action="review")


def scorecard_finalise(*, by, scorecard: Scorecard) -> Scorecard:
    """Reviewed → final: the appraisal is decided; it is never computed again. The rep is told."""
    return _step(by=by, scorecard=scorecard, action="finalise")


# --- rewards, penalties and review meetings -----------------------------------------------------


def _fields_check(errors: dict, message, code: str) -> None:
    """Every field's error at once, so that a form shows them all."""
    if errors:
        raise ValidationFailed(message, code=code, fields=errors)


def _record_create(model, *, by, action: str, changes: dict, **fields):
    """A new ``model`` row written by ``by`` and its audit entry, in one transaction."""
    with transaction.atomic():
        record = model.objects.create(**fields, created_by=_actor(by))
        audit_record(action=action, actor=by, obj=record, changes=changes)
    return record


def reward_record(
    *, by, rep, kind: str, amount, reason: str, decided_on: date, scorecard: Scorecard | None = None
) -> RewardPenalty:
    """A reward or a penalty (奖惩记录), on a scorecard of the same rep or on its own."""
    _appraisal_check(by, rep)
    errors = {}
    if kind not in RewardPenalty.Kind.values:
        errors["kind"] = [_("Choose reward or penalty.")]
    try:
        amount = _dec(amount if amount not in (None, "") else "0")
        if not amount.is_finite() or not 0 <= amount < Decimal("1e12") or amount != amount.quantize(TWO):
            raise ValueError
    except (InvalidOperation, ValueError, TypeError):
        errors["amount"] = [_("Enter an amount of zero or more, to the cent.")]
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        errors["reason"] = [_("Give the reason, in at most 300 characters.")]
    if not isinstance(decided_on, date):
        errors["decided_on"] = [_("Enter the date it was decided.")]
    _fields_check(errors, _("Check the reward or penalty."), "reward_invalid")
    amount = amount.quantize(TWO)
    if scorecard is not None and scorecard.rep_id != rep.pk:
        raise _invalid(_("The scorecard is another rep's."), "reward_scorecard_mismatch", "scorecard")
    return _record_create(
        RewardPenalty,
        by=by,
        action="analytics.reward_recorded",
        changes={
            "rep": rep.pk,
            "kind": kind,
            "amount": str(amount),
            "reason": reason,
            "decided_on": decided_on.isoformat(),
            "scorecard": scorecard.pk if scorecard else None,
        },
        rep=rep,
        scorecard=scorecard,
        kind=kind,
        amount=amount,
        reason=reason,
        decided_on=decided_on,
    )


def meeting_record(
    *,
    by,
    scorecard: Scorecard,
    held_on: date,
    attendees: str,
    comments: str,
    agreed_actions: str,
    follow_up_on: date | None = None,
) -> ReviewMeeting:
    """The review meeting of a scorecard: who came, what was said, what was agreed."""
    _appraisal_check(by, scorecard.rep)
    errors = {}
    comments, agreed_actions, attendees = (comments or "").strip(), (agreed_actions or "").strip(), (attendees or "")
    attendees = attendees.strip()
    if not isinstance(held_on, date):
        errors["held_on"] = [_("Enter the date of the meeting.")]
    if not comments:
        errors["comments"] = [_("Write what was said.")]
    if len(attendees) > 300:
        errors["attendees"] = [_("At most 300 characters.")]
    if follow_up_on is not None and isinstance(held_on, date) and follow_up_on < held_on:
        errors["follow_up_on"] = [_("The follow-up cannot be before the meeting.")]
    _fields_check(errors, _("Check the meeting record."), "meeting_invalid")
    return _record_create(
        ReviewMeeting,
        by=by,
        action="analytics.review_meeting_recorded",
        changes={
            "scorecard": scorecard.pk,
            "rep": scorecard.rep_id,
            "held_on": held_on.isoformat(),
            "follow_up_on": follow_up_on.isoformat() if follow_up_on else None,
        },
        scorecard=scorecard,
        held_on=held_on,
        attendees=attendees,
        comments=comments,
        agreed_actions=agreed_actions,
        follow_up_on=follow_up_on,
    )


# --- reading ------------------------------------------------------------------------------------


def reps_visible(user) -> frozenset[int] | None:
    """The reps whose scorecards ``user`` may read: their sales scope and their appraisal scope
    (None: everyone)."""
    sales, appraise = scope_reps(user, VIEW_SALES), scope_reps(user, APPRAISE)
    if sales is None or appraise is None:
        return None
    return sales | appraise


def may_see_rep(user, rep_id: int) -> bool:
    reps = reps_visible(user)
    return reps is None or rep_id in reps


def scorecards_visible(user):
    reps = reps_visible(user)
    rows = Scorecard.objects.select_related("rep", "rep__org_unit", "scheme")
    return rows if reps is None else rows.filter(rep_id__in=sorted(reps))


def scorecards_of(rep):
    """The rep's scorecards, newest period first (the history)."""
    return Scorecard.objects.filter(rep=rep).select_related("scheme").order_by("-period_start", "-pk")


def rewards_of(rep):
    return RewardPenalty.objects.filter(rep=rep).select_related("scorecard").order_by("-decided_on", "-pk")


def meetings_of(rep):
    return ReviewMeeting.objects.filter(scorecard__rep=rep).select_related("scorecard").order_by("-held_on", "-pk")


@dataclass(frozen=True)
class ResultRow:
    metric: str
    label: str
    definition: str
    value: str | None
    no_data: bool
    score: Decimal
    weight: Decimal
    weighted: Decimal
    bands: list


def result_rows(card: Scorecard) -> list[ResultRow]:
    """The scorecard's results in the order of the metrics, with their names."""
    labels = dict(KpiMetric.choices)
    rows = []
    for metric in KpiMetric.values:
        result = card.results.get(metric)
        if result is None:
            continue
        rows.append(
            ResultRow(
                metric=metric,
                label=str(labels[metric]),
                definition=str(METRIC_DEFINITIONS[metric]),
                value=result.get("value"),
                no_data=bool(result.get("no_data")),
                score=_dec(result.get("score", 0)),
                weight=_dec(result.get("weight", 0)),
                weighted=_dec(result.get("weighted", 0)),
                bands=result.get("bands", []),
            )
        )
    return rows
