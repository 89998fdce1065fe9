"""Fixtures of the tenders tests: a tenant with the plugin installed, and a local OCDS feed server (a
small Flask app on a threaded werkzeug server) serving the real sample files, with injectable faults."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, serve_wsgi

OCDS = Path(__file__).parents[2] / "fixtures" / "ocds"
WORKED = ["tender1", "tender2", "tender3", "award1", "award2"]
INSTALL = 'mutation { installPlugin(name: "tenders") { installed } }'
CREATE = "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { name config target matchKey } }"
RUN = ("mutation($n: String!) { runConnector(name: $n) { status pages created updated unchanged failed error "
       "errorSamples counts } }")
RUNS = "query($n: String!) { connectorRuns(name: $n) { status pages created updated unchanged failed error } }"
TENDERS = """{ tenders(first: 50) { totalCount edges { node { id ocid title status value currency buyerName
  tenderEndDate procurementMethod releaseCount compiledRelease classifications } } } }"""


def load(name: str) -> Any:
    return json.loads((OCDS / name).read_text())


@dataclass
class Feed:
    """What the server publishes and the faults it injects (consumed in order, one per request)."""

    packages: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    pages: dict[str, Any] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    url: str = ""
    on_request: Callable[[], None] | None = None
    """Called (in the server's thread) before each answer of ``/releases``."""
    keys: dict[str, str] = field(default_factory=dict)
    """Headers ``/secured/...`` requires (name: value); a request without them is answered 401."""
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Every request's path (with its host) and headers."""

    def publish(self, *names: str) -> None:
        for name in names:
            self.packages.append(load(f"worked-example-updates/{name}.json"))


def feed_app(feed: Feed) -> Flask:
    app = Flask("ocds-feed")

    def fault() -> Response | None:
        kind = feed.faults.pop(0) if feed.faults else None
        if kind == "429":
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        if kind == "500":
            return Response("oops", status=500)
        if kind == "timeout":
            time.sleep(1.5)
        if kind == "garbage":
            return Response("<html>not json", status=200, content_type="text/html")
        return None

    @app.get("/releases")
    def releases() -> Any:
        feed.hits.append(request.full_path)
        if feed.on_request is not None:
            feed.on_request()
        broken = fault()
        if broken is not None:
            return broken
        since = request.args.get("since")
        fresh = [p for p in feed.packages if since is None or p["publishedDate"] > since]
        return {"version": "1.1", "publishedDate": max((p["publishedDate"] for p in fresh), default=since),
                "releases": [r for p in fresh for r in p["releases"]]}

    @app.get("/pages/<name>")
    def pages(name: str) -> Any:
        feed.hits.append(request.full_path)
        broken = fault()
        if broken is not None:
            return broken
        body = feed.pages[name]
        return Response(body, content_type="application/json") if isinstance(body, str) else body

    @app.before_request
    def record() -> None:
        feed.seen.append((f"{request.host}{request.full_path.rstrip('?')}", dict(request.headers)))

    @app.get("/secured/releases")
    @app.get("/secured/pages/<name>")
    def secured(name: str | None = None) -> Any:
        if any(request.headers.get(header) != value for header, value in feed.keys.items()):
            return Response("give the key", status=401)
        return releases() if name is None else pages(name)

    @app.get("/redirect")
    def redirect() -> Any:
        return Response("", status=302, headers={"Location": request.args["to"]})

    return app


@pytest.fixture
def feed() -> Iterator[Feed]:
    state = Feed()
    with serve_wsgi(feed_app(state)) as url:
        state.url = url
        yield state


@dataclass
class Tenders:
    rt: Runtime
    created: CreatedTenant
    admin: GraphQLClient

    def connector(self, name: str, source: str, **config: Any) -> dict[str, Any]:
        data = {"name": name, "plugin": "tenders",
                "config": {"source": source, "backoffSeconds": 0.01, "timeoutSeconds": 1, **config}}
        return self.admin.data(CREATE, {"i": data})["createConnector"]

    def run(self, name: str) -> dict[str, Any]:
        return self.admin.data(RUN, {"n": name})["runConnector"]

    def tenders(self) -> list[dict[str, Any]]:
        return [e["node"] for e in self.admin.data(TENDERS)["tenders"]["edges"]]

    def count(self, plural: str) -> int:
        return self.admin.data(f"{{ {plural} {{ totalCount }} }}")[plural]["totalCount"]


@pytest.fixture
def tenders(runtime: Runtime, app: Any, tenant: CreatedTenant, gql: GraphQLClient) -> Tenders:
    assert gql.data(INSTALL)["installPlugin"]["installed"]
    return Tenders(runtime, tenant, gql)
