"""The ``tessera`` command line: database, tenants, metadata packages, server and demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tessera.app import create_app
from tessera.core.config import Config
from tessera.core.errors import SchemaOutdated, TesseraError
from tessera.core.logging import configure_logging
from tessera.jobs.transport import EmbeddedTransport, attach
from tessera.services import plugins as plugin_service
from tessera.services import tenants as tenant_service
from tessera.services.demo import demo_connectors, load_sample_data, sample_size
from tessera.services.packages import apply_package, export_metadata, read_package
from tessera.services.records.recycle import purge_expired
from tessera.services.runtime import Actor, Runtime
from tessera.services.tokens import issue_token
from tessera.storage import migrations
from tessera.storage.system_tables import users

DEMO_QUERY = (
    "{ accounts(first: 5, orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name industry "
    "opportunities(first: 3) { totalCount edges { node { name stage amount closeDate } } } } } } }"
)


class App:
    def __init__(self) -> None:
        self._rt: Runtime | None = None

    @property
    def rt(self) -> Runtime:
        if self._rt is None:
            self._rt = Runtime(Config.from_env())
            # Commands see the effects of the jobs they cause (in-process), or hand them to rq.
            attach(self._rt)
        return self._rt


def _fail(exc: Exception) -> None:
    message = exc.message if isinstance(exc, TesseraError) else str(exc)
    raise click.ClickException(message)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Tessera: low-code metadata platform for connected CRM."""
    ctx.obj = App()


@main.group()
def db() -> None:
    """The platform database."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: App) -> None:
    """Create or migrate the system tables to the current version (safe to repeat)."""
    migrations.upgrade(app.rt.db)
    click.echo(f"database at revision {migrations.current_revision(app.rt.db)}")


@db.command("current")
@click.pass_obj
def db_current(app: App) -> None:
    """Show the database revision and whether it is current."""
    try:
        migrations.require_current(app.rt.db)
    except SchemaOutdated as exc:
        _fail(exc)
    click.echo(f"database at revision {migrations.current_revision(app.rt.db)} (current)")


def _ready(app: App) -> Runtime:
    try:
        migrations.require_current(app.rt.db)
    except SchemaOutdated as exc:
        _fail(exc)
    return app.rt


@main.group()
def tenant() -> None:
    """Tenants: each has its own schema (PostgreSQL) or database file (SQLite)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--admin-email", required=True, help="Email of the tenant's first administrator.")
@click.option("--name", default=None, help="Display name (defaults to the slug).")
@click.pass_obj
def tenant_create(app: App, slug: str, admin_email: str, name: str | None) -> None:
    """Create a tenant with the standard objects; prints the admin's API token as the last line."""
    rt = _ready(app)
    try:
        created = tenant_service.create_tenant(rt, slug, admin_email, name=name)
    except TesseraError as exc:
        _fail(exc)
    click.echo(f"created tenant {slug} (schema {created.tenant.schema_name}); admin {admin_email}", err=True)
    click.echo(created.token)


@tenant.command("list")
@click.pass_obj
def tenant_list(app: App) -> None:
    """List tenants with their metadata version, objects and users."""
    rows = tenant_service.list_tenants(_ready(app))
    if not rows:
        click.echo("no tenants")
        return
    click.echo(f"{'SLUG':<20} {'SCHEMA':<24} {'VERSION':>7} {'OBJECTS':>7} {'USERS':>5}")
    for row in rows:
        click.echo(f"{row.slug:<20} {row.schema_name:<24} {row.metadata_version:>7} {row.objects:>7} {row.users:>5}")


@tenant.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm: every record of the tenant is deleted.")
@click.pass_obj
def tenant_drop(app: App, slug: str, yes: bool) -> None:
    """Delete a tenant and all its data."""
    if not yes:
        raise click.UsageError("dropping a tenant deletes all its data: pass --yes to confirm")
    try:
        tenant_service.drop_tenant(_ready(app), slug)
    except TesseraError as exc:
        _fail(exc)
    click.echo(f"dropped tenant {slug}")


@main.group()
def metadata() -> None:
    """YAML metadata packages."""


def _admin(rt: Runtime, slug: str) -> Actor:
    ref = rt.tenant(slug)
    with rt.db.system.connect() as conn:
        user_id = conn.execute(
            users.select().with_only_columns(users.c.id).where(users.c.tenant_id == ref.id).order_by(users.c.created_at)
        ).scalar()
    return Actor(ref, user_id, "cli")


@metadata.command("apply")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def metadata_apply(app: App, path: Path, slug: str) -> None:
    """Apply a package (directory or YAML file) in one transaction."""
    rt = _ready(app)
    try:
        counts = apply_package(rt, _admin(rt, slug), read_package(path))
    except TesseraError as exc:
        _fail(exc)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@metadata.command("export")
@click.option("--tenant", "slug", required=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="File to write (default stdout).")
@click.pass_obj
def metadata_export(app: App, slug: str, output: Path | None) -> None:
    """Export the tenant's objects and fields as one YAML document."""
    rt = _ready(app)
    try:
        ref = rt.tenant(slug)
    except TesseraError as exc:
        _fail(exc)
    with rt.db.system.connect() as conn:
        text = export_metadata(rt.model(conn, ref).meta)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.group()
def plugins() -> None:
    """Plugins: list them, install them into a tenant, upgrade, uninstall."""


@plugins.command("list")
@click.pass_obj
def plugins_list(app: App) -> None:
    """Plugins of this installation, with the tenants that installed each."""
    rows = plugin_service.list_plugins(_ready(app))
    if not rows:
        click.echo("no plugins (install a distribution declaring a 'tessera.plugins' entry point)")
        return
    click.echo(f"{'NAME':<14} {'VERSION':<10} {'TENANTS':<24} DESCRIPTION")
    for row in rows:
        click.echo(f"{row.name:<14} {row.version:<10} {', '.join(row.tenants) or '-':<24} {row.description}")


def _plugin_change(app: App, slug: str, change: Any) -> None:
    rt = _ready(app)
    try:
        status = change(rt, _admin(rt, slug))
    except TesseraError as exc:
        _fail(exc)
    state = f"installed {status.installed_version}" if status.installed_version else "not installed"
    click.echo(f"{status.name}: {state} in {slug}")


@plugins.command("install")
@click.argument("name")
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def plugins_install(app: App, name: str, slug: str) -> None:
    """Install a plugin into a tenant (one transaction)."""
    _plugin_change(app, slug, lambda rt, actor: plugin_service.install_plugin(rt, actor, name))


@plugins.command("upgrade")
@click.argument("name")
@click.option("--tenant", "slug", required=True)
@click.option("--allow-destructive", is_flag=True, help="Delete what the new version no longer defines.")
@click.pass_obj
def plugins_upgrade(app: App, name: str, slug: str, allow_destructive: bool) -> None:
    """Bring a tenant's install of a plugin to this installation's version."""
    _plugin_change(app, slug, lambda rt, actor: plugin_service.upgrade_plugin(
        rt, actor, name, allow_destructive=allow_destructive))


@plugins.command("uninstall")
@click.argument("name")
@click.option("--tenant", "slug", required=True)
@click.option("--drop-data", is_flag=True, help="Delete the plugin's objects and fields with their data.")
@click.pass_obj
def plugins_uninstall(app: App, name: str, slug: str, drop_data: bool) -> None:
    """Remove a plugin from a tenant; its data is kept (owned by the tenant) unless --drop-data."""
    _plugin_change(app, slug, lambda rt, actor: plugin_service.uninstall_plugin(
        rt, actor, name, keep_data=not drop_data))


@main.group()
def records() -> None:
    """Record maintenance."""


@records.command("purge")
@click.option("--tenant", "slug", default=None, help="One tenant (default: every tenant).")
@click.pass_obj
def records_purge(app: App, slug: str | None) -> None:
    """Empty recycle bins of records deleted longer ago than each tenant's retention (30 days)."""
    rt = _ready(app)
    slugs = [slug] if slug else [row.slug for row in tenant_service.list_tenants(rt)]
    try:
        for one in slugs:
            count = purge_expired(rt, _admin(rt, one))
            click.echo(f"{one}: purged {count} records")
    except TesseraError as exc:
        _fail(exc)


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.pass_obj
def serve(app: App, host: str, port: int) -> None:
    """Run the web server (development server; use gunicorn in production)."""
    _serve(app.rt, host, port)


def _serve(rt: Runtime, host: str, port: int) -> None:
    if isinstance(rt.transport, EmbeddedTransport):
        # The server answers while jobs (webhooks, e-mail, retries, schedules) run beside it.
        rt.transport.mode = "thread"
        rt.transport.start()
    try:
        flask_app = create_app(runtime=rt)
    except SchemaOutdated as exc:
        _fail(exc)
    flask_app.run(host=host, port=port, threaded=True)


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-serve", is_flag=True, help="Set up only; do not start the server.")
@click.option("--reset", is_flag=True, help="Drop the demo tenant first.")
@click.pass_obj
def demo(app: App, host: str, port: int, no_serve: bool, reset: bool) -> None:
    """Migrate, create tenant 'demo' with sample data, print a token and serve on 127.0.0.1:5000."""
    configure_logging()
    rt = app.rt
    migrations.upgrade(rt.db)
    existing = {t.slug for t in tenant_service.list_tenants(rt)}
    if reset and "demo" in existing:
        tenant_service.drop_tenant(rt, "demo")
        existing.discard("demo")
    if "demo" not in existing:
        created = tenant_service.create_tenant(rt, "demo", "admin@demo.tessera.dev", name="Tessera Demo")
        actor = Actor(created.tenant, created.admin_user_id, "import")
        for name in sorted(rt.plugins.plugins):
            status = plugin_service.install_plugin(rt, _admin(rt, "demo"), name)
            click.echo(f"installed plugin {name} {status.installed_version}")
        actor = Actor(rt.tenant("demo"), created.admin_user_id, "import")
        with click.progressbar(length=sample_size(), label="loading sample data") as bar:
            counts = load_sample_data(rt, actor, progress=lambda _obj, n: bar.update(n))
        click.echo("sample data: " + ", ".join(f"{n} {o}" for o, n in counts.items()))
        for name, run in demo_connectors(rt, actor):
            counts = "; ".join(f"{obj}: " + ", ".join(f"{n} {what}" for what, n in c.items() if n)
                               for obj, c in run.counts.items() if any(c.values()))
            click.echo(f"connector {name}: {run.status.lower()} ({counts})")
            for sample in run.error_samples[:3]:
                click.echo(f"  failed {sample.get('object')} {sample.get('key')}: {sample.get('reason')}")
        token = created.token
    else:
        actor = _admin(rt, "demo")
        with rt.write(actor.tenant) as conn:
            token = issue_token(conn, actor.tenant.id, actor.user_id or "", "demo")
    url = f"http://{host}:{port}/graphql"
    click.echo("")
    click.echo(f"Tessera demo is ready: GraphiQL at {url}")
    click.echo("Try:")
    click.echo(f"  curl -s {url} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\")
    click.echo(f"       -d '{{\"query\": \"{DEMO_QUERY}\"}}'")
    click.echo("Admin token:")
    click.echo(token)
    sys.stdout.flush()
    if not no_serve:
        _serve(rt, host, port)


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs that are queued, then stop.")
@click.option("--scheduler/--no-scheduler", default=True,
              help="Also run rq's cron scheduler (the minute tick of schedules) in a child process.")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
@click.pass_obj
def worker(app: App, burst: bool, scheduler: bool, name: str | None) -> None:
    """Run background jobs from Redis (TESSERA_REDIS_URL): workflows, webhooks, e-mail, schedules."""
    import subprocess

    from tessera.jobs.worker import run_worker

    configure_logging()
    rt = _ready(app)
    if not rt.config.redis_url:
        _fail(ValueError("tessera worker needs Redis: set TESSERA_REDIS_URL (without it, jobs run inside "
                         "tessera serve and the CLI)"))
    child = subprocess.Popen([sys.executable, "-m", "tessera.cli", "scheduler"]) if scheduler and not burst else None
    try:
        run_worker(rt, burst=burst, name=name)
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)


@main.command()
@click.pass_obj
def scheduler(app: App) -> None:
    """Run rq's cron scheduler alone (normally started by tessera worker)."""
    from tessera.jobs.worker import run_scheduler

    configure_logging()
    run_scheduler(_ready(app))


@main.group()
def jobs() -> None:
    """Background jobs: list them, re-queue failed ones, run what is due."""


@jobs.command("list")
@click.option("--tenant", "slug", default=None, help="Only this tenant's jobs.")
@click.option("--status", type=click.Choice(["PENDING", "DISPATCHED", "RUNNING", "DONE", "FAILED"]), default=None)
@click.option("--first", default=50, type=int)
@click.pass_obj
def jobs_list(app: App, slug: str | None, status: str | None, first: int) -> None:
    """Newest jobs first: id, kind, status, attempts, when, last error."""
    from tessera.services.automation.outbox import list_jobs

    rt = _ready(app)
    tenant_id = rt.tenant(slug).id if slug else None
    rows = list_jobs(rt, tenant_id=tenant_id, status=status, first=first)
    if not rows:
        click.echo("no jobs")
    for row in rows:
        error = (row.last_error or "").splitlines()[0][:80] if row.last_error else ""
        click.echo(f"{row.id}  {row.kind:<16} {row.status:<10} {row.attempts}/{row.max_attempts}  "
                   f"{row.created_at:%Y-%m-%d %H:%M:%S}  {error}")


@jobs.command("requeue")
@click.argument("ids", nargs=-1)
@click.option("--tenant", "slug", default=None, help="All failed jobs of this tenant.")
@click.option("--all-failed", is_flag=True, help="Every failed job.")
@click.pass_obj
def jobs_requeue(app: App, ids: tuple[str, ...], slug: str | None, all_failed: bool) -> None:
    """Give failed jobs a fresh set of attempts."""
    from tessera.services.automation.outbox import requeue

    rt = _ready(app)
    if not ids and not slug and not all_failed:
        _fail(ValueError("name job ids, or --tenant SLUG, or --all-failed"))
    count = requeue(rt, list(ids) or None, tenant_id=rt.tenant(slug).id if slug else None)
    click.echo(f"re-queued {count} job{'s' if count != 1 else ''}")


@jobs.command("run-due")
@click.option("--tick/--no-tick", default=True, help="Also queue what schedules have made due.")
@click.pass_obj
def jobs_run_due(app: App, tick: bool) -> None:
    """Run due jobs in this process (embedded mode without a server), with a progress bar."""
    from tessera.services.automation.outbox import due_jobs, perform
    from tessera.services.automation.schedules import tick as schedule_tick

    rt = _ready(app)
    if tick:
        schedule_tick(rt)
    due = due_jobs(rt, limit=100_000)
    statuses: dict[str, int] = {}
    with click.progressbar(due, label="running jobs") as bar:
        for job_id in bar:
            status = perform(rt, job_id) or "SKIPPED"
            statuses[status] = statuses.get(status, 0) + 1
    click.echo(", ".join(f"{n} {s.lower()}" for s, n in sorted(statuses.items())) or "nothing was due")


@main.group()
def connectors() -> None:
    """External data connectors: add one, run it with a progress bar."""


@connectors.command("add")
@click.argument("name")
@click.option("--plugin", required=True, help="The plugin providing the connector (e.g. tenders).")
@click.option("--tenant", "slug", required=True)
@click.option("--source", required=True, help="An http(s) URL, or a local file or folder.")
@click.option("--schedule", default=None, help="Cron (UTC) for scheduled runs.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Another config key (repeatable); VALUE is read as JSON when it parses: batchSize=50, "
                   "matchByName=true, since=2024-01-01.")
@click.pass_obj
def connectors_add(app: App, name: str, plugin: str, slug: str, source: str, schedule: str | None,
                   settings: tuple[str, ...]) -> None:
    """Create a connector reading SOURCE (local paths are stored absolute)."""
    from dataclasses import replace

    from tessera.services.connectors.instances import create_connector

    rt = _ready(app)
    if not source.startswith(("http://", "https://")):
        source = str(Path(source).resolve())
    config: dict[str, object] = {"source": source}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{item}': give KEY=VALUE", param_hint="--set")
        try:
            config[key.strip()] = json.loads(value)
        except ValueError:
            config[key.strip()] = value  # plain text
    actor = replace(_admin(rt, slug), channel="cli")
    try:
        found = create_connector(rt, actor, {"name": name, "plugin": plugin, "config": config,
                                             "schedule": schedule})
    except TesseraError as exc:
        _fail(exc)
    click.echo(f"connector {found.name}: {found.plugin}/{found.provider} → {found.target} (match on {found.match_key})")


@connectors.command("run")
@click.argument("name")
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def connectors_run(app: App, name: str, slug: str) -> None:
    """Run a connector in this process, page by page, with a progress bar."""
    from tessera.services.connectors.runs import drive_run, run_connector

    rt = _ready(app)
    rt.transport = None  # this command runs the pages itself, to show each one
    try:
        started = run_connector(rt, _admin(rt, slug), name, trigger="CLI")
    except TesseraError as exc:
        _fail(exc)
    last = started
    with click.progressbar(drive_run(rt, started), label=f"syncing {name}", show_pos=True,
                           item_show_func=lambda r: f"{r.created} new, {r.updated} changed" if r else None) as bar:
        for page in bar:
            last = page
    click.echo(f"{last.status.lower()}: {last.pages} pages, {last.created} created, {last.updated} updated, "
               f"{last.unchanged} unchanged, {last.failed} failed")
    for sample in last.error_samples[:5]:
        click.echo(f"  failed {sample.get('object')} {sample.get('key')}: {sample.get('reason')}")
    if last.error:
        raise click.ClickException(last.error)


if __name__ == "__main__":
    main()
