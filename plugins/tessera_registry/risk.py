"""Risk events: what changed between an account's registry fields and the registry's record now.

An event is raised for a registration that lapsed or was retired (also the first time an account is
seen in that state), any other change of registration status, an entity that became inactive or
changed status, a new successor entity, and a new legal name. Its key joins the LEI, the kind, the
new value and the registry's last update date, so a page read again (a retried job, a second run over
the same data) finds the event it already wrote instead of writing another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tessera_registry.jsonapi import successor

LAPSED = "LAPSED"
RETIRED = frozenset({"RETIRED", "MERGED", "ANNULLED", "CANCELLED", "DUPLICATE"})
"""Registration statuses after which the LEI no longer stands for a going concern."""


@dataclass(frozen=True)
class RiskEvent:
    key: str
    kind: str
    severity: str
    title: str
    detail: str | None
    previous: str | None
    new: str | None

    def document(self, lei: str, occurred_at: str | None, source: str) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "title": self.title, "detail": self.detail,
                "previousValue": self.previous, "newValue": self.new, "lei": lei, "occurredAt": occurred_at,
                "source": source}


def detect(lei: str, before: Mapping[str, Any], attributes: Mapping[str, Any]) -> list[RiskEvent]:
    """Events for an account whose registry fields are ``before`` and whose record is now ``attributes``."""
    entity, registration = attributes["entity"], attributes["registration"]
    name = (entity.get("legalName") or {}).get("name") or lei
    stamp = registration.get("lastUpdateDate") or ""
    events: list[RiskEvent] = []

    def add(kind: str, severity: str, title: str, previous: Any, new: Any, detail: str | None = None) -> None:
        events.append(RiskEvent(f"{lei}/{kind}/{new or ''}/{stamp}", kind, severity, title, detail,
                                str(previous) if previous else None, str(new) if new else None))

    old_status, status = before.get("registrationStatus"), registration.get("status")
    if status and status != old_status:
        if status == LAPSED:
            add("registrationLapsed", "medium", f"LEI registration lapsed: {name}", old_status, status,
                f"The LEI was not renewed (renewal was due {registration.get('nextRenewalDate') or 'unknown'}); "
                "the registry no longer vouches for this data.")
        elif status in RETIRED:
            add("registrationRetired", "high", f"LEI registration {status.lower()}: {name}", old_status, status,
                _expiry(entity))
        elif old_status:
            add("registrationStatusChanged", "low", f"LEI registration {old_status} → {status}: {name}",
                old_status, status)

    old_entity, entity_status = before.get("entityStatus"), entity.get("status")
    if entity_status and entity_status != old_entity:
        if entity_status == "INACTIVE":
            add("entityInactive", "high", f"Entity no longer operating: {name}", old_entity, entity_status,
                _expiry(entity))
        elif old_entity:
            add("entityStatusChanged", "low", f"Entity status {old_entity} → {entity_status}: {name}",
                old_entity, entity_status)

    successor_lei, successor_name = successor(entity)
    if (successor_lei or successor_name) and (successor_lei or successor_name) != (
            before.get("successorLei") or before.get("successorName")):
        shown = " ".join(p for p in (successor_name, f"({successor_lei})" if successor_lei else None) if p)
        add("successorEntity", "high", f"{name} has a successor: {shown}", before.get("successorLei"),
            successor_lei or successor_name, _expiry(entity))

    old_name = before.get("registryLegalName")
    if old_name and name != old_name and name != lei:
        add("legalNameChanged", "low", f"Legal name changed: {old_name} → {name}", old_name, name)
    return events


def _expiry(entity: Mapping[str, Any]) -> str | None:
    expiration = entity.get("expiration") or {}
    reason, date = expiration.get("reason"), expiration.get("date")
    if not reason and not date:
        return None
    return f"Registry expiration: {reason or 'no reason given'}{f' on {date[:10]}' if date else ''}."
