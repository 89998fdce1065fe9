"""Meta-tests: every hook of ``tessera.plugin.hookspecs`` is exercised by these tests and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tessera.plugin import hookspecs
from tessera.plugin_host import PluginHost

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs" / "plugin_hooks.md"


def _hooks() -> list[str]:
    return sorted(name for name, value in vars(hookspecs).items()
                  if callable(value) and hasattr(value, f"{hookspecs.PROJECT}_spec"))


def test_the_hook_list_is_what_these_tests_know() -> None:
    # 10 register_* hooks and 4 before_* hooks, counted in hookspecs.py by hand
    hooks = _hooks()
    assert len(hooks) == 14
    assert sum(h.startswith("register_") for h in hooks) == 10
    assert [h for h in hooks if h.startswith("before_")] == [
        "before_install", "before_record_write", "before_uninstall", "before_upgrade"]


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_is_named_in_the_tests(hook: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in sorted(HERE.glob("test_*.py")) if p.name != "test_meta.py")
    assert re.search(rf"\b{hook}\b", sources), f"no test in tests/plugins_host mentions {hook}"


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_is_implemented_by_a_fixture_plugin_of_the_session(host: PluginHost, hook: str) -> None:
    implementers = [name for name in host.plugins if host.implementation(name, hook) is not None]
    assert implementers, f"no fixture plugin of the session host implements {hook}"


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_has_a_heading_in_the_docs(hook: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert re.search(rf"^#{{2,3}} {hook}$", text, flags=re.MULTILINE), f"docs/plugin_hooks.md has no heading {hook}"
