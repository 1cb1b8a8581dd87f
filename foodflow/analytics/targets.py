"""Sales targets: a revenue target per rep, team, region, product line or the whole company for
one month, quarter or year; its completion, gap, pace and forecast. (Helper B.)

A target is compared with the revenue of ``figures`` (VAT included, counted orders, by order
date) over the whole period, so that the page, the export, the API and the KPI's sales metric
(``rep_achievement``) read one number:

- rep: the orders the rep owned; team: the orders counted under the team (the rep's team when
  the order was confirmed); region: the orders of the region's customers; product line: the lines
  of the products under that top category; company: every counted order.

Who sets what: ``can_manage_targets`` within the data scope of that permission — a team
manager for the reps of their team and the team itself, a region manager also for the region
and its teams, the company-wide scope also for the company and the product lines. Who sees
what: ``can_view_sales`` within its scope, by the same rule (a rep sees their own target only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.accounts.models import OrgUnit, User
from foodflow.accounts.permissions import perm_scope, scope_root
from foodflow.catalog.models import Category
from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.permissions import Scope

from . import figures
from .figures import Slice, add_months, period_label
from .models import PeriodKind, SalesTarget
from .permissions import MANAGE_TARGETS, VIEW_SALES, can_manage_targets, scope_reps

Holder = SalesTarget.Holder
MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
HOLDER_ORDER = [Holder.COMPANY, Holder.REGION, Holder.TEAM, Holder.REP, Holder.PRODUCT_LINE]
# the role whose members are offered as target and appraisal holders in the forms
REP_ROLE = "rep"
PCT = Decimal("0.1")
CENT = Decimal("0.01")

DEFINITIONS = (
    gettext_lazy(
        "Actual: the revenue (VAT included) of the confirmed orders dated in the period, as on the sales "
        "figures: for a rep the orders they own, for a team the orders counted under the team, for a region "
        "the orders of its customers, for a product line the lines of its products."
    ),
    gettext_lazy("Completion: actual ÷ target × 100 %."),
    gettext_lazy("Gap: target − actual; negative when the target is exceeded."),
    gettext_lazy(
        "Time elapsed: the days of the period up to and including today ÷ the days of the period "
        "(0 % before the period, 100 % after it)."
    ),
    gettext_lazy(
        "Pace: completion ÷ time elapsed × 100 %. At 100 % or more the target is on track: "
        "sales run at least as fast as the calendar."
    ),
    gettext_lazy(
        "Forecast: actual ÷ time elapsed, the revenue at the period end if sales go on at the same "
        "daily rate (a straight line); none before the period starts."
    ),
)


# --- periods --------------------------------------------------------------------------------------


def period_end(period: str, start: date) -> date:
    return add_months(start, MONTHS[period]) - timedelta(days=1)


def period_of(day: date, period: str) -> date:
    """The start of the ``period`` (month, quarter or year) that contains ``day``."""
    return figures.period_start(day, period)


def period_name(period: str, start: date) -> str:
    return period_label(start, period)


def period_starts(period: str, *, around: date | None = None, back: int | None = None, ahead: int = 1) -> list[date]:
    """Recent period starts, newest first, for the pickers: ``back`` periods before the one of
    ``around`` (today) and ``ahead`` after it."""
    around = around or timezone.localdate()
    back = back if back is not None else {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 8, PeriodKind.YEAR: 4}[period]
    current = period_of(around, period)
    step = MONTHS[period]
    return [add_months(current, step * offset) for offset in range(ahead, -back - 1, -1)]


def period_check(period: str, period_start: date) -> None:
    """Refuse an unknown period kind or a start that is not the first day of its period."""
    if period not in MONTHS:
        message = _("Choose month, quarter or year.")
        raise ValidationFailed(message, code="period_unknown", fields={"period": [message]})
    if not isinstance(period_start, date) or period_of(period_start, period) != period_start:
        message = _("The period must start on the first day of its month, quarter or year.")
        raise ValidationFailed(message, code="period_start_invalid", fields={"period_start": [message]})


# --- scope ----------------------------------------------------------------------------------------


def units_in_scope(user, code: str) -> frozenset[int] | None:
    """The org units (teams, regions) whose targets ``user`` reaches with ``code``: None means
    all of them, an empty set none. A team or region scope reaches its own unit and those below."""
    scope = perm_scope(user, code)
    if scope is None or scope == Scope.OWN:
        return frozenset()
    if scope == Scope.ALL:
        return None
    root = scope_root(user, scope)
    if root is None:
        return frozenset()
    return frozenset(OrgUnit.objects.filter(path__startswith=root.path).values_list("pk", flat=True))


def _reaches(user, code: str, target: SalesTarget) -> bool:
    """May ``user`` reach ``target``'s holder with ``code``?"""
    if target.holder == Holder.REP:
        reps = scope_reps(user, code)
        return reps is None or target.rep_id in reps
    if target.holder in (Holder.TEAM, Holder.REGION):
        units = units_in_scope(user, code)
        return units is None or target.unit_id in units
    return perm_scope(user, code) == Scope.ALL  # company and product lines: the company-wide scope


def may_manage(user, target: SalesTarget) -> bool:
    """May ``user`` change or delete ``target``?"""
    return can_manage_targets(user) and _reaches(user, MANAGE_TARGETS, target)


def targets_visible(user, code: str = VIEW_SALES):
    """The targets whose holder ``user`` reaches with ``code``."""
    scope = perm_scope(user, code)
    if scope is None:
        return SalesTarget.objects.none()
    if scope == Scope.ALL:
        return SalesTarget.objects.all()
    reps = scope_reps(user, code) or frozenset()
    units = units_in_scope(user, code) or frozenset()
    return SalesTarget.objects.filter(
        Q(holder=Holder.REP, rep_id__in=sorted(reps)) | Q(holder__in=[Holder.TEAM, Holder.REGION], unit_id__in=units)
    )


def holders_to_set(user) -> dict:
    """What ``user`` may set targets for (the choices of the forms): reps, teams, regions,
    product lines, and whether the company."""
    if not can_manage_targets(user):
        return {
            "reps": User.objects.none(),
            "teams": OrgUnit.objects.none(),
            "regions": OrgUnit.objects.none(),
            "lines": Category.objects.none(),
            "company": False,
        }
    reps = scope_reps(user, MANAGE_TARGETS)
    units = units_in_scope(user, MANAGE_TARGETS)
    rep_rows = User.objects.filter(is_active=True, roles__code=REP_ROLE).distinct().order_by("full_name", "username")
    unit_rows = OrgUnit.objects.all()
    if reps is not None:
        rep_rows = rep_rows.filter(pk__in=sorted(reps))
    if units is not None:
        unit_rows = unit_rows.filter(pk__in=sorted(units))
    everyone = perm_scope(user, MANAGE_TARGETS) == Scope.ALL
    return {
        "reps": rep_rows,
        "teams": unit_rows.filter(kind=OrgUnit.Kind.TEAM),
        "regions": unit_rows.filter(kind=OrgUnit.Kind.REGION),
        "lines": Category.objects.filter(parent__isnull=True) if everyone else Category.objects.none(),
        "company": everyone,
    }


# --- setting targets ------------------------------------------------------------------------------


def _amount(value) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or not 0 < amount < Decimal("1e12") or amount != amount.quantize(CENT):
        message = _("Enter an amount above zero, to the cent.")
        raise ValidationFailed(message, code="target_amount_invalid", fields={"amount": [message]})
    return amount.quantize(CENT)


def _holder_check(holder: str, rep, unit, category) -> None:
    """Exactly the field the holder needs, of the right kind, and no other."""
    if holder not in Holder.values:
        message = _("Choose who the target is for.")
        raise ValidationFailed(message, code="target_holder_unknown", fields={"holder": [message]})
    needed = {Holder.REP: "rep", Holder.TEAM: "unit", Holder.REGION: "unit", Holder.PRODUCT_LINE: "category"}.get(
        holder
    )
    given = {"rep": rep, "unit": unit, "category": category}
    errors = {}
    for name, value in given.items():
        if name == needed and value is None:
            errors[name] = [_("Required for this kind of target.")]
        elif name != needed and value is not None:
            errors[name] = [_("Not used for this kind of target: leave it empty.")]
    if not errors:
        if holder == Holder.TEAM and unit.kind != OrgUnit.Kind.TEAM:
            errors["unit"] = [_("Choose a team.")]
        elif holder == Holder.REGION and unit.kind != OrgUnit.Kind.REGION:
            errors["unit"] = [_("Choose a region.")]
        elif holder == Holder.PRODUCT_LINE and category.parent_id is not None:
            errors["category"] = [_("Choose a product line (a top-level category).")]
        elif holder == Holder.REP and not rep.is_active:
            errors["rep"] = [_("This user is not active.")]
    if errors:
        raise ValidationFailed(
            _("The target's holder does not match its kind."), code="target_holder_mismatch", fields=errors
        )


def target_set(
    *,
    by,
    holder: str,
    period: str,
    period_start: date,
    amount,
    rep=None,
    unit=None,
    category=None,
    note: str = "",
) -> SalesTarget:
    """Create or change the one target of this holder and period."""
    if not can_manage_targets(by):
        raise PermissionDeniedError()
    period_check(period, period_start)
    _holder_check(holder, rep, unit, category)
    amount = _amount(amount)
    note = (note or "").strip()[:200]
    key = {
        "holder": holder,
        "period": period,
        "period_start": period_start,
        "rep": rep,
        "unit": unit,
        "category": category,
    }
    if not _reaches(by, MANAGE_TARGETS, SalesTarget(**key)):
        raise PermissionDeniedError(
            _("You may set targets only for the reps, teams and regions of your data scope."),
            code="target_out_of_scope",
        )
    with transaction.atomic():
        # Lock the holder's row (the company's: the top org units) so that two managers setting
        # the same target at once make one target and one update: there is no unique key over
        # the nullable holder fields to stop a second insert.
        holder_row = rep or unit or category
        if holder_row is not None:
            list(type(holder_row).objects.select_for_update().filter(pk=holder_row.pk).values_list("pk"))
        else:
            list(OrgUnit.objects.select_for_update().filter(parent__isnull=True).values_list("pk"))
        target = SalesTarget.objects.select_for_update().filter(**key).first()
        if target is None:
            target = SalesTarget.objects.create(**key, amount=amount, note=note, created_by=_actor(by))
            audit_record(
                action="analytics.target_set",
                actor=by,
                obj=target,
                changes={**_describe(target), "amount": [None, str(amount)]},
            )
            return target
        before = target.amount
        target.amount, target.note = amount, note
        target.updated_by = _actor(by)
        target.save(update_fields=["amount", "note", "updated_by", "updated_at"])
        audit_record(
            action="analytics.target_set",
            actor=by,
            obj=target,
            changes={**_describe(target), "amount": [str(before), str(amount)]},
        )
    return target


def target_delete(*, by, target: SalesTarget) -> None:
    if not can_manage_targets(by):
        raise PermissionDeniedError()
    if not _reaches(by, MANAGE_TARGETS, target):
        raise PermissionDeniedError(
            _("You may set targets only for the reps, teams and regions of your data scope."),
            code="target_out_of_scope",
        )
    with transaction.atomic():
        described = {**_describe(target), "amount": str(target.amount)}
        audit_record(action="analytics.target_deleted", actor=by, obj=target, changes=described)
        SalesTarget.objects.filter(pk=target.pk).delete()


def _actor(by):
    return by if getattr(by, "is_authenticated", False) else None


def _describe(target: SalesTarget) -> dict:
    return {
        "holder": target.holder,
        "period": target.period,
        "period_start": target.period_start.isoformat(),
        "rep": target.rep_id,
        "unit": target.unit_id,
        "category": target.category_id,
    }


# --- progress ------------------------------------------------------------------------------------


@dataclass
class Progress:
    """One target against its actual revenue (amounts in yuan, percentages to 0.1)."""

    target: SalesTarget
    label: str
    actual: Decimal
    completion_pct: Decimal
    gap: Decimal
    elapsed_pct: Decimal
    pace_pct: Decimal | None
    forecast: Decimal | None
    forecast_pct: Decimal | None

    @property
    def on_track(self) -> bool | None:
        return None if self.pace_pct is None else self.pace_pct >= 100

    @property
    def bar_pct(self) -> int:
        """The width of the completion bar (0–100)."""
        return max(0, min(100, int(self.completion_pct)))

    @property
    def amount(self) -> Decimal:
        return self.target.amount


@dataclass(frozen=True)
class Elapsed:
    days: int
    total: int

    @property
    def pct(self) -> Decimal:
        return (Decimal(self.days) / self.total * 100).quantize(PCT, ROUND_HALF_UP)


def elapsed(period: str, period_start: date, today: date) -> Elapsed:
    """Days of the period up to and including ``today`` (0 before it, all after it)."""
    end = period_end(period, period_start)
    total = (end - period_start).days + 1
    return Elapsed(max(0, min(total, (today - period_start).days + 1)), total)


def progress_of(target: SalesTarget, label: str, actual_cents: int, passed: Elapsed) -> Progress:
    amount_cents = int(target.amount * 100)
    ratio = Decimal(actual_cents) / amount_cents  # completion as a fraction, unrounded
    pace = forecast = forecast_pct = None
    if passed.days:
        share = Decimal(passed.days) / passed.total
        pace = (ratio / share * 100).quantize(PCT, ROUND_HALF_UP)
        forecast_cents = Decimal(actual_cents) * passed.total / passed.days
        forecast = (forecast_cents / 100).quantize(CENT, ROUND_HALF_UP)
        forecast_pct = (forecast_cents / amount_cents * 100).quantize(PCT, ROUND_HALF_UP)
    return Progress(
        target=target,
        label=label,
        actual=Decimal(actual_cents) / 100,
        completion_pct=(ratio * 100).quantize(PCT, ROUND_HALF_UP),
        gap=Decimal(amount_cents - actual_cents) / 100,
        elapsed_pct=passed.pct,
        pace_pct=pace,
        forecast=forecast,
        forecast_pct=forecast_pct,
    )


# the dimension of ``figures.revenue`` that gives each holder's actual, and the target's key in it
_DIMENSIONS = {
    Holder.REP: ("rep", "rep_id"),
    Holder.TEAM: ("team", "unit_id"),
    Holder.REGION: ("region", "unit_id"),
    Holder.PRODUCT_LINE: ("top_category", "category_id"),
}


def targets_progress(user, period: str, period_start: date, today: date | None = None) -> list[Progress]:
    """Every target of the period that ``user`` may see, with its progress: company first, then
    regions, teams, reps and product lines, by name. One revenue query per kind of holder."""
    period_check(period, period_start)
    found = targets_visible(user).filter(period=period, period_start=period_start)
    return progress(list(found.select_related("rep", "unit", "category")), today=today)


def progress(chosen: list[SalesTarget], *, today: date | None = None) -> list[Progress]:
    """The progress of ``chosen`` targets (already checked against the viewer's scope)."""
    today = today or timezone.localdate()
    by_period: dict[tuple, list[SalesTarget]] = {}
    for target in chosen:
        by_period.setdefault((target.period, target.period_start), []).append(target)
    rows = []
    for (period, start), group in by_period.items():
        whole = Slice(start, period_end(period, start))
        actuals: dict[str, dict] = {}
        for holder in {target.holder for target in group}:
            if holder == Holder.COMPANY:
                actuals[holder] = {None: figures.totals(whole).amount_cents}
            else:
                dimension, _key = _DIMENSIONS[holder]
                actuals[holder] = {row.key: row.amount_cents for row in figures.revenue(whole, dimension)}
        passed = elapsed(period, start, today)
        for target in group:
            key = getattr(target, _DIMENSIONS[target.holder][1]) if target.holder in _DIMENSIONS else None
            rows.append(progress_of(target, holder_label(target), actuals[target.holder].get(key, 0), passed))
    rows.sort(
        key=lambda row: (
            -row.target.period_start.toordinal(),
            HOLDER_ORDER.index(row.target.holder),
            row.label,
            row.target.pk,
        )
    )
    return rows


def holder_label(target: SalesTarget) -> str:
    if target.holder == Holder.REP:
        return target.rep.display_name
    if target.holder in (Holder.TEAM, Holder.REGION):
        return target.unit.name
    if target.holder == Holder.PRODUCT_LINE:
        return target.category.display_name
    return _("Whole company")


def rep_achievement(rep_id: int, period: str, period_start: date) -> Decimal | None:
    """The completion (%, to 0.1) of the rep's target for the period; None without a target."""
    period_check(period, period_start)
    target = SalesTarget.objects.filter(
        holder=Holder.REP, rep_id=rep_id, period=period, period_start=period_start
    ).first()
    if target is None:
        return None
    actual = figures.totals(Slice(period_start, period_end(period, period_start), rep=rep_id)).amount_cents
    return (Decimal(actual) / int(target.amount * 100) * 100).quantize(PCT, ROUND_HALF_UP)
