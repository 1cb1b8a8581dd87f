"""The contract pages over HTTP: scopes by id, the ledger with its filters and Excel export,
drafting from an order or for a customer, editing with stale versions, legal review with
clause comments, signing with the scan (type, size and name checked), amendments and their
diff, orders under a contract, the PDF and the scan download."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext, override
from openpyxl import load_workbook

from foodflow.contracts import services
from foodflow.contracts.models import Contract, ContractKind, ContractOrder, ReviewComment, RiskWarning
from foodflow.contracts.risk import risk_evaluate
from foodflow.core.models import Attachment, AuditEntry

from .conftest import PDF_BYTES, pdf_upload

pytestmark = pytest.mark.django_db

LEDGER_ROW = re.compile(r'data-testid="contract-row" data-number="([^"]+)" data-version="(\d+)" data-state="([a-z_]+)"')


def in_chinese(message: str) -> str:
    """A message as the pages show it to a user who kept the default language."""
    with override("zh-hans"):
        return gettext(message)


def html_of(response) -> str:
    return response.content.decode()


def url(name: str, *args) -> str:
    return reverse(f"contracts:{name}", args=args)


def ledger_rows(response) -> list[tuple[str, str, str]]:
    return LEDGER_ROW.findall(html_of(response))


def formset_data(prefix: str, rows: list[dict], *, initial: int) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{index}-{name}"] = "" if value is None else str(value)
    return data


def edit_data(contract: Contract, *, clauses: dict | None = None, lines: list | None = None, **terms) -> dict:
    """The edit form as the page sends it back unchanged, with ``terms``, ``clauses`` (by key)
    and ``lines`` replaced."""
    contract.refresh_from_db()
    data = {
        "title": contract.title,
        "language": contract.language,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "payment_terms_days": contract.payment_terms_days,
        "delivery_terms": contract.delivery_terms,
        "delivery_address": contract.delivery_address,
        "quality_standard": contract.quality_standard,
        "liability_cap_percent": "" if contract.liability_cap_percent is None else contract.liability_cap_percent,
        "late_penalty_per_day": contract.late_penalty_per_day,
        "dispute_venue": contract.dispute_venue,
        "lock_version": contract.lock_version,
    }
    data.update({name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in terms.items()})
    current_lines = [
        {
            "product": line.product_id,
            "quantity": "" if line.quantity is None else line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": (line.discount * 100).quantize(Decimal("0.01")),
        }
        for line in contract.lines.all()
    ]
    data.update(formset_data("lines", lines if lines is not None else current_lines, initial=len(current_lines)))
    milestones = [{"label": m.label, "due_date": m.due_date, "amount": m.amount} for m in contract.milestones.all()]
    data.update(formset_data("milestones", milestones, initial=len(milestones)))
    for clause in contract.clauses.filter(editable=True):
        data[f"clause_{clause.pk}"] = (clauses or {}).get(clause.key, clause.body)
    return {name: "" if value is None else str(value) for name, value in data.items()}


@pytest.fixture
def admin(cworld, client_of):
    return client_of(cworld.admin)


@pytest.fixture
def legal(cworld, client_of):
    return client_of(cworld.legal)


# --- scopes ------------------------------------------------------------------------------------------


def test_each_page_opens_for_the_contract_admin_and_is_refused_to_a_rep_out_of_scope(cworld, admin, client_of):
    draft = cworld.draft()
    approved = cworld.approved()
    active = cworld.active()
    amendment = services.contract_amend(by=cworld.admin, contract=active, reason="延长期限")
    pages = [
        url("detail", draft.pk),
        url("detail", active.pk),
        url("edit", draft.pk),
        url("sign", approved.pk),
        url("diff", amendment.pk),
        url("scan", active.pk),
    ]
    other_rep = client_of(cworld.other_rep)
    for page in pages:
        assert admin.get(page).status_code == 200, page
        assert other_rep.get(page).status_code == 403, page
    # the customer's own rep reads the contract but does not manage it
    rep = client_of(cworld.rep)
    assert rep.get(url("detail", active.pk)).status_code == 200
    assert rep.get(url("edit", draft.pk)).status_code == 403
    assert rep.get(url("sign", approved.pk)).status_code == 403
    assert admin.get(url("detail", 999_999)).status_code == 404


def test_actions_by_a_rep_out_of_scope_are_refused_and_change_nothing(cworld, client_of):
    draft = cworld.draft()
    active = cworld.active()
    other_rep = client_of(cworld.other_rep)
    for name, contract, data in (
        ("submit", draft, {}),
        ("cancel", draft, {"reason": "x"}),
        ("comment", draft, {"text": "x"}),
        ("review", draft, {"approve": "1"}),
        ("amend", active, {"reason": "x"}),
        ("terminate", active, {"reason": "x"}),
        ("fulfil", active, {}),
        ("link_order", active, {"order": "1"}),
    ):
        assert other_rep.post(url(name, contract.pk), data).status_code == 403, name
    assert other_rep.post(url("unlink_order", active.pk, "SO-1")).status_code == 403
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.state == "draft" and active.state == "active"
    assert Contract.objects.filter(number=active.number).count() == 1


def test_the_to_draft_and_drafting_pages_need_the_drafting_right(cworld, client_of):
    order = cworld.order()
    rep = client_of(cworld.rep)
    assert rep.get(url("to_draft")).status_code == 403
    assert rep.get(url("draft"), {"order": order.pk}).status_code == 403
    assert rep.post(url("draft") + f"?order={order.pk}", {"template": cworld.template().pk}).status_code == 403
    assert not Contract.objects.exists()


# --- the ledger ------------------------------------------------------------------------------------------


def test_the_ledger_shows_the_current_versions_in_scope_with_filters_and_sorts(cworld, admin, client_of):
    active = cworld.active(title="年度鲜奶合同")
    draft = cworld.draft(title="酸奶补货合同")
    amendment = services.contract_amend(by=cworld.admin, contract=active, reason="延长")
    page = admin.get(url("ledger"))
    assert page.status_code == 200
    numbers = {(number, version) for number, version, _state in ledger_rows(page)}
    # the amendment under way is not in the ledger: the signed version is
    assert numbers == {(active.number, "1"), (draft.number, "1")}
    assert amendment.number == active.number

    def rows(**filters):
        return [number for number, _v, _s in ledger_rows(admin.get(url("ledger"), filters))]

    assert rows(state="active") == [active.number]
    assert rows(q="酸奶") == [draft.number]
    assert rows(kind=ContractKind.FRAMEWORK) == []
    assert sorted(rows(customer=cworld.customer.pk)) == sorted([active.number, draft.number])
    assert sorted(rows(owner=cworld.rep.pk)) == sorted([active.number, draft.number])
    assert rows(signed_from=date.today().isoformat()) == [active.number]
    assert rows(amount_min=str(active.total + 1)) == []
    assert sorted(rows(amount_max=str(active.total))) == sorted([active.number, draft.number])
    assert rows(ends_to=(date.today() - timedelta(days=1)).isoformat()) == []
    assert rows(sort="number") == sorted([active.number, draft.number])
    assert rows(sort="-number") == sorted([active.number, draft.number], reverse=True)
    # a value that does not parse is ignored
    assert len(rows(amount_min="abc", signed_from="yesterday")) == 2
    filtered = admin.get(url("ledger"), {"q": "没有这个"})
    assert 'data-testid="empty-state"' in html_of(filtered)
    assert reverse("contracts:ledger") in html_of(filtered)

    # the export keeps the filters; drafting is offered to the contract admin
    html = html_of(admin.get(url("ledger"), {"state": "active", "page": "1"}))
    assert f'href="{url("export")}?state=active' in html
    assert 'data-testid="draft-contract"' in html

    # the rep of another region sees none of it, and may neither export nor draft
    other = client_of(cworld.other_rep).get(url("ledger"))
    assert other.status_code == 200 and ledger_rows(other) == []
    assert 'data-testid="empty-state"' in html_of(other)
    assert 'data-testid="export-contracts"' not in html_of(other)
    assert 'data-testid="draft-contract"' not in html_of(other)
    # the customer's rep sees his customer's contracts
    assert len(ledger_rows(client_of(cworld.rep).get(url("ledger")))) == 2


def test_the_ledger_counts_open_warnings_without_a_query_per_row(cworld, admin):
    contracts = [cworld.draft() for _ in range(3)]
    risk_evaluate(contracts=Contract.objects.filter(pk__in=[c.pk for c in contracts]), notify_owners=False)
    open_counts = {c.number: c.warnings.filter(state=RiskWarning.State.OPEN).count() for c in contracts}
    assert all(open_counts.values()), "the drafts miss a quality standard: the rule warns"
    with CaptureQueriesContext(connection) as three_rows:
        html = html_of(admin.get(url("ledger")))
    for contract in contracts:
        row = html[html.index(f'data-number="{contract.number}"') :]
        cell = row[row.index('data-testid="open-warnings"') :][:200]
        assert f">{open_counts[contract.number]}<" in cell
    for _ in range(4):
        cworld.draft()
    with CaptureQueriesContext(connection) as seven_rows:
        assert len(ledger_rows(admin.get(url("ledger")))) == 7
    assert len(seven_rows) == len(three_rows) <= 15


def test_the_export_gives_the_filtered_ledger_as_xlsx_with_formulas_kept_as_text(cworld, admin, client_of):
    injected = '=HYPERLINK("http://evil.example","点我")'
    active = cworld.active(title=injected)
    draft = cworld.draft(title="@SUM(1,2)")
    response = admin.get(url("export"), {"state": "active"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment;" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the active contract only
    assert rows[1][0] == active.number and rows[1][7] == active.total
    title_cell = sheet.cell(row=2, column=3)
    assert title_cell.data_type == "s" and title_cell.value == "'" + injected

    everything = load_workbook(io.BytesIO(admin.get(url("export")).content)).active
    titles = {row[2] for row in everything.iter_rows(min_row=2, values_only=True)}
    assert titles == {"'" + injected, "'@SUM(1,2)"}
    assert draft.number in {row[0] for row in everything.iter_rows(min_row=2, values_only=True)}

    entry = AuditEntry.objects.filter(action="contracts.ledger_exported").order_by("pk").first()
    assert entry.actor == cworld.admin and entry.changes["count"] == 1
    assert entry.changes["filters"]["state"] == "active"
    # reps read the ledger but do not export it
    assert client_of(cworld.rep).get(url("export")).status_code == 403
    assert AuditEntry.objects.filter(action="contracts.ledger_exported").count() == 2


# --- drafting ----------------------------------------------------------------------------------------------


def test_a_contract_is_drafted_from_a_confirmed_order_waiting_in_the_to_draft_list(cworld, admin):
    order = cworld.order()
    page = html_of(admin.get(url("to_draft")))
    assert f'data-number="{order.number}"' in page
    assert f"{url('draft')}?order={order.pk}" in page

    form = admin.get(url("draft"), {"order": order.pk})
    assert form.status_code == 200
    single = cworld.template("single-order")
    assert re.search(rf'<option value="{single.pk}" selected>', html_of(form))

    response = admin.post(
        url("draft") + f"?order={order.pk}",
        {"template": single.pk, "language": "zh-hans", "title": "", "start_date": "", "end_date": ""},
    )
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", contract.pk)
    assert contract.order == order and contract.state == "draft" and contract.total == order.total
    assert f'data-number="{order.number}"' not in html_of(admin.get(url("to_draft")))
    detail = html_of(admin.get(url("detail", contract.pk)))
    assert 'data-testid="action-submit"' in detail and 'data-testid="action-edit"' in detail


def test_an_agreement_for_a_customer_defaults_to_the_framework_template(cworld, admin):
    page = html_of(admin.get(url("to_draft")))
    assert 'data-testid="draft-for-customer"' in page and f'value="{cworld.customer.pk}"' in page
    framework = cworld.template("framework")
    form = admin.get(url("draft"), {"customer": cworld.customer.pk})
    assert re.search(rf'<option value="{framework.pk}" selected>', html_of(form))
    response = admin.post(
        url("draft") + f"?customer={cworld.customer.pk}",
        {"template": framework.pk, "language": "en", "title": "Annual agreement 2026"},
    )
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert contract.kind == ContractKind.FRAMEWORK and contract.language == "en"
    assert contract.title == "Annual agreement 2026" and contract.order is None


def test_a_refused_draft_shows_the_reason_on_the_form(cworld, admin):
    order = cworld.order()
    response = admin.post(
        url("draft") + f"?order={order.pk}",
        {
            "template": cworld.template().pk,
            "language": "zh-hans",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert escape(in_chinese("The contract ends before it starts.")) in html_of(response)
    assert not Contract.objects.exists()
    # without a source the page sends the admin to the list of orders waiting
    assert admin.get(url("draft"))["Location"] == url("to_draft")


# --- editing ---------------------------------------------------------------------------------------------


def test_an_edit_saves_terms_lines_clauses_and_milestones_in_one_go(cworld, admin):
    contract = cworld.draft()
    delivery = contract.clauses.get(key="delivery")
    new_end = contract.end_date + timedelta(days=30)
    data = edit_data(
        contract,
        end_date=new_end,
        payment_terms_days=45,
        clauses={"delivery": delivery.body + " 送货前一日电话预约。"},
    )
    half = (contract.total / 2).quantize(Decimal("0.01"))
    data["milestones-0-amount"] = str(half)
    data.update({"milestones-TOTAL_FORMS": "2"})
    data.update({"milestones-1-label": "尾款", "milestones-1-due_date": new_end.isoformat()})
    data["milestones-1-amount"] = str(contract.total - half)
    response = admin.post(url("edit", contract.pk), data)
    assert response.status_code == 302, re.findall(
        r"(invalid-feedback[^<]*<|alert-danger[^<]*<[^<]*<)", html_of(response)
    )
    contract.refresh_from_db()
    assert contract.end_date == new_end and contract.payment_terms_days == 45
    assert contract.clauses.get(key="delivery").body.endswith("送货前一日电话预约。")
    assert [m.label for m in contract.milestones.all()][1] == "尾款"
    assert contract.lock_version == 2


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(cworld, admin):
    contract = cworld.draft()
    stale = edit_data(contract, title="我的标题")
    services.contract_update(by=cworld.admin, contract=contract, title="别人的标题")
    response = admin.post(url("edit", contract.pk), stale)
    html = html_of(response)
    assert response.status_code == 200 and 'data-testid="conflict"' in html
    assert escape(in_chinese("The record was changed by someone else. Reload it and try again.")) in html
    assert 'value="我的标题"' in html
    contract.refresh_from_db()
    assert contract.title == "别人的标题"
    # the page now carries the version the user saw: saving again is a decision
    assert f'name="lock_version" value="{contract.lock_version}"' in html


def test_a_refused_line_shows_its_message_under_the_line(cworld, admin):
    contract = cworld.draft()
    lines = [{"product": cworld.milk.pk, "quantity": "-5", "unit_price": "", "discount_percent": ""}]
    response = admin.post(url("edit", contract.pk), edit_data(contract, lines=lines))
    html = html_of(response)
    assert response.status_code == 200 and 'data-testid="form-errors"' in html
    assert escape(in_chinese("The quantity must be more than zero.")) in html
    contract.refresh_from_db()
    assert contract.lock_version == 1


def test_a_signed_contract_is_not_edited(cworld, admin):
    active = cworld.active()
    response = admin.get(url("edit", active.pk))
    assert response.status_code == 302 and response["Location"] == url("detail", active.pk)


# --- review ------------------------------------------------------------------------------------------------


def test_legal_comments_on_a_clause_returns_and_then_approves_through_the_pages(cworld, admin, legal):
    contract = cworld.draft()
    assert admin.post(url("submit", contract.pk)).status_code == 302
    contract.refresh_from_db()
    assert contract.state == "in_review"
    liability = contract.clauses.get(key="liability")

    # only the reviewer gets the comment forms and the decision buttons
    assert 'data-testid="reviewer-panel"' in html_of(legal.get(url("detail", contract.pk)))
    assert 'data-testid="reviewer-panel"' not in html_of(admin.get(url("detail", contract.pk)))
    assert admin.post(url("comment", contract.pk), {"clause": liability.pk, "text": "x"}).status_code == 403

    response = legal.post(
        url("comment", contract.pk), {"clause": liability.pk, "text": "赔偿上限 30% 过高，请改为 20%"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#clause-{liability.pk}")
    comment = ReviewComment.objects.get()
    assert comment.clause == liability and comment.round == 1
    # a clause that is not the contract's never becomes a comment on the whole contract
    for clause in ("abc", "999999"):
        legal.post(url("comment", contract.pk), {"clause": clause, "text": "?"})
    assert ReviewComment.objects.count() == 1

    # a return without a reason is accepted: this round has a comment on a clause
    legal.post(url("review", contract.pk), {"approve": "0", "comment": ""})
    contract.refresh_from_db()
    assert contract.state == "returned"

    detail = html_of(admin.get(url("detail", contract.pk)))
    assert 'data-testid="returned"' in detail
    clause_block = detail[detail.index(f'id="clause-{liability.pk}"') :]
    assert "赔偿上限 30% 过高" in clause_block[: clause_block.index('data-testid="clause" data-key="dispute"')]
    assert 'data-testid="review-round" data-state="rejected"' in detail
    edit_page = html_of(admin.get(url("edit", contract.pk)))
    assert 'data-testid="open-comments"' in edit_page and "赔偿上限 30% 过高" in edit_page

    delivery = contract.clauses.get(key="delivery")
    data = edit_data(contract, liability_cap_percent="20", clauses={"delivery": delivery.body + " 送货前预约。"})
    assert admin.post(url("edit", contract.pk), data).status_code == 302
    admin.post(url("submit", contract.pk))
    contract.refresh_from_db()
    assert contract.state == "in_review" and contract.review_round == 2

    legal.post(url("review", contract.pk), {"approve": "1", "comment": "同意"})
    contract.refresh_from_db()
    assert contract.state == "approved"
    detail = html_of(admin.get(url("detail", contract.pk)))
    assert 'data-testid="action-sign"' in detail
    assert detail.count('data-testid="review-round"') == 2


def test_a_return_without_any_comment_is_refused_with_the_reason(cworld, admin, legal):
    contract = services.contract_submit(by=cworld.admin, contract=cworld.draft())
    response = legal.post(url("review", contract.pk), {"approve": "0", "comment": ""}, follow=True)
    message = "Say why you return it: comment on the clauses or write a reason."
    assert escape(in_chinese(message)) in html_of(response)
    contract.refresh_from_db()
    assert contract.state == "in_review"


# --- signing -----------------------------------------------------------------------------------------------


def test_signing_with_a_pdf_makes_the_contract_active_and_the_scan_downloadable(cworld, admin):
    contract = cworld.approved()
    form = html_of(admin.get(url("sign", contract.pk)))
    assert 'accept=".pdf,.png,.jpg,.jpeg,.webp"' in form and f'value="{date.today().isoformat()}"' in form
    response = admin.post(
        url("sign", contract.pk),
        {
            "signed_on": date.today().isoformat(),
            "our_signatory": "王经理",
            "customer_signatory": "李总",
            "scan": pdf_upload("合同扫描件.pdf"),
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.state == "active" and contract.scan.original_name == "合同扫描件.pdf"
    assert 'data-testid="scan-link"' in html_of(admin.get(url("detail", contract.pk)))

    download = admin.get(url("scan", contract.pk))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", b"MZ\x90\x00 an executable", "This file type is not accepted here. Accepted: %(allowed)s."),
        ("big.pdf", b"%PDF-1.4" + b"0" * 4096, "The file is %(size)s MB; the limit is %(limit)s MB."),
    ],
)
def test_a_wrong_or_too_large_scan_is_refused_and_nothing_is_stored(cworld, admin, settings, name, content, message):
    settings.FOODFLOW_UPLOAD_MAX_BYTES = 1024
    contract = cworld.approved()
    before = Attachment.objects.count()
    response = admin.post(
        url("sign", contract.pk),
        {
            "signed_on": date.today().isoformat(),
            "our_signatory": "王经理",
            "customer_signatory": "李总",
            "scan": pdf_upload(name, content),
        },
    )
    assert response.status_code == 400
    html = html_of(response)
    prefix = escape(in_chinese(message).split("%(")[0])
    assert prefix and prefix in html
    assert 'data-testid="sign-error"' in html
    assert Attachment.objects.count() == before
    contract.refresh_from_db()
    assert contract.state == "approved" and contract.scan is None


def test_missing_signing_details_are_shown_under_their_fields(cworld, admin):
    contract = cworld.approved()
    response = admin.post(url("sign", contract.pk), {"signed_on": date.today().isoformat()})
    assert response.status_code == 400
    html = html_of(response)
    assert escape(in_chinese("Who signed for us?")) in html
    assert escape(in_chinese("Attach the signed scan.")) in html


def test_a_scan_named_to_climb_out_of_the_media_folder_stays_inside_it(cworld, admin):
    contract = cworld.approved()
    boundary = "----FoodFlowBoundary"
    fields = {"signed_on": date.today().isoformat(), "our_signatory": "王经理", "customer_signatory": "李总"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="scan"; filename="../../../etc/passwd.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + PDF_BYTES
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = admin.post(url("sign", contract.pk), body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302
    contract.refresh_from_db()
    attachment = contract.scan
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name
    assert attachment.original_name.endswith("passwd.pdf")
    media_root = Path(settings.MEDIA_ROOT).resolve()
    assert Path(attachment.file.path).resolve().is_relative_to(media_root)


# --- amendments and the diff ---------------------------------------------------------------------------------


def test_an_amendment_is_made_with_a_reason_and_its_diff_shows_the_changed_clause_escaped(cworld, admin):
    active = cworld.active()
    # a reason is required
    admin.post(url("amend", active.pk), {"reason": ""})
    assert Contract.objects.filter(number=active.number).count() == 1

    response = admin.post(url("amend", active.pk), {"reason": "延长期限并补充送货约定"})
    amendment = Contract.objects.get(number=active.number, version=2)
    assert response["Location"] == url("edit", amendment.pk)
    assert amendment.state == "draft" and not amendment.is_current

    delivery = amendment.clauses.get(key="delivery")
    typed = delivery.body + " <script>alert(1)</script>"
    new_end = active.end_date + timedelta(days=180)
    assert (
        admin.post(
            url("edit", amendment.pk), edit_data(amendment, end_date=new_end, clauses={"delivery": typed})
        ).status_code
        == 302
    )

    old_page = html_of(admin.get(url("detail", active.pk)))
    assert 'data-testid="amendment-open"' in old_page and url("detail", amendment.pk) in old_page
    assert 'data-testid="action-amend"' not in old_page  # one amendment at a time
    new_page = html_of(admin.get(url("detail", amendment.pk)))
    assert 'data-testid="amendment"' in new_page and url("diff", amendment.pk) in new_page

    diff = html_of(admin.get(url("diff", amendment.pk)))
    assert "<ins>" in diff and "&lt;script&gt;alert(1)&lt;/script&gt;" in diff
    assert "<script>alert(1)</script>" not in diff
    assert new_end.isoformat() in diff and active.end_date.isoformat() in diff
    assert url("detail", active.pk) in diff  # the old version stays readable
    assert admin.get(url("diff", active.pk)).status_code == 404  # the first version has nothing before it


def test_a_contract_is_cancelled_or_terminated_only_with_a_reason(cworld, admin):
    draft = cworld.draft()
    admin.post(url("cancel", draft.pk), {"reason": ""})
    draft.refresh_from_db()
    assert draft.state == "draft"
    admin.post(url("cancel", draft.pk), {"reason": "客户取消采购"})
    draft.refresh_from_db()
    assert draft.state == "cancelled" and draft.end_reason == "客户取消采购"
    assert 'data-testid="end-reason"' in html_of(admin.get(url("detail", draft.pk)))

    active = cworld.active()
    page = html_of(admin.get(url("detail", active.pk)))
    assert 'data-bs-target="#modal-terminate"' in page and 'data-testid="confirm-terminate"' in page
    admin.post(url("terminate", active.pk), {"reason": "客户严重违约"})
    active.refresh_from_db()
    assert active.state == "terminated"


# --- orders under the contract ---------------------------------------------------------------------------


def test_another_order_of_the_customer_is_put_under_the_contract_and_taken_off(cworld, admin):
    active = cworld.active()
    other = cworld.order("3")
    page = html_of(admin.get(url("detail", active.pk)))
    assert 'data-testid="link-order-form"' in page and f'value="{other.pk}"' in page
    admin.post(url("link_order", active.pk), {"order": other.pk})
    assert ContractOrder.objects.filter(contract_number=active.number, order_number=other.number).exists()
    page = html_of(admin.get(url("detail", active.pk)))
    assert f'data-testid="contract-order" data-number="{other.number}"' in page
    assert url("unlink_order", active.pk, other.number) in page

    admin.post(url("unlink_order", active.pk, other.number))
    assert not ContractOrder.objects.filter(order_number=other.number).exists()
    # an order of nobody's list is refused with a message, not an error page
    response = admin.post(url("link_order", active.pk), {"order": "999999"}, follow=True)
    assert response.status_code == 200
    assert escape(in_chinese("Choose an order from the list.")) in html_of(response)


def test_the_fulfilment_section_shows_contracted_and_ordered_figures(cworld, admin):
    active = cworld.active()
    html = html_of(admin.get(url("detail", active.pk)))
    assert html.count('data-testid="fulfilment-line"') == 2
    assert 'data-testid="milestone-state" data-state="due"' in html
    assert f'href="{reverse("sales:order_detail", args=[active.order_id])}"' in html


# --- the PDF ---------------------------------------------------------------------------------------------------


def test_the_pdf_is_downloaded_by_those_who_read_the_contract(cworld, admin, client_of):
    contract = cworld.draft()
    response = admin.get(url("pdf", contract.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client_of(cworld.other_rep).get(url("pdf", contract.pk)).status_code == 403


def test_money_is_shown_with_two_decimals(cworld, admin):
    contract = cworld.draft()
    html = html_of(admin.get(url("detail", contract.pk)))
    total = f"{contract.total:,.2f}"
    assert f"¥{total}" in html and contract.total == contract.total.quantize(Decimal("0.01"))
