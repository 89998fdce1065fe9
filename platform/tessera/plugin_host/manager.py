"""The plugin host: finds plugins through entry points, checks them, and collects what they register.

One host per process (``default_host()``), built at start-up: plugins are loaded from the
``tessera.plugins`` entry-point group (narrowed by ``TESSERA_PLUGINS``, a comma-separated allow-list;
empty means none), ``check_pending()`` refuses hook implementations that match no spec, and the
``register_*`` hooks are collected once, refusing duplicate keys loudly. A hook that raises while
serving one call becomes a ``PluginError`` (``PLUGIN_ERROR``) for that call only.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from tessera.core.errors import PluginError, TesseraError
from tessera.core.logging import log
from tessera.model.expressions import default_functions
from tessera.model.field_types import registry
from tessera.plugin import ENTRY_POINT_GROUP, GraphQLExtension, MetadataPackage, PluginInfo, hookspecs
from tessera.plugin_host.adapters import expression_function, field_type

logger = logging.getLogger("tessera.plugins")
ALLOW_LIST = "TESSERA_PLUGINS"
KEYED_HOOKS = ("register_workflow_actions", "register_report_types", "register_jobs", "register_connectors")


@dataclass
class LoadedPlugin:
    info: PluginInfo
    module: Any
    field_types: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


class PluginHost:
    """Plugins of this process and what they contribute (see the module docstring)."""

    def __init__(self, modules: Iterable[tuple[str, Any]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self.keyed: dict[str, dict[str, tuple[str, Any]]] = {hook: {} for hook in KEYED_HOOKS}
        for name, module in modules:
            self._add(name, module)
        self.pm.check_pending()
        for name in list(self.plugins):
            self._collect_start_up(name)

    # --- loading --------------------------------------------------------------------------
    def _add(self, name: str, module: Any) -> None:
        if name in self.plugins:
            raise ValueError(f"plugin '{name}' is registered twice")
        self.pm.register(module, name=name)
        info = self.call(name, "register_plugin")
        if not isinstance(info, PluginInfo):
            raise ValueError(f"plugin '{name}': register_plugin must return a PluginInfo")
        if info.name != name:
            raise ValueError(f"plugin '{name}': its PluginInfo says '{info.name}'; the names must match")
        self.plugins[name] = LoadedPlugin(info, module)

    def _collect_start_up(self, name: str) -> None:
        plugin = self.plugins[name]
        for spec in self.call(name, "register_field_types") or []:
            if spec.key in registry():
                raise ValueError(f"plugin '{name}': field type {spec.key} is already defined by {self._owner(spec.key, 'field_types')}")
            registry().add(field_type(spec, name))
            plugin.field_types.append(spec.key)
        functions = default_functions()
        for spec in self.call(name, "register_expression_functions") or []:
            converted = expression_function(spec, name)
            if functions.get(converted.name) is not None:
                raise ValueError(f"plugin '{name}': expression function {converted.name} is already defined by "
                                 f"{self._owner(converted.name, 'functions')}")
            functions.add(converted)
            plugin.functions.append(converted.name)
        for hook in KEYED_HOOKS:
            for spec in self.call(name, hook) or []:
                taken = self.keyed[hook].get(spec.key)
                if taken is not None:
                    raise ValueError(f"{hook}: key '{spec.key}' of plugin '{name}' is taken by plugin '{taken[0]}'")
                self.keyed[hook][spec.key] = (name, spec)

    def _owner(self, key: str, kind: str) -> str:
        for other, loaded in self.plugins.items():
            if key in getattr(loaded, kind):
                return f"plugin '{other}'"
        return "Tessera itself"

    # --- calling --------------------------------------------------------------------------
    def implementation(self, plugin: str, hook: str) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
        """A plugin's implementation of ``hook`` and the arguments it takes, or None."""
        module = self.pm.get_plugin(plugin)
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is module:
                return impl.function, tuple(impl.argnames)
        return None

    def call(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook`` (None when it has none).

        Anything it raises becomes a ``PluginError`` naming the plugin and the hook.
        """
        found = self.implementation(plugin, hook)
        if found is None:
            return None
        function, argnames = found
        try:
            # As pluggy does: an implementation may leave out arguments it does not use.
            return function(**{k: v for k, v in kwargs.items() if k in argnames})
        except PluginError as exc:
            exc.details.setdefault("plugin", plugin)
            raise
        except TesseraError:
            raise
        except Exception as exc:
            log(logger, logging.ERROR, "plugin_hook_failed", plugin=plugin, hook=hook, error=repr(exc))
            raise PluginError(f"plugin {plugin} failed in {hook}: {exc}", plugin=plugin, hook=hook) from exc

    def call_function(self, plugin: str, hook: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call a function a plugin registered (e.g. a sample-data generator) with the same error
        handling as its hooks: failures become a ``PluginError`` naming the plugin."""
        try:
            return function(*args)
        except TesseraError:
            raise
        except Exception as exc:
            log(logger, logging.ERROR, "plugin_function_failed", plugin=plugin, hook=hook, error=repr(exc))
            raise PluginError(f"plugin {plugin} failed in what it registered with {hook}: {exc}",
                              plugin=plugin, hook=hook) from exc

    # --- what plugins contribute ------------------------------------------------------------
    def info(self, name: str) -> PluginInfo:
        plugin = self.plugins.get(name)
        if plugin is None:
            raise KeyError(name)
        return plugin.info

    def packages(self, name: str) -> list[MetadataPackage]:
        return list(self.call(name, "register_metadata_packages") or [])

    def graphql_extensions(self, name: str) -> list[GraphQLExtension]:
        return list(self.call(name, "register_graphql_extensions") or [])

    def sample_data(self, name: str) -> list[Any]:
        return list(self.call(name, "register_sample_data") or [])

    def field_type_keys(self) -> list[str]:
        return [key for plugin in self.plugins.values() for key in plugin.field_types]


def discover(allow: str | None = None) -> list[tuple[str, ModuleType]]:
    """(name, module) of the plugins installed in this Python environment, narrowed by the allow-list."""
    allowed = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if allowed is not None and ep.name not in allowed:
            continue
        found.append((ep.name, ep.load()))
    return found


_lock = threading.Lock()
_host: PluginHost | None = None


def default_host() -> PluginHost:
    """The process's plugin host, built on first use from the installed entry points."""
    global _host
    with _lock:
        if _host is None:
            _host = PluginHost(discover(os.environ.get(ALLOW_LIST)))
        return _host
