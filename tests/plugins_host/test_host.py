"""The plugin host on its own: discovery through entry points and the TESSERA_PLUGINS allow-list,
the checks made while loading plugins, duplicate registrations, and calling hooks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pluggy
import pytest

from tessera.core.errors import ErrorCode, NotFound, PluginError
from tessera.model.expressions import default_functions
from tessera.model.field_types import registry
from tessera.plugin import (
    ConnectorSpec,
    ExpressionFunctionSpec,
    FieldTypeSpec,
    JobSpec,
    PluginInfo,
    ReportTypeSpec,
    SampleDataSpec,
    WorkflowActionSpec,
)
from tessera.plugin_host import PluginHost, manager

MakePlugin = Callable[..., ModuleType]


# --- discovery ---------------------------------------------------------------------------------
class FakeEntryPoint:
    """An installed entry point; remembers whether its module was imported."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self.module = module
        self.loaded = False

    def load(self) -> ModuleType:
        self.loaded = True
        return self.module


class Installed:
    """Three plugins installed in the environment (their entry points listed out of order)."""

    def __init__(self, make_plugin: MakePlugin) -> None:
        self.points = {name: FakeEntryPoint(name, make_plugin(name)) for name in ("gamma", "alpha", "beta")}
        self.groups: list[str] = []

    def entry_points(self, *, group: str) -> list[FakeEntryPoint]:
        self.groups.append(group)
        return list(self.points.values())


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, make_plugin: MakePlugin) -> Installed:
    env = Installed(make_plugin)
    monkeypatch.setattr(manager, "entry_points", env.entry_points)
    return env


@pytest.mark.parametrize(
    ("allow", "found"),
    [
        (None, ["alpha", "beta", "gamma"]),
        ("beta", ["beta"]),
        (" gamma , alpha ", ["alpha", "gamma"]),
        ("alpha,ghost", ["alpha"]),
        ("", []),
        (" , ", []),
    ],
    ids=["unset-means-all", "one", "spaces-and-order", "unknown-name-ignored", "empty-means-none", "only-commas"],
)
def test_discover_narrows_entry_points_by_the_allow_list(
    installed: Installed, allow: str | None, found: list[str]
) -> None:
    # when plugins are discovered with the allow-list
    discovered = manager.discover(allow)
    # then the allowed ones come, sorted by name, as (entry-point name, module) from the plugins group
    assert [name for name, _ in discovered] == found
    assert all(module is installed.points[name].module for name, module in discovered)
    assert installed.groups == ["tessera.plugins"]
    # and plugins left out are never even imported
    assert {name for name, point in installed.points.items() if point.loaded} == set(found)


def test_default_host_reads_the_allow_list_from_the_environment(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given TESSERA_PLUGINS allows two of the three installed plugins, and no host was built yet
    monkeypatch.setenv("TESSERA_PLUGINS", "gamma,beta")
    monkeypatch.setattr(manager, "_host", None)
    # when the process's host is asked for, twice
    first = manager.default_host()
    second = manager.default_host()
    # then it holds exactly those two, built once
    assert sorted(first.plugins) == ["beta", "gamma"]
    assert second is first
    assert first.info("beta") == PluginInfo(name="beta", version="1.0.0", description="beta plugin")
    with pytest.raises(KeyError):
        first.info("alpha")


def test_default_host_without_the_variable_loads_every_installed_plugin(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TESSERA_PLUGINS", raising=False)
    monkeypatch.setattr(manager, "_host", None)
    assert sorted(manager.default_host().plugins) == ["alpha", "beta", "gamma"]


# --- checks while loading ------------------------------------------------------------------------
def test_a_hook_implementation_matching_no_hook_stops_start_up(make_plugin: MakePlugin) -> None:
    # given a plugin with a typo in a hook's name
    typo = make_plugin("typo", register_metdata_packages=lambda: [])
    # when a host is built with it
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'register_metdata_packages'"):
        PluginHost([("typo", typo)])


def test_a_hook_implementation_asking_for_an_unknown_argument_is_refused(make_plugin: MakePlugin) -> None:
    def before_install(context: Any, tenant: Any) -> None:
        return None

    odd = make_plugin("odd", before_install=before_install)
    with pytest.raises(pluggy.PluginValidationError, match=r"Argument\(s\) \{'tenant'\}"):
        PluginHost([("odd", odd)])


def test_the_plugin_info_name_must_be_the_entry_point_name(make_plugin: MakePlugin) -> None:
    # given a plugin whose entry point says "tenders" but whose PluginInfo says "tender"
    module = make_plugin("tender")
    # then loading it under "tenders" is refused naming both
    with pytest.raises(ValueError, match="plugin 'tenders': its PluginInfo says 'tender'; the names must match"):
        PluginHost([("tenders", module)])


@pytest.mark.parametrize("returned", [None, {"name": "nameless"}, "nameless"])
def test_register_plugin_must_return_a_plugin_info(make_plugin: MakePlugin, returned: Any) -> None:
    module = make_plugin("nameless", register_plugin=lambda: returned)
    with pytest.raises(ValueError, match="plugin 'nameless': register_plugin must return a PluginInfo"):
        PluginHost([("nameless", module)])


def test_a_plugin_without_register_plugin_is_refused(make_plugin: MakePlugin) -> None:
    module = make_plugin("silent")
    del module.register_plugin
    with pytest.raises(ValueError, match="plugin 'silent': register_plugin must return a PluginInfo"):
        PluginHost([("silent", module)])


def test_the_same_name_twice_is_refused(make_plugin: MakePlugin) -> None:
    with pytest.raises(ValueError, match="plugin 'twin' is registered twice"):
        PluginHost([("twin", make_plugin("twin")), ("twin", make_plugin("twin"))])


# --- duplicate registrations ----------------------------------------------------------------------
KEYED = [
    ("register_workflow_actions", lambda key: WorkflowActionSpec(key=key, description="d", run=print)),
    ("register_report_types", lambda key: ReportTypeSpec(key=key, description="d", run=print)),
    ("register_jobs", lambda key: JobSpec(key=key, description="d", run=print, cron="* * * * *")),
    ("register_connectors", lambda key: ConnectorSpec(key=key, description="d", factory=print)),
]


@pytest.mark.parametrize(("hook", "spec"), KEYED, ids=[hook for hook, _ in KEYED])
def test_a_keyed_registration_taken_by_another_plugin_stops_start_up_naming_both(
    make_plugin: MakePlugin, hook: str, spec: Callable[[str], Any]
) -> None:
    # given two plugins registering the same key through the same hook
    first = make_plugin("first", **{hook: lambda: [spec("shared.key"), spec("first.own")]})
    second = make_plugin("second", **{hook: lambda: [spec("second.own"), spec("shared.key")]})
    # then the host refuses, naming the hook, the key and both plugins
    with pytest.raises(ValueError) as refused:
        PluginHost([("first", first), ("second", second)])
    assert str(refused.value) == f"{hook}: key 'shared.key' of plugin 'second' is taken by plugin 'first'"


@pytest.mark.parametrize(("hook", "spec"), KEYED, ids=[hook for hook, _ in KEYED])
def test_keys_are_unique_per_hook_not_across_hooks(
    make_plugin: MakePlugin, hook: str, spec: Callable[[str], Any]
) -> None:
    # given a plugin using key "same" for this hook and another using it for a different hook
    other_hook, other_spec = next((h, s) for h, s in KEYED if h != hook)
    one = make_plugin("one", **{hook: lambda: [spec("same")]})
    two = make_plugin("two", **{other_hook: lambda: [other_spec("same")]})
    # then both load, each key held by its plugin
    built = PluginHost([("one", one), ("two", two)])
    assert built.keyed[hook]["same"][0] == "one"
    assert built.keyed[other_hook]["same"][0] == "two"


def _field_type(key: str) -> FieldTypeSpec:
    return FieldTypeSpec(key=key, base="TEXT", description="d")


def _function(name: str) -> ExpressionFunctionSpec:
    return ExpressionFunctionSpec(name=name, params=("NUMBER",), result="NUMBER", python=abs, summary="s")


def test_a_field_type_key_of_a_built_in_type_stops_start_up(make_plugin: MakePlugin, scratch_registries: Any) -> None:
    clash = make_plugin("clash", register_field_types=lambda: [_field_type("EMAIL")])
    with pytest.raises(ValueError, match="plugin 'clash': field type EMAIL is already defined by Tessera itself"):
        PluginHost([("clash", clash)])


def test_a_field_type_key_taken_by_another_plugin_stops_start_up(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    first = make_plugin("first", register_field_types=lambda: [_field_type("SHARED_TYPE")])
    second = make_plugin("second", register_field_types=lambda: [_field_type("SHARED_TYPE")])
    with pytest.raises(ValueError, match="SHARED_TYPE"):
        PluginHost([("first", first), ("second", second)])


def test_a_field_type_key_taken_by_another_plugin_is_refused_naming_both(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    first = make_plugin("first", register_field_types=lambda: [_field_type("SHARED_TYPE")])
    second = make_plugin("second", register_field_types=lambda: [_field_type("SHARED_TYPE")])
    with pytest.raises(ValueError) as refused:
        PluginHost([("first", first), ("second", second)])
    assert "'first'" in str(refused.value) and "'second'" in str(refused.value)


def test_a_field_type_on_an_unsupported_base_stops_start_up(make_plugin: MakePlugin, scratch_registries: Any) -> None:
    odd = make_plugin("odd", register_field_types=lambda: [FieldTypeSpec(key="ODD_PICK", base="PICKLIST",
                                                                        description="d")])
    with pytest.raises(ValueError, match="plugin odd: field type ODD_PICK has base PICKLIST, not one of"):
        PluginHost([("odd", odd)])
    assert "ODD_PICK" not in registry()


def test_a_function_name_of_a_built_in_function_stops_start_up(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    clash = make_plugin("clash", register_expression_functions=lambda: [_function("round")])
    with pytest.raises(ValueError, match="plugin 'clash': expression function ROUND is already defined by Tessera itself"):
        PluginHost([("clash", clash)])


def test_a_function_name_taken_by_another_plugin_stops_start_up(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    first = make_plugin("first", register_expression_functions=lambda: [_function("SHAREDFN")])
    second = make_plugin("second", register_expression_functions=lambda: [_function("sharedfn")])
    with pytest.raises(ValueError, match="plugin 'second': expression function SHAREDFN is already defined by plugin 'first'"):
        PluginHost([("first", first), ("second", second)])


def test_a_function_name_taken_by_another_plugin_is_refused_naming_both(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    first = make_plugin("first", register_expression_functions=lambda: [_function("SHAREDFN")])
    second = make_plugin("second", register_expression_functions=lambda: [_function("SHAREDFN")])
    with pytest.raises(ValueError) as refused:
        PluginHost([("first", first), ("second", second)])
    assert "'first'" in str(refused.value) and "'second'" in str(refused.value)


def test_a_function_with_an_unknown_expression_type_stops_start_up(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    odd = make_plugin("odd", register_expression_functions=lambda: [ExpressionFunctionSpec(
        name="ODDFN", params=("STRINGY",), result="TEXT", python=str, summary="s")])
    with pytest.raises(ValueError, match="plugin odd: function ODDFN: "):
        PluginHost([("odd", odd)])
    assert default_functions().get("ODDFN") is None


# --- calling hooks -----------------------------------------------------------------------------
def test_a_failing_hook_becomes_a_plugin_error_naming_plugin_and_hook(
    host: PluginHost, caplog: pytest.LogCaptureFixture
) -> None:
    # when dud's extensions hook (which raises RuntimeError) is called
    with caplog.at_level(logging.ERROR, logger="tessera.plugins"), pytest.raises(PluginError) as failed:
        host.graphql_extensions("dud")
    # then it is a PLUGIN_ERROR naming plugin and hook, caused by the original exception, and logged
    error = failed.value
    assert error.code == ErrorCode.PLUGIN_ERROR
    assert error.message == "plugin dud failed in register_graphql_extensions: dud cannot build its extensions"
    assert error.extensions() == {"code": "PLUGIN_ERROR", "plugin": "dud", "hook": "register_graphql_extensions"}
    assert isinstance(error.__cause__, RuntimeError)
    logged = [r for r in caplog.records if r.getMessage() == "plugin_hook_failed"]
    assert len(logged) == 1
    assert logged[0].fields["plugin"] == "dud" and logged[0].fields["hook"] == "register_graphql_extensions"
    # and the other plugins keep working, and so does dud's next call (it fails again, on its own)
    assert [sorted(e.queries) for e in host.graphql_extensions("atlas")] == [
        ["atlasAccountNames", "atlasSiteNames", "siteTotal"], ["atlasWho"]]
    with pytest.raises(PluginError):
        host.graphql_extensions("dud")


def test_a_plugin_error_raised_by_a_hook_keeps_its_message_and_gets_the_plugin(make_plugin: MakePlugin) -> None:
    def register_metadata_packages() -> list[Any]:
        raise PluginError("no packages today", field="name")

    refusing = make_plugin("refusing", register_metadata_packages=register_metadata_packages)
    built = PluginHost([("refusing", refusing)])
    with pytest.raises(PluginError) as refused:
        built.packages("refusing")
    assert refused.value.message == "no packages today"
    assert refused.value.extensions() == {"code": "PLUGIN_ERROR", "field": "name", "plugin": "refusing"}


def test_other_tessera_errors_raised_by_a_hook_pass_through_unchanged(make_plugin: MakePlugin) -> None:
    def register_sample_data() -> list[Any]:
        raise NotFound("no object 'site'", field="object")

    plugin = make_plugin("seeder", register_sample_data=register_sample_data)
    built = PluginHost([("seeder", plugin)])
    with pytest.raises(NotFound) as raised:
        built.sample_data("seeder")
    assert raised.value.extensions() == {"code": "NOT_FOUND", "field": "object"}


def test_a_hook_a_plugin_does_not_implement_gives_nothing(host: PluginHost) -> None:
    # beacon implements only register_plugin and register_metadata_packages
    assert host.implementation("beacon", "register_graphql_extensions") is None
    assert host.call("beacon", "register_graphql_extensions") is None
    assert host.graphql_extensions("beacon") == []
    assert host.sample_data("beacon") == []
    assert host.implementation("beacon", "register_plugin") is not None


def test_a_failing_start_up_hook_stops_start_up_with_a_plugin_error(
    make_plugin: MakePlugin, scratch_registries: Any
) -> None:
    def register_jobs() -> list[Any]:
        raise OSError("cron table unreadable")

    broken = make_plugin("broken", register_jobs=register_jobs)
    with pytest.raises(PluginError, match="plugin broken failed in register_jobs: cron table unreadable"):
        PluginHost([("broken", broken)])


def test_a_hook_implementation_may_leave_out_arguments_it_does_not_use(make_plugin: MakePlugin) -> None:
    seen: list[str] = []

    def before_uninstall(context: Any) -> None:
        seen.append(context.plugin)

    plugin = make_plugin("lean", before_uninstall=before_uninstall)
    built = PluginHost([("lean", plugin)])
    built.call("lean", "before_uninstall", context=SimpleNamespace(plugin="lean", tenant_slug="t"), keep_data=True)
    assert seen == ["lean"]


# --- what the session's plugins contribute ----------------------------------------------------------
def test_the_host_collects_what_each_plugin_registers(host: PluginHost) -> None:
    # then atlas's field type and functions are registered and attributed to it
    assert sorted(host.plugins) == ["atlas", "beacon", "cairn", "dud", "quarry", "siteclash", "stdclash"]
    assert host.plugins["atlas"].field_types == ["ATLAS_SITE_CODE"]
    assert host.plugins["atlas"].functions == ["ATLASDOUBLE", "ATLASREGIONOK"]
    assert host.field_type_keys() == ["ATLAS_SITE_CODE"]
    site_code = registry().get("ATLAS_SITE_CODE")
    assert (site_code.plugin, site_code.description) == ("atlas", "A site code such as HQS-001")  # type: ignore[attr-defined]
    double = default_functions().get("atlasdouble")
    assert double is not None
    assert (double.category, double.usage, double.summary) == ("plugin atlas", "ATLASDOUBLE(number)", "Twice the number")
    assert double.examples == ("ATLASDOUBLE(area)",)
    # and its keyed registrations are held by key, with the plugin's name
    keyed = {hook: {key: plugin for key, (plugin, _) in specs.items()} for hook, specs in host.keyed.items()}
    assert keyed == {
        "register_workflow_actions": {"atlas.markVisited": "atlas"},
        "register_report_types": {"atlas.coverage": "atlas"},
        "register_jobs": {"atlas.refreshCodes": "atlas"},
        "register_connectors": {"atlas.geoFeed": "atlas"},
    }
    job = host.keyed["register_jobs"]["atlas.refreshCodes"][1]
    assert (job.cron, job.run("acme")) == ("0 3 * * *", "refreshed acme")
    assert host.keyed["register_workflow_actions"]["atlas.markVisited"][1].run({"id": "1"}) == {"id": "1",
                                                                                              "visited": True}
    assert host.keyed["register_report_types"]["atlas.coverage"][1].run([1, 2]) == {"rows": 2}
    assert host.keyed["register_connectors"]["atlas.geoFeed"][1].factory({"k": 1}) == ("geo", {"k": 1})


def test_sample_data_specs_are_handed_out_and_write_through_the_context(host: PluginHost) -> None:
    # given atlas's sample data
    [spec] = host.sample_data("atlas")
    assert isinstance(spec, SampleDataSpec) and spec.description == "Demo sites"
    # when it is generated with a context of size 2
    written: list[tuple[str, list[dict[str, Any]]]] = []
    context = SimpleNamespace(tenant_slug="demo", seed=7, size=2,
                              create=lambda obj, rows: written.append((obj, list(rows))) or ["id"] * len(rows))
    spec.generate(context)
    # then it asked to create two sites
    assert written == [("site", [{"name": "Demo site 1", "code": "dem-001"}, {"name": "Demo site 2", "code": "dem-002"}])]


def test_packages_and_infos_of_the_session_plugins(host: PluginHost) -> None:
    assert host.info("beacon") == PluginInfo(name="beacon", version="0.3.0", description="Beacons at sites",
                                              requires=("atlas",))
    [package] = host.packages("atlas")
    assert package.path.name == "metadata" and (package.path / "package.yaml").is_file()
    assert host.packages("dud") == []
