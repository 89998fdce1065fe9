"""Where LEI records come from: the GLEIF API over HTTP, or a folder of saved API responses (offline).

Both answer the same two questions: the records of some LEIs (``filter[lei]``, many per request),
and the records whose legal name is a given name (``filter[entity.legalName]``). Over HTTP, every
answer is followed through its ``links.next`` pages, which must stay on the source's own host.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from tessera.plugin import ConnectorHttp, MalformedPage
from tessera_registry.jsonapi import legal_name, lei_of, next_link, resources

MAX_SEARCH_PAGES = 5
"""A name search reads at most this many pages: more candidates than that is no match anyway."""


def same_name(a: str, b: str) -> bool:
    """Legal names compared as a person would: case, punctuation and spacing aside."""
    return _plain(a) == _plain(b)


def _plain(name: str) -> str:
    kept = "".join(ch if ch.isalnum() else " " for ch in name.casefold())
    return " ".join(kept.split())


class RegistrySource(Protocol):
    where: str

    def lookup(self, leis: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """LEI → its record, for those of ``leis`` the registry has."""
        ...

    def search(self, name: str) -> list[Mapping[str, Any]]:
        """Records whose legal name is ``name`` (compared with ``same_name``)."""
        ...

    def find(self, text: str, page: int, size: int) -> tuple[list[Mapping[str, Any]], int, int | None]:
        """Records matching ``text`` anywhere (names, LEI), one page: (records, last page, total)."""
        ...


class HttpRegistry:
    """The GLEIF API (``https://api.gleif.org/api/v1``) or anything speaking its JSON:API format."""

    def __init__(self, base: str, http: ConnectorHttp, page_size: int) -> None:
        self.base = base.rstrip("/")
        self.where = self.base
        self.http = http
        self.page_size = page_size
        self.origin = urllib.parse.urlsplit(self.base)[:2]

    def lookup(self, leis: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        if not leis:
            return {}
        found = self._pages({"filter[lei]": ",".join(leis), "page[size]": str(self.page_size)}, None)
        return {lei: r for r in found if (lei := lei_of(r)) is not None}

    def search(self, name: str) -> list[Mapping[str, Any]]:
        found = self._pages({"filter[entity.legalName]": name, "page[size]": str(self.page_size)}, MAX_SEARCH_PAGES)
        return [r for r in found if same_name(legal_name(r) or "", name)]

    def find(self, text: str, page: int, size: int) -> tuple[list[Mapping[str, Any]], int, int | None]:
        url = f"{self.base}/lei-records"
        body = self.http.get_json(url, params={"filter[fulltext]": text, "page[number]": str(page),
                                               "page[size]": str(size)})
        found = resources(body, url)
        pagination = (body.get("meta") or {}).get("pagination") or {}
        last = pagination.get("lastPage") if isinstance(pagination.get("lastPage"), int) else page
        total = pagination.get("total") if isinstance(pagination.get("total"), int) else None
        return found, max(last, 1), total

    def _pages(self, params: Mapping[str, str], most: int | None) -> list[Mapping[str, Any]]:
        url: str | None = f"{self.base}/lei-records"
        query: Mapping[str, str] | None = params
        found: list[Mapping[str, Any]] = []
        pages = 0
        while url is not None and (most is None or pages < most):
            body = self.http.get_json(url, params=query)
            found.extend(resources(body, url))
            pages += 1
            url, query = next_link(body), None
            if url is not None and urllib.parse.urlsplit(url)[:2] != self.origin:
                raise MalformedPage(f"{self.where}: links.next leaves the source ({url})")
        return found


class FolderRegistry:
    """Saved GLEIF API responses (single records and lists) in a file or a folder of ``*.json`` files.

    A record found in several files is taken from the file whose name sorts last, so a newer
    download placed beside an older one wins.
    """

    def __init__(self, path: str) -> None:
        root = Path(path)
        if not root.exists():
            raise MalformedPage(f"{root} does not exist")
        self.where = str(root)
        files = sorted(p for p in root.rglob("*.json") if p.is_file()) if root.is_dir() else [root]
        # every page of a run reads the folder: parse it once per version of its files
        version = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        if _folders.get(self.where, (None,))[0] != version:
            _folders[self.where] = (version, _index(files))
        self.records: Mapping[str, Mapping[str, Any]] = _folders[self.where][1]

    def lookup(self, leis: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        return {lei: self.records[lei] for lei in leis if lei in self.records}

    def search(self, name: str) -> list[Mapping[str, Any]]:
        return [r for r in self.records.values() if same_name(legal_name(r) or "", name)]

    def find(self, text: str, page: int, size: int) -> tuple[list[Mapping[str, Any]], int, int | None]:
        wanted = _plain(text)
        found = [r for lei, r in sorted(self.records.items())
                 if wanted in _plain(legal_name(r) or "") or wanted.replace(" ", "") == lei.casefold()]
        last = max(1, -(-len(found) // size))
        return found[(page - 1) * size:page * size], last, len(found)


_folders: dict[str, tuple[Any, dict[str, Mapping[str, Any]]]] = {}


def _index(files: Sequence[Path]) -> dict[str, Mapping[str, Any]]:
    records: dict[str, Mapping[str, Any]] = {}
    for file in files:
        try:
            body = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPage(f"{file} is not JSON: {exc}") from None
        for resource in resources(body, str(file)):
            lei = lei_of(resource)
            if lei is not None:
                records[lei] = resource
    return records
