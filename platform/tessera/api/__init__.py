"""The web API: the GraphQL endpoint (metadata half and generated data half) and web blueprints."""
