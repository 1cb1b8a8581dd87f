from django.core import mail

from foodflow.core.mailing import notification_send_email_now
from foodflow.core.models import Notification
from foodflow.core.notifications import ACCOUNT_LOCKED, notify, preferences_set, unread_count


def test_each_recipient_reads_the_notification_in_their_language(make_user, django_capture_on_commit_callbacks):
    chinese = make_user(email="li@example.com", language="zh-hans")
    english = make_user(email="jo@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[chinese, english], kind=ACCOUNT_LOCKED, params={"username": "rep", "failures": 5})
    assert Notification.objects.get(recipient=chinese).title == "账户 rep 已被锁定"
    assert Notification.objects.get(recipient=english).title == "Account rep is locked"
    assert sorted(message.to[0] for message in mail.outbox) == ["jo@example.com", "li@example.com"]
    assert unread_count(chinese) == 1


def test_users_choose_which_emails_they_get(make_user, django_capture_on_commit_callbacks):
    user = make_user(email="li@example.com")
    preferences_set(user=user, email_kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[user], kind=ACCOUNT_LOCKED, params={"username": "x", "failures": 5})
    assert mail.outbox == []
    assert unread_count(user) == 1  # the inbox always gets it


def test_an_email_is_sent_once_even_if_the_task_runs_twice(make_user):
    user = make_user(email="li@example.com")
    note = notify(recipients=[user], kind=ACCOUNT_LOCKED, params={"username": "x", "failures": 5})[0]
    assert notification_send_email_now(notification_id=note.pk) is True
    assert notification_send_email_now(notification_id=note.pk) is False
    assert len(mail.outbox) == 1


def test_an_email_lost_after_the_commit_is_sent_by_the_resend_job_once(make_user):
    """The send is queued for after the commit; here the commit's callbacks never run, as when
    the process ends between the commit and the send. The job sends what is owed, once."""
    from datetime import timedelta

    from django.utils import timezone

    from foodflow.core.mailing import RESEND_AFTER, notification_emails_resend

    wants, declines = make_user(email="li@example.com"), make_user(email="jo@example.com")
    preferences_set(user=declines, email_kinds=[])
    notify(recipients=[wants, declines], kind=ACCOUNT_LOCKED, params={"username": "x", "failures": 5})
    assert mail.outbox == [] and Notification.objects.count() == 2
    assert notification_emails_resend() == 0  # not yet: its own send may still be on the way
    assert notification_emails_resend(now=timezone.now() + timedelta(days=3)) == 0  # news no longer
    later = timezone.now() + RESEND_AFTER + timedelta(seconds=1)
    assert notification_emails_resend(now=later) == 1
    assert [message.to for message in mail.outbox] == [["li@example.com"]]
    assert notification_emails_resend(now=later) == 0 and len(mail.outbox) == 1
