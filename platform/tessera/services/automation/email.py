"""Outgoing e-mail: messages are logged and queued in the transaction that wants them sent, then
sent by a job through the SMTP server of ``TESSERA_SMTP_URL`` (``smtp://[user:password@]host:port``,
``smtps://`` for implicit TLS). Without a server configured, messages stay in the log as UNSENT."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.services.automation.outbox import JobContext, failure_text, job_kind
from tessera.storage.system_tables import email_messages

SMTP_TIMEOUT = 30


def _on_error(conn: sa.Connection, row: Mapping[str, Any], error: Exception, final: bool) -> None:
    conn.execute(email_messages.update().where(email_messages.c.id == row["payload"]["emailId"]).values(
        attempts=row["attempts"], last_error=failure_text(error)[:2000], status="FAILED" if final else "RETRYING",
    ))


@job_kind("email.send", on_error=_on_error)
def send(ctx: JobContext) -> None:
    row = ctx.conn.execute(
        sa.select(email_messages).where(email_messages.c.id == ctx.payload["emailId"])
    ).mappings().first()
    if row is None or row["status"] in ("SENT", "UNSENT"):
        return
    settings = ctx.rt.config.jobs
    if not settings.smtp_url:
        ctx.conn.execute(email_messages.update().where(email_messages.c.id == row["id"]).values(
            status="UNSENT", attempts=ctx.attempt, last_error="no SMTP server configured (TESSERA_SMTP_URL)",
        ))
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(row["recipients"])
    message["Subject"] = row["subject"]
    message["Message-ID"] = f"<{row['id']}@tessera>"
    message.set_content(row["body"])
    _smtp_send(settings.smtp_url, message)
    ctx.conn.execute(email_messages.update().where(email_messages.c.id == row["id"]).values(
        status="SENT", attempts=ctx.attempt, sent_at=utcnow(), last_error=None,
    ))


def _smtp_send(url: str, message: EmailMessage) -> None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "localhost", parsed.port
    if parsed.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=SMTP_TIMEOUT,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=SMTP_TIMEOUT)
    with client:
        if parsed.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parsed.username:
            client.login(unquote(parsed.username), unquote(parsed.password or ""))
        client.send_message(message)
