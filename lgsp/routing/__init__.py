"""Invocation: match a call to a catalog operation, check rights, find the owner, forward."""
