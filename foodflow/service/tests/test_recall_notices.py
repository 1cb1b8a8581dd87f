"""Recall notices: the PDF each customer of a recall receives (its own deliveries of the lot,
what to do), e-mailed to the primary contact with an e-mail address after the commit, the
lines that record it, customers without an e-mail left for the desk to phone, and the
refusals: a drill never writes to customers, a closed recall sends nothing more."""

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from foodflow.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.crm.services import contact_save
from foodflow.sales.tests.test_pdf import pdf_text
from foodflow.service.models import RecallLine
from foodflow.service.recall_notices import (
    NOTIFIED_BY_PHONE,
    recall_notice_html,
    recall_notice_pdf,
    recall_notice_rows,
    recall_notified_by_phone,
    recall_notify,
)
from foodflow.service.recalls import recall_close, recall_start

pytestmark = pytest.mark.django_db

ZHOU = "zhou@yuehai.example"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture
def recall(sworld, m_old_shipped):
    """M-OLD recalled by QA. The southern customer's primary contact has an e-mail address (and
    so does a second contact, who must not get the notice); the eastern one has none."""
    south = m_old_shipped.south
    primary = south.contacts.get(name="周采购")
    contact_save(by=None, customer=south, contact=primary, email=ZHOU)
    aqiang = south.contacts.get(name="阿强")
    contact_save(by=None, customer=south, contact=aqiang, email="aqiang@yuehai.example")
    return recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="胀包投诉，疑似微生物超标")


def lines_of(recall, customer):
    return list(RecallLine.objects.filter(recall=recall, customer=customer).order_by("pk"))


# --- the notice -------------------------------------------------------------------------------------


def test_the_notice_lists_the_lot_and_only_this_customers_deliveries(sworld, m_old_shipped, recall, tmp_path):
    s = m_old_shipped

    document = recall_notice_pdf(recall, s.south)

    (tmp_path / "recall-notice.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "M-OLD" in text and "召回通知" in text
    assert recall.number in text and s.south.name in text
    assert sworld.milk.name in text and "胀包投诉，疑似微生物超标" in text
    assert s.to_south_first.number in text and s.to_south_second.number in text
    assert s.to_customer.number not in text  # another customer's delivery
    assert "周采购" in text and ZHOU in text
    html = recall_notice_html(recall, s.south, language="en")
    assert "Stop selling it at once." in html and "Set it aside." in html and "Return it to us." in html
    assert ">4<" in html and ">12<" in html and ">16<" in html  # shipped per delivery and in total
    assert "DRILL" not in html


def test_a_customer_who_did_not_receive_the_lot_has_no_notice(m_old_shipped, recall):
    with pytest.raises(ValidationFailed) as error:
        recall_notice_pdf(recall, m_old_shipped.picky)

    assert error.value.code == "customer_not_in_recall"


def test_a_drills_notice_says_so(sworld, m_old_shipped):
    drill = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="演练", drill=True)

    assert "演练 DRILL" in recall_notice_html(drill, m_old_shipped.south)
    assert "DRILL" in pdf_text(recall_notice_pdf(drill, m_old_shipped.south))


def test_the_notice_rows_of_the_recall_page_take_two_queries(m_old_shipped, recall, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = recall_notice_rows(recall)

    by_customer = {row.customer.pk: row for row in rows}
    assert set(by_customer) == {m_old_shipped.customer.pk, m_old_shipped.south.pk}
    assert by_customer[m_old_shipped.south.pk].contact.email == ZHOU  # the primary contact
    assert by_customer[m_old_shipped.south.pk].deliveries == 2
    assert by_customer[m_old_shipped.customer.pk].contact is None  # to phone
    assert by_customer[m_old_shipped.customer.pk].phone == "021-55556666"
    assert not any(row.notified for row in rows)


# --- e-mailing --------------------------------------------------------------------------------------


def test_each_customer_with_an_email_contact_gets_its_notice_after_the_commit(
    sworld, m_old_shipped, recall, django_capture_on_commit_callbacks
):
    s = m_old_shipped

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = recall_notify(by=sworld.service, recall=recall)
        assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [ZHOU]  # the primary contact, not 阿强
    assert recall.number in message.subject and "M-OLD" in message.subject
    assert "M-OLD" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"{recall.number}-{s.south.code}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF") and s.to_south_second.number in pdf_text(content)
    for line in lines_of(recall, s.south):
        assert line.notified_at is not None and line.notified_to == ZHOU
    for line in lines_of(recall, s.customer):  # no e-mail: untouched, for the desk to phone
        assert line.notified_at is None and line.notified_to == ""
    entry = AuditEntry.objects.get(action="recall.notified")
    assert entry.actor == sworld.service
    assert entry.changes == {"customer": s.south.code, "to": ZHOU, "how": "email", "lines": 2}


def test_a_notice_lost_after_the_commit_is_sent_by_the_resend_job_once(
    sworld, m_old_shipped, recall, django_capture_on_commit_callbacks
):
    """The lines say e-mailed, but the process ended before the mail left (the commit's
    callbacks are dropped here): the job sends it to the address recorded, once."""
    from datetime import timedelta

    from django.utils import timezone

    from foodflow.core.mailing import RESEND_AFTER
    from foodflow.service.recall_notices import recall_notices_resend

    with django_capture_on_commit_callbacks(execute=False):
        assert recall_notify(by=sworld.service, recall=recall) == 1
    assert mail.outbox == [] and all(line.mailed_at is None for line in lines_of(recall, m_old_shipped.south))
    assert recall_notices_resend() == 0  # its own send may still be on the way
    later = timezone.now() + RESEND_AFTER + timedelta(seconds=1)
    assert recall_notices_resend(now=later) == 1
    [message] = mail.outbox
    assert message.to == [ZHOU] and recall.number in message.subject and len(message.attachments) == 1
    assert all(line.mailed_at is not None for line in lines_of(recall, m_old_shipped.south))
    assert recall_notices_resend(now=later) == 0 and len(mail.outbox) == 1
    # a notice that did leave is never sent again
    with django_capture_on_commit_callbacks(execute=True):
        assert recall_notify(by=sworld.qa, recall=recall, customer=m_old_shipped.south) == 1
    assert recall_notices_resend(now=later + RESEND_AFTER) == 0 and len(mail.outbox) == 2


def test_customers_told_already_are_not_written_to_twice_unless_asked(
    sworld, m_old_shipped, recall, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert recall_notify(by=sworld.service, recall=recall) == 1
    first = lines_of(recall, m_old_shipped.south)[0].notified_at

    with django_capture_on_commit_callbacks(execute=True):
        assert recall_notify(by=sworld.service, recall=recall) == 0
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert recall_notify(by=sworld.qa, recall=recall, customer=m_old_shipped.south) == 1
    assert [message.to for message in mail.outbox] == [[ZHOU], [ZHOU]]
    assert lines_of(recall, m_old_shipped.south)[0].notified_at > first


def test_one_customer_without_an_email_contact_is_refused_clearly(sworld, m_old_shipped, recall):
    with pytest.raises(ValidationFailed) as error:
        recall_notify(by=sworld.service, recall=recall, customer=m_old_shipped.customer)

    assert error.value.code == "no_email_contact"
    assert all(line.notified_at is None for line in lines_of(recall, m_old_shipped.customer))
    with pytest.raises(ValidationFailed) as error:
        recall_notify(by=sworld.service, recall=recall, customer=m_old_shipped.picky)
    assert error.value.code == "customer_not_in_recall"


def test_a_drill_never_writes_to_customers(sworld, m_old_shipped, recall, django_capture_on_commit_callbacks):
    drill = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="季度召回演练", drill=True)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ConflictError) as error:
        recall_notify(by=sworld.qa, recall=drill)

    assert error.value.code == "recall_drill_no_notice"
    with pytest.raises(ConflictError):
        recall_notify(by=sworld.qa, recall=drill, customer=m_old_shipped.south)
    assert mail.outbox == []
    assert not RecallLine.objects.filter(recall=drill, notified_at__isnull=False).exists()


def test_a_closed_recall_sends_nothing_more(sworld, m_old_shipped, recall):
    recall_close(by=sworld.qa, recall=recall, note="客户已全部销毁")

    for call in (
        lambda: recall_notify(by=sworld.qa, recall=recall),
        lambda: recall_notified_by_phone(by=sworld.qa, recall=recall, customer=m_old_shipped.customer),
    ):
        with pytest.raises(ConflictError) as error:
            call()
        assert error.value.code == "recall_closed"
    assert mail.outbox == []


def test_who_may_send_notices(sworld, m_old_shipped, recall):
    for outsider in (sworld.rep, sworld.director, sworld.planner):
        with pytest.raises(PermissionDeniedError):
            recall_notify(by=outsider, recall=recall)
        with pytest.raises(PermissionDeniedError):
            recall_notified_by_phone(by=outsider, recall=recall, customer=m_old_shipped.customer)
    assert not RecallLine.objects.filter(recall=recall, notified_at__isnull=False).exists()


def test_a_refused_mail_leaves_the_customer_un_notified(
    sworld, m_old_shipped, recall, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with django_capture_on_commit_callbacks(execute=True):
        recall_notify(by=sworld.service, recall=recall)

    assert all(line.notified_at is None and line.notified_to == "" for line in lines_of(recall, m_old_shipped.south))
    assert AuditEntry.objects.get(action="recall.notice_failed").changes == {"to": ZHOU, "lines": 2}


# --- by phone ---------------------------------------------------------------------------------------


def test_the_desk_records_a_phone_call(sworld, m_old_shipped, recall):
    marked = recall_notified_by_phone(by=sworld.service, recall=recall, customer=m_old_shipped.customer)

    assert marked == 1
    [line] = lines_of(recall, m_old_shipped.customer)
    assert line.notified_at is not None and line.notified_to == NOTIFIED_BY_PHONE
    with pytest.raises(ConflictError) as error:
        recall_notified_by_phone(by=sworld.service, recall=recall, customer=m_old_shipped.customer)
    assert error.value.code == "already_notified"
    assert AuditEntry.objects.get(action="recall.notified").changes["how"] == "phone"


# --- the pages --------------------------------------------------------------------------------------


def detail_url(recall) -> str:
    return reverse("service:recall_detail", args=[recall.pk])


def test_the_recall_page_shows_who_was_told_and_who_to_phone(sworld, m_old_shipped, recall, client_of):
    html = client_of(sworld.service).get(detail_url(recall)).content.decode()

    assert html.count('data-testid="notice-row"') == 2
    assert html.count('data-testid="no-email"') == 1 and 'data-testid="to-phone"' in html
    assert 'data-testid="action-notify"' in html and 'data-testid="confirm-notify"' in html
    assert reverse("service:recall_notice_pdf", args=[recall.pk, m_old_shipped.south.pk]) in html
    assert html.count('data-testid="line-notified" data-notified="0"') == 3  # the notified column, per line


def test_the_notice_pdf_is_downloaded_per_customer(sworld, m_old_shipped, recall, client_of):
    client = client_of(sworld.qa)

    response = client.get(reverse("service:recall_notice_pdf", args=[recall.pk, m_old_shipped.south.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "M-OLD" in pdf_text(response.content)
    assert f"{recall.number}-{m_old_shipped.south.code}.pdf" in response["Content-Disposition"]
    picky = reverse("service:recall_notice_pdf", args=[recall.pk, m_old_shipped.picky.pk])
    assert client.get(picky).status_code == 404
    assert client.get(reverse("service:recall_notice_pdf", args=[recall.pk + 999, 1])).status_code == 404
    assert client_of(sworld.rep).get(reverse("service:recall_notice_pdf", args=[recall.pk, 1])).status_code == 403


def test_sending_from_the_page_then_recording_the_phone_call(
    sworld, m_old_shipped, recall, client_of, django_capture_on_commit_callbacks
):
    client = client_of(sworld.service)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("service:recall_notify", args=[recall.pk]), follow=True)

    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [[ZHOU]]
    levels = [message.level_tag for message in response.context["messages"]]
    assert levels == ["success", "warning"]  # sent, and who has to be phoned
    assert m_old_shipped.customer.name in str(list(response.context["messages"])[1])

    phoned = client.post(
        reverse("service:recall_notified_phone", args=[recall.pk, m_old_shipped.customer.pk]), follow=True
    )

    assert phoned.status_code == 200
    assert lines_of(recall, m_old_shipped.customer)[0].notified_to == NOTIFIED_BY_PHONE
    html = phoned.content.decode()
    assert 'data-testid="action-notify"' not in html and 'data-testid="to-phone"' not in html
    assert html.count('data-testid="notice-row" data-customer') == 2 and 'data-notified="0"' not in html


def test_the_page_refuses_a_drill_and_outsiders(sworld, m_old_shipped, client_of, django_capture_on_commit_callbacks):
    drill = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="季度召回演练", drill=True)
    client = client_of(sworld.qa)
    page = client.get(detail_url(drill)).content.decode()
    assert 'data-testid="drill-no-notice"' in page and 'data-testid="action-notify"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("service:recall_notify", args=[drill.pk]), follow=True)

    assert [message.level_tag for message in refused.context["messages"]] == ["error"]
    assert mail.outbox == []
    rep = client_of(sworld.rep)
    assert rep.post(reverse("service:recall_notify", args=[drill.pk])).status_code == 403
    phone_url = reverse("service:recall_notified_phone", args=[drill.pk, m_old_shipped.south.pk])
    assert rep.post(phone_url).status_code == 403
    assert client.get(reverse("service:recall_notify", args=[drill.pk])).status_code == 405
