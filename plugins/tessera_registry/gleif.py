"""The GLEIF provider: refresh accounts from their LEI records, optionally find the LEI of accounts by name.

A run walks the tenant's accounts, never creating one:

1. accounts with an LEI, in LEI order, ``batchSize`` at a time: one ``filter[lei]`` request (and its
   ``links.next`` pages) per page; the registry's fields are written to the account, and what
   changed since the last refresh becomes risk events (``risk.py``) notifying the account's owner;
2. with ``matchByName``, accounts without an LEI, a few at a time: one legal-name search each; an
   account whose name matches exactly one registry entity gets its LEI and fields, any other
   outcome is logged as a record failure naming the candidates.

Cursor (JSON): ``{"phase": "lei", "after": LEI}`` or ``{"phase": "name", "after": account id}``. A
finished run leaves no cursor, so each scheduled run refreshes every account again; change
detection skips the unchanged ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tessera.plugin import (
    Candidate,
    ChildTarget,
    ExternalRecord,
    FetchedPage,
    FieldMapping,
    RecordFailure,
    SearchPage,
    SyncContext,
    SyncedRecord,
)
from tessera_registry import risk
from tessera_registry.jsonapi import document, is_lei, legal_name, lei_of, problem
from tessera_registry.sources import FolderRegistry, HttpRegistry, RegistrySource

ACCOUNT_MAPPING = (
    FieldMapping("registryLegalName", "entity.legalName.name", "text"),
    FieldMapping("registrationAuthority", "_tessera.registrationAuthority", "text"),
    FieldMapping("registrationNumber", "entity.registeredAs", "text"),
    FieldMapping("jurisdiction", "entity.jurisdiction", "text"),
    FieldMapping("legalForm", "_tessera.legalForm", "text"),
    FieldMapping("entityStatus", "entity.status", "text"),
    FieldMapping("registrationStatus", "registration.status", "text"),
    FieldMapping("legalAddress", "_tessera.legalAddress", "text"),
    FieldMapping("headquartersAddress", "_tessera.headquartersAddress", "text"),
    FieldMapping("legalCountry", "entity.legalAddress.country", "upper"),
    FieldMapping("entityCreatedDate", "entity.creationDate", "date"),
    FieldMapping("initialRegistrationDate", "registration.initialRegistrationDate", "date"),
    FieldMapping("nextRenewalDate", "registration.nextRenewalDate", "date"),
    FieldMapping("registryUpdatedAt", "registration.lastUpdateDate", "datetime"),
    FieldMapping("successorLei", "_tessera.successorLei", "text"),
    FieldMapping("successorName", "_tessera.successorName", "text"),
)
RISK_MAPPING = tuple(FieldMapping(name, name, transform) for name, transform in (
    ("kind", None), ("severity", None), ("title", "text"), ("detail", "text"), ("previousValue", "text"),
    ("newValue", "text"), ("lei", None), ("occurredAt", "datetime"), ("source", "text"), ("owner", None)))
TRACKED = ("registryLegalName", "entityStatus", "registrationStatus", "successorLei", "successorName")
"""The account fields risk detection compares with the registry's record."""
NAME_BATCH = 20
SEARCH_PAGE = 10


class GleifRegistry:
    """``tessera.plugin.ConnectorProvider`` for the GLEIF LEI API (or saved responses of it)."""

    target = "account"
    match_key = "lei"
    creates_records = False
    default_mapping: Sequence[FieldMapping] = ACCOUNT_MAPPING
    child_targets: Sequence[ChildTarget] = (ChildTarget("riskEvent", "account", "eventKey", RISK_MAPPING),)

    def __init__(self, config: Mapping[str, Any]) -> None:
        source = config.get("source")
        if not isinstance(source, str) or not source:
            raise ValueError("give source: the GLEIF API's base URL (https://api.gleif.org/api/v1) or a "
                             "file or folder of saved responses")
        self.source = source
        self.remote = source.startswith(("http://", "https://"))
        batch = config.get("batchSize", 100)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 200:
            raise ValueError("batchSize: a whole number from 1 to 200 (LEIs asked for per request)")
        self.batch = batch
        self.match_by_name = config.get("matchByName") is True
        self._owners: dict[str, tuple[str | None, str]] = {}  # risk event key → (account owner, account id)
        self._titles: dict[str, tuple[str, str | None]] = {}

    def _missing(self, lei: str) -> str:
        return f"the registry has no LEI {lei}" if self.remote else f"no saved registry record has LEI {lei}"

    def _registry(self, context: SyncContext) -> RegistrySource:
        return HttpRegistry(self.source, context.http, self.batch) if self.remote else FolderRegistry(self.source)

    # --- fetch ------------------------------------------------------------------------------
    def fetch(self, cursor: str | None, context: SyncContext) -> FetchedPage:
        state = json.loads(cursor) if cursor else {"phase": "lei"}
        if state.get("phase") == "name":
            return self._fetch_names(state.get("after"), context)
        after = state.get("after")
        accounts = context.records(
            "account", fields=["id", "name", "owner", "lei", *TRACKED],
            filter={"lei": {"isNull": False, **({"gt": after} if after else {})}},
            order_by=[{"lei": "AscNullsLast"}], limit=self.batch + 1)
        more, accounts = len(accounts) > self.batch, accounts[:self.batch]
        if not accounts and self.match_by_name:
            return self._fetch_names(None, context)
        registry = self._registry(context)
        wanted = sorted({a["lei"].strip().upper() for a in accounts if is_lei(a["lei"].strip().upper())})
        found = registry.lookup(wanted)
        items = [{"account": a, "record": found.get(a["lei"].strip().upper())} for a in accounts]
        if more:
            following: str | None = json.dumps({"phase": "lei", "after": accounts[-1]["lei"]})
        else:
            following = json.dumps({"phase": "name"}) if self.match_by_name else None
        return FetchedPage(items=items, next_cursor=following, source=registry.where)

    def _fetch_names(self, after: str | None, context: SyncContext) -> FetchedPage:
        accounts = context.records(
            "account", fields=["id", "name", "owner", *TRACKED],
            filter={"lei": {"isNull": True}, **({"id": {"gt": after}} if after else {})},
            order_by=[{"id": "AscNullsLast"}], limit=NAME_BATCH + 1)
        more, accounts = len(accounts) > NAME_BATCH, accounts[:NAME_BATCH]
        registry = self._registry(context)
        items = [{"account": a, "candidates": registry.search(a["name"]), "byName": True} for a in accounts]
        following = json.dumps({"phase": "name", "after": accounts[-1]["id"]}) if more else None
        return FetchedPage(items=items, next_cursor=following, source=registry.where)

    # --- transform ----------------------------------------------------------------------------
    def transform(self, page: FetchedPage, context: SyncContext) -> Iterable[ExternalRecord | RecordFailure]:
        for item in page.items:
            account = item["account"]
            if item.get("byName"):
                yield self._by_name(account, item["candidates"], page.source)
                continue
            lei = account["lei"].strip().upper()
            if not is_lei(lei):
                yield RecordFailure(account["lei"], f"account '{account['name']}': '{account['lei']}' is not an LEI "
                                                    "(ISO 17442: 20 letters and digits ending in valid check digits)")
            elif item["record"] is None:
                yield RecordFailure(lei, f"account '{account['name']}': {self._missing(lei)}")
            else:
                # the account by id: its LEI may be stored in lower case or with spaces (the write tidies it)
                yield self._record(account, item["record"], page.source, lei, record_id=account["id"])

    def _by_name(self, account: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]],
                 source: str) -> ExternalRecord | RecordFailure:
        usable = [c for c in candidates if problem(c) is None]
        if len(usable) != 1:
            shown = ", ".join(f"{legal_name(c)} ({lei_of(c)})" for c in usable[:5])
            reason = (f"account '{account['name']}': no registry entity has this legal name" if not usable else
                      f"account '{account['name']}': {len(usable)} registry entities have this legal name "
                      f"({shown}); set the account's LEI by hand")
            return RecordFailure(None, reason)
        record = usable[0]
        lei = lei_of(record)
        assert lei is not None
        return self._record(account, record, source, lei, record_id=account["id"])

    def _record(self, account: Mapping[str, Any], record: Mapping[str, Any], source: str, lei: str,
                record_id: str | None = None) -> ExternalRecord | RecordFailure:
        trouble = problem(record)
        if trouble is not None:
            return RecordFailure(lei, f"LEI record {lei}: {trouble}")
        attributes = document(record, source)
        events = risk.detect(lei, account, attributes)
        occurred = attributes["registration"].get("lastUpdateDate")
        for event in events:
            self._owners[event.key] = (account.get("owner"), account["id"])
            self._titles[event.key] = (event.title, event.detail)
        return ExternalRecord(
            key=lei, document=attributes, record_id=record_id,
            children={"riskEvent": [(e.key, {**e.document(lei, occurred, source), "owner": account.get("owner")})
                                    for e in events]})

    # --- a user looking an entity up -------------------------------------------------------------
    def search(self, query: str, page: int, context: SyncContext) -> SearchPage:
        """Entities whose names (or LEI) match ``query``, ``SEARCH_PAGE`` at a time."""
        found, last, total = self._registry(context).find(query, page, SEARCH_PAGE)
        return SearchPage([_candidate(r) for r in found if problem(r) is None], page, last, total)

    def fetch_one(self, key: str, record_id: str, context: SyncContext) -> ExternalRecord | RecordFailure:
        """The LEI record ``key`` for the account ``record_id`` (with the risk events its change raises)."""
        lei = key.strip().upper()
        if not is_lei(lei):
            return RecordFailure(key, f"'{key}' is not an LEI (ISO 17442: 20 letters and digits ending in valid "
                                      "check digits)")
        [account] = context.records("account", fields=["id", "name", "owner", "lei", *TRACKED],
                                    filter={"id": {"eq": record_id}}) or [None]
        if account is None:
            return RecordFailure(lei, f"no account {record_id}")
        registry = self._registry(context)
        record = registry.lookup([lei]).get(lei)
        if record is None:
            return RecordFailure(lei, self._missing(lei))
        return self._record(account, record, registry.where, lei, record_id=record_id)

    # --- after the page is written --------------------------------------------------------------
    def after_page(self, synced: Sequence[SyncedRecord], context: SyncContext) -> None:
        """Each risk event this page created notifies the owner of its account (once, by event key)."""
        for item in synced:
            if item.object != "riskEvent" or not item.created or item.key not in self._owners:
                continue
            owner, _ = self._owners[item.key]
            if owner is None:
                continue
            title, detail = self._titles[item.key]
            context.notify([owner], title=title, body=detail, object_name="riskEvent", record_id=item.record_id,
                           key=f"risk:{item.key}")


def _candidate(record: Mapping[str, Any]) -> Candidate:
    attributes = record["attributes"]
    entity, registration = attributes["entity"], attributes["registration"]
    address = entity.get("legalAddress") or {}
    place = ", ".join(str(p) for p in (address.get("city"), address.get("country")) if p)
    detail = " · ".join(p for p in (place, entity.get("jurisdiction"), f"{entity.get('status')} / "
                                    f"{registration.get('status')}") if p)
    lei = lei_of(record) or ""
    return Candidate(key=lei, title=legal_name(record) or lei, detail=detail, document={
        "lei": lei, "legalName": legal_name(record), "jurisdiction": entity.get("jurisdiction"),
        "city": address.get("city"), "country": address.get("country"), "registrationNumber": entity.get("registeredAs"),
        "entityStatus": entity.get("status"), "registrationStatus": registration.get("status")})
