"""Pages of this part of the CRM in the navigation."""

LINKS: tuple = ()
