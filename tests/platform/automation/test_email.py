"""E-mail from NOTIFY actions (``email: true``) through a real SMTP server on loopback.

An aiosmtpd server on 127.0.0.1 (a free port) records every message it accepts. The module's
runtime sends through it (``smtp_url="smtp://127.0.0.1:<port>"``); a second runtime on the same
database has no SMTP server configured. Retries are fast (``retry_base_seconds`` 0.1) and run with
``outbox.run_due`` once their backoff has passed.

Users of the module's tenant: ``owner`` (manager ``lead``), ``lead``; ``ops1``, ``ops2`` (role ops)
and ``gone`` (role ops, inactive).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tessera.services.automation import outbox as outbox_service
from tessera.services.runtime import Runtime
from tessera.storage.system_tables import email_messages, outbox
from tessera.testing import GraphQLClient, make_app, migrated_runtime, tenant_scope

RETRY_BASE = 0.1
MAIL_FROM = "crm@tessera.test"

CREATE_WORKFLOW = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { name } }"
DELETE_WORKFLOW = "mutation($n: String!) { deleteWorkflow(name: $n) { name } }"
WORKFLOWS = "{ workflows { name } }"
CREATE_ROLE = "mutation($i: RoleInput!) { createRole(input: $i) { name } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"
CREATE_OPP = "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id name } }"
CREATE_RULE = "mutation($i: CreateValidationRuleInput!) { createValidationRule(input: $i) { name } }"
UPDATE_RULE = "mutation($i: UpdateValidationRuleInput!) { updateValidationRule(input: $i) { name active } }"
NOTIFICATIONS = "{ notifications(first: 200) { title body recordId } }"


# --- the SMTP server ------------------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    port: int
    received: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def about(self, record_name: str) -> list[Received]:
        return [r for r in self.received if record_name in str(r.message["Subject"])]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(_free_port())
    box.start()
    try:
        yield box
    finally:
        box.stop()


# --- runtimes and the tenant ----------------------------------------------------------------------
@dataclass
class World:
    rt: Runtime
    unsent_rt: Runtime
    admin: GraphQLClient
    unsent_admin: GraphQLClient
    tenant_id: str
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def workflow(self, name: str, *actions: dict[str, Any], condition: str | None = None) -> None:
        self.admin.data(CREATE_WORKFLOW, {"i": {"object": "opportunity", "name": name, "condition": condition,
                                                "trigger": {"event": "CREATED"}, "actions": list(actions)}})

    def emails(self, record_name: str) -> list[dict[str, Any]]:
        with self.rt.db.system.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(email_messages).where(email_messages.c.tenant_id == self.tenant_id)
                .order_by(email_messages.c.created_at)
            ).mappings() if record_name in r["subject"]]

    def email_job(self, email_id: str) -> dict[str, Any]:
        with self.rt.db.system.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                sa.select(outbox).where(outbox.c.tenant_id == self.tenant_id, outbox.c.kind == "email.send")
            ).mappings() if r["payload"]["emailId"] == email_id]
        assert len(rows) == 1, rows
        return rows[0]


def _runtime(runtime: Runtime, smtp_url: str | None) -> Runtime:
    jobs = replace(runtime.config.jobs, retry_base_seconds=RETRY_BASE, max_attempts=4, smtp_url=smtp_url,
                   mail_from=MAIL_FROM)
    return migrated_runtime(replace(runtime.config, jobs=jobs))


@pytest.fixture(scope="module")
def world(runtime: Runtime, mailbox: Mailbox) -> Iterator[World]:
    rt = _runtime(runtime, f"smtp://127.0.0.1:{mailbox.port}")
    unsent_rt = _runtime(runtime, None)
    app, unsent_app = make_app(rt), make_app(unsent_rt)
    try:
        with tenant_scope(rt) as created:
            admin = GraphQLClient(app, created.token)
            w = World(rt, unsent_rt, admin, GraphQLClient(unsent_app, created.token), created.tenant.id)
            admin.data(CREATE_ROLE, {"i": {"name": "ops"}})
            for name, manager, role, active in (("lead", None, None, True), ("owner", "lead", None, True),
                                                ("ops1", None, "ops", True), ("ops2", None, "ops", True),
                                                ("gone", None, "ops", False)):
                data: dict[str, Any] = {"email": f"{name}@example.com", "name": name, "active": active}
                if manager:
                    data["manager"] = w.users[manager]
                if role:
                    data["role"] = role
                w.users[name] = admin.data(CREATE_USER, {"i": data})["createUser"]["id"]
                if active:
                    token = admin.data(CREATE_TOKEN, {"i": {"name": name, "user": w.users[name]}})["createApiToken"]
                    w.clients[name] = GraphQLClient(app, token["token"])
            yield w
    finally:
        rt.close()
        unsent_rt.close()


@pytest.fixture(autouse=True)
def _clean(world: World, mailbox: Mailbox) -> Iterator[None]:
    if mailbox.controller is None:
        mailbox.start()
    yield
    for found in world.admin.data(WORKFLOWS)["workflows"]:
        world.admin.data(DELETE_WORKFLOW, {"n": found["name"]})


ALERT = {"type": "NOTIFY", "recipients": ["owner", "manager", "role:ops"], "email": True,
         "title": "Deal {{ name }} needs a look", "body": "Amount {{ amount }}, closing {{ closeDate }}."}


def _opp(client: GraphQLClient, **data: Any) -> dict[str, Any]:
    values = {"name": f"deal-{uuid.uuid4().hex[:8]}", "closeDate": "2026-10-01", "amount": "750", **data}
    return client.data(CREATE_OPP, {"d": values})["createOpportunity"]


def _next_attempt(world: World, email_id: str) -> dict[str, Any]:
    before = world.email_job(email_id)
    assert before["status"] == "PENDING", before
    deadline = time.monotonic() + 60 * RETRY_BASE
    while time.monotonic() < deadline:
        time.sleep(RETRY_BASE / 4)
        outbox_service.run_due(world.rt)
        row = world.email_job(email_id)
        if row["attempts"] != before["attempts"]:
            return row
    raise AssertionError(f"e-mail {email_id} was not retried")


# --- tests ------------------------------------------------------------------------------------------
def test_one_message_per_run_to_the_recipients_with_the_rendered_texts(world: World, mailbox: Mailbox) -> None:
    world.workflow("mailAlert", ALERT)
    record = _opp(world.clients["owner"])
    [mail] = mailbox.about(record["name"])
    expected = sorted(f"{n}@example.com" for n in ("owner", "lead", "ops1", "ops2"))  # not the inactive member
    assert sorted(mail.rcpt_tos) == expected
    assert mail.mail_from == MAIL_FROM and mail.message["From"] == MAIL_FROM
    assert sorted(a.strip() for a in str(mail.message["To"]).split(",")) == expected
    assert mail.message["Subject"] == f"Deal {record['name']} needs a look"
    assert mail.message.get_content().strip() == "Amount 750.00, closing 2026-10-01."
    [logged] = world.emails(record["name"])
    assert (logged["status"], logged["attempts"], logged["last_error"]) == ("SENT", 1, None)
    assert mail.message["Message-ID"] == f"<{logged['id']}@tessera>"
    assert logged["source"] == "workflow:mailAlert" and sorted(logged["recipients"]) == expected
    # the in-app notifications went out too, with the same texts
    notes = [n for n in world.clients["ops1"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]]
    assert [(n["title"], n["body"]) for n in notes] == [(mail.message["Subject"], "Amount 750.00, closing 2026-10-01.")]
    # another run, another message; nothing more for the first record
    second = _opp(world.admin, name=f"second-{uuid.uuid4().hex[:6]}")
    assert len(mailbox.about(second["name"])) == 1 and len(mailbox.about(record["name"])) == 1


def test_without_email_only_in_app_notifications(world: World, mailbox: Mailbox) -> None:
    world.workflow("appOnly", {**ALERT, "email": False})
    record = _opp(world.clients["owner"])
    assert mailbox.about(record["name"]) == [] and world.emails(record["name"]) == []
    notes = [n for n in world.clients["lead"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]]
    assert len(notes) == 1


def test_a_retried_run_sends_its_message_once(world: World, mailbox: Mailbox) -> None:
    """The run's e-mail is queued in the run's transaction: a failed attempt queues nothing."""
    world.admin.data(CREATE_RULE, {"i": {"object": "contact", "name": "holdOn", "expression": "lastName = 'Hold'",
                                         "message": "not yet"}})
    try:
        world.workflow("mailThenContact", {**ALERT, "recipients": ["owner"]},
                       {"type": "CREATE_RECORD", "object": "contact", "values": {"lastName": "Hold"}})
        record = _opp(world.clients["owner"])
        assert mailbox.about(record["name"]) == [] and world.emails(record["name"]) == []
        world.admin.data(UPDATE_RULE, {"i": {"object": "contact", "name": "holdOn", "active": False}})
        deadline = time.monotonic() + 60 * RETRY_BASE
        while not mailbox.about(record["name"]) and time.monotonic() < deadline:
            time.sleep(RETRY_BASE / 4)
            outbox_service.run_due(world.rt)
        [mail] = mailbox.about(record["name"])
        assert mail.rcpt_tos == ["owner@example.com"]
        time.sleep(2 * RETRY_BASE)
        outbox_service.run_due(world.rt)
        assert len(mailbox.about(record["name"])) == 1 and len(world.emails(record["name"])) == 1
    finally:
        world.admin.data(UPDATE_RULE, {"i": {"object": "contact", "name": "holdOn", "active": False}})


def test_without_an_smtp_server_messages_stay_logged_as_unsent(world: World, mailbox: Mailbox) -> None:
    world.workflow("mailAlert", ALERT)
    # the same tenant, through a runtime (and its in-process jobs) with no SMTP server configured
    record = world.unsent_admin.data(CREATE_OPP, {"d": {"name": f"unsent-{uuid.uuid4().hex[:8]}",
                                                        "closeDate": "2026-10-01", "owner": world.users["owner"]}})
    name = record["createOpportunity"]["name"]
    [logged] = world.emails(name)
    assert (logged["status"], logged["attempts"]) == ("UNSENT", 1)
    assert "TESSERA_SMTP_URL" in logged["last_error"]
    assert logged["subject"] == f"Deal {name} needs a look"
    assert sorted(logged["recipients"]) == sorted(f"{n}@example.com" for n in ("owner", "lead", "ops1", "ops2"))
    assert world.email_job(logged["id"])["status"] == "DONE"  # nothing to retry
    assert mailbox.about(name) == []


def test_a_refusing_smtp_server_is_retried_until_it_is_back(world: World, mailbox: Mailbox) -> None:
    world.workflow("mailAlert", {**ALERT, "recipients": ["owner"]})
    mailbox.stop()
    record = _opp(world.clients["owner"])
    [logged] = world.emails(record["name"])
    assert (logged["status"], logged["attempts"]) == ("RETRYING", 1)
    assert "refused" in logged["last_error"].lower() or "connect" in logged["last_error"].lower(), logged
    assert _next_attempt(world, logged["id"])["status"] == "PENDING"  # still down
    assert world.emails(record["name"])[0]["attempts"] == 2

    mailbox.start()
    assert _next_attempt(world, logged["id"])["status"] == "DONE"
    [mail] = mailbox.about(record["name"])
    assert mail.rcpt_tos == ["owner@example.com"]
    [sent] = world.emails(record["name"])
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("SENT", 3, None)
    assert sent["sent_at"] is not None
