"""The OCDS feed provider: fetch packages over HTTP (``links.next``, ``since``) or from files, and turn
each process (``ocid``) into one compiled ``tender`` with its raw releases and awards.

Cursor (JSON): over HTTP ``{"next": url, "since": date}`` while following ``links.next``; after the
last page ``{"since": newest publishedDate}`` (the next poll asks for ``?since=``). From a folder,
``{"after": [kind, file name]}``: one file per page, release packages (kind 0) in name order, then
record packages (kind 1); a new file is read if it sorts after the last one read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tessera.plugin import (
    ChildTarget,
    ExternalRecord,
    FetchedPage,
    FieldMapping,
    MalformedPage,
    RecordFailure,
    SyncContext,
)
from tessera_tenders import subscriptions
from tessera_tenders.merge import compile_releases
from tessera_tenders.packages import Link, check_package, releases_of

TENDER_MAPPING = (
    FieldMapping("ocid", "ocid"),
    FieldMapping("title", "tender.title", "text"),
    FieldMapping("description", "tender.description", "text"),
    FieldMapping("buyerName", "buyer.name", "text"),
    FieldMapping("status", "tender.status", "text"),
    FieldMapping("procurementMethod", "tender.procurementMethod", "text"),
    FieldMapping("mainProcurementCategory", "tender.mainProcurementCategory", "text"),
    FieldMapping("classifications", "_tessera.classifications", "join"),
    FieldMapping("value", "tender.value.amount", "number"),
    FieldMapping("currency", "tender.value.currency", "upper"),
    FieldMapping("tenderEndDate", "tender.tenderPeriod.endDate", "datetime"),
    FieldMapping("region", "_tessera.region", "text"),
    FieldMapping("sourceUrl", "_tessera.source", "text"),
    FieldMapping("lastReleaseDate", "date", "datetime"),
    FieldMapping("releaseCount", "_tessera.releaseCount", "integer"),
    FieldMapping("ocdsVersion", "_tessera.version", "text"),
    FieldMapping("compiledRelease", "_tessera.compiled", "json"),
)
AWARD_MAPPING = (
    FieldMapping("title", "title", "text"),
    FieldMapping("supplierNames", "suppliers.*.name", "join"),
    FieldMapping("value", "value.amount", "number"),
    FieldMapping("currency", "value.currency", "upper"),
    FieldMapping("date", "date", "datetime"),
    FieldMapping("status", "status", "text"),
)
RELEASE_MAPPING = (
    FieldMapping("ocid", "release.ocid"),
    FieldMapping("releaseId", "release.id", "text"),
    FieldMapping("date", "release.date", "datetime"),
    FieldMapping("tags", "release.tag", "join"),
    FieldMapping("ocdsVersion", "version", "text"),
    FieldMapping("sourceUrl", "source", "text"),
    FieldMapping("raw", "release", "json"),
)


class TenderFeed:
    """``tessera.plugin.ConnectorProvider`` for OCDS release and record packages."""

    target = "tender"
    match_key = "ocid"
    default_mapping: Sequence[FieldMapping] = TENDER_MAPPING
    child_targets: Sequence[ChildTarget] = (
        ChildTarget("tenderRelease", "tender", "releaseKey", RELEASE_MAPPING),
        ChildTarget("tenderAward", "tender", "awardKey", AWARD_MAPPING),
    )

    def __init__(self, config: Mapping[str, Any]) -> None:
        source = config.get("source")
        if not isinstance(source, str) or not source:
            raise ValueError("give source: an http(s) URL of OCDS packages, or a file or folder")
        self.source = source
        self.since = config.get("since")
        self.remote = source.startswith(("http://", "https://"))

    # --- fetch ------------------------------------------------------------------------------
    def fetch(self, cursor: str | None, context: SyncContext) -> FetchedPage:
        state = json.loads(cursor) if cursor else {}
        return self._fetch_http(state, context) if self.remote else self._fetch_file(state)

    def _fetch_http(self, state: Mapping[str, Any], context: SyncContext) -> FetchedPage:
        since = state.get("since") or self.since
        url = state.get("next")
        params = None if url or not since else {"since": str(since)}
        url = url or self.source
        package = check_package(context.http.get_json(url, params=params), url)
        published = package.get("publishedDate")
        newest = max([d for d in (since, published) if isinstance(d, str)], default=None)
        following = (package.get("links") or {}).get("next") if isinstance(package.get("links"), dict) else None
        return FetchedPage(
            items=[package], source=url,
            next_cursor=json.dumps({"next": following, "since": newest}) if following else None,
            resume_cursor=json.dumps({"since": newest}) if newest else None)

    def _fetch_file(self, state: Mapping[str, Any]) -> FetchedPage:
        root = Path(self.source)
        if not root.exists():
            raise MalformedPage(f"{root} does not exist")
        files = sorted(p for p in root.rglob("*.json") if p.is_file()) if root.is_dir() else [root]
        names = [str(p.relative_to(root)) if root.is_dir() else p.name for p in files]
        # release packages first, then record packages: a record package linking releases by URL finds
        # them among the releases read before (offline, the links cannot be fetched)
        order = sorted((_kind(path), name, path) for name, path in zip(names, files, strict=True))
        after = state.get("after")
        mark = tuple(after) if isinstance(after, list) else (0, after) if isinstance(after, str) else None
        left = [(kind, name, path) for kind, name, path in order if mark is None or (kind, name) > mark]
        if not left:
            return FetchedPage(items=[], next_cursor=None, source=str(root),
                               resume_cursor=json.dumps({"after": list(mark)}) if mark else None)
        kind, name, path = left[0]
        package = check_package(_read(path), str(path))
        cursor = json.dumps({"after": [kind, name]})
        return FetchedPage(items=[package], source=str(path), next_cursor=cursor if len(left) > 1 else None,
                           resume_cursor=cursor)

    # --- transform ----------------------------------------------------------------------------
    def transform(self, page: FetchedPage, context: SyncContext) -> Iterable[ExternalRecord | RecordFailure]:
        fetch = _cached(context.http.get_json) if self.remote else None
        found: list[dict[str, Any]] = []
        links: list[Link] = []
        out: list[ExternalRecord | RecordFailure] = []
        for package in page.items:
            releases, failures, unfetched = releases_of(package, fetch)
            out.extend(failures)
            links.extend(unfetched)
            found.extend({**r, "source": page.source} for r in releases)
        by_ocid: dict[str, list[dict[str, Any]]] = {}
        for item in found:
            by_ocid.setdefault(item["release"]["ocid"], []).append(item)
        stored = self._stored(sorted(set(by_ocid) | {link.ocid for link in links if link.ocid}), context)
        for link in links:
            # A linked release we already hold (read earlier from a release package) is known.
            held = stored.get(link.ocid or "", {})
            if link.release_id is None or link.release_id not in held:
                out.append(RecordFailure(link.ocid, f"linked release {link.url} cannot be fetched from this "
                                                    "source and was not read before"))
        for ocid, new in by_ocid.items():
            out.append(_record(ocid, stored.get(ocid, {}), new))
        return out

    def _stored(self, ocids: list[str], context: SyncContext) -> dict[str, dict[str, dict[str, Any]]]:
        """Raw releases kept so far, by ocid and release id (to recompile with late releases)."""
        kept: dict[str, dict[str, dict[str, Any]]] = {}
        for start in range(0, len(ocids), 500):
            rows = context.records("tenderRelease", fields=["ocid", "releaseId", "raw", "ocdsVersion", "sourceUrl"],
                                   filter={"ocid": {"in": ocids[start:start + 500]}})
            for row in rows:
                kept.setdefault(row["ocid"], {})[row["releaseId"]] = {
                    "release": row["raw"], "version": row["ocdsVersion"] or "1.1", "source": row["sourceUrl"]}
        return kept

    def after_page(self, synced: Sequence[Any], context: SyncContext) -> None:
        subscriptions.notify_matches(synced, context)


def _cached(get: Any) -> Any:
    """One GET per document for the links of a page (a record links each release of one package)."""
    seen: dict[str, Any] = {}

    def fetch(url: str) -> Any:
        bare = url.split("#", 1)[0]
        if bare not in seen:
            seen[bare] = get(bare)
        return seen[bare]

    return fetch


def _record(ocid: str, stored: Mapping[str, dict[str, Any]], new: list[dict[str, Any]]) -> ExternalRecord:
    releases = dict(stored)
    fresh = {}
    for item in new:
        releases[item["release"]["id"]] = item
        fresh[item["release"]["id"]] = item
    version = "1.1" if any(r["version"] == "1.1" for r in releases.values()) else "1.0"
    compiled = compile_releases([r["release"] for r in releases.values()], version)
    newest = max(releases.values(), key=lambda r: str(r["release"].get("date")))
    document = {**compiled, "_tessera": {
        "classifications": _classifications(compiled), "region": _region(compiled), "source": newest["source"],
        "releaseCount": len(releases), "version": version, "compiled": compiled}}
    awards = [(f"{ocid}/{a.get('id', index)}", a) for index, a in enumerate(compiled.get("awards") or [])
              if isinstance(a, dict)]
    release_docs = [(f"{ocid}/{rid}", item) for rid, item in fresh.items()]
    return ExternalRecord(ocid, document, {"tenderRelease": release_docs, "tenderAward": awards})


def _classifications(compiled: Mapping[str, Any]) -> list[str]:
    tender = compiled.get("tender") or {}
    found: list[Any] = [tender.get("classification")]
    for item in tender.get("items") or []:
        if isinstance(item, dict):
            found.append(item.get("classification"))
            found.extend(item.get("additionalClassifications") or [])
    codes = [f"{c.get('scheme') or ''}:{c.get('id')}" for c in found if isinstance(c, dict) and c.get("id") is not None]
    return list(dict.fromkeys(codes))


def _region(compiled: Mapping[str, Any]) -> str | None:
    buyer_id = (compiled.get("buyer") or {}).get("id")
    for party in compiled.get("parties") or []:
        if isinstance(party, dict) and (party.get("id") == buyer_id or "buyer" in (party.get("roles") or [])):
            address = party.get("address") or {}
            parts = [address.get(k) for k in ("locality", "region", "countryName")]
            text = ", ".join(str(p) for p in parts if p)
            if text:
                return text
    return None


_kinds: dict[tuple[str, int, int], int] = {}


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPage(f"{path} is not JSON: {exc}") from None


def _kind(path: Path) -> int:
    """0 for a release package (or anything else), 1 for a record package; read once per file version."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _kinds:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None  # reported as malformed when its turn comes
        _kinds[key] = 1 if isinstance(body, dict) and "records" in body else 0
    return _kinds[key]
