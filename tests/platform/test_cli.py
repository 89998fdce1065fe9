"""The `tessera` command line, run with click's CliRunner against a database of its own (a data directory
of its own on SQLite; the test database with a schema prefix of its own on PostgreSQL)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner, Result

from tessera import cli
from tessera.core.config import Config
from tessera.services.runtime import Runtime
from tessera.testing import TEST_DATABASE_URL, GraphQLClient, drop_test_schemas, make_app

TOKEN = re.compile(r"^tsk_[A-Za-z0-9_-]{20,}$")
PACKAGE = {
    "objects": [
        {
            "name": "depot",
            "pluralName": "depots",
            "label": {"en": "Depot", "zh": "仓库"},
            "fields": [
                {"name": "city", "type": "TEXT", "required": True},
                {"name": "hub", "type": "LOOKUP", "target": "route"},
            ],
        },
        {
            "name": "route",
            "pluralName": "routes",
            "fields": [
                {"name": "origin", "type": "LOOKUP", "target": "depot"},
                {"name": "km", "type": "NUMBER", "scale": 1},
            ],
        },
    ]
}


class _TrackedApp(cli.App):
    """The CLI's lazy runtime holder, remembered so the runtime each command builds gets closed."""

    built: list[cli.App] = []

    def __init__(self) -> None:
        super().__init__()
        _TrackedApp.built.append(self)


class Environment:
    """TESSERA_* variables of one isolated database, and a runner that uses them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = os.environ.get(TEST_DATABASE_URL)
        self.prefix = f"tc{uuid.uuid4().hex[:8]}_" if self.url else ""
        self.variables: dict[str, str | None] = {
            "TESSERA_DATA_DIR": str(data_dir),
            "TESSERA_DATABASE_URL": self.url,
            "TESSERA_SCHEMA_PREFIX": self.prefix or None,
            "TESSERA_REDIS_URL": None,
            "TESSERA_SECRET_KEY": None,
        }
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        try:
            return self.runner.invoke(cli.main, list(args), env=self.variables, catch_exceptions=False)
        finally:
            _close_cli_runtimes()

    def runtime(self, monkeypatch: pytest.MonkeyPatch) -> Runtime:
        """A runtime configured from the environment the way the CLI and the app read it."""
        for name, value in self.variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        return Runtime(Config.from_env())

    def config(self) -> Config:
        url = self.url or f"sqlite:///{self.data_dir / 'tessera.db'}"
        return Config(
            data_dir=self.data_dir,
            database_url=url,
            redis_url=None,
            secret_key="x",
            schema_prefix=self.prefix,
        )

    def tenant_exists(self, slug: str) -> bool:
        schema = self.config().tenant_schema(slug)
        if not self.url:
            return (self.data_dir / "tenants" / f"{schema}.db").exists()
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return schema in sa.inspect(conn).get_schema_names()
        finally:
            engine.dispose()


def _close_cli_runtimes() -> None:
    for app in _TrackedApp.built:
        if app._rt is not None:
            app._rt.close()
    _TrackedApp.built.clear()


@pytest.fixture(scope="module", autouse=True)
def _tracked_cli_app() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "App", _TrackedApp)
        yield


@pytest.fixture
def fresh_env(tmp_path: Path) -> Iterator[Environment]:
    env = Environment(tmp_path / "data")
    yield env
    drop_test_schemas(env.config())


@pytest.fixture(scope="module")
def migrated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    env = Environment(tmp_path_factory.mktemp("cli") / "data")
    result = env.run("db", "upgrade")
    assert result.exit_code == 0, result.output
    yield env
    drop_test_schemas(env.config())


@pytest.fixture(scope="module")
def acme(migrated_env: Environment) -> Result:
    """`tenant create acme` on the migrated database."""
    return migrated_env.run("tenant", "create", "acme", "--admin-email", "Admin@Acme.example")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_db_upgrade_twice_is_fine(fresh_env: Environment) -> None:
    # when the database is upgraded twice
    first = fresh_env.run("db", "upgrade")
    second = fresh_env.run("db", "upgrade")
    # then both succeed at the same revision, which is current
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert first.stdout.startswith("database at revision ")
    assert second.stdout == first.stdout
    current = fresh_env.run("db", "current")
    assert current.exit_code == 0
    assert current.stdout.strip() == first.stdout.strip() + " (current)"


def test_commands_on_an_unmigrated_database_tell_to_upgrade(fresh_env: Environment) -> None:
    # given a database never upgraded
    # when a tenant is created, or tenants listed
    for args in (("tenant", "create", "acme", "--admin-email", "a@acme.example"), ("tenant", "list")):
        result = fresh_env.run(*args)
        # then it fails telling to run the upgrade
        assert result.exit_code == 1, result.output
        assert "not initialised" in result.stderr
        assert "run `tessera db upgrade`" in result.stderr
        assert result.stdout == ""


def test_tenant_create_prints_the_token_alone_on_its_last_line_and_it_works(
    migrated_env: Environment, acme: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given `tenant create acme --admin-email ...` has run
    assert acme.exit_code == 0, acme.output
    # then its last line, on stdout and overall, is the token alone, and the rest goes to stderr
    token = _lines(acme.stdout)[-1]
    assert TOKEN.match(token), acme.stdout
    assert _lines(acme.output)[-1] == token
    assert _lines(acme.stdout) == [token]
    assert "created tenant acme" in acme.stderr and "admin@acme.example" in acme.stderr.lower()
    # and the token works against the app, as the tenant's admin with the standard objects
    runtime = migrated_env.runtime(monkeypatch)
    try:
        gql = GraphQLClient(make_app(runtime), token)
        data = gql.data("{ objects { name } }")
        assert [o["name"] for o in data["objects"]] == [
            "account",
            "contact",
            "lead",
            "opportunity",
            "activity",
        ]
        created = gql.data('mutation { createAccount(data: {name: "Acme"}) { name owner { email } } }')
        assert created == {"createAccount": {"name": "Acme", "owner": {"email": "admin@acme.example"}}}
        assert (
            GraphQLClient(make_app(runtime), "tsk_not-a-token").execute("{ objects { name } }")["errors"][0][
                "extensions"
            ]["code"]
            == "UNAUTHENTICATED"
        )
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("slug", "email", "message"),
    [
        ("Bad-Slug", "a@b.example", "tenant slug 'Bad-Slug' must be 2-31 characters"),
        ("x", "a@b.example", "tenant slug 'x' must be 2-31 characters"),
        ("ok_slug", "not-an-email", "'not-an-email' is not a valid email address"),
    ],
)
def test_tenant_create_refuses_invalid_input(
    migrated_env: Environment, slug: str, email: str, message: str
) -> None:
    # when a tenant is created with an invalid slug or email
    result = migrated_env.run("tenant", "create", slug, "--admin-email", email)
    # then it fails with the reason, prints no token, and creates nothing
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert slug not in migrated_env.run("tenant", "list").stdout


def test_tenant_create_refuses_a_duplicate_slug(migrated_env: Environment, acme: Result) -> None:
    # given tenant acme
    assert acme.exit_code == 0
    # when it is created again
    result = migrated_env.run("tenant", "create", "acme", "--admin-email", "other@acme.example")
    # then it fails naming the slug, and no second token is printed
    assert result.exit_code == 1
    assert "tenant 'acme' already exists" in result.stderr
    assert result.stdout == ""


def test_tenant_list_shows_the_tenant(migrated_env: Environment, acme: Result) -> None:
    # given tenant acme
    assert acme.exit_code == 0
    objects = len(
        yaml.safe_load(migrated_env.run("metadata", "export", "--tenant", "acme").stdout)["objects"]
    )
    # when tenants are listed
    result = migrated_env.run("tenant", "list")
    # then acme appears with its schema, metadata version, objects and one user
    assert result.exit_code == 0
    lines = _lines(result.stdout)
    assert lines[0].split() == ["SLUG", "SCHEMA", "VERSION", "OBJECTS", "USERS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    schema = migrated_env.config().tenant_schema("acme")
    assert rows["acme"][1] == schema
    assert int(rows["acme"][2]) >= 2
    assert rows["acme"][3:] == [str(objects), "1"]


def test_metadata_export_then_apply_round_trips(
    migrated_env: Environment, acme: Result, tmp_path: Path
) -> None:
    # given tenant acme with a custom package applied through the CLI
    assert acme.exit_code == 0
    package = tmp_path / "delivery.yaml"
    package.write_text(yaml.safe_dump(PACKAGE, allow_unicode=True), encoding="utf-8")
    applied = migrated_env.run("metadata", "apply", str(package), "--tenant", "acme")
    assert applied.exit_code == 0, applied.output
    assert (
        applied.stdout.strip() == "objectsCreated: 2, objectsUpdated: 0, fieldsCreated: 4, fieldsUpdated: 0, rulesCreated: 0, rulesUpdated: 0, workflowsCreated: 0, workflowsUpdated: 0, automationApplied: 0"
    )
    # when its metadata is exported to a file and to stdout
    exported_file = tmp_path / "acme.yaml"
    to_file = migrated_env.run("metadata", "export", "--tenant", "acme", "-o", str(exported_file))
    to_stdout = migrated_env.run("metadata", "export", "--tenant", "acme")
    assert to_file.exit_code == 0 and to_stdout.exit_code == 0
    exported = exported_file.read_text(encoding="utf-8")
    assert to_stdout.stdout == exported
    assert [o["name"] for o in yaml.safe_load(exported)["objects"]][-2:] == ["depot", "route"]
    # and applied to a new tenant
    created = migrated_env.run("tenant", "create", "beta", "--admin-email", "admin@beta.example")
    assert created.exit_code == 0, created.output
    into_beta = migrated_env.run("metadata", "apply", str(exported_file), "--tenant", "beta")
    # then the new tenant gets the custom objects, and exports the very same text
    assert into_beta.exit_code == 0, into_beta.output
    assert (
        into_beta.stdout.strip() == "objectsCreated: 2, objectsUpdated: 0, fieldsCreated: 4, fieldsUpdated: 0, rulesCreated: 0, rulesUpdated: 0, workflowsCreated: 0, workflowsUpdated: 0, automationApplied: 0"
    )
    assert migrated_env.run("metadata", "export", "--tenant", "beta").stdout == exported
    again = migrated_env.run("metadata", "apply", str(exported_file), "--tenant", "beta")
    assert again.stdout.strip() == "objectsCreated: 0, objectsUpdated: 0, fieldsCreated: 0, fieldsUpdated: 0, rulesCreated: 0, rulesUpdated: 0, workflowsCreated: 0, workflowsUpdated: 0, automationApplied: 0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: kiosk\nfields: [\n", "kiosk.yaml: not valid YAML"),
        (
            "name: kiosk\npluralName: kiosks\nfields:\n  - {name: when, type: DATE}\n",
            "kiosk.when: field name 'when' is a reserved SQL keyword",
        ),
    ],
    ids=["yaml", "field"],
)
def test_metadata_apply_refuses_an_invalid_package(
    migrated_env: Environment, acme: Result, tmp_path: Path, text: str, message: str
) -> None:
    # given an invalid package file
    assert acme.exit_code == 0
    path = tmp_path / "kiosk.yaml"
    path.write_text(text, encoding="utf-8")
    before = migrated_env.run("metadata", "export", "--tenant", "acme").stdout
    # when it is applied
    result = migrated_env.run("metadata", "apply", str(path), "--tenant", "acme")
    # then it fails naming the problem, and the tenant's metadata is unchanged
    assert result.exit_code == 1
    assert message in result.stderr
    assert migrated_env.run("metadata", "export", "--tenant", "acme").stdout == before


@pytest.mark.parametrize(
    "args", [("metadata", "export", "--tenant", "ghost"), ("tenant", "drop", "ghost", "--yes")]
)
def test_commands_on_an_unknown_tenant_fail_naming_it(
    migrated_env: Environment, args: tuple[str, ...]
) -> None:
    result = migrated_env.run(*args)
    assert result.exit_code == 1
    assert "no tenant 'ghost'" in result.stderr


def test_tenant_drop_needs_yes_and_then_removes_everything(migrated_env: Environment) -> None:
    # given a tenant
    assert migrated_env.run("tenant", "create", "doomed", "--admin-email", "a@doomed.example").exit_code == 0
    assert migrated_env.tenant_exists("doomed")
    # when it is dropped without --yes
    refused = migrated_env.run("tenant", "drop", "doomed")
    # then it is refused as a usage error, and the tenant is still there
    assert refused.exit_code == 2
    assert "pass --yes to confirm" in refused.stderr
    assert "doomed" in _rows_of(migrated_env.run("tenant", "list"))
    assert migrated_env.tenant_exists("doomed")
    # when it is dropped with --yes
    dropped = migrated_env.run("tenant", "drop", "doomed", "--yes")
    # then it is gone: from the list, its schema or file, and its metadata
    assert dropped.exit_code == 0
    assert dropped.stdout.strip() == "dropped tenant doomed"
    assert "doomed" not in _rows_of(migrated_env.run("tenant", "list"))
    assert not migrated_env.tenant_exists("doomed")
    export = migrated_env.run("metadata", "export", "--tenant", "doomed")
    assert export.exit_code == 1 and "no tenant 'doomed'" in export.stderr


def _rows_of(result: Result) -> set[str]:
    return {line.split()[0] for line in _lines(result.stdout)[1:]}


def test_cli_runtime_is_built_lazily_from_the_environment(fresh_env: Environment) -> None:
    # given the environment points at a data directory
    # when a command that needs no database fails early (drop without --yes)
    result = fresh_env.run("tenant", "drop", "anything")
    # then no database was touched: nothing was written under the data directory
    assert result.exit_code == 2
    assert not (fresh_env.data_dir / "tessera.db").exists()
    # and a command that needs it creates the SQLite file (or the PostgreSQL schema) where configured
    assert fresh_env.run("db", "upgrade").exit_code == 0
    assert fresh_env.run("tenant", "list").stdout == "no tenants\n"
    if fresh_env.url is None:
        assert (fresh_env.data_dir / "tessera.db").exists()
    else:
        engine = sa.create_engine(fresh_env.url)
        try:
            with engine.connect() as conn:
                assert f"{fresh_env.prefix}tessera" in sa.inspect(conn).get_schema_names()
        finally:
            engine.dispose()
