"""The metadata registry: a tenant's definitions as immutable objects, cached by metadata version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import MappingProxyType

import sqlalchemy as sa

from tessera.model.definitions import (
    ApprovalProcessDef,
    FieldDef,
    ObjectDef,
    StateMachineDef,
    TenantMetadata,
    TransitionDef,
    ValidationRuleDef,
    WorkflowDef,
)
from tessera.model.records.computed import ComputedFields, FieldSql
from tessera.model.records.tables import RecordTables
from tessera.storage.system_tables import (
    approval_processes,
    field_defs,
    object_defs,
    plugin_installs,
    state_machines,
    tenants,
    validation_rules,
    workflows,
)


@dataclass(frozen=True)
class TenantRef:
    """Which tenant a request or job works for."""

    id: str
    slug: str
    schema_name: str
    metadata_version: int


class TenantModel:
    """Definitions plus the SQL tables derived from them, for one metadata version."""

    def __init__(self, meta: TenantMetadata) -> None:
        self.meta = meta

    @cached_property
    def tables(self) -> RecordTables:
        return RecordTables(self.meta)

    @cached_property
    def computed(self) -> ComputedFields:
        return ComputedFields(self.meta)

    def field_sql(self, dialect: str, now: datetime | None = None) -> FieldSql:
        """Fields as SQL for one query (``now`` fixes TODAY() and NOW())."""
        return FieldSql(self.tables, self.computed, dialect, now)


def load_metadata(conn: sa.Connection, tenant: TenantRef, version: int | None = None) -> TenantMetadata:
    """Read every object and field definition of ``tenant`` (inside the caller's transaction)."""
    objects = conn.execute(
        sa.select(object_defs).where(object_defs.c.tenant_id == tenant.id).order_by(object_defs.c.created_at, object_defs.c.name)
    ).mappings().all()
    fields = conn.execute(
        sa.select(field_defs)
        .where(field_defs.c.tenant_id == tenant.id)
        .order_by(field_defs.c.object_id, field_defs.c.position, field_defs.c.name)
    ).mappings().all()
    by_object: dict[str, list[FieldDef]] = {}
    for row in fields:
        by_object.setdefault(row["object_id"], []).append(
            FieldDef(
                id=row["id"],
                name=row["name"],
                type=row["type"],
                column_name=row["column_name"],
                labels=MappingProxyType(dict(row["labels"] or {})),
                description=_labels(row["description"]),
                help_text=_labels(row["help_text"]),
                required=row["required"],
                unique=row["is_unique"],
                indexed=row["indexed"],
                read_only=row["read_only"],
                default_value=row["default_value"],
                options=MappingProxyType(dict(row["options"] or {})),
                position=row["position"],
                origin=row["origin"],
                default_expression=row["default_expression"],
                track_history=row["track_history"],
            )
        )
    rules = conn.execute(
        sa.select(validation_rules)
        .where(validation_rules.c.tenant_id == tenant.id)
        .order_by(validation_rules.c.object_id, validation_rules.c.position, validation_rules.c.name)
    ).mappings().all()
    object_names = {row["id"]: row["name"] for row in objects}
    rules_by_object: dict[str, list[ValidationRuleDef]] = {}
    for row in rules:
        rules_by_object.setdefault(row["object_id"], []).append(
            ValidationRuleDef(
                id=row["id"],
                name=row["name"],
                expression=row["expression"],
                message=MappingProxyType(dict(row["message"])),
                object_name=object_names.get(row["object_id"], ""),
                field=row["error_field"],
                active=row["active"],
                description=_labels(row["description"]),
                position=row["position"],
                origin=row["origin"],
            )
        )
    automation = _load_automation(conn, tenant, object_names)
    installed = conn.execute(
        sa.select(plugin_installs.c.plugin).where(plugin_installs.c.tenant_id == tenant.id).order_by(plugin_installs.c.plugin)
    ).scalars().all()
    return TenantMetadata(
        plugins=tuple(installed),
        tenant_slug=tenant.slug,
        schema_name=tenant.schema_name,
        version=version if version is not None else tenant.metadata_version,
        objects=tuple(
            ObjectDef(
                id=row["id"],
                name=row["name"],
                plural_name=row["plural_name"],
                table_name=row["table_name"],
                labels=MappingProxyType(dict(row["labels"] or {})),
                plural_labels=MappingProxyType(dict(row["plural_labels"] or {})),
                description=_labels(row["description"]),
                origin=row["origin"],
                fields=tuple(by_object.get(row["id"], ())),
                validation_rules=tuple(rules_by_object.get(row["id"], ())),
                sharing=row["sharing"],
                workflows=automation.workflows.get(row["id"], ()),
                state_machines=automation.state_machines.get(row["id"], ()),
                approval_processes=automation.approvals.get(row["id"], ()),
            )
            for row in objects
        ),
    )


@dataclass
class _Automation:
    workflows: dict[str, tuple[WorkflowDef, ...]]
    state_machines: dict[str, tuple[StateMachineDef, ...]]
    approvals: dict[str, tuple[ApprovalProcessDef, ...]]


def _load_automation(conn: sa.Connection, tenant: TenantRef, object_names: Mapping[str, str]) -> _Automation:
    """Workflows, state machines and approval processes per object id."""
    flows: dict[str, list[WorkflowDef]] = {}
    for row in conn.execute(
        sa.select(workflows).where(workflows.c.tenant_id == tenant.id).order_by(workflows.c.name)
    ).mappings():
        flows.setdefault(row["object_id"], []).append(WorkflowDef(
            id=row["id"], name=row["name"], object_name=object_names.get(row["object_id"], ""),
            trigger=MappingProxyType(dict(row["trigger"])),
            actions=tuple(MappingProxyType(dict(a)) for a in row["actions"]),
            condition=row["condition"], active=row["active"], version=row["version"],
            description=row["description"], origin=row["origin"], created_by=row["created_by"],
        ))
    machines: dict[str, list[StateMachineDef]] = {}
    for row in conn.execute(
        sa.select(state_machines).where(state_machines.c.tenant_id == tenant.id).order_by(state_machines.c.field_name)
    ).mappings():
        machines.setdefault(row["object_id"], []).append(StateMachineDef(
            id=row["id"], field=row["field_name"], object_name=object_names.get(row["object_id"], ""),
            transitions=tuple(
                TransitionDef(t["from"], t["to"], tuple(t.get("roles") or ())) for t in row["transitions"]
            ),
            required_fields=MappingProxyType({k: tuple(v) for k, v in (row["required_fields"] or {}).items()}),
            active=row["active"], origin=row["origin"],
        ))
    approvals: dict[str, list[ApprovalProcessDef]] = {}
    for row in conn.execute(
        sa.select(approval_processes).where(approval_processes.c.tenant_id == tenant.id)
        .order_by(approval_processes.c.name)
    ).mappings():
        approvals.setdefault(row["object_id"], []).append(ApprovalProcessDef(
            id=row["id"], name=row["name"], object_name=object_names.get(row["object_id"], ""),
            approvers=MappingProxyType(dict(row["approvers"])),
            on_submit=MappingProxyType(dict(row["on_submit"])),
            on_approve=MappingProxyType(dict(row["on_approve"])),
            on_reject=MappingProxyType(dict(row["on_reject"])),
            entry_condition=row["entry_condition"], lock_record=row["lock_record"], active=row["active"],
            description=row["description"], origin=row["origin"],
        ))
    return _Automation(
        {k: tuple(v) for k, v in flows.items()},
        {k: tuple(v) for k, v in machines.items()},
        {k: tuple(v) for k, v in approvals.items()},
    )


def _labels(value: dict[str, str] | None) -> MappingProxyType[str, str] | None:
    return MappingProxyType(dict(value)) if value else None


class ModelCache:
    """Per-process cache of ``TenantModel`` by (tenant id, metadata version), bounded LRU."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], TenantModel] = OrderedDict()

    def get(self, conn: sa.Connection, tenant: TenantRef) -> TenantModel:
        key = (tenant.id, tenant.metadata_version)
        with self._lock:
            model = self._items.get(key)
            if model is not None:
                self._items.move_to_end(key)
                return model
        meta = load_metadata(conn, tenant)
        # NOTE: a change may commit between reading the version and the definitions; only a
        # load bracketed by the same version on both sides may be cached under that version.
        now = conn.execute(
            sa.select(tenants.c.metadata_version).where(tenants.c.id == tenant.id)
        ).scalar_one()
        if now != tenant.metadata_version:
            return self.get(conn, TenantRef(tenant.id, tenant.slug, tenant.schema_name, now))
        model = TenantModel(meta)
        with self._lock:
            self._items[key] = model
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return model
