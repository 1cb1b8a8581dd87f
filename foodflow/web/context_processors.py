from foodflow.core.notifications import unread_count

from .navigation import menu_for, system_links_for


def shell(request):
    """What the layout needs on every page: the menu the user may open and the unread count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_areas": menu_for(user),
        "nav_system": system_links_for(user),
        "unread_notifications": unread_count(user),
    }
