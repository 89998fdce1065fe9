"""GraphQL for record history, the recycle bin and the audit log."""
