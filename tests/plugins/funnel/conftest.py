"""Fixtures of the funnel plugin tests: a tenant with the funnel installed (the plugin is an installed
entry point, so the session runtime's host already has it), a second user, and helpers that write
opportunities, stage history and activities through the GraphQL API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant, drop_tenant
from tessera.testing import GraphQLClient, new_tenant

INSTALL = 'mutation { installPlugin(name: "funnel") { installed } }'
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"
CREATE_OPPORTUNITY = (
    "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id stageEnteredAt createdAt } }"
)
UPDATE_OPPORTUNITY = (
    "mutation($id: ID!, $d: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $d) { id stageEnteredAt } }"
)
CREATE_ACTIVITY = "mutation($d: ActivityCreateInput!) { createActivity(data: $d) { id } }"
HISTORY = """query($id: ID!) {
  stageHistories(filter: {opportunity: {id: {eq: $id}}}, orderBy: [{enteredAt: AscNullsLast}]) {
    edges { node { id fromStage toStage enteredAt leftAt durationDays amount owner { id } } }
  }
}"""


@dataclass
class Funnel:
    """A tenant with the funnel installed, its administrator's client and helpers."""

    rt: Runtime
    created: CreatedTenant
    admin: GraphQLClient

    @property
    def admin_id(self) -> str:
        return self.created.admin_user_id

    def user(self, email: str, sets: list[str] | None = None) -> tuple[str, GraphQLClient]:
        """A user of the tenant (``standardUser`` unless ``sets``) and a client with their token."""
        data: dict[str, Any] = {"email": email, "name": email.split("@")[0]}
        if sets is not None:
            data["permissionSets"] = sets
        user_id = self.admin.data(CREATE_USER, {"i": data})["createUser"]["id"]
        token = self.admin.data(CREATE_TOKEN, {"i": {"name": "t", "user": user_id}})["createApiToken"]["token"]
        return user_id, GraphQLClient(self.admin.app, token)

    def opportunity(self, name: str, stage: str, entered: str | None = None, *, amount: str = "1000.00",
                    close: str = "2025-06-30", client: GraphQLClient | None = None, **extra: Any) -> str:
        data = {"name": name, "stage": stage, "amount": amount, "closeDate": close, **extra}
        if entered is not None:
            data["stageEnteredAt"] = entered
        return (client or self.admin).data(CREATE_OPPORTUNITY, {"d": data})["createOpportunity"]["id"]

    def move(self, opportunity: str, stage: str, entered: str | None = None,
             client: GraphQLClient | None = None) -> dict[str, Any]:
        data = {"stage": stage} if entered is None else {"stage": stage, "stageEnteredAt": entered}
        return (client or self.admin).data(UPDATE_OPPORTUNITY, {"id": opportunity, "d": data})["updateOpportunity"]

    def activity(self, **data: Any) -> str:
        return self.admin.data(CREATE_ACTIVITY, {"d": {"subject": "Activity", **data}})["createActivity"]["id"]

    def history(self, opportunity: str, client: GraphQLClient | None = None) -> list[dict[str, Any]]:
        edges = (client or self.admin).data(HISTORY, {"id": opportunity})["stageHistories"]["edges"]
        return [e["node"] for e in edges]

    def query(self, document: str, variables: Mapping[str, Any] | None = None,
              client: GraphQLClient | None = None) -> dict[str, Any]:
        return (client or self.admin).data(document, dict(variables or {}))


@pytest.fixture
def funnel(runtime: Runtime, app: Any, tenant: CreatedTenant, gql: GraphQLClient) -> Funnel:
    """A fresh tenant in which the administrator installed the funnel."""
    assert gql.data(INSTALL)["installPlugin"]["installed"]
    return Funnel(runtime, tenant, gql)


@pytest.fixture(scope="module")
def module_funnel(runtime: Runtime, app: Any) -> Iterator[Funnel]:
    """A tenant with the funnel installed shared by a module's tests (which must only read)."""
    created = new_tenant(runtime)
    try:
        admin = GraphQLClient(app, created.token)
        assert admin.data(INSTALL)["installPlugin"]["installed"]
        yield Funnel(runtime, created, admin)
    finally:
        drop_tenant(runtime, created.tenant.slug)


@dataclass
class Dataset:
    """Ids of the fixed dataset (see ``seed``)."""

    rep: str
    deals: dict[str, str]
    rep_client: GraphQLClient


def seed(funnel: Funnel) -> Dataset:
    """The fixed dataset every metric expectation is worked out on by hand (times UTC, 2025).

    ===== ======= ====== ========================================================= ============ ====
    deal  owner   amount stages entered                                           closeDate    prob
    ===== ======= ====== ========================================================= ============ ====
    D1    admin   100000 prospecting 01-10 09:00, qualification 01-20 09:00,      2025-03-01   -
                         proposal 02-01 09:00, closedWon 03-01 09:00
    D2    rep      50000 prospecting 01-15 00:00, qualification 01-31 18:00,      2025-02-10   -
                         closedLost 02-10 06:00
    D3    admin    20000 prospecting 02-01 00:00, qualification 02-11 00:00       2025-04-15   -
    D4    admin    30000 qualification 01-05 12:00                                2025-04-30   50
    D5    rep      40000 prospecting 03-01 00:00, negotiation 03-11 00:00         2025-05-20   -
    D6    admin    10000 negotiation 02-20 00:00, closedWon 03-31 12:00           2025-03-31   -
    ===== ======= ====== ========================================================= ============ ====

    D1, D2, D5 and D6 move through the stages with updates giving ``stageEnteredAt``; D3's first stay is
    a stage history row created directly (as the sample generator does) before the deal, created at
    qualification, gets its own row from the plugin.

    Activities (owner, type, status, completedAt or dueAt, minutes, effective, deal):
    a1 admin call completed 01-12 10:00 15' effective D1; a2 admin visit completed 02-02 10:00 D1;
    a3 admin call completed 03-20 12:00 25' effective D4; a4 admin meeting completed 04-02 10:00;
    a5 admin call planned due 04-10 00:00 30' D3; a6 admin meeting cancelled completedAt 03-05 00:00;
    a7 admin email completed 03-01 00:00 effective; r1 rep call completed 01-31 23:00 10' D2;
    r2 rep meeting completed 03-31 23:59 effective; r3 rep visit completed 04-01 00:00.
    """
    rep, rep_client = funnel.user("rep@example.com")
    deals: dict[str, str] = {}

    def path(name: str, owner: str, amount: str, close: str, stages: list[tuple[str, str]], **extra: Any) -> None:
        first, entered = stages[0]
        deals[name] = funnel.opportunity(name, first, entered, amount=amount, close=close, owner=owner, **extra)
        for stage, when in stages[1:]:
            funnel.move(deals[name], stage, when)

    admin = funnel.admin_id
    path("D1", admin, "100000.00", "2025-03-01", [
        ("prospecting", "2025-01-10T09:00:00Z"), ("qualification", "2025-01-20T09:00:00Z"),
        ("proposal", "2025-02-01T09:00:00Z"), ("closedWon", "2025-03-01T09:00:00Z")])
    path("D2", rep, "50000.00", "2025-02-10", [
        ("prospecting", "2025-01-15T00:00:00Z"), ("qualification", "2025-01-31T18:00:00Z"),
        ("closedLost", "2025-02-10T06:00:00Z")])
    path("D3", admin, "20000.00", "2025-04-15", [("qualification", "2025-02-11T00:00:00Z")])
    funnel.query(CREATE_HISTORY, {"d": {"opportunity": deals["D3"], "toStage": "prospecting",
                                        "enteredAt": "2025-02-01T00:00:00Z", "leftAt": "2025-02-11T00:00:00Z",
                                        "amount": "20000.00", "owner": admin}})
    path("D4", admin, "30000.00", "2025-04-30", [("qualification", "2025-01-05T12:00:00Z")], probability="50")
    path("D5", rep, "40000.00", "2025-05-20", [
        ("prospecting", "2025-03-01T00:00:00Z"), ("negotiation", "2025-03-11T00:00:00Z")])
    path("D6", admin, "10000.00", "2025-03-31", [
        ("negotiation", "2025-02-20T00:00:00Z"), ("closedWon", "2025-03-31T12:00:00Z")])

    def act(kind: str, status: str, when: str, owner: str, deal: str | None = None, minutes: int | None = None,
            effective: bool = False) -> None:
        data: dict[str, Any] = {"activityType": kind, "status": status, "owner": owner, "effectiveFollowUp": effective}
        data["dueAt" if status == "planned" else "completedAt"] = when
        if deal:
            data["opportunity"] = deals[deal]
        if minutes is not None:
            data["durationMinutes"] = minutes
        funnel.activity(**data)

    act("call", "completed", "2025-01-12T10:00:00Z", admin, "D1", 15, True)
    act("visit", "completed", "2025-02-02T10:00:00Z", admin, "D1")
    act("call", "completed", "2025-03-20T12:00:00Z", admin, "D4", 25, True)
    act("meeting", "completed", "2025-04-02T10:00:00Z", admin)
    act("call", "planned", "2025-04-10T00:00:00Z", admin, "D3", 30)
    act("meeting", "cancelled", "2025-03-05T00:00:00Z", admin)
    act("email", "completed", "2025-03-01T00:00:00Z", admin, effective=True)
    act("call", "completed", "2025-01-31T23:00:00Z", rep, "D2", 10)
    act("meeting", "completed", "2025-03-31T23:59:00Z", rep, effective=True)
    act("visit", "completed", "2025-04-01T00:00:00Z", rep)
    return Dataset(rep, deals, rep_client)


CREATE_HISTORY = "mutation($d: StageHistoryCreateInput!) { createStageHistory(data: $d) { id } }"


@pytest.fixture(scope="module")
def dataset(module_funnel: Funnel) -> Dataset:
    return seed(module_funnel)


@pytest.fixture
def seeded() -> Any:
    """``seed(funnel)``, for tests that build the dataset in a tenant of their own."""
    return seed
