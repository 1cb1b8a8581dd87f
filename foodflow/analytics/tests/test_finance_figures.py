"""The receivables and service figures (collection rate, DSO, aging, complaint rate, CSAT, NPS)
agree with the same figures computed here, independently and in Python, from the documents made
by the real services: receivables of shipped deliveries, payments and their allocations, a credit
note, an approved and a pending write-off, complaints and survey answers. Each reader sees only
their data scope, on the pages, in the exports and in the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from io import BytesIO
from itertools import pairwise

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.analytics import finance_figures as ff
from foodflow.crm.models import Customer
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales import approvals
from foodflow.sales.models import (
    ApprovalRequest,
    ApprovalStep,
    CreditNote,
    Delivery,
    DeliveryLine,
    Invoice,
    WriteOff,
)
from foodflow.sales.receivables import credit_note_create, payment_allocate, payment_record, writeoff_request
from foodflow.sales.services import LineInput
from foodflow.service.models import Complaint, Survey, SurveyResponse
from foodflow.service.selectors_surveys import complaint_rates, survey_results
from foodflow.service.surveys import survey_answer, survey_invite

pytestmark = pytest.mark.django_db

ZERO = Decimal("0")


def today() -> date:
    return timezone.localdate()


def ago(days: int) -> date:
    return today() - timedelta(days=days)


def moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def local_day(value: datetime) -> date:
    return timezone.localtime(value).date()


def close_to(shown, exact: Fraction | None, places: int) -> bool:
    """A figure shown rounded to ``places`` decimals is the exact one."""
    if shown is None or exact is None:
        return shown is None and exact is None
    return abs(Fraction(str(shown)) - exact) <= Fraction(1, 2 * 10**places)


# --- the documents ---------------------------------------------------------------------------------------


@dataclass
class Ledger:
    east: object  # the world's customer (rep, region EAST)
    south: object  # other_rep's customer in region SOUTH
    invoices: dict  # name → Invoice


def _south_customer(owner):
    customer = customer_create(
        by=None,
        name="广州粤海餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=owner,
        status="active",
    )
    return customer_set_credit(by=None, customer=customer, credit_limit=Decimal("500000"), payment_terms_days=30)


def _receivable(w, customer, by, lines, *, raised: int, due: int) -> Invoice:
    """A shipped delivery's receivable, raised ``raised`` days ago and due ``due`` days ago
    (negative: in the future); the delivery left the day the receivable was raised."""
    order = w.reserved_order(customer=customer, by=by, lines=[LineInput(product, str(q)) for product, q in lines])
    delivery = w.deliver(order)
    Delivery.objects.filter(pk=delivery.pk).update(shipped_at=moment(ago(raised), 9))
    invoice = Invoice.objects.get(delivery=delivery)
    Invoice.objects.filter(pk=invoice.pk).update(invoice_date=ago(raised), due_date=ago(due))
    invoice.refresh_from_db()
    return invoice


def _pay(w, customer, received: int, parts) -> None:
    payment_record(
        by=w.finance,
        customer=customer,
        amount=sum((Decimal(amount) for _invoice, amount in parts), ZERO),
        received_on=ago(received),
        allocations=[(invoice, amount) for invoice, amount in parts],
    )


@pytest.fixture
def ledger(sworld) -> Ledger:
    """Six receivables (rep's east customer: E, A, B, C; other_rep's south customer: D, F):

    E 300.00 raised 150 days ago, due 120 ago .... nothing paid; a write-off of 100 waits for approval
    A 600.00 raised 100 ago, due 70 ago .......... 400 paid 65 days ago, 100 paid 5 days ago
    B 292.00 raised 60 ago, due 30 ago ........... credit note 50 forty days ago, 200 paid 10 days ago
    C 253.00 raised 20 ago, due in 10 days ....... 50 of a payment received 90 days ago, allocated later
    D 420.00 raised 50 ago, due 20 ago ........... 300 paid 25 days ago, 120 written off 15 days ago
    F 146.00 raised 5 ago, due in 25 days ........ nothing paid
    """
    w = sworld
    south = _south_customer(w.other_rep)
    milk, yoghurt = w.milk, w.yoghurt
    inv = {
        "E": _receivable(w, w.customer, w.rep, [(milk, 5)], raised=150, due=120),
        "A": _receivable(w, w.customer, w.rep, [(milk, 10)], raised=100, due=70),
        "B": _receivable(w, w.customer, w.rep, [(yoghurt, 8)], raised=60, due=30),
        "C": _receivable(w, w.customer, w.rep, [(milk, 3), (yoghurt, 2)], raised=20, due=-10),
        "D": _receivable(w, south, w.other_rep, [(milk, 7)], raised=50, due=20),
        "F": _receivable(w, south, w.other_rep, [(yoghurt, 4)], raised=5, due=-25),
    }
    _pay(w, w.customer, 65, [(inv["A"], "400")])
    _pay(w, w.customer, 5, [(inv["A"], "100")])
    note = credit_note_create(by=w.finance, order=inv["B"].order, amount="50", reason="包装破损", invoice=inv["B"])
    CreditNote.objects.filter(pk=note.pk).update(created_at=moment(ago(40)))
    _pay(w, w.customer, 10, [(inv["B"], "200")])
    early = payment_record(by=w.finance, customer=w.customer, amount="50", received_on=ago(90))
    payment_allocate(by=w.finance, payment=early, allocations=[(inv["C"], "50")])
    _pay(w, south, 25, [(inv["D"], "300")])
    write_off = writeoff_request(by=w.finance, invoice=inv["D"], amount="120", reason="客户拒付尾款")
    step = ApprovalStep.objects.get(request__doc_type="write_off", request__object_id=write_off.pk, state="pending")
    approvals.approval_decide(step=step, by=w.director, approve=True)
    WriteOff.objects.filter(pk=write_off.pk).update(created_at=moment(ago(17)))
    ApprovalRequest.objects.filter(doc_type="write_off", object_id=write_off.pk).update(decided_at=moment(ago(15)))
    # D was closed by that approval: its last change, as the services save it, was that day
    Invoice.objects.filter(pk=inv["D"].pk).update(updated_at=moment(ago(15), 12))
    writeoff_request(by=w.finance, invoice=inv["E"], amount="100", reason="待定")  # pending: not counted
    for invoice in inv.values():
        invoice.refresh_from_db()
    assert inv["D"].state == "paid" and inv["E"].written_off_amount == 0
    return Ledger(east=w.customer, south=south, invoices=inv)


# --- the figures computed here from the documents --------------------------------------------------------


def _write_off_day(write_off: WriteOff) -> date:
    approved = (
        ApprovalRequest.objects.filter(doc_type="write_off", object_id=write_off.pk, state="approved")
        .order_by("-decided_at")
        .first()
    )
    return local_day(approved.decided_at if approved else write_off.created_at)


def paid_by(invoice: Invoice, day: date) -> Decimal:
    return sum((a.amount for a in invoice.allocations.select_related("payment") if a.payment.received_on <= day), ZERO)


def credited_by(invoice: Invoice, day: date) -> Decimal:
    return sum((c.applied_amount for c in invoice.credit_notes.all() if local_day(c.created_at) <= day), ZERO)


def open_on(invoice: Invoice, day: date) -> Decimal:
    written = sum(
        (w.amount for w in invoice.write_offs.filter(state="done") if _write_off_day(w) <= day),
        ZERO,
    )
    return invoice.amount - paid_by(invoice, day) - credited_by(invoice, day) - written


def group_of(invoice: Invoice, by: str | None):
    return {
        None: None,
        "rep": invoice.owner_id,
        "region": invoice.customer.region_id,
        "customer": invoice.customer_id,
    }[by]


def invoices_of(reps) -> list[Invoice]:
    return [i for i in Invoice.objects.select_related("customer") if reps is None or i.owner_id in reps]


def expected_collection(reps, date_from: date, date_to: date, by: str | None = None) -> dict:
    """group → (owed, collected, exact rate or None)."""
    sums: dict = {}
    for invoice in invoices_of(reps):
        if date_from <= invoice.due_date <= date_to:
            owed, collected = sums.get(group_of(invoice, by), (ZERO, ZERO))
            sums[group_of(invoice, by)] = (
                owed + invoice.amount - credited_by(invoice, date_to),
                collected + paid_by(invoice, date_to),
            )
    return {
        key: (owed, collected, Fraction(collected * 100) / Fraction(owed) if owed > 0 else None)
        for key, (owed, collected) in sums.items()
    }


def expected_dso(reps, day: date, days: int = 90) -> tuple[Decimal, Decimal, Fraction | None]:
    invoices = invoices_of(reps)
    opened = sum((open_on(i, day) for i in invoices if i.invoice_date <= day), ZERO)
    raised = sum((i.amount for i in invoices if day - timedelta(days=days - 1) <= i.invoice_date <= day), ZERO)
    return opened, raised, Fraction(opened * days) / Fraction(raised) if raised else None


def bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    for name, high in (("1-30", 30), ("31-60", 60), ("61-90", 90)):
        if days_overdue <= high:
            return name
    return "90+"


def expected_aging(reps, day: date, by: str | None = None) -> dict:
    """group → {bucket: (amount, count)} of the receivables open at the end of ``day``."""
    groups: dict = {}
    for invoice in invoices_of(reps):
        amount = open_on(invoice, day) if invoice.invoice_date <= day else ZERO
        if amount > 0:
            cells = groups.setdefault(group_of(invoice, by), {})
            name = bucket((day - invoice.due_date).days)
            total, count = cells.get(name, (ZERO, 0))
            cells[name] = (total + amount, count + 1)
    return groups


def shown_aging(row: ff.AgingRow) -> dict:
    return {name: (cell.amount, cell.count) for name, cell in row.cells if cell.count}


def scopes(world) -> list:
    return [None, frozenset({world.rep.pk}), frozenset({world.other_rep.pk}), frozenset()]


# --- collection ----------------------------------------------------------------------------------------


RANGES = [(130, 60), (80, 15), (40, 0), (200, -40), (25, 21), (0, -5)]


def test_the_collection_rate_is_the_share_of_what_was_owed_that_was_paid(ledger, world):
    for reps in scopes(world):
        for start, end in RANGES:
            date_from, date_to = ago(start), ago(end)
            figures = expected_collection(reps, date_from, date_to)
            owed, collected, rate = figures.get(None, (ZERO, ZERO, None))
            total = ff.collection_totals(reps, date_from, date_to)
            assert (total.due, total.collected) == (owed, collected), (reps, start, end)
            assert close_to(ff.collection_rate(reps, date_from, date_to), rate, 1), (reps, start, end)


def test_collection_per_rep_region_and_customer(ledger, world, django_assert_num_queries):
    date_from, date_to = ago(200), ago(-40)
    for by in ("rep", "region", "customer"):
        figures = expected_collection(None, date_from, date_to, by)
        with django_assert_num_queries(4):  # receivables, payments, credit notes, labels
            rows = ff.collection_by(None, date_from, date_to, by=by)
        assert {row.key for row in rows} == set(figures)
        for row in rows:
            owed, collected, rate = figures[row.key]
            assert (row.due, row.collected) == (owed, collected)
            assert close_to(row.rate, rate, 1)
    # the rep's own scope leaves the other rep's receivables out
    rows = ff.collection_by(frozenset({world.rep.pk}), date_from, date_to, by="customer")
    assert [row.key for row in rows] == [ledger.east.pk]


def test_a_credit_note_lowers_what_was_owed_and_a_write_off_stays_uncollected(ledger):
    b, d = ledger.invoices["B"], ledger.invoices["D"]
    # B fell due 30 days ago, paid 10 days ago: not collected by its due date
    assert ff.collection_totals(None, b.due_date, b.due_date).collected == 0
    rows = {row.key: row for row in ff.collection_by(None, b.due_date, today(), by="customer")}
    # B (alone of the east customer's): 292 less the credit note of 50 was owed, 200 of it paid
    east = rows[ledger.east.pk]
    assert (east.amount, east.credited, east.due, east.collected) == (b.amount, 50, b.amount - 50, 200)
    assert east.rate == Decimal("82.6")  # 200 / 242
    # D: 300 of 420 paid, the 120 written off counts as not collected
    south = rows[ledger.south.pk]
    assert (south.due, south.collected, south.rate) == (d.amount, 300, Decimal("71.4"))


# --- open receivables, DSO, aging ------------------------------------------------------------------------

DAYS = [0, 1, 12, 15, 16, 30, 45, 66, 70, 95, 149, 151]


def test_open_receivables_and_dso_at_each_day_today_and_before(ledger, world):
    for reps in scopes(world):
        for days in DAYS:
            day = ago(days)
            opened, raised, value = expected_dso(reps, day)
            detail = ff.dso_detail(reps, day)
            assert (detail.open, detail.raised) == (opened, raised), (reps, days)
            assert close_to(ff.dso(reps, day), value, 1), (reps, days)
    # a shorter window
    opened, raised, value = expected_dso(None, ago(12), days=30)
    assert close_to(ff.dso(None, ago(12), days=30), value, 1) and value is not None


def test_today_the_open_amounts_are_the_receivables_own(ledger):
    stored = sum((i.open_amount for i in Invoice.objects.all()), ZERO)
    assert ff.receivables_open(None, today()) == stored
    # the day before reads the same documents through their dates: nothing happened today
    assert ff.receivables_open(None, ago(1)) == stored


def test_aging_by_days_overdue_in_total_and_per_rep_region_customer(ledger, world, django_assert_num_queries):
    for reps in scopes(world):
        for days in DAYS:
            day = ago(days)
            figures = expected_aging(reps, day)
            aging = ff.aging(reps, day)
            assert shown_aging(aging.total) == figures.get(None, {}), (reps, days)
            assert aging.rows == []
    for by in ("rep", "region", "customer"):
        for days in (0, 16, 45):
            figures = expected_aging(None, ago(days), by)
            with django_assert_num_queries(2):  # the buckets, the labels
                aging = ff.aging(None, ago(days), by=by)
            assert {row.key: shown_aging(row) for row in aging.rows} == figures
            overdue = [row.overdue for row in aging.rows]
            assert overdue == sorted(overdue, reverse=True)


def test_the_aging_buckets_follow_the_days_past_due(ledger):
    aging = ff.aging(None, today())
    cells = shown_aging(aging.total)
    inv = ledger.invoices
    # E 120 days overdue, A 70, B 30 (due exactly 30 days ago); C and F not yet due; D settled
    assert cells == {
        "90+": (inv["E"].amount, 1),
        "61-90": (Decimal("100.00"), 1),
        "1-30": (inv["B"].amount - 250, 1),
        "current": (inv["C"].amount - 50 + inv["F"].amount, 2),
    }


# --- complaints and satisfaction ------------------------------------------------------------------------


@pytest.fixture
def voices(sworld, ledger):
    """Complaints (east: 10 and 55 days ago, one naming no product; south: 45 days ago; one naming
    no customer) and survey answers (east: 5/10 3 days ago, 3/6 40 ago, 4/8 70 ago; south: 2/3 10
    ago, 5/9 100 ago; one invitation unanswered)."""
    w = sworld
    for customer, days, product in ((ledger.east, 10, w.milk), (ledger.east, 55, None), (ledger.south, 45, w.milk)):
        w.complaint(customer=customer, received_at=moment(ago(days), 11), product=product, category="quality")
    w.complaint(customer=None, contact_name="路人甲", received_at=moment(ago(10)), category="attitude")
    survey = Survey.objects.create(name="满意度", trigger="delivery", questions=[])
    for customer, days, answer in (
        (ledger.east, 3, (5, 10)),
        (ledger.east, 40, (3, 6)),
        (ledger.east, 70, (4, 8)),
        (ledger.south, 10, (2, 3)),
        (ledger.south, 100, (5, 9)),
        (ledger.south, 0, None),
    ):
        _invitation, token = survey_invite(survey=survey, customer=customer)
        if answer:
            response = survey_answer(token=token, csat=answer[0], nps=answer[1])
            SurveyResponse.objects.filter(pk=response.pk).update(at=moment(ago(days), 15))
    return w


def _owner_region(customer, by: str):
    return customer.owner_id if by == "rep" else customer.region_id


def expected_complaints(reps, date_from: date, date_to: date, by: str | None = None) -> dict:
    """group → (complaints, delivered units, exact rate or None)."""
    counts: dict = {}
    for complaint in Complaint.objects.select_related("customer"):
        customer = complaint.customer
        if customer is None or (reps is not None and customer.owner_id not in reps):
            continue
        if date_from <= local_day(complaint.received_at) <= date_to:
            key = _owner_region(customer, by) if by else None
            counts[key] = counts.get(key, 0) + 1
    delivered: dict = {}
    for line in DeliveryLine.objects.select_related("delivery__customer"):
        delivery = line.delivery
        if delivery.state not in ("shipped", "received") or delivery.shipped_at is None:
            continue
        if reps is not None and delivery.customer.owner_id not in reps:
            continue
        if date_from <= local_day(delivery.shipped_at) <= date_to:
            key = _owner_region(delivery.customer, by) if by else None
            delivered[key] = delivered.get(key, ZERO) + line.quantity
    return {
        key: (
            counts.get(key, 0),
            delivered.get(key, ZERO),
            Fraction(counts.get(key, 0) * 1000) / Fraction(delivered[key]) if delivered.get(key) else None,
        )
        for key in set(counts) | set(delivered)
    }


def expected_satisfaction(reps, date_from: date, date_to: date, by: str | None = None) -> dict:
    """group → (answers, exact CSAT, exact NPS)."""
    groups: dict = {}
    for response in SurveyResponse.objects.select_related("invitation__customer"):
        customer = response.invitation.customer
        if reps is not None and customer.owner_id not in reps:
            continue
        if date_from <= local_day(response.at) <= date_to:
            groups.setdefault(_owner_region(customer, by) if by else None, []).append(response)
    return {
        key: (
            len(answers),
            Fraction(sum(a.csat for a in answers), len(answers)),
            Fraction(100 * (sum(a.nps >= 9 for a in answers) - sum(a.nps <= 6 for a in answers)), len(answers)),
        )
        for key, answers in groups.items()
    }


SERVICE_RANGES = [(60, 0), (50, 40), (12, 8), (200, 0), (2, 0)]


def test_the_complaint_rate_per_1000_units_delivered(voices, world):
    for reps in scopes(world):
        for start, end in SERVICE_RANGES:
            date_from, date_to = ago(start), ago(end)
            complaints, delivered, rate = expected_complaints(reps, date_from, date_to).get(None, (0, ZERO, None))
            total = ff.complaint_totals(reps, date_from, date_to)
            assert (total.complaints, total.delivered) == (complaints, delivered), (reps, start, end)
            assert close_to(ff.complaint_rate(reps, date_from, date_to), rate, 2), (reps, start, end)


def test_the_complaint_rate_per_rep_and_region(voices, world, django_assert_num_queries):
    for by in ("rep", "region"):
        figures = expected_complaints(None, ago(60), today(), by)
        with django_assert_num_queries(3):  # complaints, deliveries, labels
            rows = ff.complaint_rate_by(None, ago(60), today(), by=by)
        assert {row.key for row in rows} == set(figures)
        for row in rows:
            complaints, delivered, rate = figures[row.key]
            assert (row.complaints, row.delivered) == (complaints, delivered)
            assert close_to(row.rate, rate, 2)
    rows = ff.complaint_rate_by(frozenset({world.rep.pk}), ago(60), today(), by="region")
    assert [row.key for row in rows] == [world.customer.region_id]


def test_the_units_delivered_agree_with_the_service_desks_complaint_rates(voices, world):
    rows = complaint_rates(world.director, by="product", date_from=ago(200), date_to=today())
    total = ff.complaint_totals(None, ago(200), today())
    assert total.delivered == sum((row.delivered for row in rows), ZERO)
    # every complaint naming a product counts in both; ours also counts the one naming none
    assert total.complaints == sum(row.complaints for row in rows) + 1


def test_csat_and_nps_of_the_answers_received_in_the_range(voices, world):
    for reps in scopes(world):
        for start, end in SERVICE_RANGES:
            date_from, date_to = ago(start), ago(end)
            answered, csat, nps = expected_satisfaction(reps, date_from, date_to).get(None, (0, None, None))
            assert ff.satisfaction_totals(reps, date_from, date_to).answered == answered
            assert close_to(ff.csat_average(reps, date_from, date_to), csat, 2), (reps, start, end)
            assert close_to(ff.nps(reps, date_from, date_to), nps, 1), (reps, start, end)


def test_satisfaction_per_rep_and_region(voices, world, django_assert_num_queries):
    for by in ("rep", "region"):
        figures = expected_satisfaction(None, ago(200), today(), by)
        with django_assert_num_queries(2):  # the answers, the labels
            rows = ff.satisfaction_by(None, ago(200), today(), by=by)
        assert {row.key: (row.answered, row.promoters + row.passives + row.detractors) for row in rows} == {
            key: (n, n) for key, (n, _csat, _nps) in figures.items()
        }
        for row in rows:
            _n, csat, nps = figures[row.key]
            assert close_to(row.csat, csat, 2) and close_to(row.nps, nps, 1)


def test_csat_and_nps_agree_with_the_service_desks_survey_results(sworld, ledger):
    """Sent and answered the same day, both count the same answers the same way."""
    survey = Survey.objects.create(name="同日", trigger="delivery", questions=[])
    for customer, csat, nps in ((ledger.east, 4, 9), (ledger.east, 2, 5), (ledger.south, 5, 7), (ledger.south, 3, 10)):
        _invitation, token = survey_invite(survey=survey, customer=customer)
        survey_answer(token=token, csat=csat, nps=nps)
    for by in ("rep", "region"):
        results = survey_results(sworld.director, by=by, date_from=today(), date_to=today())
        assert (ff.csat_average(None, today(), today()), ff.nps(None, today(), today())) == (
            results.total.csat,
            results.total.nps,
        )
        ours = {row.key: (row.answered, row.csat, row.nps) for row in ff.satisfaction_by(None, today(), today(), by)}
        assert ours == {row.key: (row.answered, row.csat, row.nps) for row in results.rows}


# --- pages, exports, API --------------------------------------------------------------------------------


def attrs(html: str, testid: str) -> list[dict]:
    """The data-* attributes of each element with this data-testid."""
    found = []
    for tag in re.findall(rf'<[^>]*data-testid="{testid}"[^>]*>', html):
        found.append(dict(re.findall(r'data-([a-z_]+)="([^"]*)"', tag)))
    return found


def period(start: int = 200, end: int = -40) -> dict:
    return {"date_from": ago(start).isoformat(), "date_to": ago(end).isoformat()}


def test_the_receivables_page_shows_the_figures_within_the_readers_scope(ledger, world, client_of):
    query = period(130, 15)
    for user, reps in ((world.finance, None), (world.manager, frozenset({world.rep.pk}))):
        response = client_of(user).get(reverse("analytics:receivables_figures"), {**query, "by": "customer"})
        assert response.status_code == 200
        html = response.content.decode()
        _owed, _collected, rate = expected_collection(reps, ago(130), ago(15))[None]
        assert close_to(attrs(html, "figure-collection-rate")[0]["value"], rate, 1)
        _opened, _raised, dso = expected_dso(reps, ago(15))
        assert close_to(attrs(html, "figure-dso")[0]["value"], dso, 1)
        aging = expected_aging(reps, ago(15), "customer")
        shown = {int(row["key"]): Decimal(row["amount"]) for row in attrs(html, "aging-row")}
        assert shown == {key: sum((a for a, _n in cells.values()), ZERO) for key, cells in aging.items()}
        assert len(attrs(html, "definition")) == len(ff.RECEIVABLES_DEFINITIONS)
    # today the south customer owes F: on the finance page, not on the manager's (the rep's team)
    for user, shown in ((world.finance, True), (world.manager, False)):
        html = client_of(user).get(reverse("analytics:receivables_figures"), {**period(130, 0), "by": "customer"})
        assert (str(ledger.south.pk) in {row["key"] for row in attrs(html.content.decode(), "aging-row")}) is shown


def test_the_collection_table_per_region_on_the_page(ledger, world, client_of):
    html = (
        client_of(world.finance)
        .get(reverse("analytics:receivables_figures"), {**period(), "table": "collection", "by": "region"})
        .content.decode()
    )
    figures = expected_collection(None, ago(200), ago(-40), "region")
    rows = attrs(html, "collection-row")
    assert {int(row["key"]): (Decimal(row["due"]), Decimal(row["collected"])) for row in rows} == {
        key: (owed, collected) for key, (owed, collected, _rate) in figures.items()
    }


def test_the_pages_sort_by_a_column_and_keep_rows_without_the_figure_last(ledger, world, client_of):
    html = (
        client_of(world.finance)
        .get(
            reverse("analytics:receivables_figures"),
            {**period(), "table": "collection", "by": "customer", "sort": "rate"},
        )
        .content.decode()
    )
    rates = [Decimal(row["rate"]) for row in attrs(html, "collection-row") if row["rate"]]
    assert len(rates) == 2 and all(a <= b for a, b in pairwise(rates))


def test_the_figure_pages_are_refused_without_the_permission(ledger, world, sworld, client_of):
    rep = client_of(world.rep)
    for name in ("receivables_figures", "receivables_figures_export", "service_figures", "service_figures_export"):
        assert rep.get(reverse(f"analytics:{name}")).status_code == 403
    finance = client_of(world.finance)
    assert finance.get(reverse("analytics:service_figures")).status_code == 403
    assert client_of(sworld.service).get(reverse("analytics:receivables_figures")).status_code == 403


def test_the_pages_default_to_the_last_three_full_months(world, client_of):
    html = client_of(world.finance).get(reverse("analytics:receivables_figures")).content.decode()
    date_from, date_to = ff.default_range()
    assert date_to == today().replace(day=1) - timedelta(days=1) and date_from.day == 1
    assert (date_to.year * 12 + date_to.month) - (date_from.year * 12 + date_from.month) == 2
    assert f'value="{date_from.isoformat()}"' in html and f'value="{date_to.isoformat()}"' in html
    assert attrs(html, "empty-state")


def _sheet(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def test_each_receivables_table_exports_within_the_scope(ledger, world, client_of):
    url = reverse("analytics:receivables_figures_export")
    for user, reps in ((world.finance, None), (world.manager, frozenset({world.rep.pk}))):
        client = client_of(user)
        rows = _sheet(client.get(url, {**period(130, 0), "table": "aging", "by": "customer"}))
        aging = expected_aging(reps, today(), "customer")
        assert (ledger.south.pk in aging) is (reps is None)
        assert len(rows) - 1 == len(aging)
        assert {row[1] for row in rows[1:]} == {c.code for c in Customer.objects.filter(pk__in=aging)}
        rows = _sheet(client.get(url, {**period(), "table": "collection", "by": "rep"}))
        figures = expected_collection(reps, ago(200), ago(-40), "rep")
        assert sorted(row[5] for row in rows[1:]) == sorted(float(owed) for owed, _c, _r in figures.values())


def test_each_service_table_exports_within_the_scope(voices, world, sworld, client_of):
    url = reverse("analytics:service_figures_export")
    for user, reps in ((sworld.service, None), (world.manager, frozenset({world.rep.pk}))):
        client = client_of(user)
        rows = _sheet(client.get(url, {**period(200, 0), "table": "complaints", "by": "rep"}))
        figures = expected_complaints(reps, ago(200), today(), "rep")
        assert sorted(row[2] for row in rows[1:]) == sorted(n for n, _d, _r in figures.values())
        rows = _sheet(client.get(url, {**period(200, 0), "table": "satisfaction", "by": "region"}))
        figures = expected_satisfaction(reps, ago(200), today(), "region")
        assert sorted(row[2] for row in rows[1:]) == sorted(n for n, _c, _p in figures.values())


def test_the_service_page_shows_the_figures_within_the_readers_scope(voices, world, sworld, client_of):
    query = period(60, 0)
    for user, reps in ((sworld.service, None), (world.manager, frozenset({world.rep.pk}))):
        response = client_of(user).get(reverse("analytics:service_figures"), query)
        assert response.status_code == 200
        html = response.content.decode()
        _n, _d, rate = expected_complaints(reps, ago(60), today())[None]
        answered, csat, nps = expected_satisfaction(reps, ago(60), today())[None]
        assert close_to(attrs(html, "figure-complaint-rate")[0]["value"], rate, 2)
        assert close_to(attrs(html, "figure-csat")[0]["value"], csat, 2)
        assert close_to(attrs(html, "figure-nps")[0]["value"], nps, 1)
        assert int(attrs(html, "figure-answers")[0]["value"]) == answered
        keys = {int(row["key"]) for row in attrs(html, "complaints-row")}
        assert keys == set(expected_complaints(reps, ago(60), today(), "rep"))
    html = client_of(world.manager).get(reverse("analytics:service_figures"), {**query, "table": "satisfaction"})
    assert {row["key"] for row in attrs(html.content.decode(), "satisfaction-row")} == {str(world.rep.pk)}


def test_the_receivables_api(ledger, world, client_of):
    query = {**period(130, 15), "by": "customer"}
    for user, reps in ((world.finance, None), (world.manager, frozenset({world.rep.pk}))):
        response = client_of(user).get("/api/v1/analytics/receivables/", query)
        assert response.status_code == 200, response.content
        data = response.json()
        owed, collected, rate = expected_collection(reps, ago(130), ago(15))[None]
        assert (Decimal(data["collection"]["due"]), Decimal(data["collection"]["collected"])) == (owed, collected)
        assert close_to(data["collection"]["rate"], rate, 1)
        opened, raised, dso = expected_dso(reps, ago(15))
        assert (Decimal(data["dso"]["open"]), Decimal(data["dso"]["raised"])) == (opened, raised)
        assert close_to(data["dso"]["value"], dso, 1)
        aging = expected_aging(reps, ago(15), "customer")
        assert {row["key"] for row in data["aging_rows"]} == set(aging)
        for row in data["aging_rows"]:
            assert {b["bucket"]: (Decimal(b["amount"]), b["count"]) for b in row["buckets"] if b["count"]} == aging[
                row["key"]
            ]
        assert {row["key"] for row in data["collection_rows"]} == set(
            expected_collection(reps, ago(130), ago(15), "customer")
        )
    assert client_of(world.rep).get("/api/v1/analytics/receivables/").status_code == 403


def test_the_service_api(voices, world, sworld, client_of):
    query = {**period(60, 0), "by": "region"}
    for user, reps in ((sworld.service, None), (world.manager, frozenset({world.rep.pk}))):
        data = client_of(user).get("/api/v1/analytics/service/", query).json()
        complaints, delivered, rate = expected_complaints(reps, ago(60), today())[None]
        assert (data["complaints"]["complaints"], Decimal(data["complaints"]["delivered"])) == (complaints, delivered)
        assert close_to(data["complaints"]["rate"], rate, 2)
        answered, csat, nps = expected_satisfaction(reps, ago(60), today())[None]
        assert data["satisfaction"]["answered"] == answered
        assert close_to(data["satisfaction"]["csat"], csat, 2) and close_to(data["satisfaction"]["nps"], nps, 1)
        assert {row["key"] for row in data["satisfaction_rows"]} == set(
            expected_satisfaction(reps, ago(60), today(), "region")
        )
    assert client_of(world.rep).get("/api/v1/analytics/service/").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/analytics/receivables/", "/api/v1/analytics/service/"])
def test_the_api_refuses_a_bad_date_or_range_with_a_code(world, sworld, client_of, path):
    client = client_of(world.director)
    response = client.get(path, {"date_from": "2026-02-30"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_date" and "date_from" in response.json()["fields"]
    response = client.get(path, {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_range")
    response = client.get(path)
    assert response.status_code == 200
    date_from, date_to = ff.default_range()
    assert (response.json()["date_from"], response.json()["date_to"]) == (date_from.isoformat(), date_to.isoformat())
