from django.core.management.base import BaseCommand, CommandError

from foodflow.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit log operations. `audit verify` walks the hash chain and names the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args, operation, **options):
        report = audit_verify()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain OK: {report.checked} entries verified"))
            return
        where = f"entry #{report.broken_seq}" + (f" (id {report.broken_id})" if report.broken_id else "")
        raise CommandError(
            f"audit chain BROKEN at {where}: {report.reason}; {report.checked} entries before it are intact"
        )
