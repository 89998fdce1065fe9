"""Automation definitions checked against a tenant's metadata: workflow triggers, conditions, actions,
and the ``{{ expression }}`` templates of messages."""

from tessera.model.automation.templates import Template, check_template
from tessera.model.automation.workflows import (
    ACTION_TYPES,
    EVENTS,
    RECORD_EVENTS,
    WorkflowContext,
    check_workflow,
    workflow_expressions,
)

__all__ = [
    "ACTION_TYPES",
    "EVENTS",
    "RECORD_EVENTS",
    "Template",
    "WorkflowContext",
    "check_template",
    "check_workflow",
    "workflow_expressions",
]
