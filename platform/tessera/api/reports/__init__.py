"""Reports and dashboards in GraphQL."""
