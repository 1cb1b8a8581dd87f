from django.db import migrations


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure
    from foodflow.contracts.defaults import defaults_ensure

    Role = apps.get_model("accounts", "Role")
    builtin_roles_ensure(Role)  # adds the contract permissions to the built-in roles
    defaults_ensure(
        apps.get_model("contracts", "ContractTemplate"),
        apps.get_model("contracts", "TemplateClause"),
        apps.get_model("sales", "ApprovalPolicy"),
        Role,
        apps.get_model("contracts", "RiskPolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial"), ("sales", "0002_defaults")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
