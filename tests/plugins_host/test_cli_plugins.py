"""``tessera plugins list|install|upgrade|uninstall`` run in this process with click's CliRunner,
against a database of the module's own (a data directory on SQLite, a schema prefix on PostgreSQL),
with the CLI's runtime using the session's plugin host. The same commands run end to end, with a
plugin found through its entry point, in test_partner_plugin.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tessera import cli
from tessera.core.config import Config
from tessera.model.registry import load_metadata
from tessera.plugin_host import PluginHost
from tessera.services import runtime as runtime_module
from tessera.services.runtime import Runtime
from tessera.testing import TEST_DATABASE_URL, drop_test_schemas

HEADER = "NAME           VERSION    TENANTS                  DESCRIPTION"


class Cli:
    """Runs the CLI on one database; closes the runtime each command built."""

    def __init__(self, data_dir: Path, host: PluginHost) -> None:
        url = os.environ.get(TEST_DATABASE_URL)
        self.host = host
        self.config = Config(
            data_dir=data_dir, database_url=url or f"sqlite:///{data_dir / 'tessera.db'}", redis_url=None,
            secret_key="cli-secret", schema_prefix=f"tp{uuid.uuid4().hex[:8]}_" if url else "",
        )
        self.env = {
            "TESSERA_DATA_DIR": str(data_dir), "TESSERA_DATABASE_URL": url, "TESSERA_SCHEMA_PREFIX": self.config.schema_prefix or None,
            "TESSERA_SECRET_KEY": "cli-secret", "TESSERA_REDIS_URL": None, "TESSERA_PLUGINS": None,
        }
        self.runner = CliRunner()
        self.built: list[cli.App] = []

    def run(self, *args: str) -> Result:
        built = self.built

        class TrackedApp(cli.App):
            def __init__(self) -> None:
                super().__init__()
                built.append(self)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "App", TrackedApp)
            patch.setattr(runtime_module, "default_host", lambda: self.host)
            try:
                return self.runner.invoke(cli.main, list(args), env=self.env, catch_exceptions=False)
            finally:
                for app in built:
                    if app._rt is not None:
                        app._rt.close()
                built.clear()

    def origins(self, slug: str) -> dict[str, str]:
        """Origin of each object of a tenant, and of each non-standard field as ``object.field``."""
        rt = Runtime(self.config, plugins=self.host)
        try:
            ref = rt.tenant(slug)
            with rt.db.system.connect() as conn:
                meta = load_metadata(conn, ref)
        finally:
            rt.close()
        found = {o.name: o.origin for o in meta.objects}
        found.update({f"{o.name}.{f.name}": f.origin for o in meta.objects for f in o.fields if f.origin != "standard"})
        return found


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory, hosts: Any) -> Iterator[Cli]:
    env = Cli(tmp_path_factory.mktemp("plugins-cli") / "data", hosts.main)
    assert env.run("db", "upgrade").exit_code == 0
    for slug in ("farm", "ranch"):
        created = env.run("tenant", "create", slug, "--admin-email", f"admin@{slug}.example")
        assert created.exit_code == 0, created.output
    yield env
    drop_test_schemas(env.config)


def _row(name: str, version: str, tenants: str, description: str) -> str:
    return f"{name:<14} {version:<10} {tenants:<24} {description}"


def test_plugins_list_shows_every_plugin_and_the_tenants_that_installed_it(cli_env: Cli) -> None:
    # when nothing is installed yet
    listed = cli_env.run("plugins", "list")
    # then every plugin is listed, sorted, with no tenants
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        HEADER,
        "atlas          1.0.0      -                        Sites of accounts",
        "beacon         0.3.0      -                        Beacons at sites",
        "cairn          1.0.0      -                        Trail markers",
        "dud            0.0.1      -                        Broken on purpose",
        "quarry         1.0.0      -                        Quarries (always refuses to install)",
        "siteclash      1.0.0      -                        Another plugin's site object",
        "stdclash       1.0.0      -                        Redefines a standard field",
    ]


def test_plugins_list_without_plugins_says_how_to_get_one(cli_env: Cli) -> None:
    empty = Cli(cli_env.config.data_dir, PluginHost())
    empty.env = cli_env.env
    listed = empty.run("plugins", "list")
    assert (listed.exit_code, listed.stdout) == (
        0, "no plugins (install a distribution declaring a 'tessera.plugins' entry point)\n")


def test_install_upgrade_and_uninstall_through_the_cli(cli_env: Cli) -> None:
    # when atlas is installed into both tenants and cairn into farm
    for slug in ("farm", "ranch"):
        installed = cli_env.run("plugins", "install", "atlas", "--tenant", slug)
        assert (installed.exit_code, installed.stdout) == (0, f"atlas: installed 1.0.0 in {slug}\n")
    assert cli_env.run("plugins", "install", "cairn", "--tenant", "farm").stdout == "cairn: installed 1.0.0 in farm\n"
    # then the list names the tenants of each
    rows = cli_env.run("plugins", "list").stdout.splitlines()
    assert rows[1] == "atlas          1.0.0      farm, ranch              Sites of accounts"
    assert rows[3] == "cairn          1.0.0      farm                     Trail markers"
    # and the tenants have atlas's definitions with its origin
    assert {k: v for k, v in cli_env.origins("farm").items() if v == "atlas"} == {
        "site": "atlas", "site.name": "atlas", "site.code": "atlas", "site.account": "atlas", "site.area": "atlas",
        "site.doubledArea": "atlas", "account.atlasRegion": "atlas", "account.atlasSiteCount": "atlas"}
    # when farm's atlas is upgraded to the installation's version (the same one)
    upgraded = cli_env.run("plugins", "upgrade", "atlas", "--tenant", "farm", "--allow-destructive")
    assert (upgraded.exit_code, upgraded.stdout) == (0, "atlas: installed 1.0.0 in farm\n")
    # when atlas is uninstalled from farm keeping data (the default), from ranch dropping it
    kept = cli_env.run("plugins", "uninstall", "atlas", "--tenant", "farm")
    dropped = cli_env.run("plugins", "uninstall", "atlas", "--tenant", "ranch", "--drop-data")
    assert (kept.exit_code, kept.stdout) == (0, "atlas: not installed in farm\n")
    assert (dropped.exit_code, dropped.stdout) == (0, "atlas: not installed in ranch\n")
    # then farm owns atlas's former definitions, ranch has none of them, and cairn is untouched
    farm = cli_env.origins("farm")
    assert (farm["site"], farm["account.atlasRegion"], farm["cairn"]) == ("custom", "custom", "cairn")
    ranch = cli_env.origins("ranch")
    assert "site" not in ranch and "account.atlasRegion" not in ranch
    rows = cli_env.run("plugins", "list").stdout.splitlines()
    assert rows[1] == _row("atlas", "1.0.0", "-", "Sites of accounts")
    assert rows[3] == _row("cairn", "1.0.0", "farm", "Trail markers")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("install", "ghost", "--tenant", "farm"),
         "no plugin 'ghost' in this installation (available: atlas, beacon, cairn, dud, quarry, siteclash, stdclash)"),
        (("install", "atlas", "--tenant", "nowhere"), "no tenant 'nowhere'"),
        (("install", "beacon", "--tenant", "ranch"), "plugin beacon requires atlas: install it first"),
        (("install", "stdclash", "--tenant", "farm"),
         "plugin stdclash defines field account.industry, which the standard metadata already defines"),
        (("install", "quarry", "--tenant", "farm"), "quarry needs a licence for tenant farm"),
        (("upgrade", "beacon", "--tenant", "farm"), "plugin beacon is not installed"),
        (("uninstall", "beacon", "--tenant", "farm", "--drop-data"), "plugin beacon is not installed"),
    ],
    ids=["unknown-plugin", "unknown-tenant", "requires", "conflict", "hook-refuses", "upgrade-missing",
         "uninstall-missing"],
)
def test_refused_plugin_commands_fail_with_the_reason(cli_env: Cli, args: tuple[str, ...], message: str) -> None:
    before = cli_env.run("plugins", "list").stdout
    result = cli_env.run("plugins", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert cli_env.run("plugins", "list").stdout == before


def test_installing_twice_through_the_cli_fails(cli_env: Cli) -> None:
    assert cli_env.run("plugins", "install", "dud", "--tenant", "ranch").exit_code == 0
    again = cli_env.run("plugins", "install", "dud", "--tenant", "ranch")
    assert (again.exit_code, again.stderr) == (1, "Error: plugin dud is already installed (version 0.0.1)\n")
    # and dud's failing before_uninstall refuses its uninstall, naming plugin and hook
    refused = cli_env.run("plugins", "uninstall", "dud", "--tenant", "ranch")
    assert (refused.exit_code, refused.stderr) == (1, "Error: plugin dud failed in before_uninstall: 'dudState'\n")
