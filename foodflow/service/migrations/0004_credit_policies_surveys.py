from decimal import Decimal

from django.db import migrations

# (name, condition, threshold, approver role, level): a refund or compensation up to 2,000 is
# the desk's own decision; above it a manager approves (a director beyond the manager's limit,
# by the engine's escalation), above 20,000 a director too
CREDIT_POLICIES = [
    ("投诉退款/补偿超过2千 Complaint credit above 2,000", "amount_over", "2000", "manager", 1),
    ("投诉退款/补偿超过2万 Complaint credit above 20,000", "amount_over", "20000", "director", 2),
]
# (name, trigger, free questions)
SURVEYS = [
    ("交付满意度调查", "delivery", ["产品质量是否符合您的要求？", "送货是否准时、完好？"]),
    ("投诉处理满意度回访", "complaint", ["问题是否已彻底解决？", "对处理速度是否满意？"]),
]


def defaults(apps, schema_editor):
    from foodflow.accounts.roles import builtin_roles_ensure

    Role = apps.get_model("accounts", "Role")
    builtin_roles_ensure(Role)  # adds the feedback permissions
    Policy = apps.get_model("sales", "ApprovalPolicy")
    if not Policy.objects.filter(doc_type="complaint_credit").exists():
        roles = {role.code: role for role in Role.objects.all()}
        for name, condition, threshold, role, level in CREDIT_POLICIES:
            if role in roles:
                Policy.objects.create(
                    name=name,
                    doc_type="complaint_credit",
                    condition=condition,
                    threshold=Decimal(threshold),
                    approver_role=roles[role],
                    level=level,
                )
    Survey = apps.get_model("service", "Survey")
    for name, trigger, questions in SURVEYS:
        if not Survey.objects.filter(trigger=trigger).exists():
            Survey.objects.create(name=name, trigger=trigger, questions=questions)


class Migration(migrations.Migration):
    dependencies = [("service", "0003_remedies_revisits_suggestions"), ("sales", "0003_complaint_credit_doc_type")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
