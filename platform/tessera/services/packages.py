"""YAML metadata packages: apply a package to a tenant in one transaction, export a tenant's metadata.

A package is a directory with ``package.yaml`` (listing its objects in order) and one
``<object>.yaml`` per object, or a single file holding ``objects: [...]``, or a single object.
Applying is idempotent: existing objects and fields are updated to match, missing ones created.
``export`` and ``apply`` round-trip exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tessera.core.errors import TesseraError, ValidationError
from tessera.model.definitions import COMPUTED_TYPES, ObjectDef, TenantMetadata
from tessera.model.exports import export_field, export_object, export_rule
from tessera.plugin_host import PluginHost, default_host
from tessera.services.automation.approval_processes import apply_approval_process_in, export_approval_process
from tessera.services.automation.state_machines import apply_state_machine_in, export_state_machine
from tessera.services.automation.workflows import (
    add_workflow_in,
    planned_workflow,
    stored_workflow,
    update_workflow_in,
)
from tessera.services.metadata.change import Change, run_change
from tessera.services.metadata.computed import prepare_field
from tessera.services.metadata.fields import add_field_in, planned_field, update_field_in
from tessera.services.metadata.objects import create_object_in, planned_object, update_object_in
from tessera.services.metadata.rules import add_rule_in, planned_rule, update_rule_in
from tessera.services.reports.packaged import apply_reports_in
from tessera.services.runtime import Actor, Runtime

DEFINITION_LISTS = ("fields", "validationRules", "stateMachines", "approvalProcesses", "workflows", "reports")
"""Keys of an object spec that list definitions of their own (the rest is the object's header)."""


def standard_package_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "metadata" / "standard", here.parents[1] / "_metadata" / "standard"):
        if (candidate / "package.yaml").exists():
            return candidate
    raise FileNotFoundError("cannot find the standard metadata package")


def read_package(path: Path) -> list[dict[str, Any]]:
    """The object definitions of a package directory or file, in installation order."""
    if path.is_dir():
        manifest = _yaml(path / "package.yaml")
        names = manifest.get("objects") or []
        return [_yaml(path / f"{name}.yaml") for name in names]
    document = _yaml(path)
    if "objects" in document:
        return list(document["objects"])
    return [document]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in: ~10x faster
_parsed: dict[tuple[str, int, int], Any] = {}


def _yaml(path: Path) -> dict[str, Any]:
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _parsed:  # every new tenant reads the standard package: parse each version once
            _parsed[key] = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        data = copy.deepcopy(_parsed[key])
    except FileNotFoundError:
        raise ValidationError(f"package file {path} does not exist", field="file") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path.name}: not valid YAML: {exc}", field="file") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path.name}: expected a mapping at the top level", field="file")
    return data


class _NothingChanged(Exception):
    """Raised to roll back a package apply that changed nothing, so the version stays put."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__("nothing changed")
        self.counts = counts


def apply_package(rt: Runtime, actor: Actor, objects: list[dict[str, Any]], *, origin: str = "custom") -> dict[str, int]:
    """Apply a package in one transaction; applying it again changes nothing (not even the version)."""

    def step(change: Change) -> dict[str, int]:
        counts = apply_package_in(change, objects, origin=origin)
        if not any(counts.values()):
            raise _NothingChanged(counts)
        return counts

    try:
        return run_change(rt, actor, step)
    except _NothingChanged as unchanged:
        return unchanged.counts


def apply_package_in(change: Change, objects: list[dict[str, Any]], *, origin: str,
                     plugins: PluginHost | None = None) -> dict[str, int]:
    """Create or update every object, field and validation rule of the package; counts what changed.

    Objects come first, then stored fields, then formulas and rollups, then validation rules, so
    lookups may point at any object of the package (including cycles such as account ⇄ contact)
    and expressions may use any field of it. A computed field that uses another one defined later
    is retried once the others are in.
    """
    counts = {
        "objectsCreated": 0, "objectsUpdated": 0, "fieldsCreated": 0, "fieldsUpdated": 0,
        "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0,
        "automationApplied": 0,
    }
    for index, spec in enumerate(objects):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ValidationError(f"objects.{index}: an object needs a name", field=f"objects.{index}")
        header = {k: v for k, v in spec.items() if k not in DEFINITION_LISTS}
        existing = change.meta.object(spec["name"])
        if existing is None:
            create_object_in(change, header, origin=origin)
            counts["objectsCreated"] += 1
        elif _object_header(existing) != _object_header(planned_object(existing, header, replace=True)):
            update_object_in(change, header, replace=True)
            counts["objectsUpdated"] += 1
    stored, computed = [], []
    for spec in objects:
        for field in spec.get("fields") or []:
            item = (spec["name"], field)
            (computed if field.get("type") in COMPUTED_TYPES else stored).append(item)
    for name, field in stored:
        _apply_field(change, name, field, origin, counts)
    pending = computed
    while pending:
        failed: list[tuple[str, dict[str, Any], TesseraError]] = []
        for name, field in pending:
            try:
                with change.conn.begin_nested():
                    _apply_field(change, name, field, origin, counts)
            except ValidationError as exc:
                failed.append((name, field, exc))
        if len(failed) == len(pending):
            raise failed[0][2]
        pending = [(name, field) for name, field, _ in failed]
    for spec in objects:
        for rule in spec.get("validationRules") or []:
            _apply_rule(change, spec["name"], rule, origin, counts)
    for spec in objects:
        for machine in spec.get("stateMachines") or []:
            _apply_automation(change, spec["name"], machine, "stateMachines", origin, counts)
        for process in spec.get("approvalProcesses") or []:
            _apply_automation(change, spec["name"], process, "approvalProcesses", origin, counts)
    for spec in objects:
        for workflow in spec.get("workflows") or []:
            _apply_workflow(change, spec["name"], workflow, origin, counts, plugins or default_host())
    apply_reports_in(change, objects, origin, counts)
    return counts


def _apply_automation(change: Change, name: str, item: Any, kind: str, origin: str, counts: dict[str, int]) -> None:
    """A state machine or an approval process: created, replaced when it differs, else left alone."""
    if not isinstance(item, dict):
        raise ValidationError(f"{name}.{kind}: each entry is a mapping", field=kind)
    machine = kind == "stateMachines"
    key = item.get("field") if machine else item.get("name")

    def current() -> dict[str, Any] | None:
        obj = change.meta.object(name)
        found = None if obj is None else next(
            (d for d in (obj.state_machines if machine else obj.approval_processes)
             if (d.field if machine else d.name) == key), None)  # type: ignore[union-attr]
        if found is None:
            return None
        return export_state_machine(found) if machine else export_approval_process(found)  # type: ignore[arg-type]

    with _named(name, key):
        before = current()
        apply = apply_state_machine_in if machine else apply_approval_process_in
        apply(change, {**item, "object": name}, origin=origin)
        change.reload()
        if current() != before:
            counts["automationApplied"] += 1


def _apply_workflow(change: Change, name: str, workflow: Any, origin: str, counts: dict[str, int],
                    plugins: PluginHost) -> None:
    if not isinstance(workflow, dict):
        raise ValidationError(f"{name}.workflows: each workflow is a mapping", field="workflows")
    data = {**workflow, "object": name}
    with _named(name, workflow.get("name")):
        current = next((w for o in change.meta.objects for w in o.workflows if w.name == workflow.get("name")), None)
        if current is None:
            add_workflow_in(change, data, origin=origin, created_by=None, plugins=plugins)
            counts["workflowsCreated"] += 1
        elif stored_workflow(change, current, plugins) != planned_workflow(change, data, plugins):
            update_workflow_in(change, data, changed_by=None, plugins=plugins, replace=True)
            counts["workflowsUpdated"] += 1


def _apply_field(change: Change, name: str, field: dict[str, Any], origin: str, counts: dict[str, int]) -> None:
    obj = change.meta.by_name[name]
    current = obj.field(field.get("name", ""))
    data = {**field, "object": name}
    with _named(name, field.get("name")):
        if current is None:
            add_field_in(change, data, origin=origin)
            counts["fieldsCreated"] += 1
        elif export_field(current) != export_field(prepare_field(change.meta, obj, planned_field(obj, data, replace=True)[1])):
            update_field_in(change, data, replace=True)
            counts["fieldsUpdated"] += 1


def _apply_rule(change: Change, name: str, rule: dict[str, Any], origin: str, counts: dict[str, int]) -> None:
    if not isinstance(rule, dict):
        raise ValidationError(f"{name}.validationRules: each rule is a mapping", field="validationRules")
    obj = change.meta.by_name[name]
    data = {**rule, "object": name}
    with _named(name, rule.get("name")):
        current = obj.rule(rule.get("name", ""))
        if current is None:
            add_rule_in(change, data, origin=origin)
            counts["rulesCreated"] += 1
        elif export_rule(current) != export_rule(planned_rule(change, obj, data, replace=True)[1]):
            update_rule_in(change, data, replace=True)
            counts["rulesUpdated"] += 1


@contextmanager
def _named(object_name: str, item: Any) -> Iterator[None]:
    """Prefix a refusal with the definition of the package it is about."""
    try:
        yield
    except TesseraError as exc:
        exc.message = f"{object_name}.{item}: {exc.message}"
        exc.args = (exc.message,)
        raise


def _object_header(obj: ObjectDef) -> dict[str, Any]:
    data = export_object(obj)
    data.pop("fields")
    for key in DEFINITION_LISTS[1:]:
        data.pop(key, None)
    return data


def export_metadata(meta: TenantMetadata) -> str:
    """The tenant's objects as one YAML document (``objects: [...]``), in creation order."""
    document = {"objects": [export_object(o) for o in meta.objects]}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
