"""`tessera connectors add` and `tessera connectors run` against a database of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.plugins.tenders.conftest import OCDS

from tessera import cli
from tessera.core.config import Config
from tessera.testing import TEST_DATABASE_URL, drop_test_schemas


class _Tracked(cli.App):
    built: list[cli.App] = []

    def __init__(self) -> None:
        super().__init__()
        _Tracked.built.append(self)


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setattr(cli, "App", _Tracked)
    url = os.environ.get(TEST_DATABASE_URL)
    prefix = f"tc{uuid.uuid4().hex[:8]}_" if url else ""
    env = {"TESSERA_DATA_DIR": str(tmp_path), "TESSERA_DATABASE_URL": url, "TESSERA_SCHEMA_PREFIX": prefix or None,
           "TESSERA_REDIS_URL": None, "TESSERA_SECRET_KEY": "cli-test-secret"}

    def invoke(*args: str) -> Result:
        try:
            return CliRunner().invoke(cli.main, list(args), env=env, catch_exceptions=False)
        finally:
            for app in _Tracked.built:
                if app._rt is not None:
                    app._rt.close()
            _Tracked.built.clear()

    yield invoke
    drop_test_schemas(Config(data_dir=tmp_path, database_url=url or f"sqlite:///{tmp_path / 'tessera.db'}",
                             redis_url=None, secret_key="x", schema_prefix=prefix))


def test_add_and_run_a_folder_connector(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("db", "upgrade").exit_code == 0
    assert run_cli("tenant", "create", "acme", "--admin-email", "a@acme.test").exit_code == 0
    assert run_cli("plugins", "install", "tenders", "--tenant", "acme").exit_code == 0
    added = run_cli("connectors", "add", "radar", "--plugin", "tenders", "--tenant", "acme",
                    "--source", str(OCDS / "worked-example-updates"))
    assert added.exit_code == 0, added.output
    assert "tender (match on ocid)" in added.output
    ran = run_cli("connectors", "run", "radar", "--tenant", "acme")
    assert ran.exit_code == 0, ran.output
    # six files: the five release packages first, then merged.json, a record package linking the
    # releases read before: nothing fails
    assert "succeeded: 6 pages, 1 created, 4 updated" in ran.output
    assert ", 0 failed" in ran.output, ran.output
    again = run_cli("connectors", "run", "radar", "--tenant", "acme")
    assert "succeeded: 1 pages, 0 created, 0 updated, 0 unchanged, 0 failed" in again.output
    missing = run_cli("connectors", "run", "nope", "--tenant", "acme")
    assert missing.exit_code != 0 and "no connector 'nope'" in missing.output


def test_add_takes_more_config_keys(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("db", "upgrade").exit_code == 0
    assert run_cli("tenant", "create", "acme", "--admin-email", "a@acme.test").exit_code == 0
    assert run_cli("plugins", "install", "tenders", "--tenant", "acme").exit_code == 0
    source = str(OCDS / "worked-example-updates")
    # values are JSON when they parse (2.5 is a number, so it is refused as a count of retries)
    refused = run_cli("connectors", "add", "a", "--plugin", "tenders", "--tenant", "acme", "--source", source,
                      "--set", "maxRetries=2.5")
    assert refused.exit_code != 0 and "config: maxRetries: give a whole number, not 2.5" in refused.output
    malformed = run_cli("connectors", "add", "b", "--plugin", "tenders", "--tenant", "acme", "--source", source,
                        "--set", "maxRetries")
    assert malformed.exit_code != 0 and "'maxRetries': give KEY=VALUE" in malformed.output
    added = run_cli("connectors", "add", "c", "--plugin", "tenders", "--tenant", "acme", "--source", source,
                    "--set", "maxRetries=2", "--set", "since=2016-01-01T00:00:00Z")
    assert added.exit_code == 0, added.output
    assert "succeeded: 6 pages" in run_cli("connectors", "run", "c", "--tenant", "acme").output
