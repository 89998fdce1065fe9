"""Loading the deterministic sample data into a tenant through the normal write path, and running the
connectors plugins offer for the demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from tessera.services.connectors.instances import create_connector
from tessera.services.connectors.runs import ConnectorRun, drive_run, run_connector
from tessera.services.records.read import RecordReader
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.services.sample_data import standard_sample

CHUNK = 500


def sample_size(seed: int = 7, accounts: int = 40) -> int:
    """How many records ``load_sample_data`` inserts with the same arguments."""
    return sum(len(records) for records in standard_sample(seed=seed, accounts=accounts).values())


def load_sample_data(
    rt: Runtime, actor: Actor, *, seed: int = 7, accounts: int = 40, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Insert the sample records in one transaction; returns how many of each object."""
    sample = standard_sample(seed=seed, accounts=accounts)
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    with rt.write(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        writer = RecordWriter(conn, model, actor, rt.config.limits, rt.plugins)
        deferred: list[tuple[str, str, dict[str, str]]] = []
        for object_name, records in sample.items():
            obj = model.meta.by_name[object_name]
            lookups = {f.name for f in obj.lookups}
            rows = []
            for record in records:
                row, later = {}, {}
                for key, value in record.items():
                    if key == "_key":
                        continue
                    if key in lookups and value is not None:
                        if value in ids:
                            row[key] = ids[value]
                        else:
                            later[key] = value
                    else:
                        row[key] = value
                rows.append((record["_key"], row, later))
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                new_ids = writer.create(object_name, [row for _, row, _ in chunk])
                for (key, _, later), new_id in zip(chunk, new_ids, strict=True):
                    ids[key] = new_id
                    if later:
                        deferred.append((object_name, new_id, later))
                if progress:
                    progress(object_name, len(chunk))
            counts[object_name] = len(records)
        for object_name, record_id, later in deferred:
            writer.update(object_name, record_id, {k: ids[v] for k, v in later.items()})
        plugin_context = _SampleContext(conn, model, writer, actor, seed, accounts)
        for plugin in model.meta.plugins:
            for spec in rt.plugins.sample_data(plugin) if plugin in rt.plugins.plugins else []:
                rt.plugins.call_function(plugin, "register_sample_data", spec.generate, plugin_context)
        if plugin_context.created or model.meta.plugins:
            # Plugins write through hooks too (stage history...): count what the tenant now holds.
            for obj in model.meta.objects:
                table = model.tables.table(obj.name)
                held = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                if held:
                    counts[obj.name] = held
    return counts


class _SampleContext:
    """The ``SampleContext`` plugins' sample-data generators write through (one transaction)."""

    def __init__(self, conn: Any, model: Any, writer: RecordWriter, actor: Actor, seed: int, size: int) -> None:
        self.tenant_slug = actor.tenant.slug
        self.seed = seed
        self.size = size
        self.created: dict[str, int] = {}
        self._reader = RecordReader(conn, model, writer.limits)
        self._writer = writer

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(rows), CHUNK):
            ids += self._writer.create(object_name, list(rows[start : start + CHUNK]))
        self.created[object_name] = self.created.get(object_name, 0) + len(ids)
        return ids

    def records(self, object_name: str, *, fields: Sequence[str]) -> list[dict[str, Any]]:
        return self._reader.rows(object_name, fields)


def demo_connectors(rt: Runtime, actor: Actor) -> list[tuple[str, ConnectorRun]]:
    """Create and run, in this process, the connectors installed plugins offer for the demo
    (``ConnectorSpec.demo_config``: data shipped with the plugin); returns each one's finished run."""
    with rt.db.system.connect() as conn:
        installed = set(rt.model(conn, actor.tenant).meta.plugins)
    done: list[tuple[str, ConnectorRun]] = []
    for key, (plugin, spec) in sorted(rt.plugins.keyed.get("register_connectors", {}).items()):
        if spec.demo_config is None or plugin not in installed:
            continue
        create_connector(rt, replace(actor, channel="cli"), {
            "name": key, "plugin": plugin, "provider": key, "config": dict(spec.demo_config)})
        transport, rt.transport = rt.transport, None  # the pages run here, one after the other
        try:
            last = run_connector(rt, actor, key, trigger="CLI")
            for page in drive_run(rt, last):
                last = page
        finally:
            rt.transport = transport
        done.append((key, last))
    return done
