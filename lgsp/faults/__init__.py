"""Faults on demand: rules and a request header that make the gateway misbehave on purpose.

Integrators test their clients' handling of slow, failing, dropped, malformed, duplicated and
rate-limited calls (issue 5) the way WireMock's and Toxiproxy's users do. Rules live in the bus
database (`store`), are read through a short per-process cache (`book`), matched without I/O
(`matcher`) and applied around the upstream call (`apply`); each applied fault is an audit hop.
"""
