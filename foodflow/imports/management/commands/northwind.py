"""``foodflow northwind PATH``: migrate the public Northwind CSVs into FoodFlow (see
``examples/northwind/README.md``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from foodflow.core.errors import DomainError


class Command(BaseCommand):
    help = "Migrate the Northwind CSV files (a food trading company, 1996–1998) into FoodFlow."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the folder of the Northwind CSV files")
        parser.add_argument("--user", help="act as this user (default: the first user administrator)")

    def handle(self, *args, **options):
        from foodflow.accounts.permissions import USERS_MANAGE
        from foodflow.accounts.services import users_with_perm
        from foodflow.imports import northwind

        folder: Path = options["path"]
        if not (folder / "orders.csv").is_file():
            raise CommandError(f"{folder} holds no Northwind CSV files (orders.csv, order_details.csv, …)")
        if options["user"]:
            by = users_with_perm(USERS_MANAGE).filter(username=options["user"]).first()
        else:
            by = users_with_perm(USERS_MANAGE).order_by("pk").first()
        if by is None:
            raise CommandError("a user who may manage users is needed (the reps are created): run the demo first")
        try:
            summary = northwind.migrate(folder, by=by, log=self.stdout.write)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message} {error.fields or ''}") from error
        self.stdout.write(f"Northwind migrated: {summary}")
        self.stdout.write(f"expected revenue of the order lines: {northwind.expected_revenue(folder)}")
