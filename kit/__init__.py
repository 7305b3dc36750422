"""Infrastructure shared by the gateway (`lgsp`) and the mock systems (`mocks`).

A leaf package: it imports nothing of ours, so that a mock can use the same database recipe as
the bus without depending on the bus (a mock is a system outside it, DESIGN.md §3).
"""
