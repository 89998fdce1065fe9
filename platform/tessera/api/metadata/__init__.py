"""The metadata half of the schema: the admin API over objects and fields (static types)."""
