"""Clients, their hashed secrets and access rights, signing keys and OAuth2 tokens."""
