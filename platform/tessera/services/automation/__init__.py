"""Automation: workflows, state machines, approvals, notifications and the background jobs they need."""
