"""This domain's pages in the navigation."""

LINKS: tuple = ()
