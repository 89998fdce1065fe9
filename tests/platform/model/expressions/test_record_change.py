"""ISNEW, ISCHANGED and PRIORVALUE: validation rules and workflow conditions, evaluated in Python."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tessera.model.expressions import Context, RecordEnv, evaluate, is_true

CURRENT = {"stage": "won", "amount": D("10.00"), "qty": 5, "title": "A", "tags": ["red"]}
PRIOR = {"stage": "open", "amount": D("10.0"), "qty": None, "title": "A", "tags": ["red", "blue"]}


def _run(world, source: str, *, is_new: bool = False, context: Context = Context.VALIDATION):  # type: ignore[no-untyped-def]
    checked = world.check(source, context)
    return evaluate(checked, RecordEnv(CURRENT, None if is_new else PRIOR, is_new=is_new))


@pytest.mark.parametrize(("source", "expected"), [
    ("ISNEW()", False),
    ("ISCHANGED(stage)", True),
    ("ISCHANGED(amount)", False),
    ("ISCHANGED(qty)", True),
    ("ISCHANGED(title)", False),
    ("ISCHANGED(tags)", True),
    ('ISPICKVAL(PRIORVALUE(stage), "open")', True),
    ("PRIORVALUE(qty) + 1 > 0", None),
    ('INCLUDES(PRIORVALUE(tags), "blue")', True),
    ('AND(ISCHANGED(stage), ISPICKVAL(stage, "won"), amount < 100)', True),
])
def test_update_sees_prior_values(world, source, expected) -> None:  # type: ignore[no-untyped-def]
    # given a record being updated, when the rule runs, then it compares with the prior values
    assert _run(world, source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("ISNEW()", True),
    ("ISCHANGED(stage)", False),
    ("ISBLANK(PRIORVALUE(stage))", True),
    ("AND(ISNEW(), qty > 1)", True),
])
def test_new_record_has_no_prior_values(world, source, expected) -> None:  # type: ignore[no-untyped-def]
    # given a record being created, when the rule runs, then nothing counts as changed
    assert _run(world, source, is_new=True) == expected


def test_conditions_allow_record_change_functions(world) -> None:  # type: ignore[no-untyped-def]
    # given a workflow condition, when it uses ISCHANGED, then it is accepted and evaluated
    assert _run(world, "ISCHANGED(stage)", context=Context.CONDITION) is True


def test_validation_result_null_does_not_refuse(world) -> None:  # type: ignore[no-untyped-def]
    # given a rule whose result is null for this record (qty was blank before)
    value = _run(world, "PRIORVALUE(qty) > 3")
    # then it is not TRUE, so the write is not refused
    assert value is None
    assert is_true(value) is False
