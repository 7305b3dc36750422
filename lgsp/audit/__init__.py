"""The audit log: one hash-chained record per hop, committed before a 2xx leaves the gateway."""
