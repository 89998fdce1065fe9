"""HTTP for connector providers: timeouts, retries with exponential backoff, ``Retry-After``, rate limits.

Plain ``urllib`` (no new dependency). A request is retried on 429 and 5xx answers, timeouts and
connection errors, waiting ``backoff * 2**(attempt-1)`` seconds (capped), or what ``Retry-After``
asks (seconds or an HTTP date, capped too). Every request of a provider, whatever the tenant, first
takes a slot of that provider's process-wide rate limit. URLs are logged without their query string
and user information, which may carry credentials.

Each request, and each redirect it follows, is first checked by the connector's guard
(``tessera.services.outbound``: no private networks unless the operator allows them). A connector's
key (``apiKey``, ``token``) goes only to its ``source``'s origin (see ``Credentials``).
"""

from __future__ import annotations

import json
import logging
import re
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
from tessera.services.outbound import OutboundRefused, Unresolvable, shown

log = logging.getLogger("tessera.connectors.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 64 * 1024 * 1024
DEFAULT_KEY_HEADER = "X-API-Key"
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
"""An HTTP header name (RFC 9110 token)."""

Guard = Callable[[str], None]
"""Raises ``OutboundRefused`` for a URL the connector must not call (``outbound.check_url``)."""


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


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


@dataclass(frozen=True)
class Credentials:
    """The headers carrying a connector's key, and the one origin (scheme, host, port) they go to."""

    origin: tuple[str, str, int]
    headers: Mapping[str, str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Credentials | None:
        """``apiKey`` (sent in ``apiKeyHeader``, default ``X-API-Key``) and ``token`` (``Authorization:
        Bearer``) for an http(s) ``source``; None without them. ValueError names a bad key, never its value."""
        key, header, token = config.get("apiKey"), config.get("apiKeyHeader"), config.get("token")
        headers: dict[str, str] = {}
        if header is not None and key is None:
            raise ValueError("apiKeyHeader: give apiKey too (the header carries it)")
        if header is not None and (not isinstance(header, str) or not HEADER_NAME.match(header)):
            raise ValueError("apiKeyHeader: give an HTTP header name (letters, digits, '-')")
        if key is not None:
            headers[header or DEFAULT_KEY_HEADER] = _credential(key, "apiKey")
        if token is not None:
            if "authorization" in (name.lower() for name in headers):
                raise ValueError("apiKeyHeader: Authorization carries the token already; give another header")
            headers["Authorization"] = f"Bearer {_credential(token, 'token')}"
        source = config.get("source")
        origin = _origin(source) if isinstance(source, str) else None
        if not headers or origin is None:
            return None  # no key, or no http(s) source to send it to
        return cls(origin, headers)

    def for_url(self, url: str) -> Mapping[str, str]:
        # A key is for its source only: links.next, a linked document or a redirect on another origin
        # may be anyone's server, which must not receive it.
        return self.headers if _origin(url) == self.origin else {}


def _credential(value: Any, key: str) -> str:
    # NOTE: the message never shows the value (it is a secret); control characters would let a value
    # add headers of its own (and http.client's refusal would print the value).
    if not isinstance(value, str) or not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{key}: give text without control characters")
    return value


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL the guard allows, with the key only on the source's origin.

    urllib's own handler would follow a redirect anywhere (a public feed answering 302 to
    169.254.169.254 would get around the guard) and forward every header with it, key included.
    """

    def __init__(self, client: ConnectorHttpClient) -> None:
        super().__init__()
        self.client = client

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        assert self.client.guard is not None
        try:
            self.client.guard(newurl)
        except OutboundRefused as exc:
            fp.close()
            raise type(exc)(newurl, f"redirected from {shown(req.full_url)}: {exc.reason}") from None
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            self.client.sign(new)
        return new


class ConnectorHttpClient:
    """``tessera.plugin.ConnectorHttp`` for one sync: ``get_json`` with the connector's settings.

    ``headers`` go with every request; ``credentials`` only to their origin; ``guard`` checks every
    URL before it is requested, redirects included (without one, as in unit tests of the retries,
    urllib's default opener runs unchecked).
    """

    def __init__(self, settings: HttpSettings, rate: RateLimiter, *, sleep: Callable[[float], None] = time.sleep,
                 headers: Mapping[str, str] | None = None, credentials: Credentials | None = None,
                 guard: Guard | None = None) -> None:
        self.settings = settings
        self.rate = rate
        self.sleep = sleep
        self.headers = dict(headers or {})
        self.credentials = credentials
        self.guard = guard
        self._opener = urllib.request.build_opener(_Redirects(self)) if guard is not None else None
        self.requests = 0
        self.retries = 0

    def sign(self, request: urllib.request.Request) -> None:
        """Add the key to a request for the source's origin; unredirected, so urllib never forwards it."""
        if self.credentials is not None:
            for name, value in self.credentials.for_url(request.full_url).items():
                request.add_unredirected_header(name, value)

    def _open(self, request: urllib.request.Request) -> Any:
        if self._opener is None:
            return urllib.request.urlopen(request, timeout=self.settings.timeout)
        return self._opener.open(request, timeout=self.settings.timeout)

    def get_json(self, url: str, *, params: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        if params:
            url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(dict(params))
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise HttpFailed(f"not an http(s) URL: {shown(url)}")
        body = self._get(url, {"Accept": "application/json", **self.headers, **dict(headers or {})})
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPage(f"{shown(url)} did not answer JSON: {exc}") from None

    def _get(self, url: str, headers: Mapping[str, str]) -> bytes:
        attempt = 0
        while True:
            attempt += 1
            self.rate.acquire()
            self.requests += 1
            wait: float | None = None
            try:
                if self.guard is not None:
                    self.guard(url)  # every attempt: links.next and linked documents come from the source
                request = urllib.request.Request(url, headers=dict(headers), method="GET")
                self.sign(request)
                with self._open(request) as response:
                    body: bytes = response.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    raise HttpFailed(f"{shown(url)}: answer larger than {MAX_BODY} bytes")
                return body
            except Unresolvable as exc:  # DNS may answer again: retried like a refused connection
                reason = f"connection failed ({exc.reason})"
            except OutboundRefused as exc:  # retrying cannot make a refused address allowed
                raise HttpFailed(str(exc)) from None
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES:
                    raise HttpFailed(f"{shown(url)} answered HTTP {exc.code}") from None
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
                raise HttpFailed(f"{shown(url)}: {reason}, still after {attempt} attempts")
            delay = self.settings.backoff * (2 ** (attempt - 1))
            delay = min(max(delay, wait or 0.0), self.settings.max_wait)
            log.info("connector request retried", extra={"url": shown(url), "reason": reason, "wait": delay})
            self.retries += 1
            self.sleep(delay)
