"""The record write path: validate by field type, check lookups and uniqueness, write atomically.

Every write (GraphQL, bulk, packages' sample data, later imports and connectors) goes through
``RecordWriter``, so every rule holds on every path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.config import Limits
from tessera.core.errors import (
    Conflict,
    Forbidden,
    LimitExceeded,
    NotFound,
    ValidationError,
    ValidationErrors,
)
from tessera.core.ids import is_uuid, new_id
from tessera.model.access import SYSTEM, Action
from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.expressions import RecordEnv, evaluate
from tessera.model.field_types import registry
from tessera.model.registry import TenantModel
from tessera.plugin_host import PluginHost
from tessera.services.automation import state_machines, triggers
from tessera.services.automation.locks import refuse_locked
from tessera.services.metadata.sequences import take_numbers
from tessera.services.records.history import HistoryWriter, cleared_by_delete, output_value
from tessera.services.records.plugin_writes import run_write_hooks
from tessera.services.records.rules import RuleCheck
from tessera.services.runtime import Actor
from tessera.storage.system_tables import users

MAX_REPORTED_ERRORS = 20


class RecordWriter:
    """Writes for one transaction of one actor."""

    def __init__(
        self, conn: sa.Connection, model: TenantModel, actor: Actor, limits: Limits,
        plugins: PluginHost | None = None, depth: int = 0, *, workflow_depth: int = 0,
        max_workflow_depth: int = 5,
    ) -> None:
        self.conn = conn
        self.model = model
        self.meta = model.meta
        self.tables = model.tables
        self.actor = actor
        self.access = actor.access
        self.limits = limits
        self.plugins = plugins
        self.depth = depth
        self.workflow_depth = workflow_depth
        """How many workflow runs led to this write (0: a user's own write)."""
        self.max_workflow_depth = max_workflow_depth

    def nested(self, actor: Actor) -> RecordWriter:
        """A writer for what a plugin hook writes within this write (same transaction)."""
        return RecordWriter(self.conn, self.model, actor, self.limits, self.plugins, self.depth + 1,
                            workflow_depth=self.workflow_depth, max_workflow_depth=self.max_workflow_depth)

    def for_workflow(self) -> RecordWriter:
        """A writer for a workflow's field updates within this write: system rights, recorded as the
        triggering user's with channel ``workflow``, one workflow level deeper."""
        actor = Actor(self.actor.tenant, self.actor.user_id, "workflow", SYSTEM)
        return RecordWriter(self.conn, self.model, actor, self.limits, self.plugins, self.depth,
                            workflow_depth=self.workflow_depth + 1, max_workflow_depth=self.max_workflow_depth)

    def _object(self, name: str, action: Action) -> ObjectDef:
        obj = self.meta.object(name)
        if obj is None or not self.access.can(obj, Action.READ):
            raise NotFound(f"no object '{name}'", field="object")
        if not self.access.can(obj, action):
            raise Forbidden(f"you may not {action.value} {obj.plural_name}", field="object")
        return obj

    def _reach(
        self, obj: ObjectDef, table: sa.Table, record_id: str, *, deleted: bool = False, full: bool = False
    ) -> None:
        """Refuse a change to a record the user cannot see (NOT_FOUND) or may not change (FORBIDDEN).

        ``full``: the change needs full access (delete, restore, owner transfer), not just edit.
        """
        readable = self.access.row_filter(obj, table)
        editable = self.access.row_filter(obj, table, edit=True, full=full)
        if editable is None:
            return
        state = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
        row = self.conn.execute(
            sa.select(readable if readable is not None else sa.true(), editable)
            .where(table.c.id == record_id, state)
        ).first()
        if row is None or not row[0]:
            raise NotFound(f"no {'deleted ' if deleted else ''}{obj.name} with id {record_id}", field="id")
        if not row[1]:
            what = "delete, restore or transfer" if full else "change"
            raise Forbidden(f"you may read {obj.name} {record_id} but not {what} it", field="id")

    # --- create ---------------------------------------------------------------------------
    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]], *, bulk: bool = True) -> list[str]:
        """Insert all rows or none; returns their ids in input order.

        ``bulk`` errors name the row (``data.3: ...`` and ``extensions.index``).
        """
        obj = self._object(object_name, Action.CREATE)
        if len(rows) > self.limits.max_bulk_rows:
            raise LimitExceeded(f"at most {self.limits.max_bulk_rows} records per call", field="data")
        errors: list[ValidationError] = []
        values: list[dict[str, Any]] = []
        for index, data in enumerate(rows):
            try:
                values.append(self._prepare(obj, data, creating=True))
            except ValidationErrors as exc:
                errors.extend(_at(e, index if bulk else None) for e in exc.errors)
        self._raise(errors)
        # Stage state machines: allowed initial states, their roles, fields required on entering.
        state_machines.check(self.conn, self.access, obj, self.tables.table(obj.name),
                             [(None, row) for row in values], bulk=bulk)
        self._check_references(obj, values, [None] * len(values), bulk)
        self._check_unique(obj, values, [None] * len(values), bulk)
        now = utcnow()
        ids = [new_id() for _ in values]
        for field in obj.fields:
            if field.type == "AUTO_NUMBER":
                numbers = take_numbers(self.conn, self.actor.tenant, obj, field, len(values))
                for row, number in zip(values, numbers, strict=True):
                    row[field.column_name] = number
        columns = [f.column_name for f in obj.stored_fields]
        records = []
        for record_id, row in zip(ids, values, strict=True):
            owner = row.pop("owner_id", None) or self.actor.user_id
            record = {name: row.get(name) for name in columns}
            record.update(
                id=record_id, created_at=now, updated_at=now, created_by=self.actor.user_id,
                updated_by=self.actor.user_id, owner_id=owner, version=1, deleted_at=None,
            )
            records.append(record)
        if records:
            self.conn.execute(self.tables.table(obj.name).insert(), records)
        rules = RuleCheck(self.conn, self.model, obj)
        if rules:
            self._raise([_at(error, index if bulk else None) for index, error in rules.violations(ids)])
        history = HistoryWriter(self.conn, self.actor)
        for record in records:
            history.created(obj, record["id"], record)
        history.flush()
        run_write_hooks(self, self.plugins, obj, [(record_id, True, {}) for record_id in ids])
        triggers.fire_record_workflows(self, obj, "CREATED", [(record_id, {}) for record_id in ids])
        return ids

    # --- update ---------------------------------------------------------------------------
    def update(self, object_name: str, record_id: str, data: Mapping[str, Any], expected_version: int | None = None) -> str:
        obj = self._object(object_name, Action.EDIT)
        table = self.tables.table(obj.name)
        if is_uuid(record_id):
            self._reach(obj, table, record_id)
        query = sa.select(table.c.id, table.c.version, table.c.owner_id).where(
            table.c.id == record_id, table.c.deleted_at.is_(None))
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        current = self.conn.execute(query).first() if is_uuid(record_id) else None
        if current is None:
            raise NotFound(f"no {obj.name} with id {record_id}", field="id")
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                f"{obj.name} {record_id} is at version {current.version}, not {expected_version}: "
                "it was changed by someone else; reload and retry",
                field="expectedVersion", currentVersion=current.version,
            )
        # A record pending approval is locked (services/automation/locks.py).
        refuse_locked(self.conn, self.actor.tenant.id, self.access, obj, record_id)
        try:
            values = self._prepare(obj, data, creating=False)
        except ValidationErrors as exc:
            raise exc.errors[0] if len(exc.errors) == 1 else exc from None
        # Stage state machines: allowed transitions, their roles, fields required on entering.
        state_machines.check(self.conn, self.access, obj, table, [(record_id, values)])
        self._check_references(obj, [values], [record_id], False)
        self._check_unique(obj, [values], [record_id], False)
        if "owner_id" in values and values["owner_id"] is None:
            raise ValidationError("owner cannot be empty", field="owner")
        if "owner_id" in values and values["owner_id"] != current.owner_id:
            self._reach(obj, table, record_id, full=True)
        rules = RuleCheck(self.conn, self.model, obj)
        prior = rules.prior([record_id])
        old = self.conn.execute(
            sa.select(*[table.c[c] for c in values]).where(table.c.id == record_id)
        ).mappings().one() if values else {}
        changes = dict(values)
        values.update(updated_at=utcnow(), updated_by=self.actor.user_id, version=current.version + 1)
        result = self.conn.execute(
            table.update().where(table.c.id == record_id, table.c.version == current.version).values(**values)
        )
        if result.rowcount != 1:
            raise Conflict(f"{obj.name} {record_id} was changed concurrently; reload and retry", field="expectedVersion")
        for _, error in rules.violations([record_id], prior):
            raise error
        history = HistoryWriter(self.conn, self.actor)
        history.updated(obj, record_id, old, changes)
        history.flush()
        old_values = _api_values(obj, old, changes)
        run_write_hooks(self, self.plugins, obj, [(record_id, False, old_values)])
        triggers.fire_record_workflows(self, obj, "UPDATED", [(record_id, old_values)])
        return record_id

    # --- delete ---------------------------------------------------------------------------
    def delete(self, object_name: str, record_id: str) -> str:
        """Soft-delete the record and apply each referencing lookup's on-delete rule."""
        obj = self._object(object_name, Action.DELETE)
        table = self.tables.table(obj.name)
        if is_uuid(record_id):
            self._reach(obj, table, record_id, full=True)
        exists = is_uuid(record_id) and self.conn.execute(
            sa.select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
        ).first()
        if not exists:
            raise NotFound(f"no {obj.name} with id {record_id}", field="id")
        refuse_locked(self.conn, self.actor.tenant.id, self.access, obj, record_id)
        history = HistoryWriter(self.conn, self.actor)
        deleted: set[tuple[str, str]] = set()
        self._delete(obj, [record_id], history.at, deleted, history)
        history.flush()
        # The delete's own record first, then each object whose records it cascaded to.
        triggers.fire_record_workflows(self, obj, "DELETED", [(record_id, {})])
        cascaded: dict[str, list[str]] = defaultdict(list)
        for name, one in sorted(deleted):
            if (name, one) != (obj.name, record_id):
                cascaded[name].append(one)
        for name, ids in cascaded.items():
            triggers.fire_record_workflows(self, self.meta.by_name[name], "DELETED", [(one, {}) for one in ids])
        return record_id

    def _delete(
        self, obj: ObjectDef, ids: list[str], now: Any, seen: set[tuple[str, str]], history: HistoryWriter
    ) -> None:
        ids = [i for i in ids if (obj.name, i) not in seen]
        if not ids:
            return
        seen.update((obj.name, i) for i in ids)
        for source, field in self.meta.referencing(obj.name):
            source_table = self.tables.table(source.name)
            fk = source_table.c[field.column_name]
            live = sa.and_(fk.in_(ids), source_table.c.deleted_at.is_(None))
            if source.name == obj.name:
                live = sa.and_(live, source_table.c.id.not_in(ids))
            links = self.conn.execute(sa.select(source_table.c.id, fk).where(live)).all()
            children = [child for child, _ in links]
            if not children:
                continue
            rule = field.opt("onDelete", "SET_NULL")
            if rule == "RESTRICT":
                raise ValidationError(
                    f"cannot delete {obj.name} {ids[0] if len(ids) == 1 else ids}: {len(children)} "
                    f"{source.plural_name} look it up through {source.name}.{field.name} (on delete: restrict)",
                    field="id", blockedBy=f"{source.name}.{field.name}", records=len(children),
                )
            if rule == "SET_NULL":
                for child, target in links:
                    history.cleared(source, field, [child], target)
                self.conn.execute(
                    source_table.update().where(source_table.c.id.in_(children)).values(
                        {fk.name: None, "version": source_table.c.version + 1, "updated_at": now,
                         "updated_by": self.actor.user_id}
                    )
                )
            else:
                self._delete(source, list(children), now, seen, history)
        history.deleted(obj, ids)
        table = self.tables.table(obj.name)
        self.conn.execute(
            table.update().where(table.c.id.in_(ids)).values(
                deleted_at=now, version=table.c.version + 1, updated_at=now, updated_by=self.actor.user_id
            )
        )

    # --- restore --------------------------------------------------------------------------
    def restore(self, object_name: str, record_id: str) -> str:
        """Bring back a deleted record and the records its delete cascaded to (same instant)."""
        obj = self._object(object_name, Action.DELETE)
        table = self.tables.table(obj.name)
        if is_uuid(record_id):
            self._reach(obj, table, record_id, deleted=True, full=True)
        row = self.conn.execute(
            sa.select(table).where(table.c.id == record_id, table.c.deleted_at.is_not(None))
        ).mappings().first() if is_uuid(record_id) else None
        if row is None:
            raise NotFound(f"no deleted {obj.name} with id {record_id}", field="id")
        for field in obj.lookups:
            target_id = row[field.column_name]
            if target_id is None:
                continue
            target = self.tables.table(field.target or "")
            live = self.conn.execute(
                sa.select(target.c.id).where(target.c.id == target_id, target.c.deleted_at.is_(None))
            ).first()
            if live is None:
                raise ValidationError(
                    f"{field.name}: the {field.target} {target_id} it looks up is deleted; restore that first",
                    field=field.name,
                )
        history = HistoryWriter(self.conn, self.actor)
        restored: list[tuple[ObjectDef, list[str]]] = []
        self._restore(obj, [record_id], row["deleted_at"], history.at, history, restored)
        # Lookups are put back once every record of the restore is live again (a contact restored
        # with its account may be what an activity restored with it looked up).
        for restored_obj, ids in restored:
            for one in ids:
                self._relink(restored_obj, one, history.at, history)
        history.flush()
        return record_id

    def _restore(
        self, obj: ObjectDef, ids: list[str], deleted_at: Any, now: Any, history: HistoryWriter,
        restored: list[tuple[ObjectDef, list[str]]],
    ) -> None:
        table = self.tables.table(obj.name)
        self.conn.execute(
            table.update().where(table.c.id.in_(ids)).values(
                deleted_at=None, version=table.c.version + 1, updated_at=now, updated_by=self.actor.user_id
            )
        )
        history.restored(obj, ids)
        restored.append((obj, ids))
        for source, field in self.meta.referencing(obj.name):
            if field.opt("onDelete") != "CASCADE":
                continue
            source_table = self.tables.table(source.name)
            children = self.conn.execute(
                sa.select(source_table.c.id).where(
                    source_table.c[field.column_name].in_(ids), source_table.c.deleted_at == deleted_at
                )
            ).scalars().all()
            if children:
                self._restore(source, list(children), deleted_at, now, history, restored)

    def _relink(self, obj: ObjectDef, record_id: str, now: Any, history: HistoryWriter) -> None:
        """Put back the lookups to ``record_id`` that its delete set to null, where still empty."""
        objects = {o.id: o for o in self.meta.objects}
        for object_id, child_id, field_name in cleared_by_delete(self.conn, obj, record_id):
            source = objects.get(object_id)
            field = source.field(field_name) if source else None
            if source is None or field is None or field.target != obj.name:
                continue
            table = self.tables.table(source.name)
            column = table.c[field.column_name]
            result = self.conn.execute(
                table.update()
                .where(table.c.id == child_id, column.is_(None), table.c.deleted_at.is_(None))
                .values({column.name: record_id, "version": table.c.version + 1, "updated_at": now,
                         "updated_by": self.actor.user_id})
            )
            if result.rowcount:
                history.updated(source, child_id, {field.column_name: None}, {field.column_name: record_id})

    # --- validation -----------------------------------------------------------------------
    def _prepare(self, obj: ObjectDef, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """Parse one input row into column values; collect every problem of the row."""
        errors: list[ValidationError] = []
        values: dict[str, Any] = {}
        types = registry()
        for key, value in data.items():
            if key == "owner":
                if value is not None and not is_uuid(value):
                    errors.append(ValidationError(f"owner: '{value}' is not a user id", field="owner"))
                values["owner_id"] = value
                continue
            field = obj.field(key)
            grant = self.access.profile.field(obj, field) if field is not None else None
            if field is None or grant is None or not grant.read:
                errors.append(ValidationError(f"{obj.name} has no field '{key}'", field=key))
                continue
            if field.is_computed:
                errors.append(ValidationError(f"{key} is a {field.type.lower()} field: its value is computed", field=key))
                continue
            if field.read_only:
                errors.append(ValidationError(f"{key} is read-only", field=key))
                continue
            if not grant.edit:
                errors.append(ValidationError(f"{key} is read-only for you", field=key))
                continue
            try:
                parsed = types.of(field).parse(field, value)
            except ValidationError as exc:
                errors.append(exc)
                continue
            if parsed is None and field.required:
                errors.append(ValidationError(f"{key} is required", field=key))
                continue
            values[field.column_name] = types.of(field).to_storage(field, parsed)
        if creating:
            for field in obj.stored_fields:
                if field.column_name in values or field.name in data:
                    continue
                if field.default_value is not None:
                    values[field.column_name] = types.of(field).parse(field, field.default_value)
                elif field.default_expression:
                    try:
                        values[field.column_name] = self._default(obj, field)
                    except ValidationError as exc:
                        errors.append(exc)
                elif field.required and field.type != "AUTO_NUMBER":
                    errors.append(ValidationError(f"{field.name} is required", field=field.name))
        if values.get("owner_id"):
            self._check_owner(values["owner_id"], errors)
        if errors:
            raise ValidationErrors(errors)
        return values

    def _default(self, obj: ObjectDef, field: FieldDef) -> Any:
        """The value of a field's default expression, as the column stores it."""
        value = evaluate(self.model.computed.default(obj, field), RecordEnv({}, is_new=True))
        if isinstance(value, Decimal) and field.opt("scale") is not None:
            value = value.quantize(Decimal(1).scaleb(-field.opt("scale")), rounding=ROUND_HALF_UP)
        field_type = registry().of(field)
        try:
            parsed = field_type.parse(field, value)
        except ValidationError as exc:
            reason = exc.message.removeprefix(f"{field.name}: ")
            raise ValidationError(f"{field.name}: its default value expression gives an invalid value "
                                  f"({reason})", field=field.name) from None
        if parsed is None and field.required:
            raise ValidationError(f"{field.name} is required (its default value expression gives null)",
                                  field=field.name)
        return field_type.to_storage(field, parsed)

    def _check_owner(self, user_id: str, errors: list[ValidationError]) -> None:
        found = self.conn.execute(
            sa.select(users.c.id).where(users.c.id == user_id, users.c.tenant_id == self.actor.tenant.id)
        ).first()
        if found is None:
            errors.append(ValidationError(f"owner: no user with id {user_id}", field="owner"))

    def _check_references(self, obj: ObjectDef, rows: list[dict[str, Any]], ids: list[str | None], bulk: bool) -> None:
        errors: list[ValidationError] = []
        for field in obj.lookups:
            wanted = {row[field.column_name] for row in rows if row.get(field.column_name)}
            if not wanted:
                continue
            target = self.tables.table(field.target or "")
            reach = self.access.row_filter(self.meta.by_name[field.target or ""], target)
            found = set(self.conn.execute(
                sa.select(target.c.id).where(
                    target.c.id.in_(sorted(wanted)), target.c.deleted_at.is_(None),
                    *([reach] if reach is not None else []),
                )
            ).scalars())
            for index, row in enumerate(rows):
                value = row.get(field.column_name)
                if value and value not in found:
                    errors.append(_at(ValidationError(
                        f"{field.name}: no {field.target} with id {value}", field=field.name, value=value
                    ), index if bulk else None))
        self._raise(errors)

    def _check_unique(self, obj: ObjectDef, rows: list[dict[str, Any]], ids: list[str | None], bulk: bool) -> None:
        errors: list[ValidationError] = []
        table = self.tables.table(obj.name)
        sees_all = self.access.row_filter(obj, table) is None
        for field in (f for f in obj.fields if f.unique and f.type != "AUTO_NUMBER"):
            column = table.c[field.column_name]
            seen: dict[Any, int] = {}
            values = defaultdict(list)
            for index, row in enumerate(rows):
                value = row.get(field.column_name)
                if value is None:
                    continue
                if value in seen:
                    errors.append(_at(_duplicate(field, value, f"record {seen[value]} of this call"), index if bulk else None))
                seen[value] = index
                values[value].append(index)
            if not values:
                continue
            query = sa.select(column, table.c.id).where(column.in_(list(values)))
            for value, other_id in self.conn.execute(query):
                for index in values.get(value, ()):
                    if ids[index] != other_id:
                        # Only those who see every record of the object learn which one holds it.
                        holder = f"{obj.name} {other_id}" if sees_all else f"another {obj.name}"
                        errors.append(_at(_duplicate(field, value, holder), index if bulk else None))
        self._raise(errors)

    @staticmethod
    def _raise(errors: list[ValidationError]) -> None:
        if errors:
            raise ValidationErrors(errors[:MAX_REPORTED_ERRORS])


def _duplicate(field: FieldDef, value: Any, holder: str) -> ValidationError:
    return ValidationError(f"{field.name}: value '{value}' is already used by {holder}", field=field.name, value=str(value))



def _api_values(obj: ObjectDef, old: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Old values of the fields a write changed, by API name and in API form."""
    values: dict[str, Any] = {}
    for field in obj.stored_fields:
        if field.column_name in changes and old.get(field.column_name) != changes[field.column_name]:
            values[field.name] = output_value(field, old.get(field.column_name))
    if "owner_id" in changes and old.get("owner_id") != changes["owner_id"]:
        values["owner"] = old.get("owner_id")
    return values


def _at(error: ValidationError, index: int | None) -> ValidationError:
    if index is None:
        return error
    error.details["index"] = index
    error.message = f"data.{index}: {error.message}"
    return error
