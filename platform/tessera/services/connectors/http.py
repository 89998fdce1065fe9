"""HTTP for connector providers: timeouts, retries with exponential backoff, ``Retry-After``, rate limits.

Plain ``urllib`` (no new dependency). A request is retried on 429 and 5xx answers, timeouts and
connection errors, waiting ``backoff * 2**(attempt-1)`` seconds (capped), or what ``Retry-After``
asks (seconds or an HTTP date, capped too). Every request of a provider, whatever the tenant, first
takes a slot of that provider's process-wide rate limit. URLs are logged without their query string,
which may carry credentials.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from tessera.core.clock import utcnow
from tessera.plugin import MalformedPage

log = logging.getLogger("tessera.connectors.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 64 * 1024 * 1024


class HttpFailed(Exception):
    """The request failed for good (retries spent, or an answer that retrying cannot fix)."""


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0
    max_retries: int = 5
    backoff: float = 1.0
    max_wait: float = 60.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpSettings:
        """Per-connector overrides: ``timeoutSeconds``, ``maxRetries``, ``backoffSeconds``, ``maxWaitSeconds``
        (and ``requestsPerSecond``, checked here, used by the rate limiter); ValueError names a bad one."""
        base = cls()
        rate = config.get("requestsPerSecond")
        if rate is not None:
            _number(config, "requestsPerSecond", 0.0, above=True)
        return cls(timeout=_number(config, "timeoutSeconds", base.timeout, above=True),
                   max_retries=int(_number(config, "maxRetries", base.max_retries, whole=True)),
                   backoff=_number(config, "backoffSeconds", base.backoff),
                   max_wait=_number(config, "maxWaitSeconds", base.max_wait))


def _number(config: Mapping[str, Any], key: str, default: float, *, above: bool = False, whole: bool = False) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not float(value).is_integer()):
        raise ValueError(f"{key}: give a {'whole ' if whole else ''}number, not {value!r}")
    if value < 0 or (above and value == 0):
        raise ValueError(f"{key}: give a number {'above' if above else 'of at least'} 0, not {value!r}")
    return float(value)


class RateLimiter:
    """At most ``rate`` requests per second (evenly spaced), shared by the threads of a process."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._lock = threading.Lock()
        self._next = 0.0

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter(provider: str, rate: float | None) -> RateLimiter:
    """The process's limiter for ``provider`` at ``rate``: connectors of a provider at the same rate share it."""
    key = f"{provider}@{rate or 0}"
    with _limiters_lock:
        found = _limiters.get(key)
        if found is None:
            found = _limiters[key] = RateLimiter(rate)
        return found


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _shown(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class ConnectorHttpClient:
    """``tessera.plugin.ConnectorHttp`` for one sync: ``get_json`` with the connector's settings."""

    def __init__(self, settings: HttpSettings, rate: RateLimiter, *, sleep: Callable[[float], None] = time.sleep,
                 headers: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.rate = rate
        self.sleep = sleep
        self.headers = dict(headers or {})
        self.requests = 0
        self.retries = 0

    def get_json(self, url: str, *, params: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        if params:
            url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(dict(params))
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise HttpFailed(f"not an http(s) URL: {_shown(url)}")
        body = self._get(url, {"Accept": "application/json", **self.headers, **dict(headers or {})})
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPage(f"{_shown(url)} did not answer JSON: {exc}") from None

    def _get(self, url: str, headers: Mapping[str, str]) -> bytes:
        attempt = 0
        while True:
            attempt += 1
            self.rate.acquire()
            self.requests += 1
            wait: float | None = None
            try:
                request = urllib.request.Request(url, headers=dict(headers), method="GET")
                with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:
                    body: bytes = response.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    raise HttpFailed(f"{_shown(url)}: answer larger than {MAX_BODY} bytes")
                return body
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES:
                    raise HttpFailed(f"{_shown(url)} answered HTTP {exc.code}") from None
                reason = f"HTTP {exc.code}"
                wait = retry_after(exc.headers.get("Retry-After"))
            except TimeoutError as exc:
                reason = f"timed out ({exc})"
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    reason = "timed out"
                else:
                    reason = f"connection failed ({exc.reason})"
            if attempt > self.settings.max_retries:
                raise HttpFailed(f"{_shown(url)}: {reason}, still after {attempt} attempts")
            delay = self.settings.backoff * (2 ** (attempt - 1))
            delay = min(max(delay, wait or 0.0), self.settings.max_wait)
            log.info("connector request retried", extra={"url": _shown(url), "reason": reason, "wait": delay})
            self.retries += 1
            self.sleep(delay)
