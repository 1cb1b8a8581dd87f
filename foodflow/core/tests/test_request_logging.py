import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest
from django.conf import settings
from django.test import Client

from foodflow.core.logging import JsonFormatter, RequestIdFilter

HEX_ID = re.compile(r"[0-9a-f]{32}")


@contextmanager
def json_log(logger_name: str = ""):
    """The lines our console handler would write (request id filter + JSON formatter), as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def test_a_sane_incoming_request_id_comes_back(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="nginx-7f3a.b_9")
    assert response["X-Request-ID"] == "nginx-7f3a.b_9"


def test_a_request_without_an_id_gets_a_new_one(client, db):
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


@pytest.mark.parametrize("incoming", ["a b", 'x"}\n{"level":"FORGED', "é", "a" * 65, ""])
def test_an_unfit_incoming_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert HEX_ID.fullmatch(response["X-Request-ID"])


def test_the_longest_sane_id_is_kept(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="a" * 64)["X-Request-ID"] == "a" * 64


@pytest.mark.urls("foodflow.core.tests.failing_urls")
def test_lines_are_json_with_the_request_id_extra_fields_and_the_traceback(db):
    with json_log() as lines:
        response = Client(raise_request_exception=False).get("/fail", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 500

    by_logger = {line["logger"]: line for line in lines}
    note = by_logger["foodflow.tests.failing"]
    assert note["message"] == "about to fail" and note["level"] == "WARNING"
    assert note["request_id"] == "req-42"
    assert note["order_number"] == "SO-2026-000042"
    assert note["time"].endswith("+00:00")

    error = by_logger["django.request"]
    assert error["level"] == "ERROR" and error["request_id"] == "req-42"
    assert "RuntimeError: the warehouse is on fire" in error["exception"]
    assert "Traceback" in error["exception"]

    request_line = by_logger["foodflow.request"]
    assert request_line["status"] == 500 and request_line["request_id"] == "req-42"


def test_a_record_outside_any_request_has_no_request_id():
    with json_log("foodflow.tests.outside") as lines:
        logging.getLogger("foodflow.tests.outside").error("nightly job failed")
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "ERROR",
            "logger": "foodflow.tests.outside",
            "message": "nightly job failed",
            "request_id": "-",
        }
    ]


def test_one_request_line_per_request_with_the_user(make_user, client_of):
    user = make_user("rep")
    client = client_of(user)
    with json_log("foodflow.request") as lines:
        response = client.get("/notifications/?unread=1", HTTP_X_REQUEST_ID="r1")
        client.get("/static/does-not-exist.css")
    assert response.status_code == 200
    [line] = lines  # nothing for /static/
    assert line["message"].startswith("GET /notifications/ 200 ")
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/notifications/", 200, user.pk)
    assert line["request_id"] == "r1" and line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_an_anonymous_request_line_has_no_user(client, db):
    with json_log("foodflow.request") as lines:
        client.get("/accounts/login/")
    [line] = lines
    assert line["user_id"] is None and line["status"] == 200


def test_every_console_record_passes_the_request_id_filter():
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", None) == "console")
    assert any(isinstance(f, RequestIdFilter) for f in handler.filters)
    assert settings.MIDDLEWARE[0] == "foodflow.core.request_id.RequestIdMiddleware"


def production_environment(tmp_path, **extra) -> dict:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "LOG_", "DATABASE_"))
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "foodflow.settings.production",
        "SECRET_KEY": "p" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "FOODFLOW_VAR_DIR": str(tmp_path),
        **extra,
    }


LOG_ONE_LINE = """
import django, logging
django.setup()
logging.getLogger("foodflow.sales").info("order %s confirmed", "SO-1", extra={"customer_id": 7})
"""


@pytest.mark.once
def test_production_logs_json_unless_log_format_says_text(tmp_path):
    def stderr_of(**extra):
        return subprocess.run(
            [sys.executable, "-c", LOG_ONE_LINE],
            env=production_environment(tmp_path, **extra),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stderr.strip()

    line = json.loads(stderr_of())
    assert line["message"] == "order SO-1 confirmed" and line["customer_id"] == 7 and line["request_id"] == "-"
    assert line["logger"] == "foodflow.sales" and line["level"] == "INFO"
    assert stderr_of(LOG_FORMAT="text").endswith("INFO foodflow.sales [-] order SO-1 confirmed")


def test_an_unknown_log_format_stops_the_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", LOG_ONE_LINE],
        env=production_environment(tmp_path, LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "LOG_FORMAT must be one of json, text, not 'xml'" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.once
def test_foodflow_serve_writes_only_json_lines_and_one_line_per_request(tmp_path):
    """The real gunicorn: its own lines are JSON too, and its access log stays off."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "foodflow.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=production_environment(tmp_path, SECURE_SSL_REDIRECT="false", LOG_LEVEL="INFO"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine boots Django slowly
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/healthz",
                    headers={"X-Request-ID": "lb-probe-1"},
                    timeout=120,  # the first request imports every view: slow on a loaded machine
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-probe-1"
    finally:
        server.terminate()
        stderr = server.communicate(timeout=30)[1]
    lines = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)
    [request_line] = [line for line in lines if "/healthz" in line["message"]]
    assert request_line["logger"] == "foodflow.request" and request_line["request_id"] == "lb-probe-1"
