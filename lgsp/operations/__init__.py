"""The root app's own endpoints for operators: liveness, readiness, metrics and the index."""
