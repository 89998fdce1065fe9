"""Two processes serving one database: a field added through one is queryable in the other within a
second, without restarting it (each process checks the tenant's metadata version per request)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, tenant_scope

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 30.0
VISIBILITY_LIMIT_S = 1.0

CREATE_OPPORTUNITY = """
mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id name } }
"""
COUNT_OPPORTUNITIES = "{ opportunities { totalCount edges { node { name } } } }"
WITH_SEGMENT = "{ opportunities { totalCount edges { node { name segment } } } }"
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name type } }"
CREATE_WITH_SEGMENT = """
mutation { createOpportunity(data: {name: "From B", closeDate: "2026-02-01", segment: "SMB"}) { segment } }
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, json.loads(response.read())


def _post(url: str, token: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _log(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture
def second_process(runtime: Runtime, tmp_path: Path) -> Iterator[str]:
    """``tessera serve`` in a new process on the session's database; yields its base URL."""
    config = runtime.config
    env = dict(os.environ)
    env.update(
        {
            "TESSERA_DATA_DIR": str(config.data_dir),
            "TESSERA_DATABASE_URL": config.database_url,
            "TESSERA_SCHEMA_PREFIX": config.schema_prefix,
            "TESSERA_SECRET_KEY": config.secret_key,
        }
    )
    env.pop("TESSERA_REDIS_URL", None)
    if config.redis_url:
        env["TESSERA_REDIS_URL"] = config.redis_url
    port = _free_port()
    executable = Path(sys.executable).parent / "tessera"
    assert executable.exists(), f"no tessera console script next to {sys.executable}"
    log_path = tmp_path / "second-process.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"the second process exited:\n{_log(log_path)}"
            try:
                if _get(f"{base}/healthz") == (200, {"status": "ok"}):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"no /healthz within {START_TIMEOUT_S}s:\n{_log(log_path)}"
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_field_added_in_one_process_is_queryable_in_the_other_within_a_second(
    app: Flask, runtime: Runtime, second_process: str
) -> None:
    with tenant_scope(runtime) as created:
        here = GraphQLClient(app, created.token)
        there = f"{second_process}/graphql"
        # given an opportunity created in this process, which the second process answers for
        here.data(CREATE_OPPORTUNITY, {"data": {"name": "From A", "closeDate": "2026-01-01"}})
        before = [_post(there, created.token, COUNT_OPPORTUNITIES) for _ in range(2)]
        assert (
            before[0]
            == before[1]
            == {"data": {"opportunities": {"totalCount": 1, "edges": [{"node": {"name": "From A"}}]}}}
        )
        # and which does not know the field yet (its schema is built and cached)
        unknown = _post(there, created.token, WITH_SEGMENT)
        assert unknown["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
        assert "'segment'" in unknown["errors"][0]["message"]
        # when a field is added to opportunities through this process
        added = here.data(
            CREATE_FIELD, {"input": {"object": "opportunity", "name": "segment", "type": "TEXT"}}
        )
        assert added["createField"] == {"name": "segment", "type": "TEXT"}
        changed_at = time.monotonic()
        # then the running second process answers queries using the field within a second
        while True:
            result = _post(there, created.token, WITH_SEGMENT)
            elapsed = time.monotonic() - changed_at
            if not result.get("errors"):
                break
            assert elapsed < VISIBILITY_LIMIT_S, f"still refused after {elapsed:.2f}s: {result['errors']}"
            time.sleep(0.02)
        assert elapsed < VISIBILITY_LIMIT_S
        assert result == {
            "data": {
                "opportunities": {"totalCount": 1, "edges": [{"node": {"name": "From A", "segment": None}}]}
            }
        }
        # and what the second process writes into the new column is read back here
        written = _post(there, created.token, CREATE_WITH_SEGMENT)
        assert written == {"data": {"createOpportunity": {"segment": "SMB"}}}
        names = {
            e["node"]["name"]: e["node"]["segment"] for e in here.data(WITH_SEGMENT)["opportunities"]["edges"]
        }
        assert names == {"From A": None, "From B": "SMB"}
