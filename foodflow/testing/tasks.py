"""Tasks that only the tests' worker runs (this app is installed in the test settings only): one
that meets a transient error on its first attempt, one that writes a batch slowly enough for a
test to kill its worker in the middle. Attempts are counted in the broker's Redis, which the
test process and the worker share."""

import time

import redis
from django.conf import settings
from django.db import transaction

from foodflow.core.tasks import background_task

from .models import SampleDocument


def attempt(key: str) -> int:
    """Count one more attempt of the task named by ``key``."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).incr(f"foodflow:test-attempts:{key}")


@background_task()
def flaky_once(key: str) -> int:
    if attempt(key) == 1:
        raise ConnectionRefusedError("the first attempt finds its service away")
    SampleDocument.objects.get_or_create(number=key)
    return 1


@background_task()
def slow_batch(prefix: str, count: int, pause: float) -> int:
    """``count`` documents in one transaction, one every ``pause`` seconds: all or none."""
    attempt(prefix)
    if SampleDocument.objects.filter(number__startswith=f"{prefix}-").exists():
        return 0  # done by an earlier delivery
    with transaction.atomic():
        for index in range(count):
            SampleDocument.objects.create(number=f"{prefix}-{index:03d}")
            time.sleep(pause)
    return count
