"""Infrastructure and protocol constants shared by the gateway (`lgsp`) and the mock systems
(`mocks`), and by the adapters: the database recipe (`kit.db`), the reset route's path
(`kit.protocol`), large inputs parsed off the event loop (`kit.offload`), immutable values as
cheap to build as mutable ones (`kit.values`).

A leaf package: it imports nothing of ours, so that a mock can use the same database recipe as
the bus without depending on the bus (a mock is a system outside it, DESIGN.md §3).
"""
