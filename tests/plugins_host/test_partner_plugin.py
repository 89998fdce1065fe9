"""The partner story (issue 5), end to end: a plugin shipped as its own distribution
(tests/fixtures/partner_plugin) is pip-installed into a throw-away virtual environment, found through its
``tessera.plugins`` entry point, listed, installed into a tenant with the CLI, used through GraphQL
(a field of its type made with ``createField(type: ORCHARD_GRADE)``: the enum holds the types of
entry-point plugins; its extension query), and uninstalled with ``--drop-data``.

Every step runs in a subprocess of that environment's Python. Tessera and its dependencies come from the
development environment through a .pth file, so nothing is downloaded and nothing is installed there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from importlib.metadata import entry_points as installed_entry_points
from pathlib import Path
from typing import Any

import pytest

from tessera.core.config import Config
from tessera.testing import TEST_DATABASE_URL, drop_test_schemas

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "partner_plugin"
CLI = "import sys; from tessera.cli import main; sys.exit(main())"
FUNNEL = ("funnel         1.0.0      -                        Sales funnel: stages, stage history, conversion, win rate, forecast, rep scorecard")
REGISTRY = "registry       1.0.0      -                        Business registry: GLEIF LEI records on accounts, risk events"
TENDERS = ("tenders        1.0.0      -                        Tender radar: OCDS tender feeds, compiled tenders and awards, "
           "subscriptions")
HEADER = "NAME           VERSION    TENANTS                  DESCRIPTION"
GRAPHQL_SCRIPT = '''\
"""Runs the GraphQL documents read as a JSON list on stdin with the token given, prints the responses."""
import json
import sys

from tessera.core.config import Config
from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, make_app

rt = Runtime(Config.from_env())
try:
    client = GraphQLClient(make_app(rt), sys.argv[1])
    print(json.dumps([client.execute(query) for query in json.load(sys.stdin)]))
finally:
    rt.close()
'''


@dataclass
class PartnerVenv:
    python: Path
    site_packages: Path
    env: dict[str, str]
    config: Config
    script: Path

    def run(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *args], input=stdin, capture_output=True, text=True, timeout=120,
                              env={**self.env, **env}, check=False)

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run("-c", CLI, *args, **env)

    def graphql(self, token: str, *queries: str) -> list[dict[str, Any]]:
        done = self.run(str(self.script), token, stdin=json.dumps(list(queries)))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _listing(site_packages: Path) -> set[str]:
    return set(os.listdir(site_packages))


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerVenv]:
    root = tmp_path_factory.mktemp("partner")
    dev_site = Path(sysconfig.get_paths()["purelib"])
    dev_before = _listing(dev_site)
    # a copy of the distribution's sources, so building it writes nothing into the repository
    source = root / "tessera-orchard"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # a new virtual environment seeing the development environment's packages (Tessera, pip, ...)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    assert site_packages.is_relative_to(venv)
    (site_packages / "tessera_dev_environment.pth").write_text(f"import site; site.addsitedir({str(dev_site)!r})\n")
    # the environment of the subprocesses: a data directory (and on PostgreSQL a schema prefix) of their own
    url = os.environ.get(TEST_DATABASE_URL)
    prefix = f"tq{uuid.uuid4().hex[:8]}_" if url else ""
    data_dir = root / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(TESSERA_DATA_DIR=str(data_dir), TESSERA_SECRET_KEY="partner-secret")
    if url:
        env.update(TESSERA_DATABASE_URL=url, TESSERA_SCHEMA_PREFIX=prefix)
    config = Config(data_dir=data_dir, database_url=url or f"sqlite:///{data_dir / 'tessera.db'}", redis_url=None,
                    secret_key="partner-secret", schema_prefix=prefix)
    script = root / "graphql_run.py"
    script.write_text(GRAPHQL_SCRIPT, encoding="utf-8")
    partner = PartnerVenv(python, site_packages, env, config, script)
    # pip-install the distribution, offline, without its dependencies (they are already there)
    installed = partner.run("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                            "--no-cache-dir", "--disable-pip-version-check", str(source))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        yield partner
    finally:
        drop_test_schemas(config)
        # the development environment got nothing installed
        assert _listing(dev_site) == dev_before


def test_the_distribution_is_installed_in_the_new_environment_only(partner: PartnerVenv) -> None:
    probe = ("import importlib.metadata as m, json; d = m.distribution('tessera-orchard'); "
             "print(json.dumps([d.version, str(d.locate_file('')), "
             "[[e.name, e.value] for e in m.entry_points(group='tessera.plugins')]]))")
    done = partner.run("-c", probe)
    assert done.returncode == 0, done.stderr
    version, location, entry_points = json.loads(done.stdout)
    assert version == "1.2.0"
    assert Path(location).resolve() == partner.site_packages.resolve()
    # beside the plugins Tessera itself bundles
    assert sorted(entry_points) == [["funnel", "tessera_funnel"], ["orchard", "orchard_plugin"],
                                    ["registry", "tessera_registry"], ["tenders", "tessera_tenders"]]
    # and this process (the development environment) does not see it
    with pytest.raises(PackageNotFoundError):
        distribution("tessera-orchard")
    assert sorted(e.name for e in installed_entry_points(group="tessera.plugins")) == ["funnel", "registry", "tenders"]
    assert not (Path(sysconfig.get_paths()["purelib"]) / "orchard_plugin").exists()
    assert (partner.site_packages / "orchard_plugin" / "metadata" / "tree.yaml").is_file()


def test_the_partner_story(partner: PartnerVenv) -> None:
    # given a migrated database and a tenant
    upgraded = partner.cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    created = partner.cli("tenant", "create", "farm", "--admin-email", "admin@farm.example")
    assert created.returncode == 0, created.stderr
    token = created.stdout.splitlines()[-1]

    # when the plugins are listed: the entry point's plugin is there (beside Tessera's own), in no tenant yet
    listed = partner.cli("plugins", "list")
    assert (listed.returncode, listed.stdout.splitlines()) == (0, [
        HEADER, FUNNEL, "orchard        1.2.0      -                        Orchards and their trees", REGISTRY, TENDERS])
    # and the allow-list narrows it down: empty loads none, a list naming it loads it
    none = partner.cli("plugins", "list", TESSERA_PLUGINS="")
    assert none.stdout == "no plugins (install a distribution declaring a 'tessera.plugins' entry point)\n"
    assert partner.cli("plugins", "list", TESSERA_PLUGINS="funnel").stdout.splitlines() == [HEADER, FUNNEL]
    assert partner.cli("plugins", "list", TESSERA_PLUGINS="funnel, orchard, registry, tenders").stdout == listed.stdout

    # when it is installed into the tenant
    installed = partner.cli("plugins", "install", "orchard", "--tenant", "farm")
    assert (installed.returncode, installed.stdout) == (0, "orchard: installed 1.2.0 in farm\n"), installed.stderr
    assert partner.cli("plugins", "list").stdout.splitlines()[2] == (
        "orchard        1.2.0      farm                     Orchards and their trees")

    # then the tenant uses it through GraphQL: a field of its type, its object, its extension
    answers = partner.graphql(
        token,
        "{ plugins { name version installed installedVersion } }",
        'mutation { createField(input: {object: "account", name: "quality", type: ORCHARD_GRADE}) '
        "{ name type origin } }",
        '{ fieldTypes { key graphqlType } }',
        'mutation { createAccount(data: {name: "Acme", quality: "a"}) { name quality orchardAcres } }',
        'mutation { createAccount(data: {name: "Bad", quality: "z"}) { name } }',
        'mutation { createAccount(data: {name: "Beta", quality: " b ", orchardAcres: "12.5"}) { quality orchardAcres } }',
        'mutation { createTree(data: {variety: "Gala", grade: "c"}) { variety grade } }',
        '{ orchardGrades(object: "account", field: "quality") }',
        '{ orchardGrades(object: "tree", field: "grade") }',
        '{ object(name: "tree") { origin fields { name type origin } } }',
    )
    plugins, field, types, acme, bad, beta, tree, grades, tree_grades, tree_object = answers
    assert plugins == {"data": {"plugins": [
        {"name": "funnel", "version": "1.0.0", "installed": False, "installedVersion": None},
        {"name": "orchard", "version": "1.2.0", "installed": True, "installedVersion": "1.2.0"},
        {"name": "registry", "version": "1.0.0", "installed": False, "installedVersion": None},
        {"name": "tenders", "version": "1.0.0", "installed": False, "installedVersion": None}]}}
    assert field == {"data": {"createField": {"name": "quality", "type": "ORCHARD_GRADE", "origin": "custom"}}}
    assert {"key": "ORCHARD_GRADE", "graphqlType": "String"} in types["data"]["fieldTypes"]
    assert acme == {"data": {"createAccount": {"name": "Acme", "quality": "A", "orchardAcres": None}}}
    assert bad["data"] is None
    assert bad["errors"][0]["message"] == "quality: a grade is A, B or C"
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert beta == {"data": {"createAccount": {"quality": "B", "orchardAcres": "12.5"}}}
    assert tree == {"data": {"createTree": {"variety": "Gala", "grade": "C"}}}
    assert grades == {"data": {"orchardGrades": ["A", "B"]}}
    assert tree_grades == {"data": {"orchardGrades": ["C"]}}
    assert tree_object == {"data": {"object": {"origin": "orchard", "fields": [
        {"name": "variety", "type": "TEXT", "origin": "orchard"},
        {"name": "grade", "type": "ORCHARD_GRADE", "origin": "orchard"},
        {"name": "planted", "type": "DATE", "origin": "orchard"},
    ]}}}

    # when it is uninstalled dropping its data
    removed = partner.cli("plugins", "uninstall", "orchard", "--tenant", "farm", "--drop-data")
    assert (removed.returncode, removed.stdout) == (0, "orchard: not installed in farm\n"), removed.stderr
    # then its object, its account field and its extension are gone; the admin's own field stays, with data
    after = partner.graphql(
        token,
        '{ object(name: "tree") { name } }',
        '{ object(name: "account") { fields { name origin } } }',
        '{ orchardGrades(object: "account", field: "quality") }',
        "{ accounts(orderBy: [{name: AscNullsLast}]) { edges { node { name quality } } } }",
    )
    tree_gone, account, extension, accounts = after
    assert tree_gone == {"data": {"object": None}}
    own = {f["name"]: f["origin"] for f in account["data"]["object"]["fields"] if f["origin"] != "standard"}
    assert own == {"quality": "custom"}
    assert extension["errors"][0]["message"] == "Cannot query field 'orchardGrades' on type 'Query'."
    assert accounts == {"data": {"accounts": {"edges": [
        {"node": {"name": "Acme", "quality": "A"}}, {"node": {"name": "Beta", "quality": "B"}}]}}}
    assert partner.cli("plugins", "list").stdout.splitlines()[2] == (
        "orchard        1.2.0      -                        Orchards and their trees")
