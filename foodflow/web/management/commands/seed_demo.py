from django.core.management.base import BaseCommand

from foodflow.web.demo import demo_seed


class Command(BaseCommand):
    help = "Seed the demo company (idempotent; demo mode only)."

    def handle(self, *args, **options):
        demo_seed(stdout=self.stdout)
