"""``foodflow import KIND FILE``: the same import as the web page, from the shell.

    foodflow import customers customers.xlsx                 # check, then import all or nothing
    foodflow import customers old.csv --preset 旧系统客户      # a saved column mapping
    foodflow import customers old.csv --map code=客户编号 --map name=名称
    foodflow import customers old.csv --check                # only check; write the problems report
    foodflow import customers old.csv --valid-only           # import the valid rows, skip the rest

Exit status 0 when imported (or, with --check, when every row is valid), 1 otherwise; the problems
go to ``--report`` (an .xlsx) and the first ones to the screen."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from foodflow.core.errors import DomainError


class Command(BaseCommand):
    help = "Import a file (.xlsx or .csv, UTF-8 or GBK) as one kind of record, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="what the file holds: customers, products, …")
        parser.add_argument("file", type=Path)
        parser.add_argument("--preset", help="the name of a saved column mapping")
        parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="map a field")
        parser.add_argument("--check", action="store_true", help="only check the rows")
        parser.add_argument("--valid-only", action="store_true", help="import the valid rows, skip the others")
        parser.add_argument("--report", type=Path, help="write the problems to this .xlsx")
        parser.add_argument("--user", help="act as this user (default: the system)")

    def handle(self, *args, **options):
        from foodflow.accounts.models import User
        from foodflow.imports import services
        from foodflow.imports.models import MappingPreset

        by = None
        if options["user"]:
            by = User.objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"no user {options['user']}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no file {path}")
        preset = None
        if options["preset"]:
            preset = MappingPreset.objects.filter(kind=options["kind"], name=options["preset"]).first()
            if preset is None:
                raise CommandError(f"no preset {options['preset']!r} for {options['kind']}")
        try:
            job = services.job_create(
                by=by, kind=options["kind"], name=path.name, data=path.read_bytes(), preset=preset
            )
            if options["map"]:
                mapping = dict(job.mapping)
                for item in options["map"]:
                    field, _sep, column = item.partition("=")
                    mapping[field.strip()] = column.strip()
                job = services.job_map(by=by, job=job, mapping=mapping)
            job = services.job_validate(by=by, job=job)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message} {error.fields or ''}") from error
        self.stdout.write(f"{job.rows_total} rows, {job.rows_invalid} with problems")
        for issue in job.issues.all()[:20]:
            self.stdout.write(f"  row {issue.row} [{issue.column}] {issue.value!r}: {issue.message} ({issue.code})")
        if options["report"] and job.rows_invalid:
            options["report"].write_bytes(services.report_workbook(job))
            self.stdout.write(f"problems written to {options['report']}")
        if options["check"]:
            if job.rows_invalid:
                raise CommandError("not valid")
            return
        if job.rows_invalid and not options["valid_only"]:
            raise CommandError("not imported: some rows are not valid (see above, or use --valid-only)")
        try:
            job = services.job_run(by=by, job=job, valid_only=options["valid_only"])
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(
            f"imported: {job.rows_created} created, {job.rows_updated} updated, {job.rows_unchanged} unchanged, "
            f"{job.rows_skipped} skipped"
        )
