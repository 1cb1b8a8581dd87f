from django.utils.translation import gettext_lazy as _

from foodflow.core.notifications import NotificationKind, register_kind

REVISITS_DUE = register_kind(
    NotificationKind(
        code="revisits_due",
        label=_("Revisits due today or overdue"),
        title=_("%(count)s revisits are due"),
        body=_("%(overdue)s of them are overdue. Open the revisit list to plan your day."),
    )
)
STALE_RESEARCH = register_kind(
    NotificationKind(
        code="stale_research",
        label=_("Market research records to refresh"),
        title=_("%(count)s market research records are stale"),
        body=_("They passed their refresh period. Update or confirm them."),
        email_by_default=False,
    )
)
