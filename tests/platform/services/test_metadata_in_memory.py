"""A change that adds plain fields keeps its definitions in memory instead of reading them all again:
they must equal what the database then reads back."""

from __future__ import annotations

from tessera.model.registry import load_metadata
from tessera.services.metadata.change import run_change
from tessera.services.metadata.fields import add_field_in
from tessera.services.metadata.objects import create_object_in
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant

FIELDS = [
    {"name": "code", "type": "TEXT", "maxLength": 40, "unique": True, "label": {"en": "Code", "zh": "编码"},
     "helpText": {"en": "Shown on invoices"}},
    {"name": "tier", "type": "PICKLIST", "defaultValue": "b", "options": [
        {"value": "a", "label": {"en": "A"}, "color": "#ff0000"}, {"value": "b", "label": {"en": "B"}}]},
    {"name": "tags", "type": "MULTI_PICKLIST", "options": [{"value": "x"}, {"value": "y"}]},
    {"name": "budget", "type": "CURRENCY", "precision": 18, "scale": 2, "defaultValue": "10.50"},
    {"name": "due", "type": "DATE", "indexed": True, "description": {"en": "When it is due"}},
    {"name": "done", "type": "BOOLEAN", "defaultValue": False},
    {"name": "note", "type": "LONG_TEXT"},
]


def test_fields_added_in_memory_equal_the_stored_definitions(runtime: Runtime, tenant: CreatedTenant) -> None:
    actor = Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id)
    seen = {}

    def step(change):  # type: ignore[no-untyped-def]
        create_object_in(change, {"name": "project", "pluralName": "projects"}, origin="custom")
        for data in FIELDS:
            add_field_in(change, {**data, "object": "project"}, origin="custom")
        seen["memory"] = change.meta
        seen["stored"] = load_metadata(change.conn, change.tenant, change.version)

    run_change(runtime, actor, step)
    memory, stored = seen["memory"].by_name["project"], seen["stored"].by_name["project"]
    assert [f.name for f in memory.fields] == [f.name for f in stored.fields]
    for mine, theirs in zip(memory.fields, stored.fields, strict=True):
        assert mine == theirs, mine.name
    assert seen["memory"] == seen["stored"]
