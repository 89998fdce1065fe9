"""Connector instances of a tenant: create, change, delete, list (administrators).

An instance names a provider of an installed plugin and holds its configuration (credentials
encrypted apart, see ``secrets``), the target object and match key (the provider's unless given),
the field mapping (the provider's default until an administrator edits it), a cron schedule, the
user the sync runs as, and the cursor where the next sync starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.names import NAME_PATTERN
from tessera.model.registry import TenantModel
from tessera.plugin import ConnectorSpec, FieldMapping
from tessera.services.audit import log_event
from tessera.services.connectors import secrets
from tessera.services.connectors.http import Credentials, HttpSettings
from tessera.services.connectors.mapping import dump_mapping, parse_mapping
from tessera.services.outbound import OutboundRefused, check_url
from tessera.services.runtime import Actor, Runtime
from tessera.services.security.admin import require_admin
from tessera.storage.system_tables import connectors, users

FILES_DIR = "connector-files"
"""Under the data directory: the only local sources a connector created through the API may read."""


@dataclass(frozen=True)
class Connector:
    id: str
    name: str
    plugin: str
    provider: str
    config: Mapping[str, Any]
    """Masked: credentials show as ``secrets.MASK``."""
    target: str
    match_key: str
    mapping: Sequence[FieldMapping]
    mapping_edited: bool
    schedule: str | None
    run_as: str | None
    active: bool
    cursor: str | None
    created_at: datetime
    updated_at: datetime


def provider_spec(rt: Runtime, plugin: str, key: str | None) -> tuple[str, ConnectorSpec]:
    """The provider ``key`` of ``plugin`` (its only one when ``key`` is None)."""
    owned = {k: spec for k, (owner, spec) in rt.plugins.keyed.get("register_connectors", {}).items() if owner == plugin}
    if key is None:
        if len(owned) != 1:
            raise ValidationError(f"plugin {plugin} has {'no' if not owned else len(owned)} connector providers"
                                  + (f" ({', '.join(sorted(owned))}): name one with provider" if owned else ""),
                                  field="plugin")
        key = next(iter(owned))
    if key not in owned:
        raise ValidationError(f"plugin {plugin} has no connector provider '{key}'", field="provider")
    return key, owned[key]


def build_provider(rt: Runtime, plugin: str, spec: ConnectorSpec, config: Mapping[str, Any]) -> Any:
    try:
        HttpSettings.from_config(config)
        return spec.factory(dict(config))
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError(f"config: {exc}", field="config") from None


def check_source(rt: Runtime, actor: Actor, config: Mapping[str, Any]) -> None:
    """Refuse an http(s) source on a private network (unless the operator allows them) or with a bad
    key, and API callers a local source outside ``<data dir>/connector-files`` (the CLI may read any)."""
    try:
        Credentials.from_config(config)
    except ValueError as exc:
        raise ValidationError(f"config.{exc}", field="config") from None
    source = config.get("source")
    if source is None:
        return
    if not isinstance(source, str) or not source:
        raise ValidationError("config.source: give an http(s) URL or a path", field="config")
    if source.startswith(("http://", "https://")):
        # Every channel: the sync checks each request anyway, so a source refused here could never run.
        try:
            check_url(source, allow_private=rt.config.allow_private_networks)
        except OutboundRefused as exc:
            raise ValidationError(f"config.source: {exc}", field="config") from None
        return
    if actor.channel == "cli":
        return
    root = (rt.config.data_dir / FILES_DIR).resolve()
    path = Path(source) if Path(source).is_absolute() else root / source
    if not path.resolve().is_relative_to(root):
        raise ValidationError(f"config.source: a local source must be under {root} (or use the CLI)", field="config")


def _model(rt: Runtime, conn: sa.Connection, actor: Actor) -> TenantModel:
    return rt.model(conn, actor.tenant)


def _check_target(model: TenantModel, target: str, match_key: str, mapping: Sequence[FieldMapping]) -> None:
    obj = model.meta.object(target)
    if obj is None:
        raise ValidationError(f"no object '{target}'", field="target")
    if obj.field(match_key) is None:
        raise ValidationError(f"{target} has no field '{match_key}' (the match key)", field="matchKey")
    for index, item in enumerate(mapping):
        if obj.field(item.field) is None:
            raise ValidationError(f"mapping.{index}: {target} has no field '{item.field}'", field="mapping")


def _check_run_as(conn: sa.Connection, tenant_id: str, user_id: str) -> None:
    active = conn.execute(sa.select(users.c.is_active).where(users.c.id == user_id, users.c.tenant_id == tenant_id)).scalar()
    if not active:
        raise ValidationError(f"no active user {user_id}", field="runAs")


def _check_schedule(schedule: str | None) -> None:
    if schedule is not None and not croniter.is_valid(schedule):
        raise ValidationError(f"schedule: '{schedule}' is not a cron expression (minute hour day month weekday)",
                              field="schedule")


def create_connector(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> Connector:
    """Create a connector: ``name``, ``plugin``, ``config`` and optionally ``provider``, ``target``,
    ``matchKey``, ``mapping``, ``schedule``, ``runAs``, ``active``."""
    require_admin(actor, "manage connectors")
    name = data["name"]
    if not NAME_PATTERN.match(name) or len(name) > 63:
        raise ValidationError(f"'{name}' is not a valid name (camelCase letters and digits)", field="name")
    config = data.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValidationError("config: give a JSON object", field="config")
    with rt.write(actor.tenant) as conn:
        model = _model(rt, conn, actor)
        plugin = data["plugin"]
        if plugin not in model.meta.plugins:
            raise ValidationError(f"plugin {plugin} is not installed in this tenant", field="plugin")
        key, spec = provider_spec(rt, plugin, data.get("provider"))
        check_source(rt, actor, config)
        provider = build_provider(rt, plugin, spec, config)
        mapping = parse_mapping(data["mapping"]) if data.get("mapping") is not None else None
        target = data.get("target") or provider.target
        match_key = data.get("matchKey") or provider.match_key
        _check_target(model, target, match_key, mapping if mapping is not None else provider.default_mapping)
        _check_schedule(data.get("schedule"))
        run_as = data.get("runAs") or actor.user_id
        if run_as is None:
            raise ValidationError("runAs: name the user the sync runs as", field="runAs")
        _check_run_as(conn, actor.tenant.id, run_as)
        if conn.execute(sa.select(connectors.c.id).where(connectors.c.tenant_id == actor.tenant.id,
                                                         connectors.c.name == name)).first():
            raise Conflict(f"a connector named '{name}' exists", field="name")
        public, secret = secrets.split(config, spec.secret_keys)
        now = utcnow()
        conn.execute(connectors.insert().values(
            id=new_id(), tenant_id=actor.tenant.id, name=name, plugin=plugin, provider=key, config=public,
            secrets=secrets.encrypt(rt.config.secret_key, actor.tenant.id, secret), target_object=target,
            match_key=match_key, mapping=dump_mapping(mapping) if mapping is not None else None,
            schedule=data.get("schedule"), schedule_fired_at=now, run_as=run_as,
            active=data.get("active", True) is not False, cursor=None, created_by=actor.user_id,
            created_at=now, updated_at=now))
        log_event(conn, actor.tenant.id, "metadata", target=f"createConnector {name}", user_id=actor.user_id,
                  details={"plugin": plugin, "provider": key})
    return get_connector(rt, actor, name)


def update_connector(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> Connector:
    """Change the keys given. A ``config`` replaces the stored one, except that a credential given as the
    mask keeps its stored value. ``mapping: []`` goes back to the provider's default mapping."""
    require_admin(actor, "manage connectors")
    name = data["name"]
    with rt.write(actor.tenant) as conn:
        row = _row(conn, actor.tenant.id, name)
        spec = provider_spec(rt, row.plugin, row.provider)[1]
        values: dict[str, Any] = {}
        stored_secret = secrets.decrypt(rt.config.secret_key, actor.tenant.id, row.secrets)
        config = {**row.config, **stored_secret}
        if data.get("config") is not None:
            given = data["config"]
            if not isinstance(given, Mapping):
                raise ValidationError("config: give a JSON object", field="config")
            config = {k: (stored_secret.get(k) if v == secrets.MASK else v) for k, v in given.items()}
            check_source(rt, actor, config)
            public, secret = secrets.split(config, spec.secret_keys)
            values.update(config=public, secrets=secrets.encrypt(rt.config.secret_key, actor.tenant.id, secret))
            if public.get("source") != row.config.get("source"):
                values["cursor"] = None  # another source: start from its beginning
        provider = build_provider(rt, row.plugin, spec, config)
        mapping = [FieldMapping(**m) for m in row.mapping] if row.mapping else None
        if "mapping" in data and data["mapping"] is not None:
            mapping = parse_mapping(data["mapping"]) or None
            values["mapping"] = dump_mapping(mapping) if mapping else None
        _check_target(_model(rt, conn, actor), row.target_object, row.match_key,
                      mapping if mapping is not None else provider.default_mapping)
        if "schedule" in data:
            _check_schedule(data["schedule"])
            values.update(schedule=data["schedule"], schedule_fired_at=utcnow())
        if data.get("runAs") is not None:
            _check_run_as(conn, actor.tenant.id, data["runAs"])
            values["run_as"] = data["runAs"]
        if data.get("active") is not None:
            values["active"] = bool(data["active"])
        if data.get("resetCursor"):
            values["cursor"] = None
        if values:
            values["updated_at"] = utcnow()
            conn.execute(connectors.update().where(connectors.c.id == row.id).values(**values))
            log_event(conn, actor.tenant.id, "metadata", target=f"updateConnector {name}", user_id=actor.user_id,
                      details={"changed": sorted(k for k in values if k not in ("updated_at", "secrets"))})
    return get_connector(rt, actor, name)


def delete_connector(rt: Runtime, actor: Actor, name: str) -> Connector:
    """Delete a connector with its run log and ledger (the records it synced stay)."""
    require_admin(actor, "manage connectors")
    found = get_connector(rt, actor, name)
    with rt.write(actor.tenant) as conn:
        conn.execute(connectors.delete().where(connectors.c.id == found.id))
        log_event(conn, actor.tenant.id, "metadata", target=f"deleteConnector {name}", user_id=actor.user_id)
    return found


def _row(conn: sa.Connection, tenant_id: str, name: str) -> Any:
    row = conn.execute(sa.select(connectors).where(connectors.c.tenant_id == tenant_id, connectors.c.name == name)).first()
    if row is None:
        raise NotFound(f"no connector '{name}'", field="name")
    return row


def _public(rt: Runtime, tenant_id: str, row: Any) -> Connector:
    provider = None
    mapping = [FieldMapping(**m) for m in row.mapping] if row.mapping else None
    if mapping is None:
        try:
            spec = provider_spec(rt, row.plugin, row.provider)[1]
            provider = spec.factory(dict(row.config))
            mapping = list(provider.default_mapping)
        except (ValidationError, ValueError, TypeError, KeyError):
            mapping = []  # the plugin is gone from this process: show what is stored
    names = secrets.secret_names(rt.config.secret_key, tenant_id, row.secrets) if row.secrets else []
    return Connector(row.id, row.name, row.plugin, row.provider, secrets.masked(row.config, names), row.target_object,
                     row.match_key, mapping, row.mapping is not None, row.schedule, row.run_as, row.active, row.cursor,
                     row.created_at, row.updated_at)


def get_connector(rt: Runtime, actor: Actor, name: str) -> Connector:
    require_admin(actor, "manage connectors")
    with rt.db.system.connect() as conn:
        return _public(rt, actor.tenant.id, _row(conn, actor.tenant.id, name))


def list_connectors(rt: Runtime, actor: Actor) -> list[Connector]:
    require_admin(actor, "manage connectors")
    with rt.db.system.connect() as conn:
        rows = conn.execute(sa.select(connectors).where(connectors.c.tenant_id == actor.tenant.id)
                            .order_by(connectors.c.name)).all()
    return [_public(rt, actor.tenant.id, row) for row in rows]


def runtime_config(rt: Runtime, tenant_id: str, row: Any) -> dict[str, Any]:
    """The full configuration of a connector, credentials decrypted (for a sync only; never logged)."""
    return {**row.config, **secrets.decrypt(rt.config.secret_key, tenant_id, row.secrets)}


def cursor_text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)
