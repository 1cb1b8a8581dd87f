from decimal import Decimal

from django.db import migrations

# (name, document type, condition, threshold, approver role, level)
DEFAULT_POLICIES = [
    ("报价折扣超出销售权限 Quotation discount above the rep's ceiling", "quotation", "discount_above_ceiling", None, "manager", 1),
    ("报价金额超过10万 Quotation above 100,000", "quotation", "amount_over", "100000", "manager", 1),
    ("报价账期长于标准 Quotation terms longer than standard", "quotation", "terms_longer", None, "manager", 1),
    ("报价低于底价 Quotation below floor price", "quotation", "below_floor", None, "director", 2),
    ("订单折扣超出销售权限 Order discount above the rep's ceiling", "order", "discount_above_ceiling", None, "manager", 1),
    ("订单金额超过10万 Order above 100,000", "order", "amount_over", "100000", "manager", 1),
    ("订单账期长于标准 Order terms longer than standard", "order", "terms_longer", None, "manager", 1),
    ("订单低于底价 Order below floor price", "order", "below_floor", None, "director", 2),
    ("订单超出信用额度 Order over the credit limit", "order", "credit_over", None, "director", 2),
    ("解除信用冻结 Credit block release", "credit_release", "always", None, "director", 1),
    ("应收核销 Receivable write-off", "write_off", "always", None, "director", 1),
]


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    Role = apps.get_model("accounts", "Role")
    builtin_roles_ensure(Role)
    Policy = apps.get_model("sales", "ApprovalPolicy")
    if Policy.objects.exists():
        return
    roles = {role.code: role for role in Role.objects.all()}
    for name, doc_type, condition, threshold, role, level in DEFAULT_POLICIES:
        if role in roles:
            Policy.objects.create(
                name=name,
                doc_type=doc_type,
                condition=condition,
                threshold=Decimal(threshold) if threshold else None,
                approver_role=roles[role],
                level=level,
            )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("accounts", "0002_builtin_roles"), ("crm", "0002_default_grants")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
