"""The Celery application. Without CELERY_BROKER_URL tasks run in-process (eager)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodflow.settings.dev")

app = Celery("foodflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Workers and beat log as the web processes do (JSON lines with LOG_FORMAT=json), not in
    Celery's own format."""
    from django.conf import settings

    from foodflow.core.logging import configure

    configure(settings.LOGGING)
