"""The request id: one token per request, in every log line the request causes and in the
``X-Request-ID`` response header, so a user's report, the proxy's log and ours meet on it.

An id from the reverse proxy (nginx's ``$request_id``) is kept when it is a plain token, so one
id runs through the whole chain; anything else is replaced, because it ends up in log lines
that other tools parse.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.utils.functional import SimpleLazyObject, empty

HEADER = "X-Request-ID"
NO_REQUEST = "-"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
request_log = logging.getLogger("foodflow.request")


def request_id_from(incoming: str | None) -> str:
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the id for the request, answers it in the header and logs one line per request
    (the access log: gunicorn's own is off when logs are JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(HEADER))
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            if not request.path.startswith(settings.STATIC_URL):
                _log_request(request, response, duration_ms=(time.perf_counter() - started) * 1000)
            return response
        finally:
            current_request_id.reset(token)


def _log_request(request, response, *, duration_ms: float) -> None:
    request_log.info(
        "%s %s %s %.1fms",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "user_id": _user_id(request),
        },
    )


def _user_id(request) -> int | None:
    """The signed-in user's id when the request already looked the user up: looking it up only
    for the log line would cost a session and a user query on requests that never needed them
    (and fail the line when the database is what is down)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None
