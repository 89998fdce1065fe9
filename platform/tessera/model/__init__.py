"""Model: metadata definitions, field types, record tables and queries."""
