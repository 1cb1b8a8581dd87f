"""The demo company's contracts: the contract admin (``contracts``) drafts, edits and records
the signing, legal (``legal``) reviews, the director co-signs the large one. Nine contracts,
each where a working contracts desk would have one:

- an annual framework agreement with the first customer (estimated quantities, payment
  milestones, its call-off orders linked; reviewed by legal, co-signed by the director);
- a distribution agreement with a distributor whose deliveries lag and whose payment is
  overdue, and its amendment (version 2: a second city, higher targets) being drafted;
- single-order contracts, signed: one ending within the month (its warning acknowledged),
  one with a quality dispute under negotiation, one signed this week;
- one waiting in legal's queue (its customer is over the credit limit), one returned by
  legal with comments on two clauses (90 days of payment terms), one approved in its second
  review round and waiting for signatures, one draft without a quality standard;
- this morning's risk evaluation: warnings of several rules on the board.

Every step goes through the contract services, by the person whose job it is, in the order
the days went by; afterwards the times the services stamped are moved to the days the steps
stand for, as the sales demo does (see ``demo_sales._backdate``: the audit log is never
touched, ``foodflow audit verify`` passes). Seeded once: a database that has contracts is
left alone, so a second run changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.catalog.models import Product
from foodflow.contracts.models import (
    Contract,
    ContractOrder,
    ContractTemplate,
    Dispute,
    DisputeAction,
    ReviewComment,
    RiskWarning,
)
from foodflow.contracts.risk import risk_evaluate, warning_acknowledge
from foodflow.contracts.services import (
    ContractLineInput,
    MilestoneInput,
    contract_amend,
    contract_comment,
    contract_draft,
    contract_link_order,
    contract_review,
    contract_sign,
    contract_submit,
    contract_update,
    dispute_add_action,
    dispute_open,
)
from foodflow.core.models import Attachment, Notification
from foodflow.core.money import ZERO, round_money
from foodflow.core.vocab import Channel
from foodflow.crm.models import Contact, Customer
from foodflow.sales.models import ApprovalRequest, ApprovalStep, OrderLine, SalesOrder
from foodflow.sales.selectors import invoices_overdue

# The sales demo's machinery for telling stories in the past: the clock mapping the real times
# the services stamp to the moments the steps stand for, a story's timeline, the runner that
# interleaves the stories by moment, and the backdating helpers. Private to demo_sales; shared
# within the demo package rather than copied.
from foodflow.web.demo_sales import _Clock, _inbox_read, _run, _Timeline, backdate_stamps
from foodflow.web.demo_stock import demo_customer_id

FRAMEWORK_ESTIMATE = Decimal(2)  # half a year of orders, annualised: the framework's estimates
DISTRIBUTION_TARGET = Decimal(600_000)  # the distributor's annual purchase target (CNY)
AMENDMENT_GROWTH = Decimal("1.3")  # the amendment raises the targets by 30 %
QUANTITY_STEP = Decimal(50)
NEIGHBOUR_CITY = {"北京市": "天津市", "天津市": "北京市", "上海市": "苏州市", "广州市": "佛山市", "深圳市": "东莞市"}
APPROVED = "条款与标准文本一致，同意。"

# Times the services stamp with "now" on the rows of this seed: moved to the step's moment.
STAMPED = (
    (Contract, ("created_at", "updated_at")),
    (ContractOrder, ("linked_at",)),
    (ReviewComment, ("at", "resolved_at")),
    (ApprovalRequest, ("submitted_at", "decided_at")),
    (ApprovalStep, ("decided_at",)),
    (Attachment, ("uploaded_at",)),
    (Dispute, ("created_at", "updated_at")),
    (DisputeAction, ("at",)),
    (Notification, ("created_at",)),
)


class _Calendar:
    """The demo's days, as the sales demo's ``_Timeline`` and ``_run`` use them."""

    def __init__(self, today: date):
        self.today = today
        self.now = timezone.now() - timedelta(minutes=1)
        self.clock = _Clock()

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = timezone.make_aware(datetime.combine(min(day, self.today), time(hour, minute)))
        return min(moment, self.now)

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)


class _Desk:
    """The contracts desk: its people, the templates, the orders the stories are about, and
    what the stories made (by story)."""

    def __init__(self, calendar: _Calendar):
        self.calendar = calendar
        users = {u.username: u for u in User.objects.filter(username__in=("contracts", "legal", "director"))}
        if len(users) != 3:
            raise RuntimeError("demo contracts: the demo users contracts, legal and director are needed")
        self.admin, self.legal, self.director = users["contracts"], users["legal"], users["director"]
        self.templates = {t.code: t for t in ContractTemplate.objects.filter(is_current=True, is_active=True)}
        self.signers = dict(Contact.objects.filter(is_primary=True).values_list("customer_id", "name"))
        self.taken: set[int] = {demo_customer_id()}  # one story per customer; the first is the framework's
        self.made: dict[str, Contract] = {}

    def template(self, code: str) -> ContractTemplate:
        return self.templates[code]

    def take(self, what: str, orders) -> SalesOrder:
        """The earliest of ``orders`` whose customer no other story has, under no contract."""
        order = (
            orders.filter(is_current=True)
            .exclude(customer_id__in=self.taken)
            .exclude(number__in=ContractOrder.objects.values("order_number"))
            .select_related("customer", "owner")
            .order_by("ordered_on", "number")
            .first()
        )
        if order is None:
            raise RuntimeError(f"demo contracts: no order for {what}")
        self.taken.add(order.customer_id)
        return order

    def signer(self, customer: Customer) -> str:
        return self.signers.get(customer.pk, "采购负责人")


def _scan_pdf(lines: list[str]) -> bytes:
    """A one-page PDF standing for the scan of the signed paper (ASCII lines, Helvetica)."""
    shown = " ".join(f"({line.replace(chr(92), '').replace('(', '').replace(')', '')}) Tj 0 -24 Td" for line in lines)
    content = f"BT /F1 16 Tf 72 770 Td {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    document = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(document)
    document += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    document += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    document += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(document)


def _rounded_up(quantity: Decimal) -> Decimal:
    return max((quantity / QUANTITY_STEP).to_integral_value(ROUND_CEILING) * QUANTITY_STEP, QUANTITY_STEP)


def _city(customer: Customer) -> str:
    """The city of the customer's delivery address (北京市东城区… → 北京市)."""
    address = customer.addresses.order_by("-is_default", "pk").values_list("address", flat=True).first() or ""
    match = re.match(r"^(?:.{2,3}省)?(.{2,3}市)", address)
    return match.group(1) if match else "约定区域"


# --- the steps every story shares -------------------------------------------------------------------


def _sign(desk: _Desk, t: _Timeline, contract: Contract, our_signatory: str) -> Contract:
    """Both parties signed the paper today; the admin records it with the scan."""
    signed_on = t.today
    scan = SimpleUploadedFile(
        f"{contract.number}-v{contract.version}-signed.pdf",
        _scan_pdf([f"{contract.number} v{contract.version}", f"signed {signed_on.isoformat()}"]),
        content_type="application/pdf",
    )
    return contract_sign(
        by=desk.admin,
        contract=contract,
        signed_on=signed_on,
        our_signatory=our_signatory,
        customer_signatory=desk.signer(contract.customer),
        scan=scan,
    )


def _reviewed(desk: _Desk, t: _Timeline, contract: Contract, *, day: int, comment: str = APPROVED):
    """Submitted now; legal approves on ``day`` (and the director the next morning, where the
    policy asks for it)."""
    contract = contract_submit(by=desk.admin, contract=contract)
    yield t.at(day, 15)
    contract = contract_review(by=desk.legal, contract=contract, approve=True, comment=comment)
    if contract.state == "in_review":  # a large contract: the director co-signs it
        yield t.at(day + 1, 10)
        contract = contract_review(by=desk.director, contract=contract, approve=True, comment="同意签署。")
    return contract


def _drafted(desk: _Desk, order: SalesOrder) -> Contract:
    """The single-order contract of ``order``, in force from the order date."""
    return contract_draft(
        by=desk.admin, template=desk.template("single-order"), order=order, start_date=order.ordered_on
    )


def _single_order_signed(desk: _Desk, order: SalesOrder, *, end_date: date | None = None):
    """Drafted the day after the order, approved the same day, signed the next."""
    t = _Timeline(desk.calendar, order.ordered_on)
    yield t.at(1, 10)
    contract = contract_draft(
        by=desk.admin,
        template=desk.template("single-order"),
        order=order,
        start_date=order.ordered_on,
        end_date=end_date,
    )
    yield t.at(1, 10, 40)
    contract = yield from _reviewed(desk, t, contract, day=1)
    yield t.at(2, 16)
    contract = _sign(desk, t, contract, order.owner.display_name)
    return t, contract


# --- the stories ---------------------------------------------------------------------------------------


def _framework(desk: _Desk):
    """The first customer's annual framework agreement, its call-off orders put under it."""
    customer = Customer.objects.get(pk=demo_customer_id())
    orders = list(
        SalesOrder.objects.filter(customer=customer, is_current=True)
        .exclude(state__in=("draft", "pending_approval", "cancelled", "superseded"))
        .order_by("ordered_on", "number")
    )
    if not orders:
        raise RuntimeError("demo contracts: the first customer has no orders")
    starts = orders[0].ordered_on - timedelta(days=3)
    t = _Timeline(desk.calendar, starts - timedelta(days=9))
    yield t.at(0, 10)
    contract = contract_draft(
        by=desk.admin,
        template=desk.template("framework"),
        customer=customer,
        start_date=starts,
        end_date=starts + timedelta(days=364),
        title=f"{customer.name} {starts.year}—{starts.year + 1}年度销售框架协议",
    )
    yield t.at(0, 15, 30)
    bought = dict(
        OrderLine.objects.filter(order__in=orders)
        .values("product_id")
        .annotate(quantity=Sum("quantity"))
        .values_list("product_id", "quantity")
    )
    products = contract.clauses.get(key="products")
    contract = contract_update(
        by=desk.admin,
        contract=contract,
        lines=[
            ContractLineInput(
                product=line.product,
                quantity=_rounded_up(bought.get(line.product_id, ZERO) * FRAMEWORK_ESTIMATE),
                unit_price=line.unit_price,
            )
            for line in contract.lines.select_related("product")
        ],
        clauses={
            products.pk: products.body.replace("附表一数量为预计采购量。", "")
            + "附表一数量为乙方年度预计采购量，不构成乙方的采购义务；甲方保证乙方各门店的供货价格不高于附表一价格。"
        },
        delivery_terms="甲方送货至乙方配送中心，冷链产品全程冷链运输",
    )
    yield t.at(1, 9, 30)
    total = contract.total
    deposit = (total * Decimal("0.1") / 1000).to_integral_value(ROUND_DOWN) * 1000
    midyear = (total * Decimal("0.4") / 1000).to_integral_value(ROUND_DOWN) * 1000
    contract = contract_update(
        by=desk.admin,
        contract=contract,
        milestones=[
            MilestoneInput("首批订货货款", starts + timedelta(days=45), deposit),
            MilestoneInput("半年度对账结清", starts + timedelta(days=190), midyear),
            MilestoneInput("年度对账结清", starts + timedelta(days=364), round_money(total - deposit - midyear)),
        ],
    )
    yield t.at(1, 10, 30)
    contract = yield from _reviewed(desk, t, contract, day=2, comment="框架协议条款齐备，价格经销售总监确认，同意。")
    yield t.at(7, 15)
    contract = _sign(desk, t, contract, desk.director.display_name)
    desk.made["framework"] = contract
    # the call-off orders go under it as they come; this week's wait on the admin's list
    for order in orders:
        if order.ordered_on > desk.calendar.ago(7):
            break
        yield t.at((order.ordered_on - t.start).days, 17, 30)
        contract_link_order(by=desk.admin, contract=contract, order=order)


def _distribution(desk: _Desk, order: SalesOrder):
    """A distributor's agreement for its city: signed weeks before its first order (now
    overdue); this week the admin drafts the amendment that adds the neighbouring city."""
    customer = order.customer
    city = _city(customer)
    neighbour = NEIGHBOUR_CITY.get(city, "周边城市")
    starts = order.ordered_on - timedelta(days=25)
    t = _Timeline(desk.calendar, starts - timedelta(days=8))
    yield t.at(0, 10, 30)
    contract = contract_draft(
        by=desk.admin,
        template=desk.template("distribution"),
        customer=customer,
        start_date=starts,
        end_date=starts + timedelta(days=364),
        title=f"{customer.name} {city}区域经销协议",
    )
    yield t.at(0, 16)
    lines = list(contract.lines.select_related("product"))
    share = DISTRIBUTION_TARGET / max(len(lines), 1)
    territory = (
        "甲方授权乙方在{area}行政区域内经销附表一所列产品，乙方不得跨区域销售；"
        "年度目标采购额人民币 {{{{total_amount}}}} 元，按季度考核，季度完成率低于70%的，甲方有权调整经销区域。"
    )
    products = contract.clauses.get(key="products")
    contract = contract_update(
        by=desk.admin,
        contract=contract,
        lines=[
            ContractLineInput(
                product=line.product, quantity=_rounded_up(share / line.unit_price), unit_price=line.unit_price
            )
            for line in lines
        ],
        clauses={products.pk: territory.format(area=city)},
        delivery_terms="甲方送货至乙方指定仓库，运费由甲方承担",
    )
    yield t.at(1, 10)
    contract = yield from _reviewed(desk, t, contract, day=2, comment="经销区域、目标与考核条款清楚，同意。")
    yield t.at(8, 14)
    contract = _sign(desk, t, contract, desk.director.display_name)
    desk.made["distribution"] = contract
    yield t.at((order.ordered_on - t.start).days, 17)
    contract_link_order(by=desk.admin, contract=contract, order=order)
    # the amendment: a second city, targets up by 30 %, one more product; not submitted yet
    yield t.at((desk.calendar.ago(3) - t.start).days, 10)
    amendment = contract_amend(
        by=desk.admin, contract=contract, reason=f"乙方申请将经销区域扩大至{neighbour}，年度目标相应上调30%"
    )
    yield t.at((desk.calendar.ago(2) - t.start).days, 11)
    lines = list(amendment.lines.select_related("product"))
    extra = (
        Product.objects.filter(status=Product.Status.ACTIVE, sku__startswith="DA")
        .exclude(pk__in=[line.product_id for line in lines])
        .order_by("sku")
        .first()
    )
    inputs = [
        ContractLineInput(
            product=line.product, quantity=_rounded_up(line.quantity * AMENDMENT_GROWTH), unit_price=line.unit_price
        )
        for line in lines
    ]
    if extra is not None:
        inputs.append(ContractLineInput(product=extra, quantity=Decimal(500)))
    products = amendment.clauses.get(key="products")
    amendment = contract_update(
        by=desk.admin,
        contract=amendment,
        lines=inputs,
        clauses={
            products.pk: territory.format(area=f"{city}及{neighbour}") + f"{neighbour}区域自本版本签署之日起生效。"
        },
    )
    desk.made["amendment"] = amendment


def _expiring(desk: _Desk, order: SalesOrder):
    """A single-order contract that ends within the month."""
    _t, contract = yield from _single_order_signed(desk, order, end_date=desk.calendar.today + timedelta(days=20))
    desk.made["expiring"] = contract


def _disputed(desk: _Desk, order: SalesOrder):
    """Signed and delivered; the customer found damaged cases: a quality dispute, and the first
    action taken on it."""
    t, contract = yield from _single_order_signed(desk, order)
    desk.made["disputed"] = contract
    line = order.lines.select_related("product").order_by("position").first()
    cases = min(Decimal(12), line.quantity)
    yield t.at((desk.calendar.ago(5) - t.start).days, 14)
    dispute = dispute_open(
        by=desk.admin,
        contract=contract,
        category=Dispute.Category.QUALITY,
        description=(
            f"客户门店验收时发现{line.product.name}（{line.product.sku}）共{cases.normalize():f}箱外箱受潮变形、内包装污染，"
            "已拒收该部分货物，要求按合同质量条款折价赔偿。"
        ),
        amount=round_money(cases * line.net_unit_price),
        complaint_reference=f"KS-{t.today:%Y%m%d}-03",
    )
    yield t.at((desk.calendar.ago(4) - t.start).days, 11)
    dispute_add_action(
        by=desk.admin,
        dispute=dispute,
        note="品控部已调取运输温湿度记录并到店抽检，确认外箱受潮系运输途中雨淋所致；"
        "已向承运商发函索赔，向客户提出换货或按破损数量折价两种方案，待客户答复。",
    )


def _signed_this_week(desk: _Desk, order: SalesOrder):
    _t, contract = yield from _single_order_signed(desk, order)
    desk.made["recent"] = contract


def _in_review(desk: _Desk, order: SalesOrder):
    """Drafted for an order on credit hold and submitted: it waits in legal's queue."""
    t = _Timeline(desk.calendar, order.ordered_on)
    yield t.at(0, 15)
    contract = _drafted(desk, order)
    yield t.at(1, 10)
    desk.made["in_review"] = contract_submit(by=desk.admin, contract=contract)


def _returned(desk: _Desk, order: SalesOrder):
    """The customer asked for 90 days of payment terms; legal comments on the payment and the
    delivery clauses and returns it."""
    t = _Timeline(desk.calendar, order.ordered_on)
    yield t.at(0, 15)
    contract = _drafted(desk, order)
    yield t.at(0, 16)
    contract = contract_update(
        by=desk.admin, contract=contract, payment_terms_days=90, delivery_terms="送货至客户门店，门店验收后签收"
    )
    yield t.at(0, 16, 30)
    contract = contract_submit(by=desk.admin, contract=contract)
    yield t.at(1, 10)
    contract_comment(
        by=desk.legal,
        contract=contract,
        clause=contract.clauses.get(key="payment"),
        text="账期90天超出公司风险政策（最长60天）。请与客户协商缩短至60天以内，或报销售总监特批并要求客户提供付款担保。",
    )
    yield t.at(1, 10, 10)
    contract_comment(
        by=desk.legal,
        contract=contract,
        clause=contract.clauses.get(key="delivery"),
        text="交货条款请补充门店收货时间窗口及冷链交接、验收标准，避免到货拒收争议。",
    )
    yield t.at(1, 10, 30)
    desk.made["returned"] = contract_review(
        by=desk.legal, contract=contract, approve=False, comment="请按条款批注修改后重新提交。"
    )


def _approved(desk: _Desk, order: SalesOrder):
    """Returned once (the delivery clause), rewritten, approved in the second round: waiting
    for the signatures."""
    t = _Timeline(desk.calendar, order.ordered_on)
    yield t.at(0, 14)
    contract = _drafted(desk, order)
    yield t.at(0, 14, 30)
    contract = contract_submit(by=desk.admin, contract=contract)
    yield t.at(1, 9, 30)
    delivery = contract.clauses.get(key="delivery")
    contract_comment(
        by=desk.legal,
        contract=contract,
        clause=delivery,
        text="经销商仓库收货，请写明卸货责任及到货验收时限。",
    )
    contract = contract_review(by=desk.legal, contract=contract, approve=False)
    yield t.at(1, 11)
    contract = contract_update(
        by=desk.admin,
        contract=contract,
        clauses={delivery.pk: delivery.body + "到货卸货由乙方负责，乙方应于到货当日完成数量验收并签收。"},
    )
    yield t.at(1, 11, 10)
    contract = yield from _reviewed(desk, t, contract, day=1)
    desk.made["approved"] = contract


def _draft(desk: _Desk, order: SalesOrder):
    """An export order's contract: the quality standard of the destination is still open."""
    t = _Timeline(desk.calendar, order.ordered_on)
    yield t.at(0, 16)
    contract = _drafted(desk, order)
    yield t.at(1, 9, 30)
    desk.made["draft"] = contract_update(
        by=desk.admin, contract=contract, quality_standard="", delivery_terms="FOB 上海，出口检验检疫由甲方办理"
    )


def _stories(desk: _Desk) -> list:
    orders = SalesOrder.objects.all()
    overdue = invoices_overdue(on=desk.calendar.today).values("order_id")
    distributor = desk.take(
        "the distribution agreement",
        orders.filter(state="delivered", pk__in=overdue, customer__channel=Channel.DISTRIBUTOR).filter(
            customer__credit_limit__gte=500_000
        ),
    )
    delivered_ka = orders.filter(state="delivered", customer__channel=Channel.KA).exclude(pk__in=overdue)
    return [
        _framework(desk),
        _distribution(desk, distributor),
        _expiring(desk, desk.take("a contract ending this month", delivered_ka)),
        _disputed(desk, desk.take("a contract with a dispute", delivered_ka)),
        _signed_this_week(
            desk,
            desk.take("a contract signed this week", orders.filter(state="reserved", customer__channel=Channel.KA)),
        ),
        _in_review(desk, desk.take("a contract in review", orders.filter(state="credit_hold"))),
        _returned(desk, desk.take("a contract returned by legal", orders.filter(state="returned"))),
        _approved(
            desk,
            desk.take("an approved contract", orders.filter(state="reserved", customer__channel=Channel.DISTRIBUTOR)),
        ),
        _draft(desk, desk.take("a draft", orders.filter(state="reserved", customer__channel=Channel.EXPORT))),
    ]


# --- moving the history into the past ------------------------------------------------------------


def _backdate(clock: _Clock, *, since: datetime) -> None:
    """The rows this seed made get the moments their steps stand for (the stage events too);
    the dates given to the services (start, end, signing, due dates) were given directly."""
    backdate_stamps(clock, STAMPED, since=since)


# --- the seed ------------------------------------------------------------------------------------


@transaction.atomic
def contracts_seed(*, stdout=None) -> dict:
    """Seed the contracts desk (once: a database with contracts is left alone)."""
    if Contract.objects.exists():
        return contracts_counts()
    calendar = _Calendar(timezone.localdate())
    desk = _Desk(calendar)
    since = timezone.now()
    _run(calendar, _stories(desk))
    _backdate(calendar.clock, since=since)
    _inbox_read(before=calendar.moment(calendar.ago(3), 0))
    # what this morning's daily job found, and what the admin already did about one of it
    risk_evaluate()
    expiring = RiskWarning.objects.get(rule="expiring", contract=desk.made["expiring"], state="open")
    warning_acknowledge(by=desk.admin, warning=expiring, note="已与客户沟通续签，新合同本周起草并提交法务审核。")
    counts = contracts_counts()
    if stdout:
        stdout.write(
            f"demo contracts: {counts['contracts']} contracts ({counts['versions']} versions), "
            f"{counts['disputes']} disputes, {counts['warnings']} live risk warnings"
        )
    return counts


def contracts_counts() -> dict:
    return {
        "contracts": Contract.objects.values("number").distinct().count(),
        "versions": Contract.objects.count(),
        "disputes": Dispute.objects.count(),
        "warnings": RiskWarning.objects.exclude(state=RiskWarning.State.RESOLVED).count(),
    }
