"""Every scheduled job, run twice on the demo company, does its work once: a worker that runs a
task again (a retry, a redelivery after a worker died, beat firing twice) changes nothing more.
And each is retried on a transient error (a database hiccup, a refused connection)."""

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import OperationalError

from foodflow.celery import app
from foodflow.core.tasks import TRANSIENT_ERRORS

pytestmark = pytest.mark.django_db


def rows_per_table() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def changed(before: dict, after: dict) -> dict:
    return {label: (before[label], after[label]) for label in before if before[label] != after[label]}


def test_every_scheduled_task_run_twice_does_its_work_once(demo):
    app.loader.import_default_modules()
    did_something = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = app.tasks[entry["task"]]
        before, mails = rows_per_table(), len(mail.outbox)
        task.apply().get()
        first = rows_per_table()
        if changed(before, first) or len(mail.outbox) != mails:
            did_something.append(name)
        mails = len(mail.outbox)
        task.apply().get()
        assert changed(first, rows_per_table()) == {}, name
        assert len(mail.outbox) == mails, name
    # the demo gives most jobs work to do: the test would prove nothing on an idle company
    assert len(did_something) >= 5, did_something


def test_every_scheduled_task_is_retried_on_a_transient_error():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        task = app.tasks[entry["task"]]
        assert set(TRANSIENT_ERRORS) <= set(task.autoretry_for), task.name
        assert OperationalError in TRANSIENT_ERRORS
        assert task.max_retries >= 3 and task.retry_backoff, task.name
        assert task.acks_late and task.reject_on_worker_lost, task.name
