"""Tender subscriptions: a new or changed tender that meets all criteria a user saved notifies them.

Criteria (each optional; a subscription with none matches nothing): keywords (any, in the title or
description), classification code prefixes (any), buyers (any, in the buyer's name), a value range,
a region (in the tender's region). Matching ignores case. The notification key carries the tender's
last release date, so a re-run page notifies once and a later release notifies again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tessera.plugin import SyncContext

SUBSCRIPTION_FIELDS = ["id", "owner", "name", "keywords", "classifications", "buyers", "minValue", "maxValue",
                       "region", "active"]
TENDER_FIELDS = ["id", "ocid", "title", "description", "buyerName", "classifications", "value", "currency",
                 "region", "lastReleaseDate"]


def _terms(text: str | None) -> list[str]:
    return [t.strip().lower() for t in (text or "").split(",") if t.strip()]


def matches(subscription: Mapping[str, Any], tender: Mapping[str, Any]) -> bool:
    keywords, codes, buyers = (_terms(subscription.get(k)) for k in ("keywords", "classifications", "buyers"))
    low, high, region = subscription.get("minValue"), subscription.get("maxValue"), subscription.get("region")
    if not (keywords or codes or buyers or low is not None or high is not None or region):
        return False
    text = f"{tender.get('title') or ''} {tender.get('description') or ''}".lower()
    if keywords and not any(k in text for k in keywords):
        return False
    if codes:
        held = [c.split(":", 1)[-1].strip().lower() for c in (tender.get("classifications") or "").split(";")]
        if not any(h.startswith(c) for c in codes for h in held if h):
            return False
    if buyers and not any(b in (tender.get("buyerName") or "").lower() for b in buyers):
        return False
    value = Decimal(tender["value"]) if tender.get("value") is not None else None
    if low is not None and (value is None or value < Decimal(low)):
        return False
    if high is not None and (value is None or value > Decimal(high)):
        return False
    return not (region and region.strip().lower() not in (tender.get("region") or "").lower())


def notify_matches(synced: Sequence[Any], context: SyncContext) -> int:
    """Notify the owners of matching subscriptions about the tenders a page created or changed."""
    ids = [s.record_id for s in synced if s.object == "tender" and s.changed]
    if not ids:
        return 0
    subscriptions = [s for s in context.records("tenderSubscription", fields=SUBSCRIPTION_FIELDS)
                     if s.get("active") is not False]
    if not subscriptions:
        return 0
    sent = 0
    for tender in context.records("tender", fields=TENDER_FIELDS, filter={"id": {"in": ids}}):
        for subscription in subscriptions:
            if subscription.get("owner") and matches(subscription, tender):
                value = f" ({tender['value']} {tender.get('currency') or ''})".rstrip() if tender.get("value") else ""
                sent += len(context.notify(
                    [subscription["owner"]], title=f"Tender: {tender.get('title') or tender['ocid']}"[:300],
                    body=f"{tender.get('buyerName') or 'A buyer'}{value} matches your subscription "
                         f"'{subscription['name']}'.",
                    object_name="tender", record_id=tender["id"],
                    key=f"tenderSubscription:{subscription['id']}:{tender['id']}:{tender.get('lastReleaseDate')}"))
    return sent
