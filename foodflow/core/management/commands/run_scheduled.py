from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from foodflow.celery import app


class Command(BaseCommand):
    help = (
        "Run the scheduled jobs now, in this process: the embedded mode's cron entry "
        "(with a broker, Celery beat runs them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Schedule names (all when none is given).")

    def handle(self, *args, names, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        unknown = set(names) - set(schedule)
        if unknown:
            raise CommandError(f"unknown scheduled jobs: {', '.join(sorted(unknown))}; known: {', '.join(schedule)}")
        app.loader.import_default_modules()  # the tasks modules of every app
        for name in names or schedule:
            task = app.tasks[schedule[name]["task"]]
            result = task.apply().get()
            self.stdout.write(f"{name}: {result}")
