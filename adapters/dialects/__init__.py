"""Real platforms' dialects as pure translations: what a caller sends in a real LGSP's shape
into the bus's own request, and the bus's answer back into that shape (README "Dialects").

No I/O, nothing of the gateway: the door that applies them is `lgsp.dialects`.
"""
