"""Import kinds (being written)."""
