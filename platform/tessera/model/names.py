"""Naming rules for objects and fields, and the names the generated API derives from them."""

from __future__ import annotations

import re

from tessera.core.errors import ValidationError
from tessera.model.definitions import SYSTEM_COLUMNS, SYSTEM_FIELDS

NAME_PATTERN = re.compile(r"^[a-z][a-zA-Z0-9]*$")
MAX_NAME_LENGTH = 63
MAX_COLUMN_LENGTH = 60
"""snake_case names become tables and columns (lookups add ``_id``): PostgreSQL allows 63."""

# Words that are keywords in SQL (SQL:2016 reserved words common to SQLite and PostgreSQL) —
# refused so that generated tables and columns never need a dialect's quoting rules to work.
SQL_KEYWORDS = frozenset(
    ["all", "alter", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "binary", "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "drop", "else", "end", "except", "exists", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "index", "initially", "inner", "insert", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "rowid", "select", "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "transaction", "trigger", "true", "union", "unique", "update", "user", "using", "values", "variadic", "verbose", "view", "when", "where", "window", "with"]
)

# Names the GraphQL layer itself owns on every schema or every generated type.
GRAPHQL_RESERVED = frozenset(
    {
        "query", "mutation", "subscription", "schema", "node", "nodes", "edges", "cursor",
        "pageInfo", "totalCount", "typename", "and", "or", "not", "isNull", "objects", "object",
        "fieldTypes", "me", "tenant", "field", "fields",
    }
)

SYSTEM_NAMES = frozenset(SYSTEM_COLUMNS) | frozenset(SYSTEM_FIELDS) | frozenset(
    {"deletedAt", "createdById", "updatedById", "ownerId"}
)

GENERATED_SUFFIXES = (
    "Connection", "Edge", "Filter", "LookupFilter", "CreateInput", "UpdateInput", "OrderBy",
)

SCALAR_TYPE_NAMES = ("String", "Int", "Float", "Boolean", "ID", "Decimal", "Date", "DateTime", "JSON")
STATIC_TYPE_NAMES = frozenset(SCALAR_TYPE_NAMES) | {
    "Query", "Mutation", "Subscription", "PageInfo", "User", "Label", "OrderDirection", "FieldType",
    "OnDeleteRule", "ObjectDefinition", "FieldDefinition", "PicklistOption", "PicklistOptionInput",
    "FieldTypeInfo", "CreateObjectInput", "UpdateObjectInput", "DeleteObjectInput", "CreateFieldInput",
    "UpdateFieldInput", "DeleteFieldInput", "CreateObject", "UpdateObject", "DeleteObject", "CreateField",
    "UpdateField", "DeleteField",
    # expressions (issue 4)
    "ValidationRule", "CreateValidationRuleInput", "UpdateValidationRuleInput", "DeleteValidationRuleInput",
    "ResultType", "RollupFunction", "Sharing",
    # security
    "Me", "UserAccount", "Role", "PermissionSet", "ObjectPermission", "FieldPermission", "RecordShare",
    "ApiToken", "IssuedApiToken", "TokenScope", "ShareAccess", "CreateUserInput", "UpdateUserInput",
    "RoleInput", "DeleteByNameInput", "ObjectPermissionInput", "FieldPermissionInput", "PermissionSetInput",
    "ShareRecordInput", "CreateApiTokenInput",
    # history, recycle bin, audit log
    "HistoryAction", "HistoryUser", "HistoryEntry", "DeletedRecord", "AuditEvent",
    # plugins
    "Plugin",
    # state machines and approvals (issue 6)
    "StateMachine", "StateTransition", "StateTransitionInput", "CreateStateMachineInput", "UpdateStateMachineInput",
    "ApprovalProcess", "ApprovalApprovers", "ApproverType", "ApproversInput", "CreateApprovalProcessInput",
    "UpdateApprovalProcessInput", "ApprovalRequest", "ApprovalStep", "ApprovalStatus", "ApprovalDecision",
    # workflows, notifications and jobs (issue 6)
    "WorkflowEvent", "WorkflowRunStatus", "JobStatus", "WorkflowTriggerInput", "CreateWorkflowInput",
    "UpdateWorkflowInput", "WorkflowRun", "Workflow", "WebhookDelivery", "Notification", "Job",
    # reports and dashboards (issue 7)
    "MeasureFunction", "DateBucket", "ReportLayout", "ReportOrderDirection", "ReportGroupingInput",
    "ReportMeasureInput", "ReportOrderInput", "ReportDefinitionInput", "ReportColumn", "ReportResult", "Report",
    "ReportInput", "ReportSnapshot", "KpiValue", "DashboardWidget", "Dashboard", "DashboardInput",
    "ReportSettings", "ReportSettingsInput",
    # connectors (issue 8)
    "Connector", "ConnectorRun", "CreateConnectorInput", "UpdateConnectorInput", "ConnectorCandidate",
    "ConnectorSearch", "ExternalLink",
}
"""Types every tenant's schema has whatever its objects; generated names must not take them."""

ROOT_FIELD_NAMES = frozenset({
    "objects", "object", "fieldTypes", "me", "users", "roles", "permissionSets", "recordShares", "apiTokens",
    "recordHistory", "deletedRecords", "auditEvents", "plugins",
    "stateMachines", "approvalProcesses", "approvalRequests", "pendingApprovals",
    "workflows", "workflow", "workflowRuns", "webhookDeliveries", "notifications", "unreadNotifications", "jobs",
    "runReport", "report", "reports", "reportSnapshots", "dashboard", "dashboards", "reportSettings",
    "connectors", "connector", "connectorRuns", "connectorSearch",
})
"""Query fields every tenant's schema has; no object's name or plural may take them."""

OPERATOR_INPUT_PATTERN = re.compile("^(" + "|".join(SCALAR_TYPE_NAMES) + r")Filter\d*$")


def type_name(name: str) -> str:
    """The GraphQL type name of an object or enum derived from ``name`` (``salesOrder`` → ``SalesOrder``)."""
    return name[0].upper() + name[1:]


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def folded(name: str) -> str:
    return name.lower().replace("_", "")


def check_name(name: object, *, what: str, field: str = "name") -> str:
    """Refuse a name that does not match the pattern, is too long or is reserved."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} name is required", field=field)
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{what} name '{name}' is longer than {MAX_NAME_LENGTH} characters", field=field
        )
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            f"{what} name '{name}' must start with a lowercase letter and contain only letters and "
            "digits (camelCase)",
            field=field,
        )
    if len(snake_case(name)) > MAX_COLUMN_LENGTH:
        raise ValidationError(
            f"{what} name '{name}' is too long: as a database name ({snake_case(name)}) it would exceed "
            f"{MAX_COLUMN_LENGTH} characters",
            field=field,
        )
    lowered = name.lower()
    if lowered in SQL_KEYWORDS or snake_case(name) in SQL_KEYWORDS:
        raise ValidationError(f"{what} name '{name}' is a reserved SQL keyword", field=field)
    if name in GRAPHQL_RESERVED or name.startswith("__"):
        raise ValidationError(f"{what} name '{name}' is reserved by the GraphQL API", field=field)
    if name in SYSTEM_NAMES or snake_case(name) in SYSTEM_COLUMNS:
        raise ValidationError(f"{what} name '{name}' is reserved for a system field", field=field)
    return name


def generated_type_names(object_name: str) -> set[str]:
    base = type_name(object_name)
    return {base} | {base + suffix for suffix in GENERATED_SUFFIXES}


def static_type_clash(object_name: str) -> str | None:
    """The schema's own type an object named ``object_name`` would collide with, if any."""
    for generated in sorted(generated_type_names(object_name)):
        if generated in STATIC_TYPE_NAMES or OPERATOR_INPUT_PATTERN.match(generated):
            return generated
    return None
