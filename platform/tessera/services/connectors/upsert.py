"""Writing one page of external records: map, skip unchanged, upsert by match key, isolate failures.

Each object's records are matched to live records by the match key field (so a record that was
created by hand is adopted, never duplicated) and to the connector's ledger (``connector_records``:
external key → record, content hash of the mapped values). A record whose hash has not changed is
skipped. New records are created in one call; if that call is refused, each is retried alone in
its own savepoint so that one bad record fails alone. Updates each run in a savepoint for the same
reason. Writes go through ``RecordWriter`` as the connector's run-as user (channel ``connector``):
validation rules, permissions and field history apply as for any write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.core.clock import utcnow
from tessera.core.errors import TesseraError
from tessera.plugin import ChildTarget, ExternalRecord, FieldMapping, RecordFailure, SyncedRecord
from tessera.services.connectors.mapping import MappingError, content_hash, map_document
from tessera.services.records.write import RecordWriter
from tessera.storage.system_tables import connector_records

CHUNK = 500


@dataclass
class PageResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    synced: list[SyncedRecord] = field(default_factory=list)

    def count(self, obj: str, what: str, number: int = 1) -> None:
        into = self.counts.setdefault(obj, {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
        into[what] += number

    def fail(self, obj: str, key: str | None, reason: str, code: str | None = None) -> None:
        self.count(obj, "failed")
        self.samples.append({"object": obj, "key": key, "reason": reason[:500], **({"code": code} if code else {})})


class PageWriter:
    """Upserts the records of one page for one connector, in the page's transaction."""

    def __init__(self, writer: RecordWriter, connector_id: str, target: str, match_key: str,
                 mapping: Sequence[FieldMapping], children: Sequence[ChildTarget], creates: bool = True) -> None:
        self.writer = writer
        self.conn = writer.conn
        self.connector_id = connector_id
        self.target = target
        self.match_key = match_key
        self.mapping = mapping
        self.children = {c.object: c for c in children}
        self.creates = creates
        self.result = PageResult()

    def write(self, items: Iterable[ExternalRecord | RecordFailure]) -> PageResult:
        parents: dict[str, ExternalRecord] = {}
        for item in items:
            if isinstance(item, RecordFailure):
                self.result.fail(self.target, item.key, item.reason)
            else:
                parents[item.key] = item  # a key twice in a page: the last one wins
        entries = self._mapped(self.target, [(r.key, r.document) for r in parents.values()], self.mapping)
        named = {r.key: r.record_id for r in parents.values() if r.record_id is not None}
        ids = self._upsert(self.target, self.match_key, entries, named, creates=self.creates)
        for target in self.children.values():
            pairs = []
            for key, record in parents.items():
                if key in ids:
                    pairs.extend((ck, {"__parent": ids[key], **dict(doc)}) for ck, doc in record.children.get(target.object, ()))
            child_entries = self._mapped(target.object, pairs, target.mapping, link=target.link_field)
            self._upsert(target.object, target.match_key, child_entries)
        return self.result

    def _mapped(self, obj: str, docs: Sequence[tuple[str, Mapping[str, Any]]], mapping: Sequence[FieldMapping],
                link: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        entries: dict[str, dict[str, Any]] = {}
        for key, document in docs:
            try:
                data = map_document(document, mapping)
            except MappingError as exc:
                self.result.fail(obj, key, str(exc))
                continue
            if link is not None:
                data[link] = document["__parent"]
            entries[key] = data
        return list(entries.items())

    def _upsert(self, obj_name: str, match_key: str, entries: list[tuple[str, dict[str, Any]]],
                named: Mapping[str, str] | None = None, creates: bool = True) -> dict[str, str]:
        """Record ids by external key of the records that are now in place (created, updated or unchanged).

        ``named``: key → the record to write into (the provider matched it some other way); another
        record holding the key is then a failure, never written. Without ``creates``, a key that
        matches no record is a failure instead of a new record."""
        if not entries:
            return {}
        model = self.writer.model
        obj = model.meta.by_name[obj_name]
        table = model.tables.table(obj_name)
        column = table.c[obj.field(match_key).column_name]  # type: ignore[union-attr]
        keys = [k for k, _ in entries]
        ledger: dict[str, Any] = {}
        existing: dict[str, str] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            ledger.update((r.external_key, r) for r in self.conn.execute(sa.select(connector_records).where(
                connector_records.c.connector_id == self.connector_id, connector_records.c.object_name == obj_name,
                connector_records.c.external_key.in_(chunk))))
            existing.update((str(k), i) for k, i in self.conn.execute(
                sa.select(column, table.c.id).where(column.in_(chunk), table.c.deleted_at.is_(None))))
        done: dict[str, str] = {}
        hashes: dict[str, str] = {}
        new: list[tuple[str, dict[str, Any]]] = []
        live = self._live(table, [(named or {}).get(k) for k in keys])
        for key, data in entries:
            data[match_key] = key
            digest = content_hash(data)
            hint = (named or {}).get(key)
            record_id = existing.get(key) if hint is None else hint if hint in live else None
            if hint is not None and record_id is not None and existing.get(key) not in (None, record_id):
                # NOTE: the holder is not named: the caller of a link may not be allowed to see it
                self.result.fail(obj_name, key, f"another {obj_name} already has {match_key} {key}", "VALIDATION_ERROR")
                continue
            if record_id is None and not creates:
                self.result.fail(obj_name, key, f"no {obj_name} with {match_key} {key} (this connector never "
                                                f"creates {obj_name} records)")
                continue
            if record_id is None:
                new.append((key, data))
                hashes[key] = digest
                continue
            known = ledger.get(key)
            if known is not None and known.record_id == record_id and known.content_hash == digest:
                self._synced(obj_name, key, record_id, "unchanged", done)
                continue
            try:
                with self.conn.begin_nested():
                    self.writer.update(obj_name, record_id, data)
            except TesseraError as exc:
                self.result.fail(obj_name, key, exc.message, str(exc.code))
                continue
            hashes[key] = digest
            self._synced(obj_name, key, record_id, "updated", done)
        self._create(obj_name, new, done)
        self._remember(obj_name, {k: (done[k], hashes[k]) for k in hashes if k in done})
        return done

    def _live(self, table: sa.Table, record_ids: Sequence[str | None]) -> set[str]:
        """Those of ``record_ids`` that are live records (one deleted since the provider named it is not)."""
        wanted = sorted({r for r in record_ids if r is not None})
        found: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            found.update(self.conn.execute(sa.select(table.c.id).where(
                table.c.id.in_(wanted[start:start + CHUNK]), table.c.deleted_at.is_(None))).scalars())
        return found

    def _create(self, obj_name: str, new: list[tuple[str, dict[str, Any]]], done: dict[str, str]) -> None:
        if not new:
            return
        try:
            with self.conn.begin_nested():
                ids = self.writer.create(obj_name, [d for _, d in new])
        except TesseraError:
            ids = None  # at least one is refused: find which, one at a time
        if ids is not None:
            for (key, _), record_id in zip(new, ids, strict=True):
                self._synced(obj_name, key, record_id, "created", done)
            return
        for key, data in new:
            try:
                with self.conn.begin_nested():
                    record_id = self.writer.create(obj_name, [data], bulk=False)[0]
            except TesseraError as exc:
                self.result.fail(obj_name, key, exc.message, str(exc.code))
                continue
            self._synced(obj_name, key, record_id, "created", done)

    def _synced(self, obj_name: str, key: str, record_id: str, what: str, done: dict[str, str]) -> None:
        done[key] = record_id
        self.result.count(obj_name, what)
        self.result.synced.append(SyncedRecord(obj_name, key, record_id, what == "created", what != "unchanged"))

    def _remember(self, obj_name: str, rows: Mapping[str, tuple[str, str]]) -> None:
        if not rows:
            return
        now = utcnow()
        values = [dict(connector_id=self.connector_id, object_name=obj_name, external_key=key, record_id=record_id,
                       content_hash=digest, synced_at=now) for key, (record_id, digest) in rows.items()]
        insert = (postgresql.insert(connector_records) if self.conn.dialect.name == "postgresql"
                  else sqlite.insert(connector_records))
        statement = insert.on_conflict_do_update(
            index_elements=["connector_id", "object_name", "external_key"],
            set_={"record_id": insert.excluded.record_id, "content_hash": insert.excluded.content_hash,
                  "synced_at": insert.excluded.synced_at})
        self.conn.execute(statement, values)
