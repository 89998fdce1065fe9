"""Reading OCDS packages: releases of release packages and record packages, checked enough to use.

A record package's ``compiledRelease`` is never used: its records are recompiled from their releases.
Embedded releases are taken as they are; linked releases (``{url, date, tag}``) are fetched when
their URL is http(s) (through the connector's HTTP client); otherwise they are handed back as
``Link`` for the caller to find among the releases it already holds (a URL ending in
``#<release id>`` names the release).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tessera.plugin import MalformedPage, RecordFailure
from tessera_tenders.merge import version_of


@dataclass(frozen=True)
class Link:
    """A linked release that could not be fetched from this source."""

    ocid: str | None
    release_id: str | None
    url: str


def check_package(body: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(body, dict) or not (isinstance(body.get("releases"), list) or isinstance(body.get("records"), list)):
        raise MalformedPage(f"{source} is not an OCDS release or record package (no releases or records list)")
    return body


def releases_of(package: Mapping[str, Any], fetch: Callable[[str], Any] | None
                ) -> tuple[list[dict[str, Any]], list[RecordFailure], list[Link]]:
    """(usable releases, failures, unfetched links) of a package; each release gets its package's ``version``."""
    version = version_of(package)
    found: list[dict[str, Any]] = []
    failures: list[RecordFailure] = []
    links: list[Link] = []
    if isinstance(package.get("releases"), list):
        candidates = list(package["releases"])
    else:
        candidates = []
        for record in package["records"]:
            if not isinstance(record, dict) or not isinstance(record.get("releases"), list):
                failures.append(RecordFailure(_ocid(record), "a record without a releases list"))
                continue
            for release in record["releases"]:
                if isinstance(release, dict) and "url" in release and "ocid" not in release:
                    url = str(release["url"])
                    if fetch is None or not url.startswith(("http://", "https://")):
                        links.append(Link(_ocid(record), url.split("#", 1)[1] if "#" in url else None, url))
                        continue
                    linked, problem = _linked(release, record.get("ocid"), fetch)
                    if problem:
                        failures.append(RecordFailure(_ocid(record), problem))
                    candidates.extend(linked)
                else:
                    candidates.append(release)
    for release in candidates:
        problem = _problem(release)
        if problem:
            failures.append(RecordFailure(_ocid(release), problem))
        else:
            found.append({"release": release, "version": version})
    return found, failures, links


def _ocid(value: Any) -> str | None:
    return value.get("ocid") if isinstance(value, dict) and isinstance(value.get("ocid"), str) else None


def _problem(release: Any) -> str | None:
    if not isinstance(release, dict):
        return "a release that is not a JSON object"
    for key in ("ocid", "id", "date"):
        if not isinstance(release.get(key), str) or not release[key]:
            return f"release {release.get('id')!r}: no {key}"
    if "tender" in release and release["tender"] is not None and not isinstance(release["tender"], dict):
        return f"release {release['id']}: tender is not an object"
    if "awards" in release and release["awards"] is not None and not isinstance(release["awards"], list):
        return f"release {release['id']}: awards is not a list"
    return None


def _linked(link: Mapping[str, Any], ocid: Any, fetch: Callable[[str], Any]) -> tuple[list[Any], str | None]:
    url = str(link.get("url"))
    try:
        body = fetch(url)
    except Exception as exc:  # one unreachable linked release fails that record only
        return [], f"linked release {url}: {exc}"
    releases = body.get("releases") if isinstance(body, dict) else None
    if isinstance(releases, list):
        # A link may name one release of a package (``#fragment``) or a package of one process.
        wanted = url.split("#", 1)[1] if "#" in url else None
        return [r for r in releases if isinstance(r, dict) and r.get("ocid") == ocid
                and (wanted is None or r.get("id") == wanted)], None
    if isinstance(body, dict) and "ocid" in body:
        return [body], None
    return [], f"linked release {url} is neither a release nor a release package"
