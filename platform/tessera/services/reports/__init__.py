"""Reports and dashboards: running definitions, saved reports, tenant report settings."""
