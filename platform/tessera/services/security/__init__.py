"""Security use cases: users, roles, permission sets, record shares, tokens, and loading a user's access."""
