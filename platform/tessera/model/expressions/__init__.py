"""The expression language: one safe language for formulas, validation rules, defaults, workflow
conditions and report filters, evaluated in Python and compiled to SQL from the same typed tree.

Typical use::

    checked = check_for_object(source, meta, "opportunity", Context.FORMULA, expected=ExprType.NUMBER)
    value = evaluate(checked, RecordEnv(values, now=now))                         # Python
    column = compile_sql(checked, RecordResolver(tables, "opportunity"), dialect="sqlite", now=now)

The language is documented in ``docs/expressions.md``.
"""

from tessera.model.expressions.checker import CheckedExpression, check, check_for_object, coerce
from tessera.model.expressions.context import Context, ContextRules, rules
from tessera.model.expressions.errors import EXPRESSION_FIELD
from tessera.model.expressions.evaluator import Env, Evaluation, RecordEnv, evaluate, is_true
from tessera.model.expressions.functions import FunctionRegistry, FunctionSpec, Signature, default_functions
from tessera.model.expressions.grammar import parse
from tessera.model.expressions.limits import DEFAULT_LIMITS, ExpressionLimits
from tessera.model.expressions.resolver import RecordResolver
from tessera.model.expressions.scope import FieldInfo, NoFields, ObjectScope, Scope, ScopeError
from tessera.model.expressions.sql import compile_sql
from tessera.model.expressions.sqlkit import Resolver, SqlCall, SqlContext, sql_type
from tessera.model.expressions.types import RESULT_TYPES, ExprType, field_expr_type

__all__ = [
    "DEFAULT_LIMITS",
    "EXPRESSION_FIELD",
    "RESULT_TYPES",
    "CheckedExpression",
    "Context",
    "ContextRules",
    "Env",
    "Evaluation",
    "ExprType",
    "ExpressionLimits",
    "FieldInfo",
    "FunctionRegistry",
    "FunctionSpec",
    "NoFields",
    "ObjectScope",
    "RecordEnv",
    "RecordResolver",
    "Resolver",
    "Scope",
    "ScopeError",
    "Signature",
    "SqlCall",
    "SqlContext",
    "check",
    "check_for_object",
    "coerce",
    "compile_sql",
    "default_functions",
    "evaluate",
    "field_expr_type",
    "is_true",
    "parse",
    "rules",
    "sql_type",
]
