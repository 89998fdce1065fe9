"""Outbound HTTP safety: the URLs Tessera calls for tenants (connector sources, webhooks) must reach
the public internet, not the server's own networks.

Tenant administrators choose those URLs. Without this check one of them could make the server read
its cloud metadata (``169.254.169.254``), an admin port on loopback or a service of the private
network, and see the answer in synced records (server-side request forgery). ``check_url`` refuses
any URL that is not http(s), or whose host resolves to an address that is not global: loopback,
private (RFC 1918, ``fc00::/7``), link-local, shared (``100.64.0.0/10``), unspecified, multicast or
reserved, IPv4-mapped IPv6 included. If ANY address of the host is such, the URL is refused, as the
connection may use any of them. ``TESSERA_ALLOW_PRIVATE_NETWORKS=1`` (``Config.allow_private_networks``)
turns the check off, for installations that sync from their own intranet and for tests.

# NOTE: known limit: the host is resolved here, and resolved again by urllib when it connects. A DNS
# answer that changes in between (DNS rebinding) is not caught; pinning the checked address would
# need connection classes of our own. Where that matters, put an egress firewall or proxy in front.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

ALLOW_HINT = "outbound calls to private networks are off (set TESSERA_ALLOW_PRIVATE_NETWORKS=1 to allow them)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """A URL Tessera will not call: not http(s), or reaching an address that is not public.
    Retrying cannot change the answer. The message shows the URL (``shown``) and the ``reason``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{shown(url)}: {reason}")
        self.url = url
        self.reason = reason


class Unresolvable(OutboundRefused):
    """The URL's host has no address now; DNS may answer later, so callers may retry."""


def shown(url: str) -> str:
    """``url`` as messages show it: without credentials, query or fragment (they may carry secrets)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse (``OutboundRefused``) a URL that is not http(s) or whose host resolves to a non-public
    address, unless ``allow_private``; an unresolvable host raises ``Unresolvable``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(url, "not an http(s) URL")
    if allow_private:
        return  # nothing else to refuse: a host that does not resolve fails when connecting
    try:
        addresses = resolve(parts.hostname)
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError; IDNA refuses some names
        raise Unresolvable(url, f"cannot resolve {parts.hostname} ({getattr(exc, 'strerror', None) or exc})") from None
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 connects to 127.0.0.1
        kind = non_public(address)
        if kind is not None:
            raise OutboundRefused(url, f"{address} is {kind} address; {ALLOW_HINT}")


def resolve(host: str) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal: itself, without asking DNS)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in found))


def non_public(address: Address) -> str | None:
    """What kind of non-public address ``address`` is ("a loopback", ...), or None for a public one."""
    # NOTE: the order matters: loopback, link-local and unspecified addresses are "private" too, and
    # IPv4 multicast counts as global.
    checks = (("a loopback", address.is_loopback), ("an unspecified", address.is_unspecified),
              ("a link-local", address.is_link_local), ("a multicast", address.is_multicast),
              ("a reserved", address.is_reserved), ("a private", address.is_private))
    for kind, hit in checks:
        if hit:
            return kind
    return None if address.is_global else "a non-public"
