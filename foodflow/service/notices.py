"""Inbox kinds of after-sales."""

from django.utils.translation import gettext_lazy

from foodflow.core.notifications import NotificationKind, register_kind

COMPLAINT_ASSIGNED = register_kind(
    NotificationKind(
        code="complaint_assigned",
        label=gettext_lazy("A complaint was assigned to you"),
        title=gettext_lazy("Complaint %(complaint)s is yours"),
        body=gettext_lazy("%(customer)s · %(category)s · %(severity)s. First response due %(due)s."),
    )
)
SLA_ESCALATION = register_kind(
    NotificationKind(
        code="sla_escalation",
        label=gettext_lazy("A complaint is about to break or broke its service level"),
        title=gettext_lazy("Complaint %(complaint)s: %(what)s"),
        body=gettext_lazy("%(customer)s · %(severity)s. Due %(due)s."),
    )
)
CREDIT_TO_ISSUE = register_kind(
    NotificationKind(
        code="complaint_credit_to_issue",
        label=gettext_lazy("An approved refund or compensation waits for its credit note"),
        title=gettext_lazy("Complaint %(complaint)s: issue the credit note"),
        body=gettext_lazy("%(kind)s of %(amount)s CNY was approved."),
    )
)
REVISIT_DUE = register_kind(
    NotificationKind(
        code="service_revisit_due",
        label=gettext_lazy("A key account is owed a revisit"),
        title=gettext_lazy("Revisit %(customer)s by %(due)s"),
        body=gettext_lazy("%(reason)s"),
    )
)
