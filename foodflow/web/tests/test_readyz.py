import os
import socket
import subprocess
import sys

import pytest
from django.test import override_settings

REDIS = ("127.0.0.1", 6379)


def closed_port() -> int:
    """A port nobody listens on: bound a moment ago by us, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_reachable() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


@override_settings(CELERY_BROKER_URL="memory://")  # the embedded mode (CI's PostgreSQL run sets a broker)
def test_the_embedded_mode_is_ready_with_the_database_alone(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": response.json()["database"],
        "broker": "not used",
        "cache": "not used",
    }
    assert response.json()["database"] in {"sqlite", "postgresql"}
    assert "no-cache" in response["Cache-Control"]


def test_a_broker_that_does_not_answer_makes_the_server_unready(client, db):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["failed"] == ["broker"]
    assert body["broker"].startswith("error: ") and body["database"] in {"sqlite", "postgresql"}


def test_a_cache_server_that_does_not_answer_makes_the_server_unready(client, db):
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
    }
    with override_settings(CACHES={"default": cache}):
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["cache"]


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
def test_with_redis_as_broker_and_cache_the_server_is_ready(client, db):
    redis_url = "redis://127.0.0.1:6379/15"
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    with override_settings(CELERY_BROKER_URL=redis_url, CACHES={"default": cache}):
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["broker"] == "redis" and response.json()["cache"] == "RedisCache"


PROBE_OVER_HTTP = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="erp.example.com")
for path in ("/readyz", "/healthz", "/accounts/login/"):
    print(path, client.get(path).status_code)
"""


@pytest.mark.once
def test_in_production_the_probes_answer_over_plain_http_and_pages_redirect(tmp_path):
    """The load balancer probes the app servers directly, without X-Forwarded-Proto."""

    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE_OVER_HTTP],
        env={
            **environment,
            "DJANGO_SETTINGS_MODULE": "foodflow.settings.production",
            "SECRET_KEY": "r" * 60,
            "ALLOWED_HOSTS": "erp.example.com",
            "FOODFLOW_VAR_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["/readyz 200", "/healthz 200", "/accounts/login/ 301"]
