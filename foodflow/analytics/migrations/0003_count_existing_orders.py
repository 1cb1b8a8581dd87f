"""The orders counted before the summary tables existed: their facts and summaries."""

from django.db import migrations


def count_existing(apps, schema_editor):
    from foodflow.analytics.rollup import rollup_rebuild

    rollup_rebuild(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_summaries"),
        ("crm", "0003_customer_invoice_per_order"),
        ("catalog", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(count_existing, migrations.RunPython.noop)]
