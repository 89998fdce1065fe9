"""Validation rules on the write path: a write is refused when one of its object's active rules is
TRUE for a written record (Salesforce semantics).

Rules are evaluated by the Python back end on values read back inside the write's transaction, so
lookup paths, formulas and rollups hold what the write produced. Rules using ISCHANGED or PRIORVALUE
get the same paths read before the write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import ValidationError
from tessera.model.definitions import ObjectDef, ValidationRuleDef
from tessera.model.expressions import CheckedExpression, RecordEnv, evaluate, is_true
from tessera.model.registry import TenantModel

RECORD_CHANGE_FUNCTIONS = frozenset({"ISCHANGED", "PRIORVALUE"})

Values = Mapping[str, Any]


class RuleCheck:
    """The active rules of one object, ready to run against written records."""

    def __init__(self, conn: sa.Connection, model: TenantModel, obj: ObjectDef) -> None:
        self.conn = conn
        self.model = model
        self.obj = obj
        self.rules: list[tuple[ValidationRuleDef, CheckedExpression]] = [
            (rule, model.computed.rule(obj, rule)) for rule in obj.validation_rules if rule.active
        ]
        paths = {path for _, checked in self.rules for path in checked.references}
        self.paths = sorted(paths)
        self.needs_prior = any(checked.functions & RECORD_CHANGE_FUNCTIONS for _, checked in self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def read(self, ids: Sequence[str]) -> dict[str, Values]:
        """The values of every path the rules read, per record id, as the transaction sees them now."""
        if not self.rules or not ids:
            return {}
        return read_paths(self.conn, self.model, self.obj, ids, self.paths)

    def prior(self, ids: Sequence[str]) -> dict[str, Values]:
        """Values before the write, when some rule needs them."""
        return self.read(ids) if self.needs_prior else {}

    def violations(self, ids: Sequence[str], priors: Mapping[str, Values] | None = None) -> list[tuple[int, ValidationError]]:
        """(position in ``ids``, error) for each written record a rule refuses; a record fails on
        its first TRUE rule."""
        if not self.rules:
            return []
        now = utcnow()
        current = self.read(ids)
        found: list[tuple[int, ValidationError]] = []
        for index, record_id in enumerate(ids):
            prior = (priors or {}).get(record_id)
            env = RecordEnv(current.get(record_id, {}), prior, now=now, is_new=priors is None)
            for rule, checked in self.rules:
                if is_true(evaluate(checked, env)):
                    found.append((index, ValidationError(
                        rule.text(), field=rule.field, rule=rule.name,
                    )))
                    break
        return found


def read_paths(
    conn: sa.Connection, model: TenantModel, obj: ObjectDef, ids: Sequence[str], paths: Sequence[tuple[str, ...]]
) -> dict[str, Values]:
    """Values of field ``paths`` (lookup paths, formulas, rollups) per record id, as ``conn`` sees them
    (deleted records included: a delete's own rules and workflows read what was deleted)."""
    if not ids:
        return {}
    fields = model.field_sql(conn.dialect.name)
    table = model.tables.table(obj.name)
    resolve = fields.resolver(obj.name, table)
    paths = list(paths)
    columns = [resolve(path).label(f"p{i}") for i, path in enumerate(paths)]
    rows = conn.execute(sa.select(table.c.id, *columns).where(table.c.id.in_(list(ids)))).all()
    return {row[0]: {".".join(path): row[i + 1] for i, path in enumerate(paths)} for row in rows}
