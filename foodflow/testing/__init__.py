"""A test-only app (installed by the test settings): concrete models that exercise the
foundation's generic parts (state machine, numbering) the way real documents will."""
