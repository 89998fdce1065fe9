"""Fixtures of the plugin-system tests: fixture plugins loaded from tests/fixtures/plugins, hosts
built from them once per session, runtimes and apps using those hosts, tenants of those runtimes.

Field types and expression functions of plugins go into process-wide registries. So that other
test modules sharing this process (``pytest -n 2 --dist loadfile``) never see the fixture plugins'
types and functions (tests/platform/model/expressions/test_docs.py lists every function), the
session host is built into copies of the registries, and each module of this directory swaps those
copies in for its own duration (an autouse module fixture), then puts the originals back.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.model.expressions import default_functions
from tessera.model.field_types import registry
from tessera.plugin import PluginInfo, hookimpl
from tessera.plugin_host import PluginHost
from tessera.services import plugins as plugin_service
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant, drop_tenant
from tessera.storage.system_tables import tenants
from tessera.testing import GraphQLClient, make_app, new_tenant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PLUGIN_DIRS = FIXTURES / "plugins"
MAIN_PLUGINS = ("atlas", "beacon", "cairn", "dud", "quarry", "siteclash", "stdclash")
"""The session host's plugins (entry-point name = fixture directory)."""


def load_fixture_module(directory: str) -> ModuleType:
    """The fixture plugin package ``tests/fixtures/plugins/<directory>`` as a module (loaded once)."""
    name = f"tessera_fixture_plugin_{directory}"
    if name in sys.modules:
        return sys.modules[name]
    path = PLUGIN_DIRS / directory
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py", submodule_search_locations=[str(path)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- the process-wide registries ------------------------------------------------------------
@dataclass
class Registries:
    """Contents of the field type and expression function registries (swapped in, never merged)."""

    types: dict[str, Any]
    functions: dict[str, Any]

    @classmethod
    def current(cls) -> Registries:
        # NOTE: the registries have no public way to remove an entry, hence their private dicts.
        return cls(registry()._types, default_functions()._specs)

    def copy(self) -> Registries:
        return Registries(dict(self.types), dict(self.functions))

    @contextmanager
    def active(self) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(registry(), "_types", self.types)
            patch.setattr(default_functions(), "_specs", self.functions)
            yield


@dataclass
class Hosts:
    main: PluginHost
    cairn_v2: PluginHost
    registries: Registries
    pristine: Registries


@pytest.fixture(scope="session")
def hosts() -> Hosts:
    """The session's plugin hosts, built once into copies of the registries.

    ``main`` holds every fixture plugin but ``cairn_v2``; ``cairn_v2`` holds version 2.0.0 of cairn
    under the name ``cairn`` (it registers no field types or functions, so a second host is harmless).
    """
    pristine = Registries.current()
    plugin_registries = pristine.copy()
    with plugin_registries.active():
        main = PluginHost([(name, load_fixture_module(name)) for name in MAIN_PLUGINS])
        v2 = PluginHost([("cairn", load_fixture_module("cairn_v2"))])
    return Hosts(main, v2, plugin_registries, pristine)


@pytest.fixture(scope="module", autouse=True)
def _plugin_registries(hosts: Hosts) -> Iterator[Registries]:
    """The fixture plugins' field types and functions, for this module's duration only."""
    with hosts.registries.active():
        yield hosts.registries


@pytest.fixture
def scratch_registries(hosts: Hosts) -> Iterator[Registries]:
    """Throw-away registries (the built-in entries only) for hosts a test builds itself."""
    scratch = hosts.pristine.copy()
    with scratch.active():
        yield scratch


@pytest.fixture(scope="session")
def host(hosts: Hosts) -> PluginHost:
    return hosts.main


# --- runtimes, apps, tenants ------------------------------------------------------------------
@pytest.fixture(scope="session")
def prt(runtime: Runtime, hosts: Hosts) -> Iterator[Runtime]:
    """A runtime on the session's database whose plugins are the main host's."""
    rt = Runtime(runtime.config, plugins=hosts.main)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def prt_v2(runtime: Runtime, hosts: Hosts) -> Iterator[Runtime]:
    """The same database after "upgrading the installation" to cairn 2.0.0."""
    rt = Runtime(runtime.config, plugins=hosts.cairn_v2)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def papp(prt: Runtime) -> Any:
    return make_app(prt)


@pytest.fixture(scope="session")
def papp_v2(prt_v2: Runtime) -> Any:
    return make_app(prt_v2)


@contextmanager
def plugin_tenant(rt: Runtime) -> Iterator[CreatedTenant]:
    created = new_tenant(rt)
    try:
        yield created
    finally:
        drop_tenant(rt, created.tenant.slug)


@pytest.fixture
def ptenant(prt: Runtime) -> Iterator[CreatedTenant]:
    with plugin_tenant(prt) as created:
        yield created


@pytest.fixture
def admin(papp: Any, ptenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(papp, ptenant.token)


def actor_of(rt: Runtime, created: CreatedTenant) -> Actor:
    """The tenant's administrator, with the tenant as it is now."""
    return Actor(rt.tenant(created.tenant.slug), created.admin_user_id)


@pytest.fixture
def tools() -> Tools:
    return Tools()


class Tools:
    """Helpers for tests (fixtures, since test modules cannot import this conftest)."""

    actor = staticmethod(actor_of)
    plugin_tenant = staticmethod(plugin_tenant)

    @staticmethod
    def install(rt: Runtime, created: CreatedTenant, *names: str) -> None:
        for name in names:
            plugin_service.install_plugin(rt, actor_of(rt, created), name)

    @staticmethod
    def metadata_version(rt: Runtime, created: CreatedTenant) -> int:
        with rt.db.system.connect() as conn:
            return conn.execute(
                sa.select(tenants.c.metadata_version).where(tenants.c.id == created.tenant.id)
            ).scalar_one()

    @staticmethod
    def tables(rt: Runtime, created: CreatedTenant) -> set[str]:
        """Table names in the tenant's schema (its attached file on SQLite)."""
        ref = rt.tenant(created.tenant.slug)
        with rt.read(ref) as conn:
            return set(sa.inspect(conn).get_table_names(schema=ref.schema_name))

    @staticmethod
    def columns(rt: Runtime, created: CreatedTenant, table: str) -> set[str]:
        ref = rt.tenant(created.tenant.slug)
        with rt.read(ref) as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns(table, schema=ref.schema_name)}

    @staticmethod
    def table_of(rt: Runtime, created: CreatedTenant, object_name: str) -> str:
        ref = rt.tenant(created.tenant.slug)
        with rt.db.system.connect() as conn:
            return rt.model(conn, ref).meta.by_name[object_name].table_name

    @staticmethod
    def user(admin: GraphQLClient, email: str, sets: list[str] | None = None) -> tuple[str, GraphQLClient]:
        """A user of the admin's tenant (the standard user set unless ``sets``) and a client with their token."""
        data: dict[str, Any] = {"email": email, "name": email.split("@")[0]}
        if sets is not None:
            data["permissionSets"] = sets
        user_id = admin.data("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", {"i": data})[
            "createUser"]["id"]
        token = admin.data("mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }",
                           {"i": {"name": "t", "user": user_id}})["createApiToken"]["token"]
        return user_id, GraphQLClient(admin.app, token)


@pytest.fixture
def make_plugin() -> Callable[..., ModuleType]:
    """``make_plugin(name, version="1.0.0", **hooks)``: a plugin module built in the test.

    ``register_plugin`` is made from ``name`` and ``version`` unless given; every other keyword is a
    hook implementation (any callable; it is marked with ``hookimpl``).
    """

    def make(name: str, version: str = "1.0.0", **hooks: Callable[..., Any]) -> ModuleType:
        module = ModuleType(f"adhoc_plugin_{name}")
        if "register_plugin" not in hooks:
            hooks["register_plugin"] = lambda: PluginInfo(name=name, version=version, description=f"{name} plugin")
        for hook, function in hooks.items():
            if function is not None:
                setattr(module, hook, hookimpl(function))
        return module

    return make
