"""Immutable metadata definitions: what a tenant's objects and fields are.

The registry builds these from system rows once per (tenant, metadata version); everything
above reads them and never mutates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from tessera.core.i18n import pick_label

SYSTEM_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner_id",
    "version",
    "deleted_at",
)
"""Columns every record table has, besides the admin-defined ones."""

COMPUTED_TYPES = frozenset({"FORMULA", "ROLLUP"})
"""Field types without a column: their values are computed in SQL whenever they are read."""

SYSTEM_FIELDS = ("id", "createdAt", "updatedAt", "createdBy", "updatedBy", "owner", "version")
"""System values as they appear in GraphQL (``deleted_at`` stays internal)."""


@dataclass(frozen=True)
class PicklistOption:
    value: str
    labels: Mapping[str, str]
    color: str | None = None
    active: bool = True

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "label": dict(self.labels)}
        if self.color:
            data["color"] = self.color
        if not self.active:
            data["active"] = False
        return data


@dataclass(frozen=True)
class FieldDef:
    """One field of an object; ``options`` carries the type-specific settings."""

    name: str
    type: str
    column_name: str
    labels: Mapping[str, str]
    description: Mapping[str, str] | None = None
    help_text: Mapping[str, str] | None = None
    required: bool = False
    unique: bool = False
    indexed: bool = False
    read_only: bool = False
    default_value: Any = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    position: int = 0
    origin: str = "custom"
    id: str | None = None
    default_expression: str | None = None
    """An expression computing the value of a new record that leaves the field out."""
    track_history: bool = True
    """Changes of its value are kept in the record's field history."""

    def label(self, locale: str | None = None) -> str:
        return pick_label(self.labels, locale) or self.name

    @property
    def is_computed(self) -> bool:
        """A formula or rollup: no column, never written, computed on read."""
        return self.type in COMPUTED_TYPES

    def opt(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    @property
    def is_lookup(self) -> bool:
        return self.type == "LOOKUP"

    @property
    def target(self) -> str | None:
        return self.options.get("target")

    @cached_property
    def picklist_options(self) -> tuple[PicklistOption, ...]:
        return tuple(
            PicklistOption(
                value=o["value"],
                labels=MappingProxyType(dict(o.get("label") or {})),
                color=o.get("color"),
                active=o.get("active", True),
            )
            for o in self.options.get("options", ())
        )


@dataclass(frozen=True)
class ValidationRuleDef:
    """A rule refusing a write when its expression is TRUE (Salesforce semantics)."""

    name: str
    expression: str
    message: Mapping[str, str]
    object_name: str = ""
    field: str | None = None
    """The field the error is attached to; None attaches it to the record."""
    active: bool = True
    description: Mapping[str, str] | None = None
    position: int = 0
    origin: str = "custom"
    id: str | None = None

    def text(self, locale: str | None = None) -> str:
        return pick_label(self.message, locale) or self.name


@dataclass(frozen=True)
class WorkflowDef:
    """An automation on one object: when ``trigger`` fires and ``condition`` holds, run ``actions``.

    ``trigger`` and each action are plain mappings as admins write them (see ``model/automation``,
    which checks them); runs record ``version`` so a run can be traced to the definition it used.
    """

    name: str
    object_name: str
    trigger: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]
    condition: str | None = None
    active: bool = True
    version: int = 1
    description: str | None = None
    origin: str = "custom"
    id: str | None = None
    created_by: str | None = None

    @property
    def event(self) -> str:
        return str(self.trigger.get("event", ""))


@dataclass(frozen=True)
class TransitionDef:
    """One allowed move of a state machine; empty ``roles`` means anyone who may edit the record."""

    from_state: str
    to_state: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateMachineDef:
    """Allowed transitions of one picklist field, and the fields required on entering a state."""

    field: str
    object_name: str
    transitions: tuple[TransitionDef, ...]
    required_fields: Mapping[str, tuple[str, ...]]
    active: bool = True
    origin: str = "custom"
    id: str | None = None


@dataclass(frozen=True)
class ApprovalProcessDef:
    """Submit a record for approval: who approves, what changes on submit/approve/reject."""

    name: str
    object_name: str
    approvers: Mapping[str, Any]
    on_submit: Mapping[str, Any]
    on_approve: Mapping[str, Any]
    on_reject: Mapping[str, Any]
    entry_condition: str | None = None
    lock_record: bool = True
    active: bool = True
    description: str | None = None
    origin: str = "custom"
    id: str | None = None


@dataclass(frozen=True)
class ObjectDef:
    name: str
    plural_name: str
    table_name: str
    labels: Mapping[str, str]
    plural_labels: Mapping[str, str]
    fields: tuple[FieldDef, ...]
    description: Mapping[str, str] | None = None
    origin: str = "custom"
    id: str | None = None
    validation_rules: tuple[ValidationRuleDef, ...] = ()
    sharing: str = "PUBLIC_READ_WRITE"
    """The org-wide default: PRIVATE, PUBLIC_READ or PUBLIC_READ_WRITE (see ``model/access.py``)."""
    workflows: tuple[WorkflowDef, ...] = ()
    state_machines: tuple[StateMachineDef, ...] = ()
    approval_processes: tuple[ApprovalProcessDef, ...] = ()

    def label(self, locale: str | None = None) -> str:
        return pick_label(self.labels, locale) or self.name

    def plural_label(self, locale: str | None = None) -> str:
        return pick_label(self.plural_labels, locale) or self.plural_name

    @cached_property
    def fields_by_name(self) -> Mapping[str, FieldDef]:
        return MappingProxyType({f.name: f for f in self.fields})

    def field(self, name: str) -> FieldDef | None:
        return self.fields_by_name.get(name)

    @property
    def lookups(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.is_lookup)

    @cached_property
    def stored_fields(self) -> tuple[FieldDef, ...]:
        """Fields with a column (all but formulas and rollups)."""
        return tuple(f for f in self.fields if not f.is_computed)

    def rule(self, name: str) -> ValidationRuleDef | None:
        return next((r for r in self.validation_rules if r.name == name), None)

    def state_machine(self, field_name: str) -> StateMachineDef | None:
        return next((m for m in self.state_machines if m.field == field_name and m.active), None)


@dataclass(frozen=True)
class ReverseRelation:
    """A lookup seen from its target: ``account.opportunities`` through ``opportunity.account``."""

    name: str
    source_object: str
    lookup_field: str


@dataclass(frozen=True)
class TenantMetadata:
    """All definitions of one tenant at one metadata version."""

    tenant_slug: str
    schema_name: str
    version: int
    objects: tuple[ObjectDef, ...]
    fixed_relations: Mapping[str, tuple[ReverseRelation, ...]] | None = None
    """Reverse relations named by a fuller metadata (a user's restricted view keeps the names)."""
    plugins: tuple[str, ...] = ()
    """Plugins installed in the tenant (their GraphQL extensions are part of its schema)."""

    @cached_property
    def by_name(self) -> Mapping[str, ObjectDef]:
        return MappingProxyType({o.name: o for o in self.objects})

    @cached_property
    def by_plural(self) -> Mapping[str, ObjectDef]:
        return MappingProxyType({o.plural_name: o for o in self.objects})

    def object(self, name: str) -> ObjectDef | None:
        return self.by_name.get(name)

    @cached_property
    def reverse_relations(self) -> Mapping[str, tuple[ReverseRelation, ...]]:
        """Reverse relations per target object, named after the source's plural name.

        When one source looks up the same target twice, the second and later relations get the
        lookup field's name appended (``opportunitiesByPartner``) so names stay unique.
        """
        if self.fixed_relations is not None:
            return self.fixed_relations
        result: dict[str, list[ReverseRelation]] = {}
        for source in self.objects:
            seen_targets: set[str] = set()
            for f in source.lookups:
                target = f.target
                if target is None or target not in self.by_name:
                    continue
                if target in seen_targets:
                    name = f"{source.plural_name}By{f.name[0].upper()}{f.name[1:]}"
                else:
                    name = source.plural_name
                seen_targets.add(target)
                result.setdefault(target, []).append(ReverseRelation(name, source.name, f.name))
        return MappingProxyType({k: tuple(v) for k, v in result.items()})

    def referencing(self, object_name: str) -> list[tuple[ObjectDef, FieldDef]]:
        """Lookups (in other objects or the same one) that point at ``object_name``."""
        return [(o, f) for o in self.objects for f in o.lookups if f.target == object_name]
