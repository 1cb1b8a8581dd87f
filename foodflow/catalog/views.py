"""Views of this domain (filled in by the UI work)."""
