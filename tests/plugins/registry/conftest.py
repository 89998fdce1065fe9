"""Fixtures of the registry tests: a tenant with the plugin installed, and a local GLEIF API (a small
Flask app on a threaded werkzeug server) answering in the API's JSON:API format from the saved real
records, with a small page size (so answers come in several pages), changes and injectable faults."""

from __future__ import annotations

import copy
import json
import math
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, serve_wsgi

SAMPLES = Path(__file__).parents[3] / "plugins" / "tessera_registry" / "data" / "samples"
SHELL, FUND, AMAZON, PUMA = "21380068P1DRHMJ8KU70", "549300LBI3LRIZ2V8V66", "254900LNRYNOQ9YPU758", "529900GRZ2BQY5ZM9N49"
INSTALL = 'mutation { installPlugin(name: "registry") { installed } }'
CREATE = "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { name config target matchKey } }"
RUN = ("mutation($n: String!) { runConnector(name: $n) { status pages created updated unchanged failed error "
       "errorSamples counts } }")
RUNS = "query($n: String!) { connectorRuns(name: $n) { status pages created updated unchanged failed error } }"
REGISTRY_FIELDS = ("lei registryLegalName registrationAuthority registrationNumber jurisdiction legalForm entityStatus "
                   "registrationStatus legalAddress headquartersAddress legalCountry entityCreatedDate "
                   "initialRegistrationDate nextRenewalDate registryUpdatedAt successorLei successorName")
ACCOUNTS = f"{{ accounts(first: 200, orderBy: [{{name: AscNullsLast}}]) {{ edges {{ node {{ id name {REGISTRY_FIELDS} }} }} }} }}"
RISKS = """{ riskEvents(first: 100, orderBy: [{eventKey: AscNullsLast}]) { totalCount edges { node {
  eventKey kind severity title previousValue newValue lei occurredAt account { id name } } } } }"""


def saved_records() -> dict[str, dict[str, Any]]:
    """Every LEI record of the saved responses, by LEI (read here on their own, not through the plugin)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text())["data"]
        for resource in data if isinstance(data, list) else [data]:
            found[resource["attributes"]["lei"]] = resource
    return found


@dataclass
class Gleif:
    """The records the server holds, its page size, and the faults it injects (one per request, in order)."""

    records: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(saved_records()))
    faults: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    page_cap: int = 5
    url: str = ""
    on_request: Callable[[], None] | None = None

    @property
    def base(self) -> str:
        return f"{self.url}/api/v1"

    def change(self, lei: str, updated: str, **changes: Any) -> None:
        """Change a record as the registry would: ``entity__status="INACTIVE"`` sets entity.status; the
        registration's lastUpdateDate becomes ``updated``."""
        record = self.records[lei]["attributes"]
        for path, value in changes.items():
            *parents, last = path.split("__")
            target = record
            for key in parents:
                target = target[key]
            target[last] = value
        record["registration"]["lastUpdateDate"] = updated


def gleif_app(state: Gleif) -> Flask:
    app = Flask("gleif")

    def fault() -> Response | None:
        kind = state.faults.pop(0) if state.faults else None
        if kind == "429":
            return Response('{"errors": [{"status": "429"}]}', status=429, headers={"Retry-After": "1"})
        if kind == "500":
            return Response("oops", status=500)
        if kind == "timeout":
            time.sleep(1.5)
        if kind == "garbage":
            return Response("<html>maintenance</html>", status=200, content_type="text/html")
        if kind == "not-jsonapi":
            return Response('{"records": []}', content_type="application/vnd.api+json")
        return None

    def listing(found: list[dict[str, Any]]) -> Any:
        size = min(int(request.args.get("page[size]", 15)), state.page_cap)
        number = int(request.args.get("page[number]", 1))
        last = max(1, math.ceil(len(found) / size))

        def link(page: int) -> str:
            query = {k: v for k, v in request.args.items() if not k.startswith("page[")}
            query.update({"page[number]": str(page), "page[size]": str(size)})
            return f"{state.base}/lei-records?{urllib.parse.urlencode(query)}"

        links = {"first": link(1), "last": link(last)}
        if number < last:
            links["next"] = link(number + 1)
        return Response(json.dumps({
            "meta": {"goldenCopy": {"publishDate": "2025-05-15T00:00:00Z"}, "pagination": {
                "currentPage": number, "perPage": size, "from": (number - 1) * size + 1,
                "to": min(number * size, len(found)), "total": len(found), "lastPage": last}},
            "links": links, "data": found[(number - 1) * size:number * size]}), content_type="application/vnd.api+json")

    @app.get("/api/v1/lei-records")
    def lei_records() -> Any:
        state.hits.append(urllib.parse.unquote(request.full_path))
        if state.on_request is not None:
            state.on_request()
        broken = fault()
        if broken is not None:
            return broken
        if "filter[lei]" in request.args:
            wanted = request.args["filter[lei]"].split(",")
            found = [state.records[lei] for lei in wanted if lei in state.records]
        elif "filter[fulltext]" in request.args:
            text = request.args["filter[fulltext]"].casefold()
            found = [r for lei, r in sorted(state.records.items())
                     if text in r["attributes"]["entity"]["legalName"]["name"].casefold() or text == lei.casefold()]
        else:
            name = request.args.get("filter[entity.legalName]", "").casefold()
            found = [r for r in state.records.values()
                     if r["attributes"]["entity"]["legalName"]["name"].casefold() == name]
        return listing(found)

    return app


@pytest.fixture
def gleif() -> Iterator[Gleif]:
    state = Gleif()
    with serve_wsgi(gleif_app(state)) as url:
        state.url = url
        yield state


@dataclass
class Registry:
    rt: Runtime
    created: CreatedTenant
    admin: GraphQLClient

    def connector(self, source: str, name: str = "gleif", **config: Any) -> dict[str, Any]:
        data = {"name": name, "plugin": "registry",
                "config": {"source": source, "backoffSeconds": 0.01, "timeoutSeconds": 1, "requestsPerSecond": 100,
                           **config}}
        return self.admin.data(CREATE, {"i": data})["createConnector"]

    def run(self, name: str = "gleif") -> dict[str, Any]:
        return self.admin.data(RUN, {"n": name})["runConnector"]

    def accounts(self, rows: list[dict[str, Any]], client: GraphQLClient | None = None) -> list[str]:
        made = (client or self.admin).data("mutation($d: [AccountCreateInput!]!) { createAccounts(data: $d) { id } }",
                                           {"d": rows})["createAccounts"]
        return [m["id"] for m in made]

    def by_name(self) -> dict[str, dict[str, Any]]:
        return {e["node"]["name"]: e["node"] for e in self.admin.data(ACCOUNTS)["accounts"]["edges"]}

    def risks(self) -> list[dict[str, Any]]:
        return [e["node"] for e in self.admin.data(RISKS)["riskEvents"]["edges"]]


@pytest.fixture
def registry(runtime: Runtime, app: Any, tenant: CreatedTenant, gql: GraphQLClient) -> Registry:
    assert gql.data(INSTALL)["installPlugin"]["installed"]
    return Registry(runtime, tenant, gql)
