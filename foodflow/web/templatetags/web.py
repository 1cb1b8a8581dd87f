from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination keeps filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@register.simple_tag(takes_context=True)
def query_without(context, *names) -> str:
    """The current query string without some parameters (and back to the first page)."""
    params = context["request"].GET.copy()
    for name in (*names, "page"):
        params.pop(name, None)
    return params.urlencode()


@register.filter
def item(mapping, key):
    """``mapping[key]`` in a template (None when absent)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def attr_of(obj, name: str):
    """``getattr(obj, name)`` in a template, for a name held in a variable."""
    return getattr(obj, str(name), "")
