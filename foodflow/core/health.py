"""Readiness: can this app server do its work now? The load balancer sends it traffic only
while the database, the Celery broker and the shared cache all answer. A part the deployment
does not use (the embedded mode runs tasks in-process and caches in memory) is not checked."""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection

# short: a load balancer probes every few seconds and gives up on a slow answer anyway
TIMEOUT_SECONDS = 2
LOCAL_CACHES = frozenset(
    {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}
)
NOT_USED = "not used"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # part → what answered ("postgresql", "redis", "not used") or the error
    failed: list[str]

    @property
    def ok(self) -> bool:
        return not self.failed


def readiness() -> Readiness:
    checks, failed = {}, []
    for name, check in (("database", _database), ("broker", _broker), ("cache", _cache)):
        try:
            checks[name] = check()
        except Exception as exc:  # whatever a driver raises, the part is not ready
            checks[name] = f"error: {exc}"[:200]
            failed.append(name)
    return Readiness(checks=checks, failed=failed)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return NOT_USED
    with Connection(url, connect_timeout=TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT_SECONDS)
        return broker.transport_cls


def _cache() -> str:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in LOCAL_CACHES:
        return NOT_USED
    cache.get("foodflow:readyz")  # a read answers whether the cache server does
    return backend.rsplit(".", 1)[-1]
