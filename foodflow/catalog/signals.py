"""Signals of the catalogue, for the apps above it."""

from django.dispatch import Signal

# sent inside the transaction of ``product_update`` when a product moves to another category:
# product_id, old_category_id, new_category_id (the sales figures re-file its history)
product_recategorised = Signal()
