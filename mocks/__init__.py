"""Mock provincial and national systems: each an ASGI app factory with its own store and seed."""
