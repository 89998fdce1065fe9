"""The funnel's sample data: PER_ACCOUNT deals per account of the demo's scale, with their stage
history and activities, the same for the same seed; and ``tessera demo`` installing the funnel."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tessera import cli
from tessera.core.config import Config
from tessera.services.demo import load_sample_data
from tessera.services.runtime import Actor
from tessera.services.tenants import drop_tenant
from tessera.testing import TEST_DATABASE_URL, GraphQLClient, drop_test_schemas, new_tenant
from tessera_funnel import sample

DEALS = """query { opportunities(filter: {name: {startsWith: "Funnel deal"}}, first: 500) {
  totalCount edges { node { id stage stageEnteredAt funnelStageCount } } } }"""
HISTORY = "query { stageHistories(first: 500) { totalCount edges { node { opportunity { id } toStage leftAt } } } }"
ACTIVITIES = """query { activities(filter: {subject: {contains: "Funnel deal"}}, first: 500) {
  totalCount edges { node { effectiveFollowUp status opportunity { id } } } } }"""
INSTALL = 'mutation { installPlugin(name: "funnel") { installed } }'


def _load(runtime: Any, app: Any, seed: int) -> dict[str, Any]:
    created = new_tenant(runtime)
    try:
        admin = GraphQLClient(app, created.token)
        admin.data(INSTALL)
        counts = load_sample_data(runtime, Actor(runtime.tenant(created.tenant.slug), created.admin_user_id, "import"),
                                  seed=seed, accounts=2)
        deals = admin.data(DEALS)["opportunities"]
        history = admin.data(HISTORY)["stageHistories"]
        activities = admin.data(ACTIVITIES)["activities"]
        return {"counts": counts, "deals": deals, "history": history, "activities": activities}
    finally:
        drop_tenant(runtime, created.tenant.slug)


def test_sample_data_makes_funnel_deals_with_history_and_activities_deterministically(
    runtime: Any, app: Any
) -> None:
    first = _load(runtime, app, seed=7)
    deals = first["deals"]
    assert deals["totalCount"] == sample.PER_ACCOUNT * 2
    funnel_ids = {e["node"]["id"] for e in deals["edges"]}
    # every deal has its history: one row per stage entered, the last one open
    rows = [e["node"] for e in first["history"]["edges"] if e["node"]["opportunity"]["id"] in funnel_ids]
    per_deal = Counter(r["opportunity"]["id"] for r in rows)
    assert set(per_deal) == funnel_ids
    assert all(e["node"]["funnelStageCount"] == per_deal[e["node"]["id"]] for e in deals["edges"])
    open_rows = Counter(r["opportunity"]["id"] for r in rows if r["leftAt"] is None)
    assert open_rows == Counter(funnel_ids)
    assert all(e["node"]["stageEnteredAt"] for e in deals["edges"])
    assert len(rows) > len(funnel_ids)  # some deals moved
    # activities of the deals, completed, with effectiveFollowUp set either way
    activities = [e["node"] for e in first["activities"]["edges"]]
    assert activities and {a["status"] for a in activities} == {"completed"}
    assert {a["effectiveFollowUp"] for a in activities} == {True, False}
    assert {a["opportunity"]["id"] for a in activities} <= funnel_ids
    # the counts are what the tenant holds: the generator's rows and those its hook wrote
    assert first["counts"]["stageHistory"] == first["history"]["totalCount"]
    # the same seed gives the same counts and the same stage distribution
    again = _load(runtime, app, seed=7)
    assert again["counts"] == first["counts"]

    def stages(result: dict[str, Any]) -> Counter[str]:
        return Counter(e["node"]["stage"] for e in result["deals"]["edges"])

    assert stages(again) == stages(first)
    assert again["history"]["totalCount"] == first["history"]["totalCount"]
    assert again["activities"]["totalCount"] == first["activities"]["totalCount"]
    assert len(stages(first)) >= 3


@pytest.mark.slow
def test_tessera_demo_installs_the_funnel(tmp_path: Path) -> None:
    url = os.environ.get(TEST_DATABASE_URL)
    prefix = f"tf{os.urandom(4).hex()}_" if url else ""
    data_dir = tmp_path / "data"
    env = {"TESSERA_DATA_DIR": str(data_dir), "TESSERA_DATABASE_URL": url, "TESSERA_SCHEMA_PREFIX": prefix or None,
           "TESSERA_REDIS_URL": None, "TESSERA_SECRET_KEY": None}
    built: list[Any] = []

    class Tracked(cli.App):
        def __init__(self) -> None:
            super().__init__()
            built.append(self)

    original = cli.App
    cli.App = Tracked  # type: ignore[misc]
    try:
        result = CliRunner().invoke(cli.main, ["demo", "--no-serve"], env=env, catch_exceptions=False)
    finally:
        cli.App = original  # type: ignore[misc]
        for app in built:
            if app._rt is not None:
                app._rt.close()
        drop_test_schemas(Config(data_dir=data_dir, database_url=url or f"sqlite:///{data_dir / 'tessera.db'}",
                                 redis_url=None, secret_key="x", schema_prefix=prefix))
    assert result.exit_code == 0, result.output
    assert "installed plugin funnel 1.0.0" in result.output
    counts = next(line for line in result.output.splitlines() if line.startswith("sample data:"))
    assert "stageHistory" in counts
