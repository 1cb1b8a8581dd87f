from django.utils.translation import pgettext_lazy

from foodflow.core.workflows import Transition, Workflow

LOT_FLOW = Workflow(
    name="lot",
    states={
        "available": pgettext_lazy("lot status", "Available"),
        "on_hold": pgettext_lazy("lot status", "On hold"),
        "recalled": pgettext_lazy("lot status", "Recalled"),
        "expired": pgettext_lazy("lot status", "Expired"),
    },
    initial="available",
    state_field="status",
    transitions=[
        Transition(
            "hold",
            ("available",),
            "on_hold",
            pgettext_lazy("lot action", "Put on hold"),
            permission="inventory.hold_lot",
        ),
        Transition(
            "release",
            ("on_hold",),
            "available",
            pgettext_lazy("lot action", "Release"),
            permission="inventory.hold_lot",
        ),
        Transition(
            "recall",
            # an expired lot may still sit in customers' stores: it can be recalled too
            ("available", "on_hold", "expired"),
            "recalled",
            pgettext_lazy("lot action", "Recall"),
            permission="inventory.recall_lot",
        ),
        Transition("expire", ("available", "on_hold"), "expired", pgettext_lazy("lot action", "Mark expired")),
    ],
)
