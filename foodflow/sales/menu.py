"""Pages of order to cash in the navigation: the rep's and approver's documents first, then
the reviewer's, planner's and finance's work."""

from . import menu_docs, menu_ops

LINKS: tuple = (*menu_docs.LINKS, *menu_ops.LINKS)
