"""Connectors in GraphQL (administrators)."""
