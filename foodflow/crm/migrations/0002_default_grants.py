from django.db import migrations


def grant(apps, schema_editor):
    # The built-in roles get this domain's default permissions (see permissions.py).
    from foodflow.accounts.roles import builtin_roles_ensure

    builtin_roles_ensure(apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial"), ("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
