from django.utils.translation import pgettext_lazy

from foodflow.core.workflows import Transition, Workflow

LEAD_FLOW = Workflow(
    name="lead",
    states={
        "new": pgettext_lazy("lead stage", "New"),
        "contacted": pgettext_lazy("lead stage", "Contacted"),
        "qualified": pgettext_lazy("lead stage", "Qualified"),
        "converted": pgettext_lazy("lead stage", "Converted"),
        "lost": pgettext_lazy("lead stage", "Lost"),
    },
    initial="new",
    state_field="stage",
    transitions=[
        Transition("contact", ("new",), "contacted", pgettext_lazy("lead action", "Mark contacted")),
        Transition("qualify", ("new", "contacted"), "qualified", pgettext_lazy("lead action", "Qualify")),
        Transition("convert", ("qualified",), "converted", pgettext_lazy("lead action", "Convert to customer")),
        Transition("lose", ("new", "contacted", "qualified"), "lost", pgettext_lazy("lead action", "Mark lost")),
    ],
)
