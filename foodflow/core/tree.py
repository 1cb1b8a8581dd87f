"""Trees stored with a materialised path ("/0000001/0000004/"): "this node and everything
below it" is one indexed prefix query, and sorting by path lists each subtree in order."""

from django.db import models


def tree_path(*, parent, pk: int) -> str:
    return f"{parent.path if parent is not None else '/'}{pk:07d}/"


def subtree_q(node, *, field: str = "") -> models.Q:
    prefix = f"{field}__" if field else ""
    return models.Q(**{f"{prefix}path__startswith": node.path})


def tree_depth(path: str) -> int:
    return max(path.count("/") - 2, 0)
