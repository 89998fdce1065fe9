"""Meta-tests: every function is documented in docs/expressions.md and tested on both back ends."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from tessera.model.expressions import default_functions

HERE = Path(__file__).parent
DOCS = HERE.parents[3] / "docs" / "expressions.md"
CASE_MODULES = ("test_operators", "test_functions_logical", "test_functions_text", "test_functions_math",
                "test_functions_dates", "test_lookups_and_sql")
PYTHON_ONLY = {"ISNEW", "ISCHANGED", "PRIORVALUE"}


def _case_sources() -> list[str]:
    sources = []
    for name in CASE_MODULES:
        spec = importlib.util.spec_from_file_location(f"expression_cases_{name}", HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sources.extend(case[0] for case in module.CASES)
    return sources


def test_every_function_is_documented() -> None:
    headings = set(re.findall(r"^#### ([A-Z]+)$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert set(default_functions().names()) <= headings
    assert len(default_functions().names()) >= 40


def test_every_function_runs_on_both_back_ends_in_some_case() -> None:
    # given every case that tests/platform/model/expressions runs through Python and SQL
    used = {name for source in _case_sources() for name in re.findall(r"\b([A-Z]+)\(", source)}
    # then each function is among them, except those that only exist in Python
    missing = set(default_functions().names()) - PYTHON_ONLY - used
    assert not missing, f"functions without a case on both back ends: {sorted(missing)}"
    python_only_tests = (HERE / "test_record_change.py").read_text(encoding="utf-8")
    assert all(f"{name}(" in python_only_tests for name in PYTHON_ONLY)
