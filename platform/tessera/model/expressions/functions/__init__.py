"""The function registry: built-in functions and operators, extendable by plugins.

``default_functions()`` holds the built-ins; ``default_functions().extended(specs)`` adds a plugin's.
"""

from __future__ import annotations

from functools import lru_cache

from tessera.model.expressions.functions import dates, logical, numeric, operators, record, text
from tessera.model.expressions.functions.spec import (
    EXACT,
    HANDLED,
    INEXACT,
    INHERIT,
    PROPAGATE,
    FunctionRegistry,
    FunctionSpec,
    Signature,
)

BUILTIN_SPECS: tuple[FunctionSpec, ...] = (
    *operators.SPECS, *logical.SPECS, *text.SPECS, *numeric.SPECS, *dates.SPECS, *record.SPECS,
)


@lru_cache(maxsize=1)
def default_functions() -> FunctionRegistry:
    return FunctionRegistry(BUILTIN_SPECS)


__all__ = [
    "BUILTIN_SPECS",
    "EXACT",
    "HANDLED",
    "INEXACT",
    "INHERIT",
    "PROPAGATE",
    "FunctionRegistry",
    "FunctionSpec",
    "Signature",
    "default_functions",
]
