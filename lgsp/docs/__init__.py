"""Interactive API docs for each instance that work with no internet (issue 19)."""
