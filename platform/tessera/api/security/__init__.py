"""GraphQL admin API for users, roles, permission sets, record shares and API tokens."""
