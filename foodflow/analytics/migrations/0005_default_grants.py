from django.db import migrations


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    builtin_roles_ensure(apps.get_model("accounts", "Role"))  # the figures, targets and appraisal codes


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_targets_kpi_monitoring")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
