"""Record tables, queries and value handling derived from metadata."""
