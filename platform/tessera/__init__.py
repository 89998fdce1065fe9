"""Tessera: a multi-tenant low-code metadata platform for connected CRM."""

__version__ = "0.1.0"
