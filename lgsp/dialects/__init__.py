"""The doors of the real platforms' dialects: each a translation onto the one core (DESIGN.md §3,
"Dialects at the door"), mounted at `{base}/{dialect}` of the instances that speak it.
"""
