from django.db import migrations


def create_roles(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    builtin_roles_ensure(apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
