from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed the demo company and serve FoodFlow on http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Set up and seed only.")
        parser.add_argument("--bind", default="127.0.0.1:8000")

    def handle(self, *args, no_serve, bind, **options):
        call_command("migrate", interactive=False, verbosity=1)
        call_command("seed_demo")
        if not no_serve:
            call_command("serve", bind=bind, workers=2, threads=4)
