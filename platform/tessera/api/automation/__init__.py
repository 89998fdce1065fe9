"""The automation half of the admin API: workflows, runs, notifications, state machines, approvals."""
