"""Benchmark of contracts (risk evaluation, the ledger, the contract PDF) on SQLite and (when
reachable) PostgreSQL.

    uv run python bench/contracts.py                   # 500 contracts on both databases
    uv run python bench/contracts.py --contracts 50    # fewer contracts to evaluate
    uv run python bench/contracts.py --profile         # and where the time goes
    uv run python bench/contracts.py --sql             # and the queries of one contract's evaluation

Three measurements, each of the real code:

- ``foodflow.contracts.risk.risk_evaluate()`` as the daily job calls it, over N active
  contracts with lines, payment milestones and linked orders in every state (delivered,
  partly delivered, late; receivables paid, open, overdue), built so that every rule fires on
  some of them. Timed twice: the first run raises the warnings (and notifies their owners),
  the second finds the same and keeps them.
- ``foodflow.contracts.selectors.ledger`` for a contract admin over 10,000 current contracts:
  the first page of 25 rows and the count, filtered (active, amount from) and sorted by end
  date, as the ledger page asks for it.
- ``foodflow.contracts.pdf.contract_pdf`` of a 5-line contract made and signed through the
  services.

Like bench/order_to_cash.py the script starts itself once per database as a child process on
a fresh throwaway database (a temporary SQLite file; a new PostgreSQL database dropped
afterwards). The child migrates, builds the fixture (contracts, orders, deliveries and
receivables with ``bulk_create``: they are only the fixture) and measures. Nothing touches the
project's own database in var/.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from _harness import CHILD_ENV, ROOT, run_both

REPS = 5
CUSTOMERS = 20
LOW_CREDIT_CUSTOMERS = 2  # their small credit limit makes the credit rule fire
PRODUCTS = 5
LEDGER_CONTRACTS = 10_000
LEDGER_RUNS = 20
LEDGER_AMOUNT_MIN = Decimal("200000")
PDF_RUNS = 5
PROFILED_CONTRACTS = 100
BATCH = 1000
QUALITY_STANDARD = "GB 25190-2010 灭菌乳"
# earlier numbers than the services' own sequence of this year hands out (the PDF contract)
NUMBER_YEAR_OFFSET = 1


# --- parent: one child per database ----------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contracts", type=int, default=500, help="active contracts the risk rules evaluate (default 500)"
    )
    parser.add_argument("--profile", action="store_true", help="print where the time of the measured code goes")
    parser.add_argument("--sql", action="store_true", help="print the queries of one contract's risk evaluation")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [
        f"--contracts={args.contracts}",
        *(["--profile"] if args.profile else []),
        *(["--sql"] if args.sql else []),
    ]
    return run_both(script=__file__, passed=passed, name="contracts")


# --- child: fixture and measurements ---------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    label = os.environ[CHILD_ENV]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    rng = random.Random(2026)
    world = build_world()
    sizes = build_risk_fixture(world, rng, contracts=args.contracts)
    analyze()
    print(
        f"# {label} ({connection.vendor}): migrated in {migrated:.1f} s; {args.contracts} active contracts with "
        f"{sizes['lines']} lines, {sizes['milestones']} milestones, {sizes['orders']} linked orders "
        f"({sizes['deliveries']} deliveries, {sizes['invoices']} receivables of which {sizes['overdue']} overdue "
        f"and {sizes['paid']} paid), {CUSTOMERS} customers; ready in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    read_ms = calibration()
    print(f"# {label}: on this machine now, one primary-key read through the ORM takes {read_ms:.3f} ms")
    # The first notification reverses a URL, which imports the whole URLconf (every view, the
    # PDF renderer): a cost a process pays once, whatever it evaluates, so it is paid here.
    started = time.perf_counter()
    from django.urls import reverse

    reverse("contracts:detail", args=[1])
    print(f"# {label}: loading the URLconf took {time.perf_counter() - started:.1f} s (once per process, not timed)")

    measure_risk(world, label, contracts=args.contracts, show_sql=args.sql, profile=args.profile)
    measure_ledger(world, rng, label)
    measure_pdf(world, label, profile=args.profile)
    print(f"# {label}: whole child {time.perf_counter() - started:.1f} s", flush=True)
    return 0


@dataclass
class World:
    """The people, customers and products of the fixture (made by ``build_world``)."""

    today: date
    admin: object  # the contract admin: drafts and keeps the ledger
    legal: object
    director: object
    reps: list
    customers: list
    products: list
    prices: dict = field(default_factory=dict)  # product pk → base price
    templates: dict = field(default_factory=dict)  # kind → current template
    next_number: int = 1  # of the fixture's contracts


def build_world() -> World:
    """An org chart, a contract admin, legal, a director and five reps (no e-mail address:
    the owners' notifications stay in the inbox, no mail task runs inside the measured
    evaluation), 20 customers of the reps with credit limits (two of them small) and five
    products with a base price above their floor price. Made through the services."""
    from django.utils import timezone

    from foodflow.accounts.models import OrgUnit, Role, User
    from foodflow.accounts.services import org_unit_create
    from foodflow.catalog.services import category_create, family_for, price_list_create, price_set, product_create
    from foodflow.contracts.models import ContractTemplate
    from foodflow.crm.services import customer_create, customer_set_credit

    hq = org_unit_create(by=None, code="HQ", name="总部", kind=OrgUnit.Kind.COMPANY, parent=None)
    east = org_unit_create(by=None, code="EAST", name="华东大区", kind=OrgUnit.Kind.REGION, parent=hq)
    team = org_unit_create(by=None, code="EAST-1", name="华东一组", kind=OrgUnit.Kind.TEAM, parent=east)

    def user(username: str, role: str, unit: OrgUnit):
        person = User.objects.create_user(username, password="Bench-Password-42", org_unit=unit)
        person.roles.set(Role.objects.filter(code=role))
        return User.objects.get(pk=person.pk)

    world = World(
        today=timezone.localdate(),
        admin=user("contracts", "contract_admin", hq),
        legal=user("legal", "legal", hq),
        director=user("director", "director", hq),
        reps=[user(f"rep{n}", "rep", team) for n in range(1, REPS + 1)],
        customers=[],
        products=[],
    )
    for n in range(1, CUSTOMERS + 1):
        customer = customer_create(
            by=None,
            name=f"基准客户{n:02d}号商贸有限公司",
            channel="ka",
            region=east,
            owner=world.reps[n % REPS],
            status="active",
            confirm_duplicate=True,
        )
        limit = Decimal("50000") if n <= LOW_CREDIT_CUSTOMERS else Decimal("50000000")
        world.customers.append(
            customer_set_credit(by=None, customer=customer, credit_limit=limit, payment_terms_days=30)
        )
    category = category_create(by=None, code="bench", name="基准测试", name_en="Benchmark")
    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2020, 1, 1))
    for n in range(1, PRODUCTS + 1):
        product = product_create(
            by=None,
            sku=f"CTB{n}",
            name=f"基准纯牛奶{n}",
            name_en=f"Bench milk {n}",
            specification="250ml×24",
            category=category,
            storage="ambient",
            shelf_life_days=180,
            vat_rate="0.13",
            family=family_for("uht-250"),
            floor_price=Decimal("40.00"),
            standard_cost=Decimal("35.00"),
            quality_standard=QUALITY_STANDARD,
        )
        price = Decimal(50 + 5 * n)
        price_set(by=None, price_list=base, product=product, unit_price=price)
        world.products.append(product)
        world.prices[product.pk] = price
    world.templates = {t.kind: t for t in ContractTemplate.objects.filter(is_current=True)}
    assert set(world.templates) == {"framework", "single_order", "distribution"}, world.templates
    return world


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def contract_number(world: World) -> str:
    number = f"CT-{world.today.year - NUMBER_YEAR_OFFSET}-{world.next_number:06d}"
    world.next_number += 1
    return number


def build_risk_fixture(world: World, rng: random.Random, *, contracts: int) -> dict[str, int]:
    """``contracts`` signed, active contracts, written with ``bulk_create``:

    - 2–5 lines of the five products, a few with a discount that takes the net price below
      the floor price; 1–3 payment milestones (a deposit 30 days in, the rest half-way or at
      the end); 1–2 orders linked by number, each covering part of the contracted quantities
      in proportion to the time elapsed;
    - orders completed (delivered, receivable paid by a bank transfer), delivered (receivable
      open, overdue once past its due date), partly delivered or only reserved (some past
      their promised date);
    - about 10 % with 90-day payment terms, 10 % without a quality standard, 8 % without a
      liability cap and 4 % above the allowed cap, 5 % with a late penalty above the policy,
      12 % ending within the warning window (a few already past their end), and the
      customers with a small credit limit over it.
    """
    from foodflow.contracts.models import Contract, ContractLine, ContractOrder, PaymentMilestone
    from foodflow.sales.models import Delivery, DeliveryLine, Invoice, OrderLine, Payment, PaymentAllocation, SalesOrder

    planned = [_risk_contract(world, rng) for _ in range(contracts)]
    rows = [contract for contract, _lines in planned]
    Contract.objects.bulk_create(rows, batch_size=BATCH)
    made = Made()
    for contract, lines in planned:
        made.contract_lines += [ContractLine(contract=contract, **line) for line in lines]
        made.milestones += _milestones(contract, rng)
        _orders(world, rng, contract, lines, made)
    ContractLine.objects.bulk_create(made.contract_lines, batch_size=BATCH)
    PaymentMilestone.objects.bulk_create(made.milestones, batch_size=BATCH)
    # (bulk_create takes the primary key of a parent written before it from the parent object)
    SalesOrder.objects.bulk_create(made.orders, batch_size=BATCH)
    OrderLine.objects.bulk_create(made.order_lines, batch_size=BATCH)
    ContractOrder.objects.bulk_create(made.links, batch_size=BATCH)
    Delivery.objects.bulk_create(made.deliveries, batch_size=BATCH)
    DeliveryLine.objects.bulk_create(made.delivery_lines, batch_size=BATCH)
    Invoice.objects.bulk_create(made.invoices, batch_size=BATCH)
    # the paid receivables were paid: one bank transfer each, allocated in full
    paid = [invoice for invoice in made.invoices if invoice.state == "paid"]
    year = world.today.year - NUMBER_YEAR_OFFSET
    payments = [
        Payment(
            number=f"PM-{year}-{n:06d}",
            customer=invoice.customer,
            received_on=invoice.due_date - timedelta(days=3),
            amount=invoice.amount,
            reference=f"BANK-{n:06d}",
            created_by=world.admin,
        )
        for n, invoice in enumerate(paid, start=1)
    ]
    Payment.objects.bulk_create(payments, batch_size=BATCH)
    PaymentAllocation.objects.bulk_create(
        (
            PaymentAllocation(payment=payment, invoice=invoice, amount=invoice.amount, by=world.admin)
            for payment, invoice in zip(payments, paid, strict=True)
        ),
        batch_size=BATCH,
    )
    assert Contract.objects.filter(state="active", is_current=True, created_by__isnull=False).count() == contracts
    return {
        "lines": len(made.contract_lines),
        "milestones": len(made.milestones),
        "orders": len(made.orders),
        "deliveries": len(made.deliveries),
        "invoices": len(made.invoices),
        "paid": len(paid),
        "overdue": sum(1 for i in made.invoices if i.state != "paid" and i.due_date < world.today),
    }


@dataclass
class Made:
    """The rows of the risk fixture, written in bulk once all are made."""

    contract_lines: list = field(default_factory=list)
    milestones: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    order_lines: list = field(default_factory=list)
    links: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)
    delivery_lines: list = field(default_factory=list)
    invoices: list = field(default_factory=list)


def _risk_contract(world: World, rng: random.Random):
    """One active contract (not saved) and its lines (as field dicts)."""
    from foodflow.contracts.models import Contract
    from foodflow.core.money import ZERO, document_total, line_amount, tax_included

    today = world.today
    customer = rng.choice(world.customers)
    kind = rng.choices(("framework", "distribution", "single_order"), weights=(60, 25, 15))[0]
    roll = rng.random()
    if roll < 0.02:  # ended, still active
        end = today - timedelta(days=rng.randint(1, 10))
    elif roll < 0.12:  # ends within the warning window
        end = today + timedelta(days=rng.randint(0, 30))
    else:
        end = today + timedelta(days=rng.randint(35, 330))
    start = end - timedelta(days=89 if kind == "single_order" else 364)
    if start > today:
        start = today - timedelta(days=rng.randint(1, 20))
    lines = []
    for position, product in enumerate(rng.sample(world.products, rng.randint(2, 5)), start=1):
        quantity = Decimal(rng.randint(200, 3000) if kind != "single_order" else rng.randint(20, 300))
        unit_price = (world.prices[product.pk] * Decimal(str(rng.uniform(0.92, 1.05)))).quantize(Decimal("0.01"))
        discount = Decimal("0.30") if rng.random() < 0.06 else ZERO  # below the floor price
        amount = line_amount(unit_price=unit_price, quantity=quantity, discount=discount)
        lines.append(
            {
                "position": position,
                "product": product,
                "quantity": quantity,
                "unit_price": unit_price,
                "discount": discount,
                "vat_rate": product.vat_rate,
                "amount": amount,
                "tax": tax_included(amount=amount, rate=product.vat_rate),
            }
        )
    cap_roll = rng.random()
    contract = Contract(
        number=contract_number(world),
        kind=kind,
        template=world.templates[kind],
        title=f"{customer.name} · 基准合同",
        customer=customer,
        owner=customer.owner,
        start_date=start,
        end_date=end,
        payment_terms_days=90 if rng.random() < 0.10 else rng.choice((30, 45, 60)),
        delivery_terms="送货上门",
        delivery_address="上海市浦东新区基准路1号",
        quality_standard="" if rng.random() < 0.10 else QUALITY_STANDARD,
        liability_cap_percent=None if cap_roll < 0.08 else (Decimal("150") if cap_roll < 0.12 else Decimal("30")),
        late_penalty_per_day=Decimal("0.200") if rng.random() < 0.05 else Decimal("0.050"),
        dispute_venue="提交供方所在地有管辖权的人民法院诉讼解决",
        total=document_total(line["amount"] for line in lines),
        tax_total=sum((line["tax"] for line in lines), ZERO),
        state="active",
        is_current=True,
        review_round=1,
        signed_on=start,
        our_signatory="王经理",
        customer_signatory="李总",
        created_by=world.admin,
        updated_by=world.admin,
    )
    return contract, lines


def _milestones(contract, rng: random.Random) -> list:
    """All at the end; or 20 % 30 days in and the rest at the end; or 10 % 30 days in, 40 %
    half-way and the rest at the end."""
    from foodflow.contracts.models import PaymentMilestone

    span = (contract.end_date - contract.start_date).days
    shares = rng.choice(((), (Decimal("0.2"),), (Decimal("0.1"), Decimal("0.4"))))
    dues = (contract.start_date + timedelta(days=30), contract.start_date + timedelta(days=span // 2))
    rows, left = [], contract.total
    for position, (share, due) in enumerate(zip(shares, dues, strict=False), start=1):
        amount = (contract.total * share).quantize(Decimal("0.01"))
        left -= amount
        rows.append(
            PaymentMilestone(contract=contract, position=position, label=f"第{position}期", due_date=due, amount=amount)
        )
    rows.append(
        PaymentMilestone(
            contract=contract, position=len(rows) + 1, label="尾款", due_date=contract.end_date, amount=left
        )
    )
    return rows


def _orders(world: World, rng: random.Random, contract, lines: list[dict], made: Made) -> None:
    """1–2 orders under the contract, with their delivery and receivable when shipped."""
    from foodflow.contracts.models import ContractOrder
    from foodflow.core.money import ZERO, document_total, line_amount, tax_included
    from foodflow.sales.models import Delivery, DeliveryLine, Invoice, OrderLine, SalesOrder

    today = world.today
    year = today.year - NUMBER_YEAR_OFFSET
    span = max((contract.end_date - contract.start_date).days, 1)
    days_in = max((today - contract.start_date).days, 0)
    covered = max(min(days_in / span, 1.0), 0.05) * rng.uniform(0.5, 1.1)
    count = rng.randint(1, 2)
    for _ in range(count):
        ordered_on = contract.start_date + timedelta(days=rng.randint(0, days_in))
        state = rng.choices(("completed", "delivered", "partially_delivered", "reserved"), weights=(30, 30, 20, 20))
        state = state[0]
        if state in ("completed", "delivered"):
            promised = min(ordered_on + timedelta(days=7), today)
        elif rng.random() < 0.4:  # late: past the promised date and not delivered
            promised = today - timedelta(days=rng.randint(1, 20))
        else:
            promised = today + timedelta(days=rng.randint(1, 14))
        order = SalesOrder(
            number=f"SO-{year}-{len(made.orders) + 1:06d}",
            customer=contract.customer,
            owner=contract.owner,
            payment_terms_days=contract.payment_terms_days,
            state=state,
            ordered_on=ordered_on,
            wanted_date=promised,
            promised_date=promised,
            delivery_address=contract.delivery_address,
            created_by=contract.owner,
            updated_by=contract.owner,
        )
        order_lines = []
        for position, line in enumerate(lines, start=1):
            quantity = max(int(line["quantity"] * Decimal(str(covered)) / count), 1)
            delivered = {"completed": quantity, "delivered": quantity, "partially_delivered": quantity // 2}
            amount = line_amount(unit_price=line["unit_price"], quantity=quantity, discount=line["discount"])
            order_lines.append(
                OrderLine(
                    order=order,
                    position=position,
                    product=line["product"],
                    quantity=Decimal(quantity),
                    list_price=world.prices[line["product"].pk],
                    unit_price=line["unit_price"],
                    discount=line["discount"],
                    vat_rate=line["vat_rate"],
                    amount=amount,
                    tax=tax_included(amount=amount, rate=line["vat_rate"]),
                    cost=Decimal("35.00") * quantity,
                    delivered_quantity=Decimal(delivered.get(state, 0)),
                )
            )
        order.total = document_total(line.amount for line in order_lines)
        order.tax_total = sum((line.tax for line in order_lines), ZERO)
        made.orders.append(order)
        made.order_lines += order_lines
        made.links.append(
            ContractOrder(contract_number=contract.number, order_number=order.number, linked_by=world.admin)
        )
        if state == "reserved":
            continue
        shipped_on = min(promised, today)
        received = state != "partially_delivered" or rng.random() < 0.5
        delivery = Delivery(
            number=f"DN-{year}-{len(made.deliveries) + 1:06d}",
            order=order,
            customer=contract.customer,
            state="received" if received else "shipped",
            planned_date=shipped_on,
            address=contract.delivery_address,
            shipped_at=datetime.combine(shipped_on, datetime.min.time()).astimezone(),
            received_on=shipped_on if received else None,
            signed_by="收货员王五" if received else "",
            created_by=world.admin,
        )
        parts = [
            DeliveryLine(
                delivery=delivery,
                order_line=line,
                quantity=line.delivered_quantity,
                amount=line_amount(
                    unit_price=line.unit_price, quantity=line.delivered_quantity, discount=line.discount
                ),
            )
            for line in order_lines
            if line.delivered_quantity
        ]
        delivery.total = document_total(part.amount for part in parts)
        made.deliveries.append(delivery)
        made.delivery_lines += parts
        made.invoices.append(
            Invoice(
                number=f"AR-{year}-{len(made.invoices) + 1:06d}",
                customer=contract.customer,
                order=order,
                delivery=delivery,
                owner=contract.owner,
                state="paid" if state == "completed" else rng.choice(("open", "issued")),
                invoice_date=shipped_on,
                due_date=shipped_on + timedelta(days=contract.payment_terms_days),
                amount=delivery.total,
                tax=tax_included(amount=delivery.total, rate=Decimal("0.13")),
                paid_amount=delivery.total if state == "completed" else ZERO,
                created_by=world.admin,
            )
        )


class QueryCounter:
    """``connection.execute_wrapper`` that only counts (cheap enough to stay on while timing)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure_risk(world: World, label: str, *, contracts: int, show_sql: bool, profile: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodflow.contracts.models import Contract, RiskWarning
    from foodflow.contracts.risk import RULES, risk_evaluate
    from foodflow.core.models import Notification

    def run(**kwargs):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            outcome = risk_evaluate(**kwargs)
            elapsed = time.perf_counter() - started
        return outcome, elapsed, counter.count

    first, first_s, first_queries = run()
    again, again_s, again_queries = run()
    raised = Counter(RiskWarning.objects.values_list("rule", flat=True))
    assert first.raised == sum(raised.values()) and first.kept == 0, first
    assert again.raised == 0 and again.resolved == 0 and again.kept == first.raised, again
    silent = sorted(set(RULES) - set(raised))
    assert not silent, f"rules that found nothing in the fixture: {silent}"
    notes = Notification.objects.filter(kind="contract_risk").count()
    print(
        f"# {label}: first run {first.raised} warnings raised ({notes} notifications); again "
        f"{again.kept} kept; per rule: " + ", ".join(f"{code} {raised[code]}" for code in RULES)
    )
    print(
        f"# {label}: first run {first_s:.2f} s, {first_queries} queries; again {again_s:.2f} s, {again_queries} queries"
    )

    one = Contract.objects.filter(state="active").order_by("pk").first()
    with CaptureQueriesContext(connection) as captured:
        risk_evaluate(contracts=Contract.objects.filter(pk=one.pk))
    live = RiskWarning.objects.filter(contract=one, state__in=("open", "acknowledged")).count()
    print(
        f"# {label}: queries per contract: {again_queries / contracts:.1f} in the second run, "
        f"{first_queries / contracts:.1f} in the first (which raises the warnings and notifies); "
        f"{len(captured.captured_queries)} to evaluate one contract alone with {live} live warnings "
        f"(with BEGIN/COMMIT, the policy and the load of the contract, its lines and milestones)"
    )
    if show_sql:
        for query in captured.captured_queries:
            print(f"# {label}:     {query['sql'][:200]}")
    rule_breakdown(world, label, contracts=contracts, total_s=again_s)

    print(f"FIGURE risk_evaluate_first_s_{label} {first_s:.2f} s")
    print(f"FIGURE risk_evaluate_again_s_{label} {again_s:.2f} s")
    print(f"FIGURE risk_evaluate_ms_per_contract_{label} {again_s * 1000 / contracts:.2f} ms", flush=True)
    if profile:
        pks = list(Contract.objects.filter(state="active").order_by("pk").values_list("pk", flat=True))
        pks = pks[:PROFILED_CONTRACTS]
        profiled(
            f"risk_evaluate of {len(pks)} contracts (warnings kept)",
            lambda: risk_evaluate(contracts=Contract.objects.filter(pk__in=pks)),
        )


def rule_breakdown(world: World, label: str, *, contracts: int, total_s: float) -> None:
    """Each rule's check over every contract, loaded as ``risk_evaluate`` loads them, timed
    and counted apart (read only); what is left of the whole run is the reconciliation of the
    warnings (locks, updates, inserts) and the transactions."""
    from django.db import connection

    from foodflow.contracts.models import Contract
    from foodflow.contracts.risk import RULES, risk_policy
    from foodflow.contracts.workflows import LIVE

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        policy = risk_policy()
        loaded = list(
            Contract.objects.filter(state__in=LIVE)
            .select_related("customer", "customer__region")
            .prefetch_related("lines__product", "milestones")
        )
        load_s = time.perf_counter() - started
        load_queries = counter.count
        parts = []
        for rule in RULES.values():
            counter.count = 0
            started = time.perf_counter()
            for contract in loaded:
                if contract.state in rule.states:
                    rule.check(contract, policy, world.today)
            parts.append((rule.code, time.perf_counter() - started, counter.count))
    rules_s = sum(seconds for _code, seconds, _queries in parts)
    print(
        f"# {label}: where the time of the second run goes, ms per contract (queries per contract): "
        f"load {load_s * 1000 / contracts:.2f} ({load_queries} queries in all)"
    )
    for code, seconds, queries in parts:
        note = " — computes contract_fulfilment, which deliveries_behind reuses" if code == "payments_overdue" else ""
        print(f"# {label}:   rule {code:<18} {seconds * 1000 / contracts:>7.2f} ({queries / contracts:.1f}){note}")
    rest = total_s - load_s - rules_s
    print(
        f"# {label}:   reconciling the warnings and the transactions {rest * 1000 / contracts:>7.2f} "
        f"(the rest of the second run: a difference of two timings, so it moves from run to run)"
    )


def measure_ledger(world: World, rng: random.Random, label: str) -> None:
    from django.core.paginator import Paginator
    from django.db import connection

    from foodflow.accounts.models import User
    from foodflow.contracts.models import Contract
    from foodflow.contracts.selectors import ledger, with_open_warnings

    started = time.perf_counter()
    added = build_ledger_fixture(world, rng, total=LEDGER_CONTRACTS)
    analyze()
    current = Contract.objects.filter(is_current=True).count()
    matching = ledger(world.admin, state="active", amount_min=LEDGER_AMOUNT_MIN).count()
    print(
        f"# {label}: ledger of {current} current contracts ({added} more written in "
        f"{time.perf_counter() - started:.1f} s); the filter state=active, amount ≥ {LEDGER_AMOUNT_MIN} keeps "
        f"{matching}"
    )

    def page(*, annotated: bool = False) -> tuple[float, int]:
        user = User.objects.get(pk=world.admin.pk)  # as a request has it: its roles not loaded yet
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            begun = time.perf_counter()
            contracts = ledger(user, state="active", amount_min=LEDGER_AMOUNT_MIN, sort="-end_date")
            if annotated:  # what the ledger view adds: the open warnings of each row
                contracts = with_open_warnings(contracts)
            shown = Paginator(contracts, 25).get_page(1)
            rows = [(c.number, c.customer.name, c.owner.username, c.template.name, c.total) for c in shown]
            assert len(rows) == 25 and shown.paginator.count == matching
            return (time.perf_counter() - begun) * 1000, counter.count

    page()  # warm-up
    timings = [page() for _ in range(LEDGER_RUNS)]
    annotated = [page(annotated=True) for _ in range(LEDGER_RUNS)]
    ledger_ms = statistics.median(ms for ms, _queries in timings)
    print(
        f"# {label}: ledger page p50 {ledger_ms:.2f} ms, max {max(ms for ms, _ in timings):.2f} ms, "
        f"{timings[0][1]} queries (the roles, the count, the rows); with the view's open_warnings annotation "
        f"p50 {statistics.median(ms for ms, _ in annotated):.2f} ms"
    )
    print(f"FIGURE ledger_page_ms_{label} {ledger_ms:.2f} ms", flush=True)


def build_ledger_fixture(world: World, rng: random.Random, *, total: int) -> int:
    """Current contracts up to ``total`` (bulk): in every state (most active, then fulfilled,
    drafts, under review, terminated…), of every kind, amounts from 10,000 to a few
    million, ending over three years."""
    from foodflow.contracts.models import Contract

    missing = max(total - Contract.objects.filter(is_current=True).count(), 0)
    states = ("active", "fulfilled", "terminated", "draft", "in_review", "returned", "approved", "cancelled")
    weights = (55, 15, 5, 10, 5, 2, 5, 3)
    signed = {"active", "fulfilled", "terminated"}
    rows = []
    for _ in range(missing):
        customer = rng.choice(world.customers)
        kind = rng.choices(("framework", "distribution", "single_order"), weights=(60, 25, 15))[0]
        state = rng.choices(states, weights=weights)[0]
        start = world.today - timedelta(days=rng.randint(-60, 900))
        total_amount = Decimal(str(round(rng.lognormvariate(12.3, 1.0), 2)))
        rows.append(
            Contract(
                number=contract_number(world),
                kind=kind,
                template=world.templates[kind],
                title=f"{customer.name} · 基准合同",
                customer=customer,
                owner=customer.owner,
                start_date=start,
                end_date=start + timedelta(days=89 if kind == "single_order" else 364),
                payment_terms_days=30,
                quality_standard=QUALITY_STANDARD,
                liability_cap_percent=Decimal("30"),
                total=total_amount,
                tax_total=(total_amount * Decimal("0.13") / Decimal("1.13")).quantize(Decimal("0.01")),
                state=state,
                is_current=True,
                review_round=0 if state == "draft" else 1,
                signed_on=start if state in signed else None,
                created_by=world.admin,
                updated_by=world.admin,
            )
        )
    from django.db import transaction

    with transaction.atomic():
        Contract.objects.bulk_create(rows, batch_size=BATCH)
    return missing


def measure_pdf(world: World, label: str, *, profile: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodflow.contracts.pdf import contract_pdf

    contract = signed_contract(world)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        first = contract_pdf(contract)
    cold_ms = (time.perf_counter() - started) * 1000
    assert first.startswith(b"%PDF"), first[:20]
    timings = []
    for _ in range(PDF_RUNS):
        started = time.perf_counter()
        contract_pdf(contract)
        timings.append((time.perf_counter() - started) * 1000)
    pdf_ms = statistics.median(timings)
    print(
        f"# {label}: contract PDF of {contract} ({contract.lines.count()} lines, {contract.clauses.count()} "
        f"clauses, {contract.milestones.count()} milestones): {len(first) // 1024} KiB, first render "
        f"{cold_ms:.0f} ms (fonts loaded), {len(captured.captured_queries)} queries; then p50 {pdf_ms:.0f} ms, "
        f"max {max(timings):.0f} ms"
    )
    print(f"FIGURE contract_pdf_ms_{label} {pdf_ms:.1f} ms", flush=True)
    if profile:
        profiled("one contract PDF", lambda: contract_pdf(contract), tottime=15, ours=15)


def signed_contract(world: World):
    """A 5-line framework agreement made as the people do it: drafted for a customer by the
    contract admin, lines and milestones set, submitted, approved by legal (and by the
    director if a policy asks), signed with the scan."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from foodflow.contracts import services

    customer = world.customers[-1]
    contract = services.contract_draft(
        by=world.admin, template=world.templates["framework"], customer=customer, start_date=world.today
    )
    contract = services.contract_update(
        by=world.admin,
        contract=contract,
        lines=[
            services.ContractLineInput(product=product, quantity=Decimal(500 + 100 * n))
            for n, product in enumerate(world.products)
        ],
        quality_standard=QUALITY_STANDARD,
    )
    deposit = (contract.total * Decimal("0.2")).quantize(Decimal("0.01"))
    contract = services.contract_update(
        by=world.admin,
        contract=contract,
        milestones=[
            services.MilestoneInput("预付款", world.today + timedelta(days=30), deposit),
            services.MilestoneInput("尾款", contract.end_date, contract.total - deposit),
        ],
    )
    contract = services.contract_submit(by=world.admin, contract=contract)
    reviewers = {"legal": world.legal, "director": world.director}
    while contract.state == "in_review":
        step = services.review_step(contract)
        contract = services.contract_review(by=reviewers[step.role.code], contract=contract, approve=True)
    assert contract.state == "approved", contract.state
    scan = SimpleUploadedFile(
        "signed.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )
    contract = services.contract_sign(
        by=world.admin,
        contract=contract,
        signed_on=world.today,
        our_signatory="王经理",
        customer_signatory="李总",
        scan=scan,
    )
    assert contract.state == "active" and contract.lines.count() == PRODUCTS
    return contract


def calibration(repeat: int = 500) -> float:
    """What the simplest ORM read costs here and now (ms), so that figures of a loaded or a
    slow machine can be told apart from slow code."""
    from foodflow.accounts.models import User

    pk = User.objects.values_list("pk", flat=True).first()
    started = time.perf_counter()
    for _ in range(repeat):
        User.objects.get(pk=pk)
    return (time.perf_counter() - started) * 1000 / repeat


def profiled(title: str, call, *, tottime: int = 20, ours: int = 40) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"# {title}: the {tottime} functions with the most time of their own:")
    stats.sort_stats("tottime").print_stats(tottime)
    print(f"# {title}: FoodFlow's functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(r"foodflow/", ours)


if __name__ == "__main__":
    sys.exit(main())
