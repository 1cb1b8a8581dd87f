"""Background work through a real broker and a real worker process: a job sent over Redis runs
on a Celery worker (a separate process, on the test's PostgreSQL database), a transient error is
retried, and killing the worker in the middle of a job leaves nothing half-done: the job comes
back from the broker to the next worker and is done exactly once."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery
from django.db import connection

from foodflow.testing.models import SampleDocument

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
RUN = uuid.uuid4().hex[:8]  # this run's queue and keys: the broker may be shared (CI's, a developer's)


def broker_url() -> str:
    """CELERY_BROKER_URL when it is a Redis (CI sets it; a Celery app would take it over any other
    URL anyway), else the local Redis."""
    given = os.environ.get("CELERY_BROKER_URL", "")
    return given if urlsplit(given).scheme == "redis" else "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="module")
def broker():
    url = broker_url()
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    yield client, url
    for key in client.scan_iter(f"*{RUN}*"):
        client.delete(key)


def database_url() -> str:
    """The test database (the worker must see what the test sees)."""
    given = connection.settings_dict
    password = f":{given['PASSWORD']}" if given.get("PASSWORD") else ""
    return f"postgres://{given['USER']}{password}@{given['HOST']}:{given['PORT'] or 5432}/{given['NAME']}"


class Worker:
    """``celery worker`` in a process of its own, consuming one queue of the test."""

    def __init__(self, broker_url: str, queue: str, log: Path):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "foodflow.settings.test",
            "FOODFLOW_CELERY_WORKER": "1",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "DATABASE_URL": database_url(),
        }
        self.queue, self.log, self.process = queue, log, None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "foodflow", "worker", "--pool=solo", "-Q", self.queue]
        command += ["-n", f"{uuid.uuid4().hex[:8]}@test", "--without-mingle", "--without-gossip", "-l", "INFO"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)  # no warm shutdown: the job is cut off mid-way
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


@pytest.fixture(scope="module")
def worker(broker, django_db_setup, tmp_path_factory):
    """One worker for the module (a Django process takes seconds to start); a test may kill it
    and start it again."""
    started = Worker(broker[1], f"test-{RUN}", tmp_path_factory.mktemp("worker") / "worker.log")
    started.start()
    yield started
    started.stop()


def send(broker_url: str, queue: str, task: str, *args) -> None:
    """Through the broker, as a web process would with a broker configured."""
    sender = Celery("foodflow-test-sender", broker=broker_url)
    sender.send_task(f"foodflow.testing.tasks.{task}", args=args, queue=queue)
    sender.close()


def wait_for(condition, *, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s; the worker said:\n{log.read_text()[-3000:]}")


def attempts(client, key: str) -> int:
    return int(client.get(f"foodflow:test-attempts:{key}") or 0)


def test_a_job_runs_on_a_worker_over_redis_and_a_transient_error_is_retried(broker, worker):
    client, url = broker
    key = f"FLAKY-{RUN}"
    send(url, worker.queue, "flaky_once", key)
    wait_for(
        lambda: SampleDocument.objects.filter(number=key).exists(),
        seconds=60,
        what="the retried job done",
        log=worker.log,
    )
    assert attempts(client, key) == 2  # the first attempt failed, the retry did the work
    assert "Retry in" in worker.log.read_text()


def test_killing_the_worker_mid_job_leaves_nothing_half_done_and_the_next_worker_does_it_once(broker, worker):
    client, url = broker
    batch = f"BATCH-{RUN}"
    send(url, worker.queue, "slow_batch", batch, 20, 0.25)
    wait_for(lambda: attempts(client, batch) == 1, seconds=60, what="the job started", log=worker.log)
    time.sleep(2)  # some of the 20 documents are written, uncommitted
    worker.kill()
    assert not SampleDocument.objects.filter(number__startswith=f"{batch}-").exists()

    worker.start()  # the job was never acknowledged: the broker hands it out again
    wait_for(
        lambda: SampleDocument.objects.filter(number__startswith=f"{batch}-").count() == 20,
        seconds=90,
        what="the job done by the next worker",
        log=worker.log,
    )
    assert attempts(client, batch) == 2
    assert sorted(SampleDocument.objects.values_list("number", flat=True)) == [f"{batch}-{n:03d}" for n in range(20)]
