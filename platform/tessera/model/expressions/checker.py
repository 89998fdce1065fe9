"""The static type checker: syntax tree → typed tree, refusing with position and reason.

It runs when a definition is saved: unknown fields and functions, wrong arity, type mismatches,
functions not allowed in the context, and the size limits are all reported before anything runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from tessera.core.errors import ValidationError
from tessera.model.definitions import TenantMetadata
from tessera.model.expressions import syntax as s
from tessera.model.expressions.context import RULES, Context
from tessera.model.expressions.errors import expression_error
from tessera.model.expressions.functions import FunctionRegistry, FunctionSpec, default_functions
from tessera.model.expressions.grammar import parse
from tessera.model.expressions.limits import DEFAULT_LIMITS, ExpressionLimits
from tessera.model.expressions.scope import NoFields, ObjectScope, Scope, ScopeError
from tessera.model.expressions.typed import TCall, TField, TLiteral, Typed, walk
from tessera.model.expressions.types import ExprType, assignable, describe

T = ExprType
LITERAL_TYPES = {
    "text": T.TEXT, "integer": T.INTEGER, "number": T.NUMBER, "boolean": T.BOOLEAN,
    "date": T.DATE, "datetime": T.DATETIME, "null": T.NULL,
}
OPERATOR_FUNCTIONS = {"^": "POWER", "AND": "AND", "OR": "OR"}
COMPARISON_OPS = ("=", "<>", "<", "<=", ">", ">=")
SQL_DIALECTS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class CheckedExpression:
    """A valid expression: its typed tree and what the caller needs to know about it."""

    source: str
    tree: Typed
    type: ExprType
    context: Context
    volatile: bool
    """Uses TODAY() or NOW(): its value changes with time, not only with the record."""
    references: frozenset[tuple[str, ...]]
    """Every field path it reads (for dependency checks when a field changes)."""
    functions: frozenset[str]


def check(
    source: str,
    scope: Scope | None,
    context: Context,
    *,
    expected: ExprType | None = None,
    functions: FunctionRegistry | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
) -> CheckedExpression:
    """Parse and type-check ``source``; refuse with ``ValidationError(field="expression")``."""
    syntax_tree = parse(source, limits)
    checker = _Checker(scope or NoFields(), context, functions or default_functions())
    tree = checker.node(syntax_tree)
    tree = _check_result(tree, context, expected)
    nodes = walk(tree)
    return CheckedExpression(
        source=source,
        tree=tree,
        type=tree.type,
        context=context,
        volatile=any(isinstance(n, TCall) and n.spec.volatile for n in nodes),
        references=frozenset(n.path for n in nodes if isinstance(n, TField)),
        functions=frozenset(n.spec.name for n in nodes if isinstance(n, TCall) and not n.spec.operator),
    )


def check_for_object(
    source: str,
    meta: TenantMetadata,
    object_name: str,
    context: Context,
    *,
    expected: ExprType | None = None,
    functions: FunctionRegistry | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
) -> CheckedExpression:
    """``check`` with the fields of ``object_name`` (and its lookups) in scope."""
    scope = ObjectScope(meta, object_name, max_hops=limits.max_path_hops)
    return check(source, scope, context, expected=expected, functions=functions, limits=limits)


def _check_result(tree: Typed, context: Context, expected: ExprType | None) -> Typed:
    rules = RULES[context]
    wanted = rules.result or expected
    if tree.type == T.MULTI_PICKLIST:
        raise expression_error(tree.pos, "a multi-select picklist cannot be the result; use INCLUDES",
                               kind="type_mismatch")
    if wanted is None:
        return tree
    if not assignable(tree.type, wanted):
        raise expression_error(
            tree.pos,
            f"type mismatch: {rules.label} must give {describe(wanted)}, this gives {describe(tree.type)}",
            kind="type_mismatch",
        )
    return coerce(tree, wanted)


def coerce(node: Typed, target: ExprType) -> Typed:
    """``node`` made to fit ``target``: a typed null, or an INTEGER widened to NUMBER."""
    if node.type == target:
        return node
    if node.type == T.NULL and isinstance(node, TLiteral):
        return TLiteral(type=target, pos=node.pos, value=None)
    if node.type == T.INTEGER and target == T.NUMBER:
        spec = default_functions().get("$NUMBER")
        assert spec is not None
        return TCall(type=T.NUMBER, pos=node.pos, spec=spec, signature=spec.signatures[0], args=(node,))
    return node


class _Checker:
    def __init__(self, scope: Scope, context: Context, registry: FunctionRegistry) -> None:
        self.scope = scope
        self.context = context
        self.rules = RULES[context]
        self.registry = registry

    def node(self, node: s.Node) -> Typed:
        if isinstance(node, s.Literal):
            return TLiteral(type=LITERAL_TYPES[node.kind], pos=node.pos, value=node.value)
        if isinstance(node, s.FieldRef):
            return self.field(node)
        if isinstance(node, s.Unary):
            return self.unary(node)
        if isinstance(node, s.Binary):
            return self.binary(node)
        if isinstance(node, s.Call):
            return self.call(node)
        raise AssertionError(f"unknown syntax node {type(node).__name__}")

    def field(self, node: s.FieldRef) -> Typed:
        if not self.rules.allows_fields:
            raise expression_error(node.pos, f"{self.rules.label} cannot read fields ('{'.'.join(node.path)}')",
                                   kind="unknown_field")
        try:
            info = self.scope.resolve(node.path)
        except ScopeError as exc:
            pos = node.segment_pos[min(exc.segment, len(node.segment_pos) - 1)]
            raise expression_error(pos, exc.reason, kind="unknown_field") from None
        return TField(type=info.type, pos=node.pos, info=info)

    def unary(self, node: s.Unary) -> Typed:
        if node.op == "NOT":
            return self.apply(self.spec("NOT"), (node.operand,), node.pos, "NOT", operator=True)
        operand = node.operand
        if isinstance(operand, s.Literal) and operand.kind in ("integer", "number"):
            value = -operand.value if node.op == "-" else operand.value
            return TLiteral(type=LITERAL_TYPES[operand.kind], pos=node.pos, value=value)
        if node.op == "-":
            return self.apply(self.spec("NEG"), (operand,), node.pos, "-", operator=True)
        typed = self.node(operand)
        if typed.type not in (T.INTEGER, T.NUMBER, T.NULL):
            raise expression_error(node.pos, f"type mismatch: '+' cannot take {describe(typed.type)}",
                                   kind="type_mismatch")
        return typed

    def binary(self, node: s.Binary) -> Typed:
        if node.op in COMPARISON_OPS:
            for side in (node.left, node.right):
                if isinstance(side, s.Literal) and side.kind == "null":
                    raise expression_error(
                        side.pos, "a comparison with NULL is never TRUE; use ISBLANK(value) to test for null",
                        kind="type_mismatch",
                    )
        spec = self.spec(OPERATOR_FUNCTIONS.get(node.op, node.op))
        return self.apply(spec, (node.left, node.right), node.pos, node.op, operator=True)

    def call(self, node: s.Call) -> Typed:
        spec = self.registry.get(node.name)
        if spec is None or spec.operator:
            close = difflib.get_close_matches(node.name, self.registry.names(), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise expression_error(node.pos, f"unknown function '{node.written}'{hint}", kind="unknown_function")
        if not spec.allowed_in(self.context):
            places = ", ".join(RULES[c].label for c in Context if spec.contexts and c in spec.contexts)
            raise expression_error(
                node.pos, f"{spec.name} is not allowed in {self.rules.label} (only in {places})",
                kind="not_allowed",
            )
        self._check_arity(spec, node)
        for index in spec.field_args:
            arg = node.args[index]
            if not isinstance(arg, s.FieldRef) or len(arg.path) != 1:
                raise expression_error(arg.pos, f"{spec.name} needs a field of this record, e.g. "
                                                f"{spec.name}(stage)", kind="type_mismatch")
        for index in spec.literal_args:
            if index < len(node.args) and not _is_literal(node.args[index]):
                raise expression_error(node.args[index].pos,
                                       f"argument {index + 1} of {spec.name} must be written as a literal",
                                       kind="type_mismatch")
        return self.apply(spec, node.args, node.pos, spec.name, operator=False)

    def apply(self, spec: FunctionSpec, args: Sequence[s.Node], pos: s.Pos, shown: str, *, operator: bool) -> Typed:
        typed = [self.node(a) for a in args]
        signature = spec.overload([a.type for a in typed])
        if signature is None:
            raise self._mismatch(spec, typed, pos, shown, operator)
        coerced = tuple(coerce(a, signature.param(i)) for i, a in enumerate(typed))
        if self.rules.sql and any(signature.sql_for(dialect) is None for dialect in SQL_DIALECTS):
            raise expression_error(pos, f"{shown} cannot be computed in SQL, so it cannot be used in "
                                        f"{self.rules.label}", kind="not_allowed")
        if spec.validate is not None:
            problem = spec.validate(coerced)
            if problem is not None:
                index, reason = problem
                raise expression_error(coerced[index].pos, reason, kind="invalid_argument")
        return TCall(type=signature.result, pos=pos, spec=spec, signature=signature, args=coerced)

    def spec(self, name: str) -> FunctionSpec:
        spec = self.registry.get(name)
        assert spec is not None, f"built-in {name} is missing"
        return spec

    @staticmethod
    def _check_arity(spec: FunctionSpec, node: s.Call) -> None:
        low, high, got = spec.min_args, spec.max_args, len(node.args)
        if low <= got and (high is None or got <= high):
            return
        if high is None:
            wanted = f"at least {low} argument{'s' if low != 1 else ''}"
        elif low == high:
            wanted = f"{low} argument{'s' if low != 1 else ''}"
        else:
            wanted = f"{low} to {high} arguments"
        raise expression_error(node.pos, f"{spec.name} expects {wanted}, got {got}; usage: {spec.usage}",
                               kind="arity")

    def _mismatch(self, spec: FunctionSpec, args: list[Typed], pos: s.Pos, shown: str,
                  operator: bool) -> ValidationError:
        types = [a.type for a in args]
        multi = " (multi-select picklists work only with ISBLANK and INCLUDES)" if T.MULTI_PICKLIST in types else ""
        if operator:
            taken = " and ".join(describe(t) for t in types)
            hint = " (use & to join texts)" if shown == "+" and T.TEXT in types else ""
            return expression_error(pos, f"type mismatch: '{shown}' cannot take {taken}{hint}{multi}",
                                    kind="type_mismatch")
        candidates = [sig for sig in spec.signatures if sig.fits(len(types))] if spec.resolve is None else []
        for index, (arg, t) in enumerate(zip(args, types, strict=True)):
            accepted = {sig.param(index) for sig in candidates}
            if candidates and not any(assignable(t, p) for p in accepted):
                wanted = " or ".join(sorted(describe(p) for p in accepted))
                return expression_error(
                    arg.pos, f"type mismatch: argument {index + 1} of {spec.name} must be {wanted}, "
                             f"not {describe(t)}{multi}", kind="type_mismatch",
                )
        listed = ", ".join(describe(t) for t in types)
        return expression_error(pos, f"type mismatch: {spec.name} cannot take ({listed}); usage: {spec.usage}{multi}",
                                kind="type_mismatch")


def _is_literal(node: s.Node) -> bool:
    if isinstance(node, s.Unary) and node.op in ("-", "+"):
        node = node.operand
    return isinstance(node, s.Literal)
