from django.db import migrations


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    builtin_roles_ensure(apps.get_model("accounts", "Role"))  # adds imports.run


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_initial"), ("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
