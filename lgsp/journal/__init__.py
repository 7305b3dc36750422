"""The request journal: recent exchanges with their bodies, for integrators' tests (issue 5)."""
