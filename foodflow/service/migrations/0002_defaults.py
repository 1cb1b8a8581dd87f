from decimal import Decimal

from django.db import migrations

# severity, first response, resolution (business hours), escalate minutes before
DEFAULT_SLAS = [
    ("critical", "2", "8", 30),
    ("high", "4", "24", 60),
    ("medium", "8", "40", 120),
    ("low", "16", "80", 240),
]


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    builtin_roles_ensure(apps.get_model("accounts", "Role"))  # adds the after-sales permissions
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    for severity, response, resolution, warn in DEFAULT_SLAS:
        SlaPolicy.objects.get_or_create(
            severity=severity,
            defaults={
                "response_hours": Decimal(response),
                "resolution_hours": Decimal(resolution),
                "warn_minutes": warn,
            },
        )
    ServiceHours = apps.get_model("service", "ServiceHours")
    if not ServiceHours.objects.exists():
        ServiceHours.objects.create()


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial"), ("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
