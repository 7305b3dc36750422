"""Reference data several mock systems share: the seeded provinces' units and agencies.

It sits beside the mocks rather than under one of them, because no one system owns it: the
citizen databases (national and provincial) address citizens in the units, and the portal, the
document endpoints and the national axis all name the same agencies.
"""
