"""A fixed sales dataset for report tests, built once per test module, and the same data as Python
dicts so every test can compute its expected answer by hand.

Roles: ``manager`` above ``rep``. Users: ``rep1`` and ``rep2`` (role rep), ``boss`` (role manager),
``hidden`` (role rep; standardUser + a set hiding ``opportunity.amount``). Accounts and
opportunities are PRIVATE; the administrator owns what no rep owns. Opportunities also carry a
custom DATETIME field ``lastContactAt`` with instants around the daylight-saving changes of
America/New_York.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tessera.services.runtime import Actor, Runtime
from tessera.testing import GraphQLClient, tenant_scope

CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name } }"
CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
UPDATE_OBJECT = "mutation($input: UpdateObjectInput!) { updateObject(input: $input) { name } }"
CREATE_FIELD = 'mutation { createField(input: {object: "opportunity", name: "lastContactAt", type: DATETIME}) { name } }'
CREATE_ACCOUNTS = "mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id } }"
CREATE_OPPS = "mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id } }"

STAGES = ["prospecting", "proposal", "closedWon", "closedLost", "negotiation"]
INSTANTS = [
    "2026-03-08T04:30:00Z",  # 23:30 EST on 7 March
    "2026-03-08T06:30:00Z",  # 01:30 EST on 8 March, just before the switch to EDT
    "2026-03-08T07:30:00Z",  # 03:30 EDT on 8 March
    "2026-04-01T04:30:00Z",  # 00:30 EDT on 1 April (Q2); a fixed -05:00 offset would say 31 March (Q1)
    "2026-04-01T03:30:00Z",  # 23:30 EDT on 31 March
    "2026-11-01T04:30:00Z",  # 00:30 EDT on 1 November (still EDT until 06:00Z)
    "2026-11-01T03:30:00Z",  # 23:30 EDT on 31 October
    "2026-01-01T04:00:00Z",  # 23:00 EST on 31 December 2025 (ISO week 2026-W01)
    "2026-06-15T12:00:00Z",
    "2026-12-31T23:00:00Z",  # 18:00 EST on 31 December
]
ZONE = "America/New_York"


@dataclass
class Sales:
    rt: Runtime
    app: Any
    slug: str
    admin: GraphQLClient
    admin_id: str
    clients: dict[str, GraphQLClient] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)

    def actor(self, user: str | None = None) -> Actor:
        """The administrator, or ``user`` with their access."""
        tenant = self.rt.tenant(self.slug)
        if user is None:
            return Actor(tenant, self.admin_id)
        with self.rt.db.system.connect() as conn:
            access = self.rt.access(conn, tenant, self.user_ids[user])
        return Actor(tenant, self.user_ids[user], "api", access)

    def visible(self, user: str | None) -> list[dict[str, Any]]:
        """The deals ``user`` reaches: their own (reps), their subordinates' too (boss), all (admin)."""
        if user is None:
            return self.deals
        reach = {"rep1": {"rep1"}, "rep2": {"rep2"}, "hidden": {"hidden"}, "boss": {"boss", "rep1", "rep2", "hidden"}}
        return [d for d in self.deals if d["ownerKey"] in reach[user]]


def _deals(account_ids: list[str], owners: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    deals = []
    for i in range(40):
        owner_key, owner_id = owners[(i // 2) % len(owners)]
        deal: dict[str, Any] = {
            "name": f"Deal {i:02d}", "stage": STAGES[i % len(STAGES)],
            "closeDate": f"{2025 + (i % 3 == 0)}-{(i % 12) + 1:02d}-{(i * 7) % 28 + 1:02d}",
            "amount": f"{(i * 137) % 1000}.{(i * 13) % 100:02d}" if i % 7 else None,
            "probability": str((i * 10) % 100),
            "account": account_ids[i % len(account_ids)],
            "lastContactAt": INSTANTS[i % len(INSTANTS)] if i % 11 else None,
            "ownerKey": owner_key,
        }
        if owner_id is not None:
            deal["owner"] = owner_id
        deals.append(deal)
    return deals


def build_sales(rt: Runtime, app: Any) -> Iterator[Sales]:
    with tenant_scope(rt) as created:
        admin = GraphQLClient(app, created.token)
        world = Sales(rt, app, created.tenant.slug, admin, created.admin_user_id)
        admin.data(CREATE_ROLE, {"input": {"name": "manager"}})
        admin.data(CREATE_ROLE, {"input": {"name": "rep", "parent": "manager"}})
        admin.data(CREATE_SET, {"input": {"name": "hideAmount", "fieldPermissions": [
            {"object": "opportunity", "field": "amount", "read": False}]}})
        for name, role, sets in [("rep1", "rep", None), ("rep2", "rep", None), ("boss", "manager", None),
                                 ("hidden", "rep", ["standardUser", "hideAmount"])]:
            data: dict[str, Any] = {"email": f"{name}@example.com", "name": name, "role": role}
            if sets:
                data["permissionSets"] = sets
            user_id = admin.data(CREATE_USER, {"input": data})["createUser"]["id"]
            token = admin.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
            world.user_ids[name], world.clients[name] = user_id, GraphQLClient(app, token)
        admin.data(CREATE_FIELD)
        for obj in ("account", "opportunity"):
            admin.data(UPDATE_OBJECT, {"input": {"name": obj, "sharing": "PRIVATE"}})
        world.accounts = [
            {"name": "Acme", "industry": "technology", "owner": world.user_ids["rep1"], "ownerKey": "rep1"},
            {"name": "Bolt", "industry": "retail", "owner": world.user_ids["rep2"], "ownerKey": "rep2"},
            {"name": "Core", "industry": None, "ownerKey": "admin"},
        ]
        rows = [{k: v for k, v in a.items() if k != "ownerKey" and v is not None} for a in world.accounts]
        ids = [a["id"] for a in admin.data(CREATE_ACCOUNTS, {"data": rows})["createAccounts"]]
        for account, account_id in zip(world.accounts, ids, strict=True):
            account["id"] = account_id
        owners = [("rep1", world.user_ids["rep1"]), ("rep2", world.user_ids["rep2"]), ("admin", None),
                  ("hidden", world.user_ids["hidden"]), ("rep1", world.user_ids["rep1"])]
        world.deals = _deals(ids, owners)
        rows = [{k: v for k, v in d.items() if k != "ownerKey" and v is not None} for d in world.deals]
        admin.data(CREATE_OPPS, {"data": rows})
        industry = {a["id"]: a for a in world.accounts}
        for deal in world.deals:
            deal["industry"] = industry[deal["account"]]["industry"]
            deal["accountOwnerKey"] = industry[deal["account"]]["ownerKey"]
            deal["accountName"] = industry[deal["account"]]["name"]
        yield world


@pytest.fixture(scope="module")
def sales(runtime: Runtime, app: Any) -> Iterator[Sales]:
    yield from build_sales(runtime, app)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
