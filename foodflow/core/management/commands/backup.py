from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from foodflow.core.backup import BackupError, backup_make


class Command(BaseCommand):
    help = (
        "Back up the database and the media files into one archive (with a manifest of every table), "
        "consistent while FoodFlow is in use."
    )
    # the checks load every URL and app: seconds a backup from cron has no use for
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", help="The archive to write (default: var/backups/foodflow-<YYYYmmdd-HHMMSS>.tar.gz)."
        )

    def handle(self, *args, output, **options):
        try:
            made = backup_make(output=Path(output) if output else None)
        except BackupError as error:
            raise CommandError(error.message) from error
        tables = made.manifest["tables"]
        self.stdout.write(
            self.style.SUCCESS(
                _("Backup written to %(path)s: %(tables)s tables, %(rows)s rows, %(files)s media files.")
                % {
                    "path": made.path,
                    "tables": len(tables),
                    "rows": sum(table["rows"] for table in tables.values()),
                    "files": made.manifest["media"].get("files", 0),
                }
            )
        )
