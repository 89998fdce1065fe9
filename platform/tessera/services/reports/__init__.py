"""Reports and dashboards: running definitions (``run``), saved reports (``saved``), the tenant's
report calendar (``settings``), dashboards, exports, scheduled snapshots and KPI alerts, and reports
in metadata packages (``packaged``)."""
