"""The values an action writes: its literal ``values`` plus its ``formulas`` evaluated on the record."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tessera.model.automation.workflows import CompiledAction
from tessera.model.definitions import ObjectDef
from tessera.model.expressions import Env, evaluate


def action_values(target: ObjectDef, action: CompiledAction, env: Env) -> dict[str, Any]:
    """Input for the write path (API names and forms); the write path validates them as any input."""
    data: dict[str, Any] = dict(action.spec.get("values") or {})
    for name, checked in action.formulas.items():
        data[name] = api_value(evaluate(checked, env))
    return data


def api_value(value: Any) -> Any:
    """An expression's value in the form GraphQL input would give it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


