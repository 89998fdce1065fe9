"""Running plugins' ``before_record_write`` hooks for the records a write produced.

Only plugins the tenant installed are called, inside the write's transaction; what they write goes
through the same write path (rules, history) on behalf of the same user with channel ``plugin``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tessera.core.errors import LimitExceeded
from tessera.model.access import SYSTEM
from tessera.model.definitions import SYSTEM_FIELDS, ObjectDef
from tessera.plugin import RecordChange
from tessera.plugin_host import PluginHost
from tessera.services.records.read import RecordReader
from tessera.services.runtime import Actor

if TYPE_CHECKING:
    from tessera.services.records.write import RecordWriter

HOOK = "before_record_write"
MAX_DEPTH = 5


class _WriteContext:
    def __init__(self, writer: RecordWriter, plugin: str, obj: ObjectDef, changes: list[RecordChange]) -> None:
        self.tenant_slug = writer.actor.tenant.slug
        self.plugin = plugin
        self.object = obj.name
        self.changes = changes
        # A plugin's own bookkeeping runs with system rights, recorded as the user's (channel plugin):
        # a rep changing a deal's stage may not be allowed to write its stage history directly.
        self._writer = writer.nested(Actor(writer.actor.tenant, writer.actor.user_id, "plugin", SYSTEM))

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        return self._writer.create(object_name, rows)

    def update(self, object_name: str, record_id: str, data: Mapping[str, Any]) -> None:
        self._writer.update(object_name, record_id, data)

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        reader = RecordReader(self._writer.conn, self._writer.model, self._writer.limits, SYSTEM)
        return reader.rows(object_name, fields, filter=filter, order_by=order_by)


def run_write_hooks(
    writer: RecordWriter, host: PluginHost | None, obj: ObjectDef, written: Sequence[tuple[str, bool, Mapping[str, Any]]]
) -> None:
    """Call the installed plugins' hook for ``written`` records: (id, created, old values of changes)."""
    if host is None or not written:
        return
    plugins = [p for p in writer.meta.plugins if p in host.plugins and host.implementation(p, HOOK) is not None]
    if not plugins:
        return
    if writer.depth >= MAX_DEPTH:
        raise LimitExceeded(f"plugin writes nest more than {MAX_DEPTH} deep (writing {obj.name})")
    fields = [*SYSTEM_FIELDS, *(f.name for f in obj.fields)]
    reader = RecordReader(writer.conn, writer.model, writer.limits, SYSTEM)
    rows = {row["id"]: row for row in reader.rows(obj.name, fields, filter={"id": {"in": [w[0] for w in written]}})}
    changes = [RecordChange(record_id, created, dict(before), rows[record_id]) for record_id, created, before in written]
    for plugin in plugins:
        host.call(plugin, HOOK, context=_WriteContext(writer, plugin, obj, changes))
