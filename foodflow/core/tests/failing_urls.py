"""A view that logs from inside the request and then fails, for the request-logging tests."""

import logging

from django.urls import path

logger = logging.getLogger("foodflow.tests.failing")


def failing_view(request):
    logger.warning("about to fail", extra={"order_number": "SO-2026-000042"})
    raise RuntimeError("the warehouse is on fire")


urlpatterns = [path("fail", failing_view)]
