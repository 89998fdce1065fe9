"""Mapping paths and transforms; the HTTP client's retries, Retry-After and rate limit."""

from __future__ import annotations

import io
import urllib.error
from email.message import Message

import pytest

from tessera.plugin import FieldMapping
from tessera.services.connectors import http
from tessera.services.connectors.mapping import MappingError, apply_transform, map_document, resolve

DOC = {"a": {"b": [{"c": 1, "n": "x"}, {"c": 2, "n": "y"}, {"n": "x"}]}, "d": "2016-02-15T18:00:00Z"}


def test_paths_and_transforms() -> None:
    assert resolve(DOC, "a.b.1.c") == 2 and resolve(DOC, "a.z.1") is None
    assert resolve(DOC, "a.b.*.n") == ["x", "y", "x"]
    assert map_document(DOC, [FieldMapping("names", "a.b.*.n", "join"), FieldMapping("day", "d", "date"),
                              FieldMapping("first", "a.b.*.c", "first"), FieldMapping("n", "a.b.0.c", "number")]) == {
        "names": "x; y", "day": "2016-02-15", "first": 1, "n": "1"}
    assert apply_transform("2020-01-01T10:00:00", "datetime") == "2020-01-01T10:00:00Z"
    with pytest.raises(MappingError):
        apply_transform("lots", "number")
    with pytest.raises(MappingError):
        map_document(DOC, [FieldMapping("n", "a.b.*.c", "integer")])


def test_retry_after_seconds_and_dates() -> None:
    assert http.retry_after("3") == 3.0
    assert http.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert http.retry_after(None) is None


def test_backoff_honours_retry_after_and_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    answers = iter([429, 503, 200])

    def fake(request, timeout):  # type: ignore[no-untyped-def]
        code = next(answers)
        if code != 200:
            headers = Message()
            headers["Retry-After"] = "2"
            raise urllib.error.HTTPError(request.full_url, code, "no", headers, io.BytesIO(b""))
        return io.BytesIO(b'{"ok": true}')

    monkeypatch.setattr(http.urllib.request, "urlopen", fake)
    client = http.ConnectorHttpClient(http.HttpSettings(backoff=0.5), http.RateLimiter(None), sleep=waits.append)
    assert client.get_json("http://x/feed", params={"since": "2020"}) == {"ok": True}
    assert waits == [2.0, 2.0] and client.requests == 3
    client = http.ConnectorHttpClient(http.HttpSettings(backoff=0.5, max_retries=1), http.RateLimiter(None),
                                      sleep=waits.append)
    answers = iter([500, 500])
    with pytest.raises(http.HttpFailed, match="HTTP 500, still after 2 attempts"):
        client.get_json("http://x/feed?token=secret")


def test_rate_limit_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = http.RateLimiter(50.0)
    import time
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - start >= 0.09
