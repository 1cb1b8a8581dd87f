"""The demo company's after-sales: the service desk (``service``) logs and works complaints,
QA (``qa``) holds and recalls lots, finance (``finance``) issues the credit notes, the manager
(``manager``) has a compensation to decide, the director takes suggestions to a decision.
Twelve complaints of the last two months about the demo's own deliveries, across channels,
categories and severities, each where a working desk would have it:

- closed with what the customer said: a foreign-matter complaint that became the recall of a
  lot shipped to several customers (some of it back already, the rest still out), a short
  delivery refunded (at most 2,000: approved at once, issued by finance), a rude driver, a
  distributor's quality complaint;
- resolved, waiting for the customer: damaged goods taken back (a return on the delivery,
  credited at the order's net price);
- in progress: a foreign-matter complaint whose lot QA put on hold until the lab answers, a
  packaging complaint replaced free of charge today (FEFO from a lot with stock), a late
  delivery whose compensation (above 2,000) waits in the manager's approval queue, and a
  complaint the customer reopened;
- assigned and never answered, its first response overdue (escalated by this morning's run
  of the escalation job); assigned with its first response due within hours; new from the
  public form.

Besides: a mock recall drill (closed); satisfaction survey links of the delivery survey and
the complaint survey, most answered with varied CSAT and NPS, a few waiting, one expired;
the key accounts' revisits (after complaints, after a poor answer, the quarterly ones) with
one done by the customer's rep; suggestions of staff and customers in every state.

Everything goes through the after-sales services by the person whose job it is, in the
order the days went by; then the times the services stamped are moved to the days the steps
stand for, as the sales and contracts demos do (``demo_sales._backdate``: the audit log is
never touched). The open complaints are placed in the desk's business hours counted back
from now, so that their deadlines say what the story says whatever the day the seed runs.
Seeded once: a database that has complaints is left alone, so a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.catalog.models import Product
from foodflow.contracts.models import Contract
from foodflow.core.models import Notification
from foodflow.core.money import round_money
from foodflow.crm.models import Contact, Customer
from foodflow.inventory.allocation import allocation_plan
from foodflow.inventory.models import Lot, Reservation
from foodflow.sales.models import (
    ApprovalRequest,
    ApprovalStep,
    CreditNote,
    CustomerReturn,
    Delivery,
    DeliveryLine,
    Payment,
)
from foodflow.sales.review import requirement_for
from foodflow.service import feedback, recalls, remedies, revisits, services, surveys
from foodflow.service.models import (
    Complaint,
    ComplaintAction,
    Recall,
    Remedy,
    Revisit,
    Suggestion,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from foodflow.service.sla import Calendar, add_business_time, calendar_load

# The demo's machinery for telling stories in the past (see ``demo_sales`` and ``demo_contracts``):
# the calendar with its clock, a story's timeline, the runner and the backdating helpers.
from foodflow.web.demo_contracts import _Calendar
from foodflow.web.demo_sales import _inbox_read, _run, _Timeline, backdate_stamps

PEOPLE = ("service", "qa", "finance", "manager", "director", "rep", "planner")
REFUND_LIMIT = Decimal(2000)  # up to this a refund is the desk's own decision (migration service/0004)
COMPENSATION = Decimal("3600.00")  # above it: the manager decides
RECALL_MIN_SHELF_DAYS = 90  # the lots QA holds or recalls are far from expiry: the expiry watch leaves them be
STOCK_FLOOR = Decimal(20)  # what the stock demo promises every lot keeps

# Times the services stamp with "now" on the rows of this seed: moved to the step's moment.
STAMPED = (
    (Complaint, ("created_at", "updated_at", "responded_at", "resolved_at", "closed_at")),
    (ComplaintAction, ("at",)),
    (Remedy, ("created_at", "updated_at", "decided_at")),
    (Recall, ("created_at", "updated_at", "closed_at")),
    (SurveyInvitation, ("sent_at", "answered_at")),
    (SurveyResponse, ("at",)),
    (Revisit, ("created_at", "updated_at")),
    (Suggestion, ("created_at", "updated_at", "decided_at", "implemented_at")),
    (ApprovalRequest, ("submitted_at", "decided_at")),
    (ApprovalStep, ("decided_at",)),
    (CustomerReturn, ("created_at", "updated_at")),
    (CreditNote, ("created_at", "updated_at")),
    (Notification, ("created_at",)),
)

# (CSAT, NPS, comment) of the survey answers, in the order the links are answered
ANSWERS = [
    (5, 10, "送货准时，司机很专业。"),
    (4, 8, ""),
    (3, 6, "价格偏高，希望有更多促销支持。"),
    (5, 9, "客服响应很快。"),
    (2, 4, "最近两次到货都比约定时间晚了半天。"),
    (4, 9, ""),
    (5, 10, "问题处理得很彻底，谢谢。"),
    (4, 7, "处理结果满意，但希望沟通更及时。"),
    (3, 5, "等待时间有点长。"),
    (5, 9, ""),
    (4, 8, "整体满意。"),
]
ANSWER_TEXTS = ("是", "基本满意", "非常满意", "还需改进")


def _business_before(calendar: Calendar, moment: datetime, hours: float) -> datetime:
    """The moment ``hours`` of the desk's business time before ``moment`` (the inverse of
    ``sla.add_business_time``)."""
    remaining = timedelta(hours=hours)
    moment = moment.astimezone(calendar.tz)
    day = moment.date()
    for _ in range(3660):
        if calendar.is_working_day(day):
            opens = datetime.combine(day, calendar.opens, tzinfo=calendar.tz)
            upper = min(datetime.combine(day, calendar.closes, tzinfo=calendar.tz), moment)
            if upper > opens:
                if remaining <= upper - opens:
                    return upper - remaining
                remaining -= upper - opens
        day -= timedelta(days=1)
    raise ValueError("no working day in ten years")


class _Hours:
    """The moments of a story still open: received ``ago`` business hours before now, its
    steps so many business hours after receipt (never after now)."""

    def __init__(self, desk: _Desk, ago: float):
        self.calendar, self.sla = desk.calendar, desk.sla
        self.received = _business_before(self.sla, self.calendar.now, ago)

    def at(self, hours: float) -> datetime:
        return min(add_business_time(self.sla, self.received, timedelta(hours=hours)), self.calendar.now)

    @property
    def day(self) -> date:
        return timezone.localtime(self.received).date()


class _Desk:
    """The after-sales desk: its people, the surveys, what the stories pick (each customer
    and lot once) and what they made."""

    def __init__(self, calendar: _Calendar):
        self.calendar = calendar
        users = {u.username: u for u in User.objects.filter(username__in=PEOPLE)}
        if len(users) != len(PEOPLE):
            raise RuntimeError(f"demo service: the demo users {', '.join(PEOPLE)} are needed")
        self.users = users
        self.service, self.qa, self.finance, self.director = (
            users[n] for n in ("service", "qa", "finance", "director")
        )
        self.sla = calendar_load()
        self.survey = {
            trigger: Survey.objects.filter(trigger=trigger, is_active=True).order_by("id").first()
            for trigger in (Survey.Trigger.DELIVERY, Survey.Trigger.COMPLAINT)
        }
        if None in self.survey.values():
            raise RuntimeError("demo service: the delivery and complaint surveys of migration service/0004 are needed")
        self.contacts = {
            contact.customer_id: contact
            for contact in Contact.objects.order_by("customer_id", "is_primary", "-name")  # the primary one wins
        }
        # customers a credit would disturb elsewhere in the demo: under a contract (its risk
        # board), or with a credit of their own already (the sales demo's overpayment, return)
        self.no_credit = (
            set(Contract.objects.values_list("customer_id", flat=True))
            | set(Payment.objects.filter(unallocated__gt=0).values_list("customer_id", flat=True))
            | set(CreditNote.objects.values_list("customer_id", flat=True))
        )
        self.reserved_lots = set(Reservation.objects.filter(status="active").values_list("lot_id", flat=True))
        self.taken: set[int] = set()  # customers with a complaint story
        self.lots: set[int] = set()  # lots a story holds, recalls or drills
        self.made: dict[str, object] = {}
        self.answers = iter(ANSWERS * 3)

    # picking ---------------------------------------------------------------------------------------

    def delivery(
        self,
        what: str,
        *,
        before: date,
        after: date | None = None,
        credit: bool = False,
        owner: str | None = None,
        where: Callable[[Delivery], bool] | None = None,
    ) -> Delivery:
        """The latest delivery received before ``before`` (since ``after``) of a customer no
        other story has; ``credit``: one whose customer may be credited."""
        deliveries = Delivery.objects.filter(state="received", received_on__lt=before).exclude(
            customer_id__in=self.taken
        )
        if after is not None:
            deliveries = deliveries.filter(received_on__gte=after)
        if credit:
            deliveries = deliveries.exclude(customer_id__in=self.no_credit)
        if owner:
            deliveries = deliveries.filter(customer_id__in=Customer.objects.filter(owner__username=owner).values("pk"))
        for delivery in deliveries.select_related("order", "customer__owner").order_by("-received_on", "-number"):
            if where is None or where(delivery):
                self.taken.add(delivery.customer_id)
                return delivery
        raise RuntimeError(f"demo service: no delivery for {what}")

    def lot(self, what: str, *, min_customers: int, exclude_families: set[str] = frozenset(), since=None) -> Lot:
        """A lot that went out to at least ``min_customers`` customers, far from expiry, that no
        order holds now and no other story uses; the most customers first."""
        shipped = DeliveryLine.objects.filter(delivery__state__in=recalls.SHIPPED)
        if since is not None:
            shipped = shipped.filter(delivery__received_on__gte=since)
        rows = (
            shipped.values("lot_id")
            .annotate(customers=Count("delivery__customer", distinct=True), quantity=Sum("quantity"))
            .filter(customers__gte=min_customers)
            .order_by("-customers", "-quantity", "lot_id")
        )
        lots = Lot.objects.in_bulk([row["lot_id"] for row in rows])
        for row in rows:
            lot = lots[row["lot_id"]]
            if (
                lot.status == "available"
                and lot.pk not in self.reserved_lots | self.lots
                and lot.expiry_date > self.calendar.today + timedelta(days=RECALL_MIN_SHELF_DAYS)
                and lot.product.sku[:2] not in exclude_families
            ):
                self.lots.add(lot.pk)
                return lot
        raise RuntimeError(f"demo service: no lot for {what}")

    def contact(self, customer: Customer) -> tuple[str, str]:
        contact = self.contacts.get(customer.pk)
        return (contact.name, contact.phone) if contact else ("", "")

    def free(self, product: Product, customer: Customer) -> Decimal:
        """What FEFO could still reserve of ``product`` for ``customer`` from lots no story
        takes out of stock, keeping the stock demo's floor on each."""
        plan = allocation_plan(product=product, quantity=10**6, requirement=requirement_for(customer))
        return sum(
            (max(line.quantity - STOCK_FLOOR, Decimal(0)) for line in plan.lines if line.lot_id not in self.lots),
            Decimal(0),
        )


def _lines(delivery: Delivery) -> list[DeliveryLine]:
    return list(delivery.lines.select_related("order_line__product", "lot").order_by("pk"))


def _line(desk: _Desk, delivery: Delivery) -> DeliveryLine:
    """The line a complaint is about: the first whose lot no story holds, recalls or drills."""
    lines = _lines(delivery)
    return next((line for line in lines if line.lot_id not in desk.lots), lines[0])


def _log(desk: _Desk, *, received: datetime, delivery: Delivery | None = None, owner=True, by=..., **fields):
    """A complaint logged by the desk (``by`` None: the public form), with the customer's
    contact, assigned to the desk's agent unless ``owner`` is False."""
    if delivery is not None:
        name, phone = desk.contact(delivery.customer)
        fields = {"contact_name": name, "contact_phone": phone, **fields}
    return services.complaint_log(
        by=desk.service if by is ... else by,
        delivery=delivery,
        owner=desk.service if owner else None,
        received_at=received,
        **fields,
    )


# --- the surveys a story sends ---------------------------------------------------------------------


def _surveyed(desk: _Desk, t, *, survey: Survey, customer: Customer, answer_after: int | None, **links):
    """A survey link given to the customer's contact now, answered ``answer_after`` days later
    (None: not answered) if that day has come."""
    name, _phone = desk.contact(customer)
    contact = desk.contacts.get(customer.pk)
    invitation, token = surveys.survey_invite(
        survey=survey, customer=customer, contact_name=name, sent_to=contact.email if contact else "", **links
    )
    desk.made.setdefault("invitations", []).append(invitation)
    if answer_after is None:
        return
    sent = timezone.localtime(t.last).date()
    if sent + timedelta(days=answer_after) >= desk.calendar.today:
        return  # not answered yet
    yield t.at((sent - t.start).days + answer_after, 20, 30)
    csat, nps, comment = next(desk.answers)
    surveys.survey_answer(
        token=token,
        csat=csat,
        nps=nps,
        answers={str(q): ANSWER_TEXTS[(csat + i) % len(ANSWER_TEXTS)] for i, q in enumerate(survey.questions)},
        comment=comment,
    )


def _closed(desk: _Desk, t, complaint: Complaint, *, day: int, feedback_text: str):
    """The customer confirms on ``day``; the complaint survey goes to them and is answered."""
    yield t.at(day, 10, 30)
    complaint = services.complaint_confirm(by=desk.service, complaint=complaint, feedback=feedback_text)
    yield from _surveyed(
        desk,
        t,
        survey=desk.survey[Survey.Trigger.COMPLAINT],
        customer=complaint.customer,
        complaint=complaint,
        answer_after=2,
    )
    return complaint


# --- closed -----------------------------------------------------------------------------------------


def _recalled(desk: _Desk, lot: Lot, delivery: Delivery):
    """A consumer found glass in a bottle: QA recalls the whole lot the same day; most of it
    comes back within the week, one customer's is still out."""
    start = max(delivery.received_on + timedelta(days=3), desk.calendar.ago(45))
    t = _Timeline(desk.calendar, start)
    received = t.at(0, 9, 40)
    yield received
    product = lot.product
    complaint = _log(
        desk,
        received=received,
        delivery=delivery,
        channel="phone",
        category="foreign_matter",
        severity="critical",
        lot=lot,
        description=(
            f"门店来电：顾客开启{product.name}（批号{lot.lot_number}）时发现瓶内有细小玻璃碎屑，顾客未受伤。"
            "门店已将同批次产品全部下架封存，要求尽快给出处理意见。"
        ),
    )
    yield t.at(0, 10, 5)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已致电门店店长致歉，确认顾客未受伤；请门店保留样品及包装，对同批次产品拍照、封存，品控部今日上门取样。",
    )
    yield t.at(0, 15)
    recall = recalls.recall_from_complaint(
        by=desk.qa,
        complaint=complaint,
        reason=f"顾客投诉{product.name}瓶内有玻璃碎屑；灌装线破瓶剔除装置当班失效，同批次产品存在同样风险，全部召回。",
    )
    desk.made["recall"] = recall
    lines = list(recall.lines.order_by("customer__name", "delivery__number"))
    for index, line in enumerate(lines[:-1]):  # the last customer has sent nothing back yet
        yield t.at(2 + index, 16)
        half = (line.shipped_quantity / 2).to_integral_value(ROUND_DOWN)
        quantity = line.shipped_quantity if index == 0 or half <= 0 else half
        recalls.recall_record_return(by=desk.qa, line=line, quantity=quantity)
    yield t.at(6, 16)
    complaint = services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="同批次产品已召回并退回工厂销毁；为门店调换新批次产品，向顾客当面致歉并赠送礼盒。",
        root_cause="灌装线破瓶检测剔除装置传感器故障，当班未按规定每两小时点检，破瓶碎屑落入相邻瓶内。",
        corrective_action="更换传感器并加装在线视觉检测；点检频次改为每小时一次并纳入交接班记录；对灌装工段全员再培训。",
    )
    yield from _closed(desk, t, complaint, day=8, feedback_text="认可召回及处理结果，希望今后加强出厂检验。")


def _refunded(desk: _Desk, delivery: Delivery, line: DeliveryLine, cases: Decimal):
    """Cases missing on arrival: refunded at the order's net price (below 2,000, the desk's
    own decision), issued by finance the next day."""
    t = _Timeline(desk.calendar, delivery.received_on + timedelta(days=1))
    received = t.at(0, 10, 15)
    yield received
    product = line.order_line.product
    count = f"{cases.normalize():f}"
    complaint = _log(
        desk,
        received=received,
        delivery=delivery,
        channel="phone",
        category="short_wrong",
        severity="medium",
        product=product,
        description=f"客户来电：昨日到货清点时发现{product.name}少了{count}箱，签收单上已注明，要求处理。",
    )
    yield t.at(0, 11)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note=f"已调取出库复核记录与装车照片，确认仓库少装{count}箱；客户不需要补发，要求按少发数量退款。",
    )
    yield t.at(0, 11, 30)
    remedy = remedies.complaint_credit_request(
        by=desk.service,
        complaint=complaint,
        kind=Remedy.Kind.REFUND,
        amount=round_money(cases * line.order_line.net_unit_price),
        reason=f"少发{count}箱，按订单净价退款",
    )
    desk.made["refund"] = remedy
    yield t.at(1, 10)
    remedies.remedy_credit_issue(by=desk.finance, remedy=remedy)
    yield t.at(1, 11)
    complaint = services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="按少发数量开具红字贷项通知单退款，已告知客户。",
        root_cause="拣货员按旧版拣货单作业，出库复核未逐箱扫码。",
        corrective_action="出库复核改为逐箱扫码，差异未清不得装车；本月对仓库班组进行复核流程培训。",
    )
    yield from _closed(desk, t, complaint, day=3, feedback_text="退款已收到，认可处理结果。")


def _rude_driver(desk: _Desk, delivery: Delivery):
    t = _Timeline(desk.calendar, max(delivery.received_on + timedelta(days=1), desk.calendar.ago(52)))
    received = t.at(0, 14, 20)
    yield received
    complaint = _log(
        desk,
        received=received,
        delivery=delivery,
        channel="visit",
        category="attitude",
        severity="low",
        description="客户向拜访的业务员反映：送货司机态度生硬，拒绝将货物搬入仓库，并与收货员发生争执。",
    )
    yield t.at(0, 16)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已向客户收货负责人致歉，并联系承运商调取当日送货记录、核实司机情况。",
    )
    yield t.at(1, 11)
    complaint = services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="承运商对司机进行批评教育并调换该线路司机，客服回访致歉。",
        root_cause="承运商司机服务规范培训不到位，送货入库服务标准未在运输协议中写明。",
        corrective_action="在运输服务协议中写明送货入库服务标准；每月抽查客户签收评价并与承运商考核挂钩。",
    )
    yield from _closed(desk, t, complaint, day=3, feedback_text="新换的司机服务很好，满意。")


def _caking(desk: _Desk, delivery: Delivery):
    line = _line(desk, delivery)
    product = line.order_line.product
    t = _Timeline(desk.calendar, max(delivery.received_on + timedelta(days=2), desk.calendar.ago(26)))
    received = t.at(0, 9, 15)
    yield received
    complaint = _log(
        desk,
        received=received,
        delivery=delivery,
        channel="distributor",
        category="quality",
        severity="medium",
        lot=line.lot,
        description=f"经销商反馈：下游门店退回的{product.name}（批号{line.lot.lot_number}）有部分出现结块、颜色发暗。",
    )
    yield t.at(0, 10, 30)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已请经销商拍照并寄回两件样品；同时查询该批次留样，留样外观正常。",
    )
    yield t.at(2, 15)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="visit",
        note="与业务员到经销商仓库查看：问题产品均堆放在靠近暖气管道的货位，其余货位同批次产品正常。",
    )
    yield t.at(3, 10)
    complaint = services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="确认为经销商仓储不当所致；对受影响的产品给予换货，并为经销商提供仓储条件培训资料。",
        root_cause="经销商仓库货位靠近热源，温湿度超出产品储存条件。",
        corrective_action="在经销协议附件中补充储存条件要求；业务员季度拜访时检查经销商仓储条件。",
    )
    yield from _closed(desk, t, complaint, day=4, feedback_text="同意处理方案，已调整货位。")


# --- resolved, waiting for the customer ----------------------------------------------------------------


def _returned(desk: _Desk, delivery: Delivery):
    """Leaking cases: taken back from the delivery and scrapped, credited at the net price."""
    line = _line(desk, delivery)
    product = line.order_line.product
    cases = min(Decimal(8), line.quantity)
    t = _Timeline(desk.calendar, max(delivery.received_on + timedelta(days=1), desk.calendar.ago(14)))
    received = t.at(0, 13, 40)
    yield received
    complaint = _log(
        desk,
        received=received,
        delivery=delivery,
        channel="email",
        category="packaging",
        severity="high",
        lot=line.lot,
        description=f"客户邮件附照片：到货的{product.name}有{cases.normalize():f}箱外箱受潮破损、内包装渗漏，要求退货。",
    )
    yield t.at(0, 15)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="note",
        note="已邮件回复客户确认照片，安排下一趟送货车辆取回破损货物。",
    )
    yield t.at(1, 16)
    desk.made["return"] = remedies.complaint_return(
        by=desk.service,
        complaint=complaint,
        lines=[(line, cases, "scrap")],
        reason="外箱受潮破损、内包装渗漏，退回报废",
    )
    yield t.at(2, 11)
    services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="破损货物已退回并报废，按订单净价开具贷项通知单冲减应收。",
        root_cause="雨天卸货时未使用防雨篷布，外箱受潮后堆码压塌。",
        corrective_action="雨天送货车辆随车配备防雨篷布；卸货时限高堆码不超过六层。",
    )


# --- in progress ------------------------------------------------------------------------------------


def _held(desk: _Desk, h: _Hours, lot: Lot, delivery: Delivery):
    """Foreign matter in a bag: QA holds the lot until the lab answers."""
    yield h.at(0)
    product = lot.product
    complaint = _log(
        desk,
        received=h.received,
        delivery=delivery,
        channel="visit",
        category="foreign_matter",
        severity="high",
        lot=lot,
        description=f"业务员拜访时门店反映：{product.name}（批号{lot.lot_number}）有两件产品内发现黑色异物，疑似塑料碎片。",
    )
    yield h.at(0.5)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已联系门店，请将两件样品连同外箱封存，品控部明早上门取样。",
    )
    yield h.at(2)
    recalls.lot_hold_from_complaint(
        by=desk.qa, complaint=complaint, reason=f"投诉{complaint.number}：疑似异物，暂停发货，待实验室检测结果"
    )
    desk.made["held"] = lot
    yield h.at(6)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="visit",
        note="品控与客服上门取回样品及外箱，已送第三方实验室检测异物成分，预计三个工作日出结果。",
    )


def _replaced(desk: _Desk, h: _Hours, delivery: Delivery, line: DeliveryLine, cases: Decimal):
    """Crushed cases: replaced free of charge today (FEFO from a lot with stock)."""
    yield h.at(0)
    product = line.order_line.product
    count = f"{cases.normalize():f}"
    complaint = _log(
        desk,
        received=h.received,
        delivery=delivery,
        channel="distributor",
        category="packaging",
        severity="medium",
        lot=line.lot,
        description=f"经销商反馈：到货的{product.name}有{count}箱外箱压塌、内包装破损，无法上架销售，要求补发。",
    )
    yield h.at(1)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已与经销商仓库核对照片，破损系运输途中堆码过高所致；同意免费补发，破损品由补发车辆带回。",
    )
    yield desk.calendar.now  # the replacement is planned today for tomorrow's truck
    desk.made["replacement"] = remedies.complaint_replace(
        by=desk.service,
        complaint=complaint,
        lines=[(product, cases)],
        reason=f"运输压损{count}箱，免费补发",
        planned_date=desk.calendar.today + timedelta(days=1),
    )


def _compensated(desk: _Desk, h: _Hours, delivery: Delivery):
    """A late delivery missed the customer's promotion: the compensation asked for is above
    2,000, so the manager decides (nobody had the complaint yet when the desk asked)."""
    yield h.at(0)
    complaint = _log(
        desk,
        received=h.received,
        delivery=delivery,
        owner=False,
        channel="phone",
        category="logistics",
        severity="high",
        description="客户采购经理来电：上批货承运商延误两天送达，错过了门店周末促销档期，促销堆头空置，要求赔偿促销损失。",
    )
    yield h.at(1.5)
    desk.made["compensation"] = remedies.complaint_credit_request(
        by=desk.service,
        complaint=complaint,
        kind=Remedy.Kind.COMPENSATION,
        amount=COMPENSATION,
        reason="承运商延误导致客户促销档期缺货，按客户提供的促销费用凭证协商补偿",
    )


def _reopened(desk: _Desk, h: _Hours, delivery: Delivery):
    """Resolved with a lab report; the customer is not convinced and reopens it."""
    product = _line(desk, delivery).order_line.product
    yield h.at(0)
    complaint = _log(
        desk,
        received=h.received,
        delivery=delivery,
        channel="email",
        category="quality",
        severity="low",
        product=product,
        description=f"客户邮件：近期到货的{product.name}口感偏淡，与以往批次不一致，顾客有反映。",
    )
    yield h.at(2)
    services.complaint_add_action(
        by=desk.service,
        complaint=complaint,
        kind="call",
        note="已电话了解具体情况，安排调取同批次留样送检。",
    )
    yield h.at(20)
    complaint = services.complaint_resolve(
        by=desk.service,
        complaint=complaint,
        resolution="留样理化及感官检测均合格，已将检测报告发给客户并说明原料产季差异。",
        root_cause="原料产季更替，风味存在正常范围内的差异。",
        corrective_action="产季切换期间增加感官评定频次，并提前告知重点客户。",
    )
    yield h.at(36)
    services.complaint_reopen(
        by=desk.service, complaint=complaint, feedback="客户认为检测报告不能说明口感差异，要求更换新批次产品。"
    )


# --- waiting for the desk ---------------------------------------------------------------------------


def _overdue(desk: _Desk, h: _Hours, delivery: Delivery):
    """Assigned, never answered: its first response is overdue."""
    product = _line(desk, delivery).order_line.product
    yield h.at(0)
    _log(
        desk,
        received=h.received,
        delivery=delivery,
        channel="email",
        category="expiry",
        severity="high",
        product=product,
        description=f"客户邮件：本周到货的{product.name}生产日期较早，剩余保质期不足约定的三分之二，要求换货。",
    )


def _due_soon(desk: _Desk, h: _Hours, delivery: Delivery):
    """Assigned; its first response is due within hours."""
    yield h.at(0)
    _log(
        desk,
        received=h.received,
        delivery=delivery,
        channel="phone",
        category="logistics",
        severity="medium",
        description="客户来电：送货司机未按约定时间窗口送达，门店卸货区被占用，要求今后送货前提前电话预约。",
    )


def _public_form(desk: _Desk, h: _Hours, product: Product):
    """A consumer wrote in through the public form: nobody has it yet."""
    yield h.at(0)
    _log(
        desk,
        received=h.received,
        by=None,
        owner=False,
        channel="public_form",
        category="packaging",
        severity="low",
        product=product,
        contact_name="王女士",
        contact_phone="13900001234",
        description=f"在超市买的{product.name}，包装封口不严，打开时已经漏气，希望厂家重视。",
    )


# --- recalls drill, surveys, suggestions -----------------------------------------------------------


def _drill(desk: _Desk, lot: Lot):
    t = _Timeline(desk.calendar, desk.calendar.ago(30))
    yield t.at(0, 9, 30)
    drill = recalls.recall_start(by=desk.qa, lot=lot, reason="季度模拟召回演练：追溯该批次全部流向并计时", drill=True)
    yield t.at(0, 15, 30)
    desk.made["drill"] = recalls.recall_close(
        by=desk.qa,
        recall=drill,
        note="演练完成：两小时内联系到全部收货客户，追溯数量与出库记录一致。",
    )


def _delivery_survey(desk: _Desk, delivery: Delivery, answer_after: int | None):
    t = _Timeline(desk.calendar, delivery.received_on)
    yield t.at(1, 10)
    yield from _surveyed(
        desk,
        t,
        survey=desk.survey[Survey.Trigger.DELIVERY],
        customer=delivery.customer,
        delivery=delivery,
        answer_after=answer_after,
    )


# (days ago, submitted by, source, category, title, text, customer?, state)
SUGGESTIONS = [
    (
        52,
        "service",
        "staff",
        "service",
        "投诉回访话术标准化",
        "不同客服回访用语差异大，建议制定投诉回访标准话术和回访记录模板。",
        False,
        "implemented",
    ),
    (
        44,
        "finance",
        "staff",
        "system",
        "回款认领支持批量导入银行流水",
        "每天手工逐笔认领回款耗时较多，建议支持导入网银流水文件批量匹配发票。",
        False,
        "accepted",
    ),
    (
        38,
        "service",
        "customer",
        "product",
        "推出小规格酱油",
        "客户反映家庭用户更喜欢500ml小瓶装，建议增加小规格产品。",
        True,
        "rejected",
    ),
    (
        30,
        "planner",
        "staff",
        "delivery",
        "冷链车辆温度记录随单打印",
        "冷链送货时客户常要求查看运输温度记录，建议温度记录随送货单一并打印。",
        False,
        "accepted",
    ),
    (
        16,
        "rep",
        "customer",
        "delivery",
        "送货前一小时短信通知",
        "多家门店希望送货车辆到达前一小时收到短信通知，便于安排收货人员。",
        True,
        "under_review",
    ),
    (
        9,
        "service",
        "customer",
        "other",
        "包装二维码查询批次信息",
        "消费者建议在包装上印二维码，扫码即可查询生产批次和检验报告。",
        False,
        "under_review",
    ),
    (
        3,
        "rep",
        "staff",
        "process",
        "报价审批结果手机提醒",
        "报价单审批通过后希望手机能收到提醒，便于及时发给客户。",
        False,
        "new",
    ),
    (
        1,
        "qa",
        "staff",
        "product",
        "来料检验结果共享给客服",
        "客服处理质量投诉时需要查询原料检验结果，建议开放只读查询。",
        False,
        "new",
    ),
]
DECISIONS = {
    "implemented": "采纳。由客服主管牵头编写话术与模板，下月起执行。",
    "accepted": "采纳，列入下季度改进计划。",
    "rejected": "暂不采纳：小规格产品需新增灌装线模具，投入产出不匹配，明年产品规划时再评估。",
}


def _suggestion(desk: _Desk, row, customer: Customer | None):
    days, username, source, category, title, text, _named, state = row
    t = _Timeline(desk.calendar, desk.calendar.ago(days))
    yield t.at(0, 11)
    suggestion = feedback.suggestion_submit(
        by=desk.users[username],
        category=category,
        title=title,
        text=text,
        source=source,
        customer=customer,
        contact_name="" if customer or source == "staff" else "消费者（热线）",
    )
    if state == "new":
        return
    yield t.at(1, 10)
    suggestion = feedback.suggestion_review(by=desk.director, suggestion=suggestion)
    if state == "under_review":
        return
    yield t.at(3, 16)
    suggestion = feedback.suggestion_decide(
        by=desk.director, suggestion=suggestion, accept=state != "rejected", decision=DECISIONS[state]
    )
    if state == "implemented":
        yield t.at(17, 17)
        feedback.suggestion_implemented(by=desk.director, suggestion=suggestion, note="话术与模板已发布并完成培训。")


# --- the stories ---------------------------------------------------------------------------------------


def _stories(desk: _Desk) -> list:
    cal = desk.calendar
    stories = []
    # the lots first: what QA recalls, drills and holds, so no other story sells from them
    recalled = desk.lot("the recall", min_customers=2)
    drilled = desk.lot("the drill", min_customers=2, exclude_families={recalled.product.sku[:2]})
    recent = DeliveryLine.objects.filter(
        delivery__state="received", delivery__received_on__gte=cal.ago(45), delivery__received_on__lt=cal.ago(2)
    )
    held_lot = None
    for line in recent.select_related("lot__product", "delivery").order_by("-delivery__received_on", "pk"):
        lot = line.lot
        if (
            lot.status == "available"
            and lot.pk not in desk.reserved_lots | desk.lots
            and lot.expiry_date > cal.today + timedelta(days=RECALL_MIN_SHELF_DAYS)
            and line.delivery.customer_id not in desk.taken
        ):
            held_lot, held_delivery = lot, line.delivery
            break
    if held_lot is None:
        raise RuntimeError("demo service: no lot for the hold")
    desk.lots.add(held_lot.pk)
    desk.taken.add(held_delivery.customer_id)
    held = _Hours(desk, ago=10)
    stories.append(_held(desk, held, held_lot, held_delivery))

    # the customer whose consumer found it: the latest delivery of the lot that is a fortnight old
    shipped_recall = (
        Delivery.objects.filter(state__in=recalls.SHIPPED, lines__lot=recalled)
        .exclude(customer_id__in=desk.taken)
        .select_related("customer")
        .order_by("-received_on", "-number")
        .distinct()
    )
    complaining = shipped_recall.filter(received_on__lte=cal.ago(15)).first() or shipped_recall.first()
    if complaining is None:
        raise RuntimeError("demo service: nobody to complain about the recalled lot")
    desk.taken.add(complaining.customer_id)
    stories.append(_recalled(desk, recalled, complaining))
    stories.append(_drill(desk, drilled))

    # the remedies, on customers a credit disturbs nowhere else
    def refundable(delivery):
        for line in _lines(delivery):
            price = line.order_line.net_unit_price
            cases = min(Decimal(3), (REFUND_LIMIT / price).to_integral_value(ROUND_DOWN), line.quantity)
            if cases >= 1:
                refund.update(line=line, cases=cases)
                return True
        return False

    refund: dict = {}
    short = desk.delivery("the refund", before=cal.ago(30), after=cal.ago(62), credit=True, where=refundable)
    stories.append(_refunded(desk, short, refund["line"], refund["cases"]))
    stories.append(_returned(desk, desk.delivery("the return", before=cal.ago(15), after=cal.ago(45), credit=True)))

    replaced = _Hours(desk, ago=12)
    replacement: dict = {}

    def replaceable(delivery):
        for line in _lines(delivery):
            cases = min(Decimal(6), line.quantity)
            if desk.free(line.order_line.product, delivery.customer) >= cases:
                replacement.update(line=line, cases=cases)
                return True
        return False

    crushed = desk.delivery("the replacement", before=replaced.day, after=cal.ago(40), credit=True, where=replaceable)
    stories.append(_replaced(desk, replaced, crushed, replacement["line"], replacement["cases"]))
    # the manager's team: the customer's rep reports to the demo's manager
    compensated = _Hours(desk, ago=3)
    late = desk.delivery("the compensation", before=compensated.day, after=cal.ago(60), credit=True, owner="rep")
    stories.append(_compensated(desk, compensated, late))

    # the rest
    reopened = _Hours(desk, ago=40)
    stories.append(_reopened(desk, reopened, desk.delivery("the reopened one", before=reopened.day)))
    overdue = _Hours(desk, ago=9)
    stories.append(_overdue(desk, overdue, desk.delivery("the overdue one", before=overdue.day)))
    due_soon = _Hours(desk, ago=5)
    stories.append(_due_soon(desk, due_soon, desk.delivery("the one due soon", before=due_soon.day)))
    stories.append(
        _public_form(
            desk,
            _Hours(desk, ago=1),
            Product.objects.filter(status=Product.Status.ACTIVE, sku__startswith="SN").order_by("sku").first(),
        )
    )
    stories.append(_rude_driver(desk, desk.delivery("the rude driver", before=cal.ago(52), after=cal.ago(120))))
    stories.append(_caking(desk, desk.delivery("the caking", before=cal.ago(26), after=cal.ago(90))))

    # the delivery survey: a link to each customer whose goods arrived in the last seven weeks
    seen: set[int] = set()
    arrived = []
    for delivery in (
        Delivery.objects.filter(state="received", received_on__gte=cal.ago(50), received_on__lt=cal.today)
        .select_related("customer")
        .order_by("-received_on", "-number")
    ):
        if delivery.customer_id not in seen:
            seen.add(delivery.customer_id)
            arrived.append(delivery)
    arrived = arrived[:9]
    for index, delivery in enumerate(arrived):
        sent = delivery.received_on + timedelta(days=1)
        if index < 2 and cal.today - sent < timedelta(days=10):
            answer_after = None  # the latest two wait for their answer
        elif index == len(arrived) - 1 and cal.today - sent > timedelta(days=16):
            answer_after = None  # the oldest was never answered: its link expired
        else:
            answer_after = 1 + index % 3
        stories.append(_delivery_survey(desk, delivery, answer_after))

    named = iter(
        Customer.objects.filter(status=Customer.Status.ACTIVE, pk__in=[d.customer_id for d in arrived]).order_by("pk")
    )
    for row in SUGGESTIONS:
        stories.append(_suggestion(desk, row, next(named, None) if row[6] else None))
    return stories


# --- moving the history into the past ------------------------------------------------------------


def _backdate(clock, *, since: datetime) -> None:
    """The rows this seed made get the moments their steps stand for (the stage events too),
    and what the services derived from today follows: a link's expiry, a revisit's due date,
    the day a return came back."""
    local = timezone.localtime
    shifts = backdate_stamps(clock, STAMPED, since=since)
    made = {model: [pk for each, pk in shifts if each is model] for model, _names in STAMPED}
    invitations = list(SurveyInvitation.objects.filter(pk__in=made[SurveyInvitation]).select_related("survey"))
    for invitation in invitations:
        invitation.expires_at = invitation.sent_at + timedelta(days=invitation.survey.valid_days)
    SurveyInvitation.objects.bulk_update(invitations, ["expires_at"], batch_size=500)
    planned = list(Revisit.objects.filter(pk__in=made[Revisit]).only("due_on"))
    for revisit in planned:
        revisit.due_on += shifts[(Revisit, revisit.pk)]
    Revisit.objects.bulk_update(planned, ["due_on"], batch_size=500)
    returns = list(CustomerReturn.objects.filter(pk__in=made[CustomerReturn]).only("created_at", "received_on"))
    for customer_return in returns:
        customer_return.received_on = local(customer_return.created_at).date()
    CustomerReturn.objects.bulk_update(returns, ["received_on"], batch_size=500)


# --- the seed ------------------------------------------------------------------------------------


@transaction.atomic
def service_seed(*, stdout=None) -> dict:
    """Seed the after-sales desk (once: a database with complaints is left alone)."""
    if Complaint.objects.exists():
        return service_counts()
    calendar = _Calendar(timezone.localdate())
    desk = _Desk(calendar)
    since = timezone.now()
    _run(calendar, _stories(desk))
    _backdate(calendar.clock, since=since)
    _inbox_read(before=calendar.moment(calendar.ago(3), 0))
    # what this morning's jobs did: escalate the complaints past (or near) a deadline, plan
    # the quarterly revisits of the key accounts
    services.complaints_escalate_due()
    revisits.revisits_plan_routine()
    # …and a rep already called one of their key accounts back
    revisit = Revisit.objects.filter(done_on=None).select_related("owner").order_by("due_on", "pk").first()
    if revisit is not None:
        revisits.revisit_done(
            by=revisit.owner,
            revisit=revisit,
            outcome="已电话回访客户采购负责人：对近期处理结果表示满意，下月计划增加品类，约定月底上门拜访。",
        )
    counts = service_counts()
    if stdout:
        stdout.write(
            f"demo after-sales: {counts['complaints']} complaints ({counts['open']} open), "
            f"{counts['remedies']} remedies, {counts['recalls']} recalls ({counts['drills']} drills), "
            f"{counts['invitations']} survey links ({counts['responses']} answered), {counts['revisits']} revisits, "
            f"{counts['suggestions']} suggestions"
        )
    return counts


def service_counts() -> dict:
    states = Counter(Complaint.objects.values_list("state", flat=True))
    return {
        "complaints": sum(states.values()),
        "open": sum(states[state] for state in ("new", "assigned", "in_progress")),
        "states": dict(sorted(states.items())),
        "remedies": Remedy.objects.count(),
        "recalls": Recall.objects.count(),
        "drills": Recall.objects.filter(is_drill=True).count(),
        "invitations": SurveyInvitation.objects.count(),
        "responses": SurveyResponse.objects.count(),
        "revisits": Revisit.objects.count(),
        "suggestions": Suggestion.objects.count(),
    }
