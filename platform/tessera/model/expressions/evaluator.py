"""The Python back end: evaluates a typed tree against one record's values.

Field values come from an ``Env``: ``value(path)`` for the record (and its lookups), ``prior(path)``
for the values before the write, ``is_new`` and ``now``. ``RecordEnv`` serves plain mappings, with
lookups either nested (``{"account": {"name": "Acme"}}``) or dotted (``{"account.name": "Acme"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from typing import Any, Protocol

from tessera.core.clock import utcnow
from tessera.model.expressions.checker import CheckedExpression
from tessera.model.expressions.functions.spec import PROPAGATE
from tessera.model.expressions.scope import FieldInfo
from tessera.model.expressions.typed import TCall, TField, TLiteral, Typed
from tessera.model.expressions.types import ExprType
from tessera.model.expressions.values import DECIMAL_CONTEXT, to_decimal

T = ExprType


class Env(Protocol):
    now: datetime
    is_new: bool

    def value(self, path: tuple[str, ...]) -> Any:
        ...

    def prior(self, path: tuple[str, ...]) -> Any:
        ...


@dataclass
class RecordEnv:
    """An ``Env`` over mappings of API field names to values."""

    values: Mapping[str, Any]
    prior_values: Mapping[str, Any] | None = None
    now: datetime = field(default_factory=utcnow)
    is_new: bool = False

    def value(self, path: tuple[str, ...]) -> Any:
        return lookup(self.values, path)

    def prior(self, path: tuple[str, ...]) -> Any:
        return lookup(self.prior_values or {}, path)


def lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """``path`` in ``values``: a dotted key, or nested mappings; a missing lookup gives None."""
    dotted = ".".join(path)
    if dotted in values:
        return values[dotted]
    current: Any = values
    for name in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(name)
    return current


def normalize(value: Any, info: FieldInfo) -> Any:
    """A stored or API value as the language's Python value for the field's type."""
    if value is None:
        return None
    t = info.type
    if isinstance(value, Mapping):
        value = value.get("id")  # a lookup given as its target record
    if t in (T.TEXT, T.PICKLIST):
        return value if isinstance(value, str) else str(value)
    if t == T.INTEGER:
        return int(value)
    if t == T.NUMBER:
        return to_decimal(value)
    if t == T.BOOLEAN:
        return bool(value)
    if t == T.DATE:
        return _to_date(value)
    if t == T.DATETIME:
        return _to_datetime(value)
    if t == T.MULTI_PICKLIST:
        return list(value)
    return value


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return _to_datetime(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


class Evaluation:
    """One evaluation: walks the tree; function implementations call back through it."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.now = env.now

    def eval(self, node: Typed) -> Any:
        if isinstance(node, TLiteral):
            return node.value
        if isinstance(node, TField):
            return self.read(node)
        assert isinstance(node, TCall)
        spec, signature = node.spec, node.signature
        try:
            if spec.special:
                return signature.python(self, node)
            values = [self.eval(arg) for arg in node.args]
            if spec.nulls == PROPAGATE and any(v is None for v in values):
                return None
            return signature.python(*values)
        except (ArithmeticError, ValueError, OverflowError):
            # Undefined results (overflow, impossible dates) are null, as in the SQL back end.
            return None

    def read(self, node: TField) -> Any:
        return normalize(self.env.value(node.path), node.info)

    def read_prior(self, node: TField) -> Any:
        return normalize(self.env.prior(node.path), node.info)


def evaluate(expr: CheckedExpression | Typed, env: Env | Mapping[str, Any] | None = None) -> Any:
    """The value of ``expr`` for one record (``env``: an ``Env``, or a mapping of field values)."""
    tree = expr.tree if isinstance(expr, CheckedExpression) else expr
    if env is None:
        env = RecordEnv({})
    elif isinstance(env, Mapping):
        env = RecordEnv(env)
    with localcontext(DECIMAL_CONTEXT):
        result = Evaluation(env).eval(tree)
    if tree.type == T.NUMBER and isinstance(result, int) and not isinstance(result, bool):
        return Decimal(result)
    return result


def is_true(value: Any) -> bool:
    """How validation rules, conditions and filters read a result: only TRUE counts (null is not)."""
    return value is True
