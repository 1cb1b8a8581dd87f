"""The demo's analysis and performance: the sales figures of the demo's history, and targets,
a KPI scheme, teamwork ratings and scorecards for its reps.

The other demos moved their documents' dates back after the services had made them (the history
of six months is made in one go today): the sales facts counted when those orders were confirmed
carry today's date, so they are counted again from the orders as they stand.

Then the sales department's appraisal, made through the analytics services by the person whose
job it is (the director for the company, the regions, the product lines and the teams without a
manager; each team manager for their team and its reps):

- revenue targets for this month, this quarter and this year, and for last quarter (what its
  scorecards measure the sales against): one per demo rep, per team and region with reps, for
  the company and per product line (top-level category). A rep's, team's, region's or the
  company's target is its monthly run rate × the months of the period × a growth of 5–25 %
  (fixed per holder), rounded to hundreds; the run rate is the average revenue of the whole
  months of the demo's history among the three before the period (before this month, for a
  period that began before the history did: this year), never below a floor (a new territory's
  minimum). The product lines split the company's target by their share of that revenue;
- the KPI scheme "销售代表季度考核": sales 40 %, collection 20 %, new customers, satisfaction,
  teamwork and compliance 10 % each;
- last quarter's teamwork ratings: each rep by their team's manager (the director where the team
  has none) and by a teammate, or the director where the rep works alone in their team;
- last quarter's scorecards of every demo rep, computed by their manager (the director for the
  teams without one): the best one finalised with a reward, the weakest finalised with a penalty
  (an improvement plan only when it passed), both after a review meeting; the runner-up
  reviewed; the rest drafts.

The services stamp "now" on what they make: ``backdate`` moves those times to the days the steps
stand for, as the other demos do (the audit log is never touched).

Deterministic (no randomness; amounts from the demo's own figures, days relative to today) and
seeded once: a database that has the demo's KPI scheme is left alone, so a second run changes
nothing but counting the facts again (which gives the same facts)."""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from foodflow.accounts.models import OrgUnit, User
from foodflow.analytics import figures
from foodflow.analytics.figures import Slice, add_months
from foodflow.analytics.kpi import (
    meeting_record,
    reward_record,
    scheme_create,
    scorecard_compute,
    scorecard_finalise,
    scorecard_review,
    scorecards_compute,
    teamwork_rate,
)
from foodflow.analytics.models import (
    KpiMetric,
    KpiScheme,
    OrderFact,
    PeriodKind,
    ReviewMeeting,
    RewardPenalty,
    SalesTarget,
    Scorecard,
    TeamworkRating,
)
from foodflow.analytics.targets import MONTHS, period_end, period_of, target_set
from foodflow.catalog.models import Category
from foodflow.web.demo_sales import _workday

Holder = SalesTarget.Holder

REPS = ("rep", "rep2", "rep3", "rep4", "rep5", "rep6", "rep7")
PEOPLE = ("director", "manager", "manager2", *REPS)
SCHEME_NAME = "销售代表季度考核"
# metric, weight %, bands [lowest value, score] from the top (below the last band: 0)
SCHEME_ITEMS = [
    (KpiMetric.SALES, 40, [[120, 100], [100, 90], [80, 70], [60, 50]]),
    (KpiMetric.COLLECTION, 20, [[95, 100], [90, 85], [80, 70], [70, 50]]),
    (KpiMetric.NEW_CUSTOMERS, 10, [[5, 100], [3, 80], [1, 60]]),
    (KpiMetric.SATISFACTION, 10, [[4.5, 100], [4, 85], [3.5, 70], [3, 50]]),
    (KpiMetric.TEAMWORK, 10, [[4.5, 100], [4, 85], [3.5, 70], [3, 50]]),
    (KpiMetric.COMPLIANCE, 10, [[90, 100], [80, 85], [70, 70], [60, 50]]),
]
SCHEME_NOTE = (
    "销售代表按季度考核：销售目标完成率、回款率、新客户开发、客户满意度、团队协作与流程合规。"
    "季度结束后由主管计算评分卡、与本人面谈确认后定稿，奖惩随评分卡记录。"
)
RUN_RATE_MONTHS = 3  # the run rate is the average of (at most) the three whole months before
# the least a holder (a rep, team, region, the company) is expected to sell a month (CNY, VAT
# incl.): where its history is thin or missing (a new territory), its target starts from here
# rather than from a few orders
FLOOR = Decimal("10000.00")
HUNDRED = Decimal(100)
PASS_MARK = Decimal(60)  # below it, the weakest scorecard also costs part of the bonus
REWARD = Decimal("3000.00")
PENALTY = Decimal("500.00")

# last quarter's teamwork ratings of each rep: (score, comment) by their manager, then by their
# peer (a teammate, or the director when they work alone in their team)
TEAMWORK = {
    "rep": ((5, "主动把大客户开发经验分享给组员，带新同事拜访了两家商超。"), (4, "借样品、调车辆都很爽快，交接清楚。")),
    "rep2": ((4, "配合组内促销活动积极，周报提交及时。"), (4, "客户资料整理得很细，主动共享给组里。")),
    "rep3": ((4, "愿意支援深圳二组的客户接待，沟通顺畅。"), (3, "跨部门协同偏少，回款问题应更早找财务一起跟进。")),
    # alone in their teams, which have no manager: the director rates them
    "rep4": ((3, "新区域开拓积极，与计划、仓储的沟通还需加强。"),),
    "rep5": ((4, "与售后配合处理客诉及时，信息反馈快。"),),
    "rep6": ((5, "主动协助计划部门做成都区域的需求预测。"),),
    "rep7": ((3, "独立性强，团队协作和信息共享有待提高。"),),
}
# how the meeting notes name the metrics, and their units
METRIC_NAMES = {
    KpiMetric.SALES: ("销售目标完成率", "%"),
    KpiMetric.COLLECTION: ("回款率", "%"),
    KpiMetric.NEW_CUSTOMERS: ("新客户", " 家"),
    KpiMetric.SATISFACTION: ("客户满意度", " 分"),
    KpiMetric.TEAMWORK: ("团队协作", " 分"),
    KpiMetric.COMPLIANCE: ("流程合规率", "%"),
}
# what a rep agrees to do about a weak metric
IMPROVEMENTS = {
    KpiMetric.SALES: "每周拜访重点客户不少于 3 家，月度销售额按周跟踪，月中与主管复盘差距",
    KpiMetric.COLLECTION: "逾期应收逐笔与客户对账，月底前完成催收，超 30 天的报财务协同",
    KpiMetric.NEW_CUSTOMERS: "每月新开发客户不少于 1 家，线索在 CRM 中按周更新",
    KpiMetric.SATISFACTION: "对近期有投诉的客户逐一回访，当月完成满意度回访",
    KpiMetric.TEAMWORK: "每周组内例会分享客户与竞品信息，主动支援组内促销活动",
    KpiMetric.COMPLIANCE: "报价、订单及时提交与跟进，不在审批和评审环节积压",
}


@transaction.atomic
def analytics_seed(*, today: date | None = None) -> dict:
    """Count the sales facts again; seed the targets and the appraisal (once)."""
    from foodflow.analytics.rollup import rollup_rebuild

    OrderFact.objects.all().delete()  # dated before the backdating: count again
    rows = rollup_rebuild()
    facts = rows.get(OrderFact._meta.db_table, 0)
    if not KpiScheme.objects.filter(name=SCHEME_NAME).exists():
        _Performance(today or timezone.localdate()).seed()
    return analytics_counts(facts=facts)


def analytics_counts(*, facts: int) -> dict:
    return {
        "facts": facts,
        "targets": SalesTarget.objects.count(),
        "schemes": KpiScheme.objects.count(),
        "ratings": TeamworkRating.objects.count(),
        "scorecards": Scorecard.objects.count(),
        "rewards": RewardPenalty.objects.count(),
        "meetings": ReviewMeeting.objects.count(),
    }


def quarter_name(start: date) -> str:
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"


def _workday_back(day: date) -> date:
    """Offices work Monday to Friday: a step that would fall on a weekend took place on Friday."""
    return day - timedelta(days=day.weekday() - 4 if day.weekday() >= 5 else 0)


def _hundreds(yuan: Decimal) -> Decimal:
    """An amount rounded to hundreds of yuan (at least one hundred)."""
    return max((yuan / 100).quantize(Decimal(1), ROUND_HALF_UP) * 100, HUNDRED)


def _yuan(cents: Decimal | int) -> str:
    return f"¥{Decimal(cents) / 100:,.0f}"


class _Performance:
    """The demo's people, its reps' teams and regions, and what the seed makes of them."""

    def __init__(self, today: date):
        self.today = today
        users = {u.username: u for u in User.objects.filter(username__in=PEOPLE).select_related("org_unit")}
        if len(users) != len(PEOPLE):
            raise RuntimeError(f"demo analytics: the demo users {', '.join(PEOPLE)} are needed")
        self.director = users["director"]
        self.reps = [users[name] for name in REPS]
        self.by_pk = {user.pk: user for user in users.values()}
        units = {unit.pk: unit for unit in OrgUnit.objects.all()}
        self.teams = sorted({units[rep.org_unit_id] for rep in self.reps}, key=lambda unit: unit.code)
        self.regions = sorted({self._region(unit, units) for unit in self.teams}, key=lambda unit: unit.code)
        self.lines = list(Category.objects.filter(parent__isnull=True).order_by("code"))
        self.this_month = today.replace(day=1)
        self.this_quarter = period_of(today, PeriodKind.QUARTER)
        self.last_quarter = add_months(self.this_quarter, -3)
        first_day = OrderFact.objects.aggregate(first=Min("day"))["first"]
        # the first whole month of the demo's history (None: no history at all)
        self.history_from = (
            None if first_day is None else first_day if first_day.day == 1 else add_months(first_day.replace(day=1), 1)
        )
        self.windows: dict[date, tuple[int, dict]] = {}
        self.now = timezone.now()
        # the days of last quarter's appraisal (never after today): ratings the day after the
        # quarter, scorecards at the end of that week, the review meetings in the second week,
        # the decisions two days later, the follow-up in the last week of this quarter
        end = period_end(PeriodKind.QUARTER, self.last_quarter)
        held = min(_workday(end + timedelta(days=12)), today)
        self.days = {
            "rated": min(_workday(end + timedelta(days=1)), today),
            "computed": min(_workday(end + timedelta(days=5)), today),
            "held": held,
            "decided": min(_workday(held + timedelta(days=2)), today),
            "follow_up": max(held, period_end(PeriodKind.QUARTER, self.this_quarter) - timedelta(days=7)),
        }
        self.made: dict[type, list[int]] = defaultdict(list)  # the pks of what the seed made, per model

    @staticmethod
    def _region(unit: OrgUnit, units: dict[int, OrgUnit]) -> OrgUnit:
        while unit.kind != OrgUnit.Kind.REGION and unit.parent_id is not None:
            unit = units[unit.parent_id]
        return unit

    def lead(self, unit: OrgUnit) -> User:
        """Who leads the team: its manager, or the director where it has none."""
        return self.by_pk.get(unit.manager_id) or self.director

    def lead_of(self, rep: User) -> User:
        return self.lead(rep.org_unit)

    def seed(self) -> None:
        self.targets_seed()
        scheme = scheme_create(
            by=self.director, name=SCHEME_NAME, period=PeriodKind.QUARTER, items=SCHEME_ITEMS, note=SCHEME_NOTE
        )
        self.made[KpiScheme].append(scheme.pk)
        self.ratings_seed()
        cards = self.scorecards_seed(scheme)
        self.made[Scorecard].extend(card.pk for card in cards)
        self.reviews_seed(cards)
        self.backdate()

    # targets ----------------------------------------------------------------------------------------

    def window(self, end: date) -> tuple[int, dict]:
        """The whole months of the history among the three before ``end`` (their number) and the
        revenue of every holder over them, in cents: {holder: {key: cents}} (company: key None)."""
        if end not in self.windows:
            start = add_months(end, -RUN_RATE_MONTHS)
            if self.history_from is not None:
                start = max(start, self.history_from)
            months = (end.year - start.year) * 12 + end.month - start.month
            revenue: dict = {}
            if self.history_from is not None and months > 0:
                whole = Slice(start, end - timedelta(days=1))
                revenue[Holder.COMPANY] = {None: figures.totals(whole).amount_cents}
                for holder, dimension in (
                    (Holder.REP, "rep"),
                    (Holder.TEAM, "team"),
                    (Holder.REGION, "region"),
                    (Holder.PRODUCT_LINE, "top_category"),
                ):
                    revenue[holder] = {row.key: row.amount_cents for row in figures.revenue(whole, dimension)}
            self.windows[end] = (max(months, 0), revenue)
        return self.windows[end]

    def basis(self, start: date) -> date:
        """The end of the months a target for a period starting on ``start`` is based on: the
        period's start, or this month's for a period that began before the demo's history."""
        return self.this_month if self.history_from is None or start < self.history_from else start

    def run_rate(self, holder: str, key, start: date) -> tuple[int, Decimal | None]:
        """The holder's average revenue a month (cents) before a period starting on ``start``,
        and the months it is taken over; None without any history."""
        months, revenue = self.window(self.basis(start))
        if not months:
            return 0, None
        return months, Decimal(revenue.get(holder, {}).get(key, 0)) / months

    def amount(self, holder: str, key, name: str, period: str, start: date) -> tuple[Decimal, str]:
        """The target of a rep, team, region or the company for one period, and the note that
        says how it was set: the run rate (at least the floor) × the period's months × the growth."""
        length = MONTHS[period]
        growth = Decimal(105 + zlib.crc32(f"{holder}:{name}".encode()) % 21) / 100
        months, rate = self.run_rate(holder, key, start)
        floor = FLOOR * 100
        base = floor if not rate else max(rate, floor)
        up = f"上浮 {int((growth - 1) * 100)}%"
        if rate is None:
            note = f"暂无销售历史：按最低月目标 {_yuan(floor)} × {length} 个月，{up}"
        elif not rate:
            note = f"近 {months} 个月无销售：按最低月目标 {_yuan(floor)} × {length} 个月，{up}"
        elif base == floor:
            note = f"近 {months} 个月月均 {_yuan(rate)}，低于最低月目标：按 {_yuan(floor)} × {length} 个月，{up}"
        else:
            note = f"按近 {months} 个月月均销售额 {_yuan(rate)} × {length} 个月，{up}"
        if self.basis(start) != start:  # this year's: revised on the months since the history began
            note = f"按最新销售重新测算。{note}"
        return _hundreds(base * length * growth / 100), note

    def line_amount(self, line: Category, company: Decimal, period: str, start: date) -> tuple[Decimal, str]:
        """A product line's target: its share of the company's target, as its share of the
        company's revenue over the same months (the lines' targets add up to the company's)."""
        months, rate = self.run_rate(Holder.PRODUCT_LINE, line.pk, start)
        _months, whole = self.run_rate(Holder.COMPANY, None, start)
        if not rate or not whole:
            length = MONTHS[period]
            return _hundreds(FLOOR * length), f"暂无该产品线销售历史：按最低月目标 {_yuan(FLOOR * 100)} × {length} 个月"
        share = rate / whole
        return _hundreds(company * share), f"公司目标按近 {months} 个月销售占比 {share * 100:.1f}% 分解"

    def targets_seed(self) -> None:
        periods = [
            (PeriodKind.MONTH, self.this_month),
            (PeriodKind.QUARTER, self.this_quarter),
            (PeriodKind.YEAR, period_of(self.today, PeriodKind.YEAR)),
            (PeriodKind.QUARTER, self.last_quarter),  # what last quarter's scorecards measure
        ]
        for period, start in periods:
            company = self.target(self.director, Holder.COMPANY, None, "company", period, start)
            for region in self.regions:
                self.target(self.director, Holder.REGION, region.pk, region.code, period, start, unit=region)
            for team in self.teams:
                self.target(self.lead(team), Holder.TEAM, team.pk, team.code, period, start, unit=team)
            for rep in self.reps:
                self.target(self.lead_of(rep), Holder.REP, rep.pk, rep.username, period, start, rep=rep)
            for line in self.lines:
                amount, note = self.line_amount(line, company.amount, period, start)
                target = target_set(
                    by=self.director,
                    holder=Holder.PRODUCT_LINE,
                    period=period,
                    period_start=start,
                    category=line,
                    amount=amount,
                    note=note,
                )
                self.made[SalesTarget].append(target.pk)

    def target(self, by: User, holder: str, key, name: str, period: str, start: date, **fields) -> SalesTarget:
        amount, note = self.amount(holder, key, name, period, start)
        target = target_set(by=by, holder=holder, period=period, period_start=start, amount=amount, note=note, **fields)
        self.made[SalesTarget].append(target.pk)
        return target

    # teamwork ---------------------------------------------------------------------------------------

    def raters(self, rep: User) -> list[User]:
        """The rep's manager (the director where the team has none) and a teammate, or the
        director when the rep works alone in their team (the teamwork rule allows no one else)."""
        manager = self.lead_of(rep)
        mates = [other for other in self.reps if other.org_unit_id == rep.org_unit_id and other.pk != rep.pk]
        peer = mates[0] if mates else (self.director if manager.pk != self.director.pk else None)
        return [manager] if peer is None else [manager, peer]

    def ratings_seed(self) -> None:
        for rep in self.reps:
            for rater, (score, comment) in zip(self.raters(rep), TEAMWORK[rep.username], strict=False):
                rating = teamwork_rate(
                    by=rater,
                    rep=rep,
                    period=PeriodKind.QUARTER,
                    period_start=self.last_quarter,
                    score=score,
                    comment=comment,
                )
                self.made[TeamworkRating].append(rating.pk)

    # scorecards -------------------------------------------------------------------------------------

    def scorecards_seed(self, scheme: KpiScheme) -> list[Scorecard]:
        """Each team manager computes their team's cards at once, the director the rest."""
        cards: dict[int, Scorecard] = {}
        managers = {self.lead_of(rep) for rep in self.reps} - {self.director}
        for manager in sorted(managers, key=lambda user: user.username):
            computed = scorecards_compute(by=manager, scheme=scheme, period_start=self.last_quarter, today=self.today)
            cards.update((card.rep_id, card) for card in computed.cards)
        for rep in self.reps:
            if rep.pk not in cards:
                cards[rep.pk] = scorecard_compute(
                    by=self.director, rep=rep, scheme=scheme, period_start=self.last_quarter, today=self.today
                )
        return [cards[rep.pk] for rep in self.reps]

    def reviews_seed(self, cards: list[Scorecard]) -> None:
        """The best card finalised with a reward, the weakest with a penalty (or only an
        improvement plan when it passed), both after a review meeting; the runner-up reviewed."""
        ranked = sorted(cards, key=lambda card: (-card.total, self.by_pk[card.rep_id].username))
        best, runner_up, weakest = ranked[0], ranked[1], ranked[-1]
        quarter = quarter_name(self.last_quarter)
        days = self.days
        for card, best_one in ((best, True), (weakest, False)):
            rep = self.by_pk[card.rep_id]
            by = self.lead_of(rep)
            card = scorecard_review(by=by, scorecard=card)
            weak = self.weak_metrics(card)
            if best_one:
                comments = f"{self.summary(card)}销售与回款表现突出，是该季度销售代表中的标杆。"
                actions = (
                    "1. 在下月销售例会上分享重点客户开发经验；\n"
                    "2. 本季度目标上浮后继续保持回款节奏；\n"
                    "3. 带教一名新同事完成首次客户拜访。"
                )
            else:
                named = "、".join(METRIC_NAMES[metric][0] for metric in weak) or "各项指标"
                comments = f"{self.summary(card)}{named}明显落后，双方分析了原因并制定改进计划。"
                steps = [IMPROVEMENTS[metric] for metric in weak or [KpiMetric.SALES]]
                actions = "；\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1)) + "。"
            self.made[ReviewMeeting].append(
                meeting_record(
                    by=by,
                    scorecard=card,
                    held_on=days["held"],
                    attendees=f"{rep.display_name}、{by.display_name}",
                    comments=comments,
                    agreed_actions=actions,
                    follow_up_on=days["follow_up"],
                ).pk
            )
            card = scorecard_finalise(by=by, scorecard=card)
            if best_one:
                kind, amount = RewardPenalty.Kind.REWARD, REWARD
                reason = f"{quarter}绩效考核总分 {card.total} 分，销售代表第一：发放季度绩效奖金。"
            elif card.total < PASS_MARK:
                kind, amount = RewardPenalty.Kind.PENALTY, PENALTY
                reason = (
                    f"{quarter}绩效考核总分 {card.total} 分，未达 {PASS_MARK} 分：扣减季度绩效奖金，按改进计划跟进。"
                )
            else:
                continue  # passed: the improvement plan of the meeting is all
            record = reward_record(
                by=by, rep=rep, kind=kind, amount=amount, reason=reason, decided_on=days["decided"], scorecard=card
            )
            self.made[RewardPenalty].append(record.pk)
        scorecard_review(by=self.lead_of(self.by_pk[runner_up.rep_id]), scorecard=runner_up)

    def backdate(self) -> None:
        """Move the times the services stamped to the days the steps stand for (the audit log
        keeps its own): targets set once the months they are based on had closed, the scheme
        before last quarter, ratings and scorecards just after it, the reviews on the meeting days."""
        days = self.days
        made = SalesTarget.objects.filter(pk__in=self.made[SalesTarget])
        for start in sorted(set(made.values_list("period_start", flat=True))):
            # set once the months they are based on had closed (this year's: revised then)
            at = self.moment(_workday_back(self.basis(start) - timedelta(days=1)), 16)
            made.filter(period_start=start).update(created_at=at, updated_at=at)
        at = self.moment(_workday_back(self.last_quarter - timedelta(days=1)), 15)
        KpiScheme.objects.filter(pk__in=self.made[KpiScheme]).update(created_at=at, updated_at=at)
        at = self.moment(days["rated"], 10)
        TeamworkRating.objects.filter(pk__in=self.made[TeamworkRating]).update(created_at=at, updated_at=at)
        at = self.moment(days["computed"], 9)
        cards = Scorecard.objects.filter(pk__in=self.made[Scorecard])
        cards.update(created_at=at, updated_at=at, computed_at=at)
        cards.filter(state=Scorecard.State.REVIEWED).update(updated_at=self.moment(days["held"], 17))
        cards.filter(state=Scorecard.State.FINAL).update(updated_at=self.moment(days["decided"], 11))
        at = self.moment(days["held"], 15)
        ReviewMeeting.objects.filter(pk__in=self.made[ReviewMeeting]).update(created_at=at, updated_at=at)
        at = self.moment(days["decided"], 11)
        RewardPenalty.objects.filter(pk__in=self.made[RewardPenalty]).update(created_at=at, updated_at=at)

    def moment(self, day: date, hour: int) -> datetime:
        return min(timezone.make_aware(datetime.combine(day, time(hour))), self.now)

    @staticmethod
    def summary(card: Scorecard) -> str:
        """The card's figures as the meeting notes put them."""
        parts = []
        for metric, (name, unit) in METRIC_NAMES.items():
            result = card.results.get(metric)
            if result is None:
                continue
            if result["no_data"]:
                parts.append(f"{name}无数据（0 分）")
            else:
                parts.append(f"{name} {result['value']}{unit}（{Decimal(result['score']):.0f} 分）")
        return f"{quarter_name(card.period_start)}考核总分 {card.total} 分：{'；'.join(parts)}。"

    @staticmethod
    def weak_metrics(card: Scorecard) -> list[str]:
        """The (at most three) heaviest metrics that scored below 60, by weight."""
        weak = [
            (-Decimal(result["weight"]), list(METRIC_NAMES).index(metric), metric)
            for metric, result in card.results.items()
            if Decimal(result["score"]) < PASS_MARK
        ]
        return [metric for *_order, metric in sorted(weak)[:3]]
