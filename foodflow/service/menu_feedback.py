"""Pages of the feedback area in the navigation: the suggestions and the monthly summary."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_manage_suggestions, can_suggest

LINKS: tuple = (
    MenuLink(
        _("Suggestions"),
        "feedback:suggestions",
        "ti-bulb",
        can_suggest,
        _("Suggestions from staff and customers, tracked to a decision; make one."),
    ),
    MenuLink(
        _("Monthly summary"),
        "feedback:summary",
        "ti-calendar-stats",
        can_manage_suggestions,
        _("What came in, what was accepted, rejected and implemented, and what is still waiting."),
    ),
)
