"""GLEIF LEI records in the API's JSON:API format: checking a response, and the document a record maps from.

A response is ``{"data": resource | [resource, ...], "links": {...}, "meta": {"pagination": ...}}``; a
``lei-records`` resource carries ``attributes.lei``, ``attributes.entity`` (legal name, addresses,
registration authority and number, jurisdiction, legal form, status, successor) and
``attributes.registration`` (status, dates). ``document`` keeps the attributes as they are and adds
``_tessera`` with the values a mapping cannot build by itself (one-line addresses, codes that may be
given as ``id`` or ``other``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tessera.plugin import MalformedPage

LEI_PATTERN = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def is_lei(value: str) -> bool:
    """True for a well-formed LEI: 20 characters whose ISO 7064 mod 97-10 check holds."""
    if not LEI_PATTERN.match(value):
        return False
    return int("".join(str(int(ch, 36)) for ch in value)) % 97 == 1


def resources(body: Any, where: str) -> list[Mapping[str, Any]]:
    """The ``lei-records`` resources of a response (other resource types are ignored)."""
    if not isinstance(body, Mapping) or "data" not in body:
        errors = body.get("errors") if isinstance(body, Mapping) else None
        reason = f": {errors}" if errors else ""
        raise MalformedPage(f"{where} is not a JSON:API document (no 'data'){reason}")
    data = body["data"]
    items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else None
    if items is None:
        raise MalformedPage(f"{where}: 'data' is neither a resource nor a list of resources")
    return [r for r in items if isinstance(r, Mapping) and r.get("type") == "lei-records"]


def next_link(body: Mapping[str, Any]) -> str | None:
    links = body.get("links")
    following = links.get("next") if isinstance(links, Mapping) else None
    return following if isinstance(following, str) and following else None


def lei_of(resource: Mapping[str, Any]) -> str | None:
    attributes = resource.get("attributes")
    lei = attributes.get("lei") if isinstance(attributes, Mapping) else None
    lei = lei if isinstance(lei, str) else resource.get("id")
    return lei.upper() if isinstance(lei, str) and lei else None


def legal_name(resource: Mapping[str, Any]) -> str | None:
    name = _get(resource, "attributes", "entity", "legalName", "name")
    return name if isinstance(name, str) else None


def problem(resource: Mapping[str, Any]) -> str | None:
    """Why a resource cannot be used as an LEI record (None when it can)."""
    attributes = resource.get("attributes")
    if not isinstance(attributes, Mapping):
        return "no attributes"
    if not isinstance(attributes.get("entity"), Mapping) or not isinstance(attributes.get("registration"), Mapping):
        return "attributes lack entity or registration"
    if lei_of(resource) is None:
        return "no lei"
    if legal_name(resource) is None:
        return "entity has no legalName.name"
    return None


def one_line(address: Any) -> str | None:
    """``SHELL CENTRE, LONDON, GB-LND SE1 7NA, GB`` from a GLEIF address object."""
    if not isinstance(address, Mapping):
        return None
    lines = [str(v) for v in address.get("addressLines") or [] if v]
    for key in ("addressNumber", "addressNumberWithinBuilding", "mailRouting"):
        if address.get(key):
            lines.append(str(address[key]))
    locality = " ".join(str(address[k]) for k in ("city", "region", "postalCode") if address.get(k))
    parts = [*lines, locality, str(address.get("country") or "")]
    text = ", ".join(p for p in parts if p)
    return text or None


def _code(value: Any) -> str | None:
    """GLEIF codes come as ``{"id": code, "other": text}``: the code, else the text."""
    if not isinstance(value, Mapping):
        return None
    found = value.get("id") if value.get("id") not in (None, "", "8888") else value.get("other")
    return str(found) if found else None


def successor(entity: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(LEI, name) of the entity's successor, from ``successorEntity`` or the first ``successorEntities``."""
    candidates = [entity.get("successorEntity"), *(entity.get("successorEntities") or [])]
    for item in candidates:
        if isinstance(item, Mapping) and (item.get("lei") or item.get("name")):
            return item.get("lei") or None, item.get("name") or None
    return None, None


def document(resource: Mapping[str, Any], source: str) -> dict[str, Any]:
    """What the field mapping reads: the record's attributes plus ``_tessera`` helpers."""
    attributes = dict(resource["attributes"])
    entity = attributes["entity"]
    successor_lei, successor_name = successor(entity)
    attributes["_tessera"] = {
        "legalAddress": one_line(entity.get("legalAddress")),
        "headquartersAddress": one_line(entity.get("headquartersAddress")),
        "registrationAuthority": _code(entity.get("registeredAt")),
        "legalForm": _code(entity.get("legalForm")),
        "successorLei": successor_lei,
        "successorName": successor_name,
        "source": source,
    }
    return attributes


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
