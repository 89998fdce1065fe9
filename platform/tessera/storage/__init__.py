"""Storage: engines, tenancy, system tables, runtime DDL and transactions."""
