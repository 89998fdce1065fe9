"""The Flask application factory: wires the runtime, the GraphQL endpoint and health checks."""

from __future__ import annotations

from flask import Flask

from tessera.api import exports, graphql_view, health
from tessera.core.config import Config
from tessera.core.logging import configure_logging
from tessera.jobs.transport import EmbeddedTransport, attach
from tessera.services.runtime import Runtime
from tessera.storage.migrations import require_current


def create_app(config: Config | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build an app; refuses to start on an un-migrated or outdated database."""
    configure_logging()
    rt = runtime or Runtime(config or Config.from_env())
    require_current(rt.db)
    if runtime is None:
        # Background jobs: rq when Redis is configured, else a thread of this process. (A runtime
        # handed in brings its own transport, or none: then jobs wait for a worker.)
        transport = attach(rt, mode="thread")
        if isinstance(transport, EmbeddedTransport):
            transport.start()
    app = Flask("tessera")
    app.config["MAX_CONTENT_LENGTH"] = rt.config.limits.max_body_bytes
    app.config["SECRET_KEY"] = rt.config.secret_key
    app.extensions["tessera.runtime"] = rt
    app.extensions["tessera.graphql"] = graphql_view.GraphQLService(rt)
    app.register_blueprint(graphql_view.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(exports.blueprint)
    return app
