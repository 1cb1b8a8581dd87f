from django.utils.translation import gettext_lazy as _

from foodflow.core.notifications import NotificationKind, register_kind

LOT_NEAR_EXPIRY = register_kind(
    NotificationKind(
        code="lot_near_expiry",
        label=_("Lots close to their expiry date"),
        title=_("Lot %(lot)s of %(product)s expires in %(days)s days"),
        body=_("%(on_hand)s on hand, %(reserved)s reserved; expiry date %(expiry)s."),
    )
)
