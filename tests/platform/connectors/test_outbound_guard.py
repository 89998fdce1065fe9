"""The private-network guard: ``check_url`` itself, and connectors refused when saved and when run.

Offline, no host resolves to a public address; the tests that need a "public" source make
``localhost`` resolve to 93.184.216.34 for the guard only (urllib still connects to the local feed
server), then lead the sync to 127.0.0.1 by ``links.next`` or a redirect.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from functools import partial

import pytest
from tests.plugins.tenders.conftest import CREATE, INSTALL, Feed, Tenders, feed_app, load

from tessera.services import outbound
from tessera.services.connectors import http
from tessera.services.outbound import OutboundRefused, Unresolvable, check_url
from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, serve_wsgi

UPDATE = "mutation($i: UpdateConnectorInput!) { updateConnector(input: $i) { name config } }"
HINT = "set TESSERA_ALLOW_PRIVATE_NETWORKS=1 to allow them"
PUBLIC = "93.184.216.34"


@pytest.fixture
def feed() -> Iterator[Feed]:
    """The tenders tests' feed server (their conftest's fixtures are not visible from here)."""
    state = Feed()
    with serve_wsgi(feed_app(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def tenders(runtime: Runtime, app: object, tenant: CreatedTenant, gql: GraphQLClient) -> Tenders:
    assert gql.data(INSTALL)["installPlugin"]["installed"]
    return Tenders(runtime, tenant, gql)


@pytest.fixture
def guarded(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The session's runtime with private networks off (the test configuration allows them)."""
    monkeypatch.setattr(runtime, "config", runtime.config.with_overrides(allow_private_networks=False))
    return runtime


@pytest.fixture
def public_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """``localhost`` looks public to the guard (urllib still connects to 127.0.0.1)."""
    real = outbound.resolve
    monkeypatch.setattr(outbound, "resolve", lambda host: [ipaddress.ip_address(PUBLIC)] if host == "localhost"
                        else real(host))


# --- check_url ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:5000/x?key=secret", "127.0.0.1 is a loopback address"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ("https://172.16.0.1/", "172.16.0.1 is a private address"),
    ("http://192.168.1.1/feed", "192.168.1.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://[fc00::1]/", "fc00::1 is a private address"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1 is a private address"),
    ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
    ("http://100.64.0.1/", "100.64.0.1 is a non-public address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://localhost:8080/", " is a loopback address"),  # 127.0.0.1 or ::1, whichever comes first
    ("http://2130706433/", "127.0.0.1 is a loopback address"),
])
def test_non_public_addresses_are_refused(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, allow_private=False)
    assert reason in refused.value.reason, refused.value
    assert HINT in str(refused.value) and "secret" not in str(refused.value)
    check_url(url, allow_private=True)  # the operator allows them


def test_the_message_names_the_url_and_the_address() -> None:
    with pytest.raises(OutboundRefused, match=r"^http://127\.0\.0\.1:5000/x: 127\.0\.0\.1 is a loopback address; "
                                              r"outbound calls to private networks are off \(set "):
        check_url("http://user:pw@127.0.0.1:5000/x?token=t#f", allow_private=False)


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "gopher://93.184.216.34/", "http:///x"])
def test_only_http_urls_pass(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(OutboundRefused, match="not an http\\(s\\) URL"):
            check_url(url, allow_private=allow)


def test_public_addresses_pass() -> None:
    check_url(f"http://{PUBLIC}/feed", allow_private=False)
    check_url("https://[2606:4700:4700::1111]:8443/x", allow_private=False)


def test_a_host_is_refused_if_any_of_its_addresses_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, 0)),
               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 0))]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(OutboundRefused, match=r"^http://feed\.example/: 10\.0\.0\.7 is a private address"):
        check_url("http://feed.example/", allow_private=False)


def test_an_unresolvable_host_is_refused_and_may_be_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_answer(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(outbound.socket, "getaddrinfo", no_answer)
    with pytest.raises(Unresolvable, match=r"^http://nowhere\.example/x: cannot resolve nowhere\.example \(Name or"):
        check_url("http://nowhere.example/x", allow_private=False)
    # the connector client retries it like a refused connection
    waits: list[float] = []
    client = http.ConnectorHttpClient(http.HttpSettings(backoff=0.5, max_retries=1), http.RateLimiter(None),
                                      sleep=waits.append, guard=partial(check_url, allow_private=False))
    with pytest.raises(http.HttpFailed, match=r"connection failed \(cannot resolve nowhere\.example .*after 2 attempts"):
        client.get_json("http://nowhere.example/x")
    assert waits == [0.5]


# --- connectors ---------------------------------------------------------------------------------------
def test_a_private_source_is_refused_when_saved(tenders: Tenders, guarded: Runtime) -> None:
    data = {"name": "metadata", "plugin": "tenders", "config": {"source": "http://169.254.169.254/latest"}}
    error = tenders.admin.error(CREATE, {"i": data})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and error["extensions"]["field"] == "config"
    assert error["message"] == ("config.source: http://169.254.169.254/latest: 169.254.169.254 is a link-local "
                                f"address; outbound calls to private networks are off ({HINT})")


def test_a_change_to_a_private_source_is_refused(tenders: Tenders, feed: Feed, guarded: Runtime,
                                                 public_localhost: None) -> None:
    public = feed.url.replace("127.0.0.1", "localhost")
    tenders.connector("feed", f"{public}/releases")  # accepted: a "public" host
    error = tenders.admin.error(UPDATE, {"i": {"name": "feed", "config": {"source": f"{feed.url}/releases"}}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and "127.0.0.1 is a loopback address" in error["message"]


def test_a_run_against_a_private_source_fails_with_the_reason(tenders: Tenders, feed: Feed,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # given a connector saved while private networks were allowed
    feed.publish("tender1")
    tenders.connector("feed", f"{feed.url}/releases")
    # when the operator turns them off and it runs
    monkeypatch.setattr(tenders.rt, "config", tenders.rt.config.with_overrides(allow_private_networks=False))
    run = tenders.run("feed")
    # then it fails at once with the guard's reason, and the feed never heard of it
    assert (run["status"], run["pages"], run["created"]) == ("FAILED", 0, 0)
    assert run["error"] == (f"page 1: HttpFailed: {feed.url}/releases: 127.0.0.1 is a loopback address; "
                            f"outbound calls to private networks are off ({HINT})")
    assert feed.hits == []


def test_links_next_to_a_private_address_fails_the_run(tenders: Tenders, feed: Feed, guarded: Runtime,
                                                       public_localhost: None) -> None:
    first = load("worked-example-updates/tender1.json")
    first["links"] = {"next": f"{feed.url}/pages/two"}
    feed.pages.update(one=first, two=load("worked-example-updates/tender2.json"))
    tenders.connector("chain", f"{feed.url.replace('127.0.0.1', 'localhost')}/pages/one")
    run = tenders.run("chain")
    assert (run["status"], run["pages"], run["created"]) == ("FAILED", 1, 1)
    assert run["error"].startswith(f"page 2: HttpFailed: {feed.url}/pages/two: 127.0.0.1 is a loopback address")
    assert feed.hits == ["/pages/one?"]


def test_a_redirect_to_a_private_address_is_not_followed(tenders: Tenders, feed: Feed, guarded: Runtime,
                                                         public_localhost: None) -> None:
    feed.pages["one"] = load("worked-example-updates/tender1.json")
    public = feed.url.replace("127.0.0.1", "localhost")
    tenders.connector("moved", f"{public}/redirect?to={feed.url}/pages/one")
    run = tenders.run("moved")
    assert run["status"] == "FAILED"
    assert run["error"] == (f"page 1: HttpFailed: {feed.url}/pages/one: redirected from {public}/redirect: "
                            f"127.0.0.1 is a loopback address; outbound calls to private networks are off ({HINT})")
    assert feed.hits == []  # /redirect answered, /pages/one was never asked
