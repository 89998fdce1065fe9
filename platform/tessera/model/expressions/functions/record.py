"""Record-change functions for validation rules and workflow conditions: ISNEW, ISCHANGED, PRIORVALUE.

They read the record's state before the write, which only the Python evaluator has; they never
compile to SQL, and the checker refuses them in formulas, defaults and filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tessera.model.expressions.context import RECORD_CHANGE_CONTEXTS
from tessera.model.expressions.functions.spec import HANDLED, FunctionSpec, Signature
from tessera.model.expressions.typed import TCall, TField
from tessera.model.expressions.types import VALUE_TYPES, ExprType

if TYPE_CHECKING:
    from tessera.model.expressions.evaluator import Evaluation

T = ExprType
FIELD_TYPES = (*VALUE_TYPES, T.PICKLIST, T.MULTI_PICKLIST)


def _py_isnew(ev: Evaluation, node: TCall) -> bool:
    return ev.env.is_new


def _field(node: TCall) -> TField:
    arg = node.args[0]
    assert isinstance(arg, TField), "checked as a field argument"
    return arg


def _py_ischanged(ev: Evaluation, node: TCall) -> bool:
    if ev.env.is_new:
        return False
    field = _field(node)
    return ev.read(field) != ev.read_prior(field)


def _py_priorvalue(ev: Evaluation, node: TCall) -> Any:
    return None if ev.env.is_new else ev.read_prior(_field(node))


ISNEW = FunctionSpec(
    name="ISNEW", category="record", usage="ISNEW()", special=True, contexts=RECORD_CHANGE_CONTEXTS,
    examples=("AND(ISNEW(), amount > 10000)",),
    summary="TRUE while the record is being created.",
    signatures=(Signature((), T.BOOLEAN, _py_isnew),),
)
ISCHANGED = FunctionSpec(
    name="ISCHANGED", category="record", usage="ISCHANGED(field)", special=True, nulls=HANDLED,
    contexts=RECORD_CHANGE_CONTEXTS, field_args=(0,), examples=("ISCHANGED(stage)",),
    summary="TRUE when this write changes the field (null to a value counts); FALSE for new records.",
    signatures=tuple(Signature((t,), T.BOOLEAN, _py_ischanged) for t in FIELD_TYPES),
)
PRIORVALUE = FunctionSpec(
    name="PRIORVALUE", category="record", usage="PRIORVALUE(field)", special=True, nulls=HANDLED,
    contexts=RECORD_CHANGE_CONTEXTS, field_args=(0,),
    examples=('AND(ISPICKVAL(PRIORVALUE(stage), "closedWon"), NOT(ISPICKVAL(stage, "closedWon")))',),
    summary="The field's value before this write; null for new records.",
    signatures=tuple(Signature((t,), t, _py_priorvalue) for t in FIELD_TYPES),
)

SPECS: tuple[FunctionSpec, ...] = (ISNEW, ISCHANGED, PRIORVALUE)
