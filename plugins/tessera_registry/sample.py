"""Demo accounts for the LEI records saved in ``data/samples`` (real GLEIF responses, CC0).

Each entity without an account yet (the standard sample already has Shell plc and Microsoft) becomes
an account holding its LEI only, so that the demo's run of the ``gleif``
connector fills the registry fields. Two accounts hold what the registry said before a real change
(Amazon Digital UK's previous legal name; the fund's registration before it lapsed), so that run also shows
risk events and their notifications.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tessera_registry.jsonapi import legal_name, lei_of
from tessera_registry.sources import FolderRegistry

DATA = Path(__file__).parent / "data" / "samples"
EARLIER = {
    "254900LNRYNOQ9YPU758": {"registryLegalName": "AMAZON VIDEO LIMITED", "registrationStatus": "ISSUED",
                             "entityStatus": "ACTIVE"},
    "549300LBI3LRIZ2V8V66": {"registryLegalName": "UK EQUITY FUND (OFFSHORE)", "registrationStatus": "ISSUED",
                             "entityStatus": "ACTIVE"},
}


def generate(context: Any) -> None:
    taken = {str(a["lei"]) for a in context.records("account", fields=["lei"]) if a.get("lei")}
    rows = []
    for record in FolderRegistry(str(DATA)).records.values():
        lei, name = lei_of(record), legal_name(record)
        if lei is None or name is None or lei in taken:
            continue
        rows.append({"name": name.title(), "lei": lei, "accountType": "customer", **EARLIER.get(lei, {})})
    context.create("account", sorted(rows, key=lambda r: r["lei"]))
