from django.db import migrations, models


def copy_lot_facts(apps, schema_editor):
    StockBalance = apps.get_model("inventory", "StockBalance")
    for balance in StockBalance.objects.select_related("lot"):
        lot = balance.lot
        balance.expiry_date = lot.expiry_date
        balance.expiry_day = lot.expiry_date.toordinal()
        balance.shelf_life_days = (lot.expiry_date - lot.production_date).days
        balance.save(update_fields=["expiry_date", "expiry_day", "shelf_life_days"])


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_default_grants")]

    operations = [
        migrations.RemoveIndex(model_name="stockbalance", name="balance_product_idx"),
        migrations.AddField("stockbalance", "expiry_date", models.DateField(null=True, verbose_name="expiry date")),
        migrations.AddField("stockbalance", "expiry_day", models.IntegerField(null=True, editable=False)),
        migrations.AddField("stockbalance", "shelf_life_days", models.PositiveIntegerField(null=True, editable=False)),
        migrations.RunPython(copy_lot_facts, migrations.RunPython.noop),
        migrations.AlterField("stockbalance", "expiry_date", models.DateField(verbose_name="expiry date")),
        migrations.AlterField("stockbalance", "expiry_day", models.IntegerField(editable=False)),
        migrations.AlterField("stockbalance", "shelf_life_days", models.PositiveIntegerField(editable=False)),
        migrations.AddIndex("stockbalance", models.Index(fields=["product", "expiry_date"], name="balance_fefo_idx")),
    ]
