"""Definitions built from expressions stay valid: formulas, rollups, validation rules and default
value expressions are checked when they are saved, and every metadata change re-checks all of them
against the definitions it would commit, refusing (``IN_USE``) when one would break.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from types import MappingProxyType

from tessera.core.errors import InUse, TesseraError, ValidationError
from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata, ValidationRuleDef
from tessera.model.field_types import registry
from tessera.model.field_types.computed import DECIMAL_RESULTS
from tessera.model.records.computed import check_default, check_formula, check_rollup_filter, check_rule

NUMERIC = frozenset({"INTEGER", "NUMBER", "CURRENCY", "PERCENT"})
ORDERED = NUMERIC | {"DATE", "DATETIME"}
MAX_LISTED = 10


def prepare_field(meta: TenantMetadata, obj: ObjectDef, field: FieldDef) -> FieldDef:
    """Check a field's expressions against ``meta`` as it would be with the field in it (so a
    formula using itself is a cycle, not an unknown field); a rollup gets its result type and scale."""
    if field.default_expression:
        _renamed(lambda: check_default(field), "defaultExpression")
    if not field.is_computed:
        return field
    if field.type == "ROLLUP":
        # Derived with the rollup already in place (a placeholder result type until derived), so a
        # rollup over its own object that summarizes itself is found as a cycle below.
        field = _prepare_rollup(_with_field(meta, obj, replace(field, options=MappingProxyType(
            {**field.options, "resultType": field.opt("resultType") or "NUMBER"}))), obj, field)
    tentative = _with_field(meta, obj, field)
    cycle = _cycle(tentative, start=(obj.name, field.name))
    if cycle:
        raise _cycle_error(cycle)
    if field.type == "FORMULA":
        check_formula(tentative, obj.name, field)
    return field


def _with_field(meta: TenantMetadata, obj: ObjectDef, field: FieldDef) -> TenantMetadata:
    """``meta`` with ``field`` added to (or replacing its namesake in) ``obj``."""
    current = meta.by_name[obj.name]
    fields = (*(f for f in current.fields if f.name != field.name), field)
    objects = tuple(replace(o, fields=fields) if o.name == obj.name else o for o in meta.objects)
    return replace(meta, objects=objects)


def _cycle_error(cycle: list[str]) -> ValidationError:
    return ValidationError(
        "expression: computed fields would use each other in a cycle: " + " → ".join(cycle),
        field="expression", kind="cycle",
    )


def _prepare_rollup(meta: TenantMetadata, obj: ObjectDef, field: FieldDef) -> FieldDef:
    child_name, lookup_name, function = field.opt("childObject"), field.opt("childField"), field.opt("function")
    child = meta.object(child_name)
    if child is None:
        raise ValidationError(f"childObject: no object '{child_name}'", field="childObject")
    lookup = child.field(lookup_name)
    if lookup is None or not lookup.is_lookup or lookup.target != obj.name:
        raise ValidationError(
            f"childField: '{lookup_name}' is not a lookup from {child.name} to {obj.name}", field="childField"
        )
    options = dict(field.options)
    if function == "COUNT":
        options["resultType"] = "INTEGER"
        options.pop("scale", None)
    else:
        summarized = child.field(field.opt("summarizedField", ""))
        if summarized is None:
            raise ValidationError(
                f"summarizedField: {child.name} has no field '{field.opt('summarizedField')}'", field="summarizedField"
            )
        value_type = registry().value_type(summarized).key
        allowed = ORDERED if function in ("MIN", "MAX") else NUMERIC
        if value_type not in allowed:
            raise ValidationError(
                f"summarizedField: {function} cannot summarize {value_type} field '{summarized.name}'",
                field="summarizedField",
            )
        result = "NUMBER" if function == "AVG" and value_type == "INTEGER" else value_type
        options["resultType"] = result
        if result in DECIMAL_RESULTS:
            options["scale"] = summarized.opt("scale", 2)
        else:
            options.pop("scale", None)
    field = replace(field, options=MappingProxyType(options))
    _renamed(lambda: check_rollup_filter(meta, field), "filter")
    return field


def _renamed(check: object, key: str) -> None:
    """Run an expression check, reporting its errors against input key ``key``."""
    try:
        check()  # type: ignore[operator]
    except ValidationError as exc:
        raise ValidationError(f"{key}: {exc.message}", field=key, **{
            k: v for k, v in exc.details.items() if k != "field"
        }) from None


def broken_definitions(meta: TenantMetadata) -> list[str]:
    """Every expression-based definition that does not hold against ``meta``, described."""
    problems = []
    for what, check in _definitions(meta):
        try:
            check()
        except TesseraError as exc:
            problems.append(f"{what}: {exc.message}")
    return problems


def _definitions(meta: TenantMetadata) -> Iterator[tuple[str, object]]:
    for obj in meta.objects:
        for field in obj.fields:
            if field.default_expression:
                yield f"default value of {obj.name}.{field.name}", lambda field=field: check_default(field)
            if field.type == "FORMULA":
                yield f"formula {obj.name}.{field.name}", lambda obj=obj, field=field: check_formula(meta, obj.name, field)
            elif field.type == "ROLLUP":
                yield f"rollup {obj.name}.{field.name}", lambda obj=obj, field=field: _rollup_holds(meta, obj, field)
        for rule in obj.validation_rules:
            yield f"validation rule {obj.name}.{rule.name}", lambda obj=obj, rule=rule: _rule_holds(meta, obj, rule)


def _rule_holds(meta: TenantMetadata, obj: ObjectDef, rule: ValidationRuleDef) -> None:
    check_rule(meta, obj.name, rule)
    if rule.field and obj.field(rule.field) is None:
        raise ValidationError(f"it attaches its error to field '{rule.field}', which would no longer exist")


def _rollup_holds(meta: TenantMetadata, obj: ObjectDef, field: FieldDef) -> None:
    prepared = _prepare_rollup(meta, obj, field)
    if prepared.opt("resultType") != field.opt("resultType"):
        raise ValidationError(
            f"its result would change from {field.opt('resultType')} to {prepared.opt('resultType')}; "
            "change the rollup first"
        )
    if prepared.opt("scale") != field.opt("scale"):
        raise ValidationError(
            f"its scale would change from {field.opt('scale')} to {prepared.opt('scale')}; change the rollup first"
        )


def refuse_broken(meta: TenantMetadata, *, before: TenantMetadata) -> None:
    """Refuse a change whose definitions ``meta`` break what held in ``before``."""
    if not _has_expressions(meta) and not _has_expressions(before):
        return
    cycle = _cycle(meta)
    if cycle:
        raise _cycle_error(cycle)
    problems = broken_definitions(meta)
    if problems:
        listed = problems[:MAX_LISTED]
        more = f" and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise InUse(
            "this change would break definitions that depend on it: " + "; ".join(listed) + more,
            dependents=listed,
        )


def _has_expressions(meta: TenantMetadata) -> bool:
    return any(
        obj.validation_rules or any(f.is_computed or f.default_expression for f in obj.fields)
        for obj in meta.objects
    )


# --- cycles ------------------------------------------------------------------------------------
def _cycle(meta: TenantMetadata, start: tuple[str, str] | None = None) -> list[str] | None:
    """One cycle among computed fields using each other (directly or through lookups), or None;
    searched from ``start`` first, so a cycle through it is told from there."""
    graph = {(o.name, f.name): list(_uses(meta, o, f)) for o in meta.objects for f in o.fields if f.is_computed}
    state: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                start = stack.index(nxt)
                return [f"{o}.{f}" for o, f in [*stack[start:], nxt]]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in ([start] if start in graph else []) + list(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _uses(meta: TenantMetadata, obj: ObjectDef, field: FieldDef) -> Iterator[tuple[str, str]]:
    """The computed fields ``field`` reads (only definitions that check; broken ones are reported)."""
    try:
        if field.type == "FORMULA":
            paths = [(obj, p) for p in check_formula(meta, obj.name, field).references]
        else:
            child = meta.object(field.opt("childObject", ""))
            if child is None:
                return
            summarized = child.field(field.opt("summarizedField", "") or "")
            if summarized is not None and summarized.is_computed:
                yield child.name, summarized.name
            filter_ = check_rollup_filter(meta, field)
            paths = [(child, p) for p in filter_.references] if filter_ else []
    except TesseraError:
        return
    for start, path in paths:
        current: ObjectDef | None = start
        for name in path:
            target = current.field(name) if current else None
            if target is None:
                break
            if target.is_computed:
                yield current.name, target.name  # type: ignore[union-attr]
                break
            current = meta.object(target.target or "") if target.is_lookup else None
