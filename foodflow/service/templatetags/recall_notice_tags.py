"""The recall page's notices card: each customer of the recall with whom its notice goes to
and whether it was given (the recall page's view belongs to the recalls part; this card
reads its own data)."""

from django import template

from foodflow.service.permissions import can_trace_lots
from foodflow.service.recall_notices import recall_notice_rows

register = template.Library()


@register.simple_tag(takes_context=True)
def recall_notice_overview(context, recall) -> dict:
    """The rows of the card and what the user may do: e-mail (an open recall, never a drill)
    and record a phone call (an open recall)."""
    user = context["request"].user
    rows = recall_notice_rows(recall)
    may_act = can_trace_lots(user) and recall.state == "open"
    return {
        "rows": rows,
        "may_email": may_act and not recall.is_drill,
        "may_phone": may_act,
        "to_email": sum(1 for row in rows if not row.notified and row.contact is not None),
        "to_phone": sum(1 for row in rows if not row.notified and row.contact is None),
        "notified": sum(1 for row in rows if row.notified),
    }
