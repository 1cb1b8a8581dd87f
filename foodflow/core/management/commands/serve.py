import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# gunicorn's own lines (start, workers booted or timed out) as JSON, its access log silenced
GUNICORN_JSON_LOGGING = Path(__file__).resolve().parents[2] / "gunicorn_logging.json"


class Command(BaseCommand):
    help = "Run FoodFlow under gunicorn (workers from WEB_CONCURRENCY)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=getattr(settings, "WEB_CONCURRENCY", 2))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 4)))

    def handle(self, *args, bind, workers, threads, **options):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "foodflow.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            *logging_arguments(settings.LOG_FORMAT),
            "--timeout",
            os.environ.get("WEB_TIMEOUT", "60"),
        ]
        self.stdout.write(f"FoodFlow on http://{bind} ({workers} workers × {threads} threads)")
        sys.stdout.flush()
        os.execv(sys.executable, command)  # noqa: S606 - replaces this process with gunicorn, fixed arguments


def logging_arguments(log_format: str) -> list[str]:
    """With JSON logs the request line of RequestIdMiddleware is the access log (it carries the
    request id and the user); gunicorn's would be a second line per request, in another format."""
    if log_format == "json":
        return ["--log-config-json", str(GUNICORN_JSON_LOGGING)]
    return ["--access-logfile", "-"]
