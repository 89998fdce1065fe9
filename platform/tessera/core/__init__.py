"""Foundations every layer may use: configuration, errors, ids, clock, logging."""
