"""lgsp-mock-bus: a local copy of a Vietnamese provincial data-sharing platform and of NDXP."""

__version__ = "0.1.0"
