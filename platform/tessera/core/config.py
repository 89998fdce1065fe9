"""Configuration read from ``TESSERA_*`` environment variables, with embedded defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"TESSERA_{name}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Limits:
    """Request limits of the GraphQL endpoint; each breach answers ``LIMIT_EXCEEDED``."""

    max_body_bytes: int = 1_000_000
    max_tokens: int = 2_000
    max_depth: int = 10
    max_aliases: int = 15
    default_page_size: int = 50
    max_page_size: int = 500
    max_batch_operations: int = 10
    max_bulk_rows: int = 1_000
    document_cache_size: int = 512


@dataclass(frozen=True)
class JobSettings:
    """Background work: retries, timeouts, workflow recursion, outgoing mail."""

    retry_base_seconds: float = 10.0
    """First retry waits this long; each later one twice as long (capped at ``retry_max_seconds``)."""
    retry_max_seconds: float = 3_600.0
    max_attempts: int = 8
    timeout_seconds: int = 300
    """A job running longer is stopped; a job claimed this long ago (plus a grace) is abandoned."""
    workflow_max_depth: int = 5
    """Workflows triggered by workflows' own writes nest at most this deep."""
    webhook_timeout_seconds: float = 10.0
    smtp_url: str | None = None
    """``smtp://host:port`` (or ``smtps://``, with ``user:password@``); None keeps e-mail in the outbox log."""
    mail_from: str = "tessera@localhost"
    queue_name: str = "tessera"


@dataclass(frozen=True)
class Config:
    """Everything a process needs to know about where it runs."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    schema_prefix: str = ""
    ddl_lock_timeout_ms: int = 2_000
    ddl_retries: int = 5
    secure_cookies: bool = True
    """Session cookies carry ``Secure`` (browsers still send them to http://localhost and 127.0.0.1)."""
    allow_private_networks: bool = False
    """Connectors and webhooks may call loopback, private and link-local addresses (off: tenant
    administrators must not reach the server's own networks; see ``tessera.services.outbound``)."""
    limits: Limits = field(default_factory=Limits)
    jobs: JobSettings = field(default_factory=lambda: JobSettings())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def system_schema(self) -> str | None:
        """Schema holding the system tables (PostgreSQL); SQLite keeps them in ``main``."""
        return None if self.is_sqlite else f"{self.schema_prefix}tessera"

    def tenant_schema(self, slug: str) -> str:
        return f"{self.schema_prefix}t_{slug}"

    def with_overrides(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Config:
        data_dir = Path(_env("DATA_DIR", "var") or "var").resolve()
        database_url = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'tessera.db'}"
        secret = _env("SECRET_KEY")
        if secret is None:
            secret = _load_or_create_secret(data_dir)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=_env("REDIS_URL"),
            secret_key=secret,
            schema_prefix=_env("SCHEMA_PREFIX", "") or "",
            secure_cookies=(_env("SECURE_COOKIES", "1") or "1") not in ("0", "false", "no"),
            allow_private_networks=(_env("ALLOW_PRIVATE_NETWORKS", "") or "").lower() in ("1", "true", "yes"),
            jobs=JobSettings(
                retry_base_seconds=float(_env("JOB_RETRY_BASE_SECONDS", "10") or 10),
                max_attempts=int(_env("JOB_MAX_ATTEMPTS", "8") or 8),
                timeout_seconds=int(_env("JOB_TIMEOUT_SECONDS", "300") or 300),
                workflow_max_depth=int(_env("WORKFLOW_MAX_DEPTH", "5") or 5),
                smtp_url=_env("SMTP_URL"),
                mail_from=_env("MAIL_FROM", "tessera@localhost") or "tessera@localhost",
                queue_name=_env("QUEUE", "tessera") or "tessera",
            ),
        )


def _load_or_create_secret(data_dir: Path) -> str:
    """Embedded mode keeps a generated secret under the data dir so tokens survive restarts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
