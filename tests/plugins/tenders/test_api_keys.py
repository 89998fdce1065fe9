"""Connector keys (``apiKey``/``apiKeyHeader``, ``token``) sent to an HTTP source that requires them,
only to that source's origin, and never shown or logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from tests.plugins.tenders.conftest import CREATE, Feed, Tenders, load

from tessera.storage.system_tables import connector_runs, outbox

CONNECTORS = "{ connectors { name config } }"
KEY = "k1-do-not-leak"


def _keyed(feed: Feed, **keys: str) -> None:
    feed.keys = keys
    feed.publish("tender1")


def _sent(feed: Feed, path: str) -> list[dict[str, str]]:
    """The headers of the requests to ``path`` (host included)."""
    return [headers for seen, headers in feed.seen if seen.startswith(path)]


def test_an_api_key_goes_in_x_api_key(tenders: Tenders, feed: Feed) -> None:
    # given a feed that answers only with X-API-Key: k1
    _keyed(feed, **{"X-API-Key": KEY})
    tenders.connector("keyed", f"{feed.url}/secured/releases", apiKey=KEY)
    # when it syncs, then the key opened it
    run = tenders.run("keyed")
    assert (run["status"], run["created"]) == ("SUCCEEDED", 1), run
    [headers] = _sent(feed, f"{feed.url[7:]}/secured/releases")
    assert headers["X-Api-Key"] == KEY and "Authorization" not in headers


def test_api_key_header_names_the_header(tenders: Tenders, feed: Feed) -> None:
    _keyed(feed, **{"Ocp-Apim-Subscription-Key": KEY})
    tenders.connector("apim", f"{feed.url}/secured/releases", apiKey=KEY, apiKeyHeader="Ocp-Apim-Subscription-Key")
    assert tenders.run("apim")["status"] == "SUCCEEDED"
    [headers] = _sent(feed, f"{feed.url[7:]}/secured/releases")
    assert "X-Api-Key" not in headers


def test_a_token_goes_as_a_bearer(tenders: Tenders, feed: Feed) -> None:
    _keyed(feed, Authorization=f"Bearer {KEY}")
    tenders.connector("bearer", f"{feed.url}/secured/releases", token=KEY)
    assert tenders.run("bearer")["status"] == "SUCCEEDED"


def test_without_the_key_the_run_fails_with_the_401(tenders: Tenders, feed: Feed) -> None:
    _keyed(feed, **{"X-API-Key": KEY})
    tenders.connector("keyless", f"{feed.url}/secured/releases")
    run = tenders.run("keyless")
    assert run["status"] == "FAILED" and run["created"] == 0
    assert run["error"] == f"page 1: HttpFailed: {feed.url}/secured/releases answered HTTP 401"


def test_a_key_is_masked_and_never_logged(tenders: Tenders, feed: Feed, caplog: pytest.LogCaptureFixture) -> None:
    # given a connector whose key the feed refuses (and a token it does not know of)
    caplog.set_level(logging.DEBUG, logger="tessera")
    _keyed(feed, **{"X-API-Key": "another"})
    shown = tenders.connector("wrong", f"{feed.url}/secured/releases", apiKey=KEY, token=KEY)
    # then the API shows it masked
    assert (shown["config"]["apiKey"], shown["config"]["token"]) == ("********", "********")
    [listed] = tenders.admin.data(CONNECTORS)["connectors"]
    assert KEY not in str(listed["config"])
    # when the run fails, neither its error, the logs nor the job rows carry the key
    run = tenders.run("wrong")
    assert run["status"] == "FAILED" and "HTTP 401" in run["error"] and KEY not in run["error"]
    assert KEY not in caplog.text
    assert not [r for r in caplog.records if KEY in str(vars(r))]
    with tenders.rt.db.system.connect() as conn:
        assert KEY not in str(conn.execute(sa.select(connector_runs.c.error)).scalars().all())
        assert KEY not in str(conn.execute(sa.select(outbox.c.last_error)).scalars().all())


def test_the_key_goes_only_to_the_source_origin(tenders: Tenders, feed: Feed) -> None:
    # given a first page on the source's origin whose links.next leads to another origin (localhost
    # is the same server under another name), and a third page back on the source's origin
    feed.keys = {"X-API-Key": KEY}
    other = feed.url.replace("127.0.0.1", "localhost")
    first = load("worked-example-updates/tender1.json")
    first["links"] = {"next": f"{other}/pages/two"}
    second = load("worked-example-updates/tender2.json")
    second["links"] = {"next": f"{feed.url}/secured/pages/three"}
    feed.pages.update(one=first, two=second, three=load("worked-example-updates/tender3.json"))
    tenders.connector("hops", f"{feed.url}/secured/pages/one", apiKey=KEY)
    # when it syncs
    run = tenders.run("hops")
    # then the key went to the two pages of the source's origin only
    assert (run["status"], run["pages"]) == ("SUCCEEDED", 3), run
    assert [h.get("X-Api-Key") for h in _sent(feed, f"{other[7:]}/pages/two")] == [None]
    assert [h.get("X-Api-Key") for h in _sent(feed, f"{feed.url[7:]}/secured/pages/three")] == [KEY]


def test_a_redirect_keeps_the_key_on_its_origin_only(tenders: Tenders, feed: Feed) -> None:
    feed.keys = {"X-API-Key": KEY}
    feed.pages["one"] = load("worked-example-updates/tender1.json")
    other = feed.url.replace("127.0.0.1", "localhost")
    # a redirect on the same origin keeps the key
    tenders.connector("moved", f"{feed.url}/redirect?to=/secured/pages/one", apiKey=KEY)
    assert tenders.run("moved")["status"] == "SUCCEEDED"
    # one to another origin drops it (and the page there requires it: 401)
    tenders.connector("away", f"{feed.url}/redirect?to={other}/secured/pages/one", apiKey=KEY)
    run = tenders.run("away")
    assert run["status"] == "FAILED" and "HTTP 401" in run["error"]
    assert [h.get("X-Api-Key") for h in _sent(feed, f"{other[7:]}/secured/pages/one")] == [None]


@pytest.mark.parametrize(("config", "message"), [
    ({"apiKey": "k1", "apiKeyHeader": "Bad Header"}, "config.apiKeyHeader: give an HTTP header name"),
    ({"apiKeyHeader": "X-Key"}, "config.apiKeyHeader: give apiKey too"),
    ({"apiKey": f"{KEY}\r\nX-Injected: 1"}, "config.apiKey: give text without control characters"),
    ({"token": 42}, "config.token: give text"),
    ({"apiKey": KEY, "apiKeyHeader": "authorization", "token": KEY}, "Authorization carries the token already"),
])
def test_bad_keys_are_refused_when_saved(tenders: Tenders, feed: Feed, config: dict[str, Any], message: str) -> None:
    data = {"name": "bad", "plugin": "tenders", "config": {"source": f"{feed.url}/releases", **config}}
    error = tenders.admin.error(CREATE, {"i": data})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and error["extensions"]["field"] == "config"
    assert message in error["message"] and KEY not in error["message"]
