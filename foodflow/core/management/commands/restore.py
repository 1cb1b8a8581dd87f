from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from foodflow.core.backup import BackupError, backup_restore, database_label


class Command(BaseCommand):
    help = (
        "Restore a backup made by `foodflow backup`: REPLACES the current database and media files, "
        "then checks every table against the archive's manifest."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive written by `foodflow backup`.")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm that the current database and media files are replaced."
        )

    def handle(self, *args, archive, yes, **options):
        try:
            if not yes:
                raise CommandError(
                    _(
                        "Restoring REPLACES the current database (%(database)s) and the media files with the "
                        "archive's: everything recorded since the backup is lost. Stop FoodFlow, then run the "
                        "command again with --yes. Nothing was changed."
                    )
                    % {"database": database_label()}
                )
            restored = backup_restore(archive=Path(archive))
        except BackupError as error:
            raise CommandError(error.message) from error
        for note in restored.notes:
            self.stdout.write(self.style.WARNING(note))
        if restored.differences:
            raise CommandError(
                _("Restored, but these tables differ from the backup: %(tables)s")
                % {"tables": "; ".join(restored.differences)}
            )
        manifest = restored.manifest
        self.stdout.write(
            self.style.SUCCESS(
                _("Restored %(archive)s (made %(made)s): all %(tables)s tables match the backup.")
                % {"archive": archive, "made": manifest["created_at"], "tables": len(manifest["tables"])}
            )
        )
