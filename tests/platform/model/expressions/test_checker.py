"""The checker refuses bad expressions when a definition is saved, naming line:column and the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tessera.core.errors import ValidationError
from tessera.model.expressions import (
    Context,
    ExpressionLimits,
    ExprType,
    FunctionSpec,
    Signature,
    check,
    check_for_object,
    default_functions,
    evaluate,
)


def refusal(world, source: str, context: Context = Context.FORMULA, **kwargs) -> ValidationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        world.check(source, context, **kwargs)
    assert caught.value.field == "expression"
    return caught.value


@pytest.mark.parametrize(("source", "message", "kind"), [
    ("amout * 2", "1:1: unknown field 'amout' on exprSample (did you mean 'amount'?)", "unknown_field"),
    ("parent.nmae", "1:8: unknown field 'nmae' on exprParent (did you mean 'name'?)", "unknown_field"),
    ("title.name", "1:7: 'title' is not a lookup, so nothing can follow it", "unknown_field"),
    ("owner.phone", "1:7: unknown user field 'phone' (users have id, name, email)", "unknown_field"),
    ("parent.manager.manager.manager.manager.manager.name",
     "1:40: a field path may follow at most 5 lookups", "unknown_field"),
    ("LENGTH(title)", "1:1: unknown function 'LENGTH' (did you mean LEN?)", "unknown_function"),
    ("LEFT(title)", "1:1: LEFT expects 2 arguments, got 1; usage: LEFT(text, count)", "arity"),
    ("TODAY(1)", "1:1: TODAY expects 0 arguments, got 1", "arity"),
    ("ROUND()", "1:1: ROUND expects 1 to 2 arguments, got 0", "arity"),
    ("MIN()", "1:1: MIN expects at least 1 argument, got 0", "arity"),
    ("LEN(qty)", "1:5: type mismatch: argument 1 of LEN must be TEXT, not INTEGER", "type_mismatch"),
    ("LEFT(title, 1.5)", "1:13: type mismatch: argument 2 of LEFT must be INTEGER, not NUMBER", "type_mismatch"),
    ('title + 1', "1:7: type mismatch: '+' cannot take TEXT and INTEGER (use & to join texts)", "type_mismatch"),
    ("qty & title", "1:5: type mismatch: '&' cannot take INTEGER and TEXT", "type_mismatch"),
    ("startDate < seenAt", "1:11: type mismatch: '<' cannot take DATE and DATETIME", "type_mismatch"),
    ("active > FALSE", "1:8: type mismatch: '>' cannot take BOOLEAN and BOOLEAN", "type_mismatch"),
    ('IF(qty, 1, 2)', "1:4: type mismatch: argument 1 of IF must be BOOLEAN, not INTEGER", "type_mismatch"),
    ('IF(active, 1, "x")', "1:1: type mismatch: IF cannot take (BOOLEAN, INTEGER, TEXT)", "type_mismatch"),
    ("CASE(qty, 1, 2)", "1:1: CASE expects at least 4 arguments, got 3", "arity"),
    ('CASE(qty, 1, "a", 2)', "1:1: type mismatch: CASE cannot take (INTEGER, INTEGER, TEXT, INTEGER)",
     "type_mismatch"),
    ("LEN(tags)", "1:5: type mismatch: argument 1 of LEN must be TEXT, not MULTI_PICKLIST (multi-select "
                  "picklists work only with ISBLANK and INCLUDES)", "type_mismatch"),
    ("tags", "1:1: a multi-select picklist cannot be the result; use INCLUDES", "type_mismatch"),
    ('ISPICKVAL(title, "a")', "1:11: type mismatch: argument 1 of ISPICKVAL must be PICKLIST, not TEXT",
     "type_mismatch"),
    ('ISPICKVAL(stage, "closed")', "1:18: 'closed' is not a value of picklist 'stage' (new, open, won, lost)",
     "invalid_argument"),
    ('INCLUDES(tags, "pink")', "1:16: 'pink' is not a value of picklist 'tags' (red, green, blue)",
     "invalid_argument"),
    ("qty = NULL", "1:7: a comparison with NULL is never TRUE; use ISBLANK(value) to test for null",
     "type_mismatch"),
    ("ROUND(amount, small)", "1:15: argument 2 of ROUND must be written as a literal", "type_mismatch"),
    ("ROUND(amount, 11)", "1:15: ROUND takes between -10 and 10 digits", "invalid_argument"),
    ('DATEDIFF("weeks", startDate, endDate)', "1:10: DATEDIFF's unit must be one of 'days', 'months', 'years'",
     "invalid_argument"),
    ("DATEDIFF(title, startDate, endDate)", "1:10: argument 1 of DATEDIFF must be written as a literal",
     "type_mismatch"),
    ("ISCHANGED(stage)", "1:1: ISCHANGED is not allowed in formulas (only in validation rules, workflow "
                         "conditions, workflow actions)", "not_allowed"),
    ("PRIORVALUE(qty) + 1", "1:1: PRIORVALUE is not allowed in formulas", "not_allowed"),
    ("qty +\n  LEN(qty)", "2:7: type mismatch: argument 1 of LEN must be TEXT, not INTEGER", "type_mismatch"),
])
def test_bad_formula_is_refused_with_position(world, source, message, kind) -> None:  # type: ignore[no-untyped-def]
    # given a bad formula, when it is checked, then the error names line:column and the reason
    error = refusal(world, source)
    assert error.message.startswith(message)
    assert error.details["kind"] == kind
    assert (error.details["line"], error.details["column"]) == tuple(int(x) for x in message.split(":")[:2])


def test_record_change_functions_only_in_rules_and_conditions(world) -> None:  # type: ignore[no-untyped-def]
    # given ISNEW in each context, then only validation rules and workflow conditions accept it
    for context in (Context.FILTER, Context.DEFAULT, Context.FORMULA):
        assert refusal(world, "ISNEW()", context).details["kind"] == "not_allowed"
    for context in (Context.VALIDATION, Context.CONDITION):
        assert world.check("ISNEW()", context).type == ExprType.BOOLEAN


def test_record_change_functions_need_a_field_of_the_record(world) -> None:  # type: ignore[no-untyped-def]
    error = refusal(world, "ISCHANGED(parent.name)", Context.VALIDATION)
    assert error.message == "1:11: ISCHANGED needs a field of this record, e.g. ISCHANGED(stage)"


def test_defaults_cannot_read_fields(world) -> None:  # type: ignore[no-untyped-def]
    # given a default value reading a field, then it is refused; constants and TODAY() are fine
    assert refusal(world, "qty + 1", Context.DEFAULT, expected=ExprType.INTEGER).message == (
        "1:1: default values cannot read fields ('qty')"
    )
    assert world.check("TODAY() + 30", Context.DEFAULT, expected=ExprType.DATE).volatile is True


@pytest.mark.parametrize(("source", "context", "expected", "message"), [
    ("qty + 1", Context.VALIDATION, None, "1:5: type mismatch: validation rules must give BOOLEAN, this gives INTEGER"),
    ("title", Context.FILTER, None, "1:1: type mismatch: filters must give BOOLEAN, this gives TEXT"),
    ("amount * 2", Context.FORMULA, ExprType.INTEGER, "1:8: type mismatch: formulas must give INTEGER, this gives NUMBER"),
    ("startDate", Context.FORMULA, ExprType.DATETIME, "1:1: type mismatch: formulas must give DATETIME, this gives DATE"),
])
def test_result_type_is_checked(world, source, context, expected, message) -> None:  # type: ignore[no-untyped-def]
    assert refusal(world, source, context, expected=expected).message == message


def test_integer_formula_widens_to_number(world) -> None:  # type: ignore[no-untyped-def]
    # given a NUMBER formula written with integers, then it is a NUMBER and evaluates to a Decimal
    checked = world.check("qty * 2", expected=ExprType.NUMBER)
    assert checked.type == ExprType.NUMBER
    assert evaluate(checked, {"qty": 21}) == Decimal(42)
    assert isinstance(evaluate(checked, {"qty": 21}), Decimal)


def test_checked_expression_reports_references_functions_and_volatility(world) -> None:  # type: ignore[no-untyped-def]
    checked = world.check('IF(parent.tier > 1 AND startDate < TODAY(), UPPER(title), "")')
    assert checked.references == {("parent", "tier"), ("startDate",), ("title",)}
    assert checked.functions == {"IF", "AND", "TODAY", "UPPER"}
    assert checked.volatile is True
    assert world.check("qty + 1").volatile is False


def test_limits_on_length_depth_and_size(world) -> None:  # type: ignore[no-untyped-def]
    # too long: the position is the first character past the limit
    error = refusal(world, "qty + " * 700 + "1")
    assert error.details["kind"] == "too_long"
    assert error.message.startswith("1:4001: expression is too long: 4201 characters, at most 4000")
    # too deep: 33 nested calls, reported at the 33rd
    error = refusal(world, "ABS(" * 33 + "qty" + ")" * 33)
    assert error.details["kind"] == "too_deep"
    assert error.message == "1:129: expression nests too deeply: 34 levels, at most 32"
    assert world.check("ABS(" * 31 + "qty" + ")" * 31).type == ExprType.INTEGER
    # too many parts: 501 nodes in a shallow tree
    many = "MAX(" + ", ".join(["qty"] * 500) + ")"
    assert refusal(world, many).details["kind"] == "too_large"


def test_limits_can_be_tightened(world) -> None:  # type: ignore[no-untyped-def]
    limits = ExpressionLimits(max_length=10)
    with pytest.raises(ValidationError, match="too long"):
        check_for_object("qty + qty + qty", world.model.meta, "exprSample", Context.FORMULA, limits=limits)


def test_plugins_extend_the_function_registry() -> None:
    # given a plugin function added to a copy of the registry
    double = FunctionSpec(
        name="DOUBLE", category="plugin", usage="DOUBLE(n)", summary="Twice n.",
        signatures=(Signature((ExprType.INTEGER,), ExprType.INTEGER, lambda n: 2 * n, lambda c: c.args[0] * 2),),
    )
    registry = default_functions().extended([double])
    # then expressions checked with it may call it, others may not
    assert evaluate(check("DOUBLE(21)", None, Context.FORMULA, functions=registry)) == 42
    with pytest.raises(ValidationError, match="unknown function 'DOUBLE'"):
        check("DOUBLE(21)", None, Context.FORMULA)
    # and a name registered twice is refused loudly
    with pytest.raises(ValueError, match="registered twice"):
        registry.extended([double])
