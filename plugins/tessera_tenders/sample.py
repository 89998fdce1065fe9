"""Demo tenders from the OCDS sample files shipped in ``data/`` (the standard's fictional example and
its merging worked example), compiled with the same code the connector uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera_tenders.merge import compile_releases, version_of

DATA = Path(__file__).parent / "data" / "samples"


def _decimal(value: Any) -> str | None:
    return None if value is None else f"{value}"


def generate(context: Any) -> None:
    releases: dict[str, list[dict[str, Any]]] = {}
    versions: dict[str, str] = {}
    for path in sorted(DATA.glob("*.json")):
        package = json.loads(path.read_text(encoding="utf-8"))
        for release in package.get("releases") or []:
            releases.setdefault(release["ocid"], []).append(release)
            versions[release["ocid"]] = version_of(package)
    for ocid, found in sorted(releases.items()):
        compiled = compile_releases(found, versions[ocid])
        tender = compiled.get("tender") or {}
        value = tender.get("value") or {}
        [tender_id] = context.create("tender", [{
            "ocid": ocid, "title": tender.get("title"), "description": tender.get("description"),
            "buyerName": (compiled.get("buyer") or {}).get("name"), "status": tender.get("status"),
            "procurementMethod": tender.get("procurementMethod"),
            "mainProcurementCategory": tender.get("mainProcurementCategory"),
            "value": _decimal(value.get("amount")), "currency": value.get("currency"),
            "tenderEndDate": (tender.get("tenderPeriod") or {}).get("endDate"),
            "lastReleaseDate": compiled.get("date"), "releaseCount": len(found),
            "ocdsVersion": versions[ocid], "sourceUrl": "sample", "compiledRelease": compiled}])
        context.create("tenderRelease", [{
            "releaseKey": f"{ocid}/{r['id']}", "tender": tender_id, "ocid": ocid, "releaseId": r["id"],
            "date": r["date"], "tags": "; ".join(r.get("tag") or []), "ocdsVersion": versions[ocid],
            "sourceUrl": "sample", "raw": r} for r in found])
        awards = [a for a in compiled.get("awards") or [] if isinstance(a, dict)]
        if awards:
            context.create("tenderAward", [{
                "awardKey": f"{ocid}/{a.get('id')}", "tender": tender_id, "title": a.get("title"),
                "supplierNames": "; ".join(s.get("name", "") for s in a.get("suppliers") or []),
                "value": _decimal((a.get("value") or {}).get("amount")),
                "currency": (a.get("value") or {}).get("currency"), "date": a.get("date"),
                "status": a.get("status")} for a in awards])
