"""Background work of imports: one import job run outside the request that started it.

With a broker (scale-out) the run is a Celery task on a worker. In the embedded mode Celery
runs tasks eagerly, which would hold the request for the whole file: the run goes to a daemon
thread of the server process instead, so the page can show its progress meanwhile.

Whether a run is under way is read from the job's state in the database, never from the cache
alone: the embedded server runs several gunicorn workers, each with its own in-memory cache, and
the page's polls reach any of them."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from foodflow.core.errors import DomainError
from foodflow.core.tasks import background_task

from . import services
from .models import ImportJob

logger = logging.getLogger(__name__)


def import_running(job: ImportJob) -> bool:
    return job.state == ImportJob.State.IMPORTING and job.updated_at > timezone.now() - services.STALE_AFTER


def import_interrupted(job: ImportJob) -> bool:
    return job.state == ImportJob.State.IMPORTING and not import_running(job)


def import_progress(job_id: int) -> int:
    """The rows of a running job checked so far, as far as this process's cache knows."""
    return int(cache.get(services.progress_key(job_id)) or 0)


@background_task()
def import_run(job_id: int, user_id: int, valid_only: bool = False) -> str:
    """Run one import job, in the language of the user who started it; its outcome (counts,
    or the failure's message) is on the job."""
    from foodflow.accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    with translation.override(user.language if user else settings.LANGUAGE_CODE):
        try:
            if user is None:
                raise DomainError(gettext("The import failed; nothing was saved."))
            services.job_run(by=user, job=ImportJob.objects.get(pk=job_id), valid_only=valid_only)
        except DomainError as error:
            services.job_fail_unstarted(job_id, error.message)  # after it began, job_run recorded it
        except Exception:
            services.job_fail_unstarted(job_id, gettext("The import failed; nothing was saved."))
            raise
    return ImportJob.objects.values_list("state", flat=True).get(pk=job_id)


def import_start(*, job_id: int, user_id: int, valid_only: bool = False) -> bool:
    """Start a checked job's import in the background (see the module's docstring); False when
    it cannot start: it is being imported, was imported, or its rows were not checked."""
    if not services.job_claim(job_id):
        return False
    if getattr(settings, "IMPORTS_RUN_INLINE", False):
        # Tests: a thread would not see an in-memory SQLite test database.
        import_run(job_id, user_id, valid_only)
    elif not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: import_run.delay(job_id, user_id, valid_only))
    else:
        thread = threading.Thread(
            target=_run_in_thread, args=(job_id, user_id, valid_only), name=f"import-{job_id}", daemon=True
        )
        transaction.on_commit(thread.start)
    return True


def _run_in_thread(job_id: int, user_id: int, valid_only: bool) -> None:
    try:
        import_run(job_id, user_id, valid_only)
    except Exception:
        # The job is marked failed (nothing saved); the trace is for the operator.
        logger.exception("import job %s failed", job_id)
    finally:
        connections.close_all()  # this thread's own connections: nobody else closes them
