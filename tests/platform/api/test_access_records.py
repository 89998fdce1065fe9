"""Record-level access through the generated GraphQL API: private org-wide defaults, the role
hierarchy, view all / modify all, manual shares (user and role) and the three org-wide defaults.

One tenant is built once for the module (roles, users, permission sets, records); tests that change
shares or sharing settings put them back before they end.

Role hierarchy of the module's tenant::

    ceo
    ├── salesManager   (manager)
    │   └── salesRep   (rep1, rep2)
    └── supportManager (supportBoss)
        └── supportRep (support)

``viewer`` (view all on opportunities) and ``modifier`` (modify all) hold no role. Accounts and
opportunities are PRIVATE. The records, all created by the administrator with an explicit owner:

    ========  ======================  =======  ===========  ======
    key       name                    owner    account      amount
    ========  ======================  =======  ===========  ======
    A1        Rep1 Corp               rep1
    A2        Rep2 Corp               rep2
    A3        Support Corp            support
    O1        Rep1 Deal               rep1     A1           100
    O2        Rep2 Deal               rep2     A2           200
    O3        Support Deal            support  A3           300
    O4        Rep1 on Rep2 Account    rep1     A2           400
    O5        Rep2 on Rep1 Account    rep2     A1           500
    ========  ======================  =======  ===========  ======
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, tenant_scope

CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name parent } }"
CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
UPDATE_OBJECT = "mutation($input: UpdateObjectInput!) { updateObject(input: $input) { name sharing } }"
CREATE_ACCOUNT = "mutation($data: AccountCreateInput!) { createAccount(data: $data) { id } }"
CREATE_OPP = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }"
CREATE_CONTACT = "mutation($data: ContactCreateInput!) { createContact(data: $data) { id } }"

LIST_OPPS = """
query($filter: OpportunityFilter, $orderBy: [OpportunityOrderBy!]) {
  opportunities(filter: $filter, orderBy: $orderBy) { totalCount edges { node { id name } } }
}
"""
LIST_ACCOUNTS = "{ accounts(orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name } } } }"
ONE_OPP = "query($id: ID!) { opportunity(id: $id) { id name nextStep account { name } } }"
ONE_ACCOUNT = """
query($id: ID!) {
  account(id: $id) { name opportunities(orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name } } } }
}
"""
UPDATE_OPP = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id nextStep } }
"""
DELETE_OPP = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
RESTORE_OPP = "mutation($id: ID!) { restoreOpportunity(id: $id) { id } }"
SHARE = """
mutation($input: ShareRecordInput!) { shareRecord(input: $input) { id object record userId role access } }
"""
UNSHARE = "mutation($id: ID!) { unshareRecord(id: $id) { id access } }"
SHARES_OF = """
query($object: String!, $id: ID!) { recordShares(object: $object, id: $id) { id userId role access } }
"""

ALL_OPPS = {"Rep1 Deal", "Rep2 Deal", "Support Deal", "Rep1 on Rep2 Account", "Rep2 on Rep1 Account"}


@dataclass
class World:
    admin: GraphQLClient
    app: Any
    user_ids: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, user: str) -> GraphQLClient:
        return self.clients[user]


def _add_user(world: World, name: str, role: str | None, sets: list[str] | None = None) -> None:
    data: dict[str, Any] = {"email": f"{name.lower()}@example.com", "name": name}
    if role:
        data["role"] = role
    if sets is not None:
        data["permissionSets"] = sets
    user_id = world.admin.data(CREATE_USER, {"input": data})["createUser"]["id"]
    token = world.admin.data(CREATE_TOKEN, {"input": {"name": f"{name} token", "user": user_id}})["createApiToken"]["token"]
    world.user_ids[name] = user_id
    world.clients[name] = GraphQLClient(world.app, token)


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        w = World(GraphQLClient(app, created.token), app)
        admin = w.admin
        for name, parent in [("ceo", None), ("salesManager", "ceo"), ("salesRep", "salesManager"),
                             ("supportManager", "ceo"), ("supportRep", "supportManager")]:
            admin.data(CREATE_ROLE, {"input": {"name": name, "parent": parent}})
        admin.data(CREATE_SET, {"input": {"name": "oppViewAll",
                                          "objectPermissions": [{"object": "opportunity", "viewAll": True}]}})
        admin.data(CREATE_SET, {"input": {"name": "oppModifyAll",
                                          "objectPermissions": [{"object": "opportunity", "modifyAll": True}]}})
        for name, role in [("ceo", "ceo"), ("manager", "salesManager"), ("rep1", "salesRep"), ("rep2", "salesRep"),
                           ("supportBoss", "supportManager"), ("support", "supportRep")]:
            _add_user(w, name, role)
        _add_user(w, "viewer", None, ["standardUser", "oppViewAll"])
        _add_user(w, "modifier", None, ["standardUser", "oppModifyAll"])
        for obj in ("account", "opportunity"):
            admin.data(UPDATE_OBJECT, {"input": {"name": obj, "sharing": "PRIVATE"}})
        for key, name, owner in [("A1", "Rep1 Corp", "rep1"), ("A2", "Rep2 Corp", "rep2"),
                                 ("A3", "Support Corp", "support")]:
            w.ids[key] = admin.data(CREATE_ACCOUNT, {"data": {"name": name, "owner": w.user_ids[owner]}})[
                "createAccount"]["id"]
        for key, name, owner, account, amount in [
            ("O1", "Rep1 Deal", "rep1", "A1", "100"), ("O2", "Rep2 Deal", "rep2", "A2", "200"),
            ("O3", "Support Deal", "support", "A3", "300"), ("O4", "Rep1 on Rep2 Account", "rep1", "A2", "400"),
            ("O5", "Rep2 on Rep1 Account", "rep2", "A1", "500"),
        ]:
            w.ids[key] = admin.data(CREATE_OPP, {"data": {
                "name": name, "owner": w.user_ids[owner], "account": w.ids[account], "amount": amount,
                "closeDate": "2026-06-30",
            }})["createOpportunity"]["id"]
        yield w


def _names(client: GraphQLClient, filter_: dict[str, Any] | None = None,
           order_by: list[dict[str, str]] | None = None) -> tuple[int, list[str]]:
    found = client.data(LIST_OPPS, {"filter": filter_, "orderBy": order_by or [{"name": "AscNullsLast"}]})
    return found["opportunities"]["totalCount"], [e["node"]["name"] for e in found["opportunities"]["edges"]]


def _account_names(client: GraphQLClient) -> tuple[int, list[str]]:
    found = client.data(LIST_ACCOUNTS)["accounts"]
    return found["totalCount"], [e["node"]["name"] for e in found["edges"]]


def _code(error: dict[str, Any]) -> str:
    return error["extensions"]["code"]


# --- reading under PRIVATE ---------------------------------------------------------------------
def test_rep_lists_and_counts_only_their_own_private_records(world: World) -> None:
    assert _names(world["rep1"]) == (2, ["Rep1 Deal", "Rep1 on Rep2 Account"])
    assert _names(world["rep2"]) == (2, ["Rep2 Deal", "Rep2 on Rep1 Account"])
    assert _account_names(world["rep1"]) == (1, ["Rep1 Corp"])
    # the administrator bypasses sharing
    assert _names(world.admin)[0] == 5
    assert _account_names(world.admin)[0] == 3


def test_single_read_of_a_peers_private_record_is_null(world: World) -> None:
    rep1 = world["rep1"]
    assert rep1.data(ONE_OPP, {"id": world.ids["O2"]}) == {"opportunity": None}
    assert rep1.data(ONE_ACCOUNT, {"id": world.ids["A2"]}) == {"account": None}
    assert rep1.data(ONE_OPP, {"id": world.ids["O1"]})["opportunity"]["name"] == "Rep1 Deal"


def test_filters_cannot_match_a_peers_record(world: World) -> None:
    rep1, ids = world["rep1"], world.ids
    assert _names(rep1, {"id": {"in": [ids["O1"], ids["O2"], ids["O3"]]}}) == (1, ["Rep1 Deal"])
    assert _names(rep1, {"id": {"eq": ids["O2"]}}) == (0, [])
    assert _names(rep1, {"name": {"eq": "Rep2 Deal"}}) == (0, [])
    assert _names(rep1, {"owner": {"eq": world.user_ids["rep2"]}}) == (0, [])
    assert _names(rep1, {"or": [{"name": {"startsWith": "Rep2"}}, {"name": {"startsWith": "Support"}}]}) == (0, [])
    # negations only range over what the user reaches
    assert _names(rep1, {"not": {"name": {"eq": "Rep1 Deal"}}}) == (1, ["Rep1 on Rep2 Account"])
    assert _names(rep1, {"amount": {"gte": "200"}}) == (1, ["Rep1 on Rep2 Account"])


def test_a_lookup_path_filter_cannot_match_through_an_unreachable_record(world: World) -> None:
    # O4 is rep1's but looks up A2, which only rep2 (and those above) reach
    assert _names(world["rep1"], {"account": {"name": {"eq": "Rep2 Corp"}}}) == (0, [])
    assert _names(world["rep1"], {"account": {"name": {"eq": "Rep1 Corp"}}}) == (1, ["Rep1 Deal"])
    assert _names(world["rep1"], {"account": {"name": {"startsWith": "Rep"}}}) == (1, ["Rep1 Deal"])
    # the manager reaches A2, so the same filter matches both of their subordinates' records on it
    assert _names(world["manager"], {"account": {"name": {"eq": "Rep2 Corp"}}}) == (
        2, ["Rep1 on Rep2 Account", "Rep2 Deal"])


def test_a_lookup_id_filter_cannot_match_through_an_unreachable_record(world: World) -> None:
    # O4.account reads null for rep1 (A2 is rep2's), so no filter on that lookup may reveal it is A2
    assert _names(world["rep1"], {"account": {"id": {"eq": world.ids["A2"]}}}) == (0, [])
    assert _names(world["rep1"], {"account": {"id": {"in": [world.ids["A1"], world.ids["A2"]]}}}) == (1, ["Rep1 Deal"])
    assert _names(world["manager"], {"account": {"id": {"eq": world.ids["A2"]}}}) == (
        2, ["Rep1 on Rep2 Account", "Rep2 Deal"])


def test_a_lookup_to_an_unreachable_record_filters_as_null(world: World) -> None:
    assert _names(world["rep1"], {"account": {"isNull": True}}) == (1, ["Rep1 on Rep2 Account"])
    assert _names(world["rep1"], {"account": {"isNull": False}}) == (1, ["Rep1 Deal"])
    assert _names(world["rep1"], {"account": {"id": {"neq": world.ids["A1"]}}}) == (1, ["Rep1 on Rep2 Account"])
    # for the manager, who reaches A2, both of their lookups are set
    assert _names(world["manager"], {"account": {"isNull": True}}) == (0, [])


def test_sorting_orders_only_reachable_records(world: World) -> None:
    # amounts: O1 100, O4 400 are rep1's; 200, 300, 500 are not
    assert _names(world["rep1"], order_by=[{"amount": "DescNullsLast"}]) == (2, ["Rep1 on Rep2 Account", "Rep1 Deal"])
    found = world["rep1"].data("{ opportunities(first: 1, orderBy: [{amount: DescNullsLast}]) { edges { node { name } } "
                               "pageInfo { hasNextPage } } }")["opportunities"]
    assert [e["node"]["name"] for e in found["edges"]] == ["Rep1 on Rep2 Account"]
    assert found["pageInfo"]["hasNextPage"] is True


def test_a_lookup_to_an_unreachable_record_reads_null(world: World) -> None:
    rep1, ids = world["rep1"], world.ids
    assert rep1.data(ONE_OPP, {"id": ids["O4"]})["opportunity"]["account"] is None
    assert rep1.data(ONE_OPP, {"id": ids["O1"]})["opportunity"]["account"] == {"name": "Rep1 Corp"}
    # in a list too
    listed = rep1.data("{ opportunities(orderBy: [{name: AscNullsLast}]) { edges { node { name account { name } } } } }")
    assert [(e["node"]["name"], e["node"]["account"]) for e in listed["opportunities"]["edges"]] == [
        ("Rep1 Deal", {"name": "Rep1 Corp"}), ("Rep1 on Rep2 Account", None)]
    # the manager reaches A2
    assert world["manager"].data(ONE_OPP, {"id": ids["O4"]})["opportunity"]["account"] == {"name": "Rep2 Corp"}


def test_a_reverse_relation_lists_only_reachable_records(world: World) -> None:
    a1 = world.ids["A1"]  # looked up by O1 (rep1) and O5 (rep2)
    assert world["rep1"].data(ONE_ACCOUNT, {"id": a1})["account"]["opportunities"] == {
        "totalCount": 1, "edges": [{"node": {"name": "Rep1 Deal"}}]}
    assert world["manager"].data(ONE_ACCOUNT, {"id": a1})["account"]["opportunities"] == {
        "totalCount": 2, "edges": [{"node": {"name": "Rep1 Deal"}}, {"node": {"name": "Rep2 on Rep1 Account"}}]}


# --- the role hierarchy ------------------------------------------------------------------------
def test_a_manager_reaches_the_records_of_roles_below(world: World) -> None:
    assert _names(world["manager"]) == (4, sorted(ALL_OPPS - {"Support Deal"}))
    assert _account_names(world["manager"]) == (2, ["Rep1 Corp", "Rep2 Corp"])
    assert world["manager"].data(ONE_OPP, {"id": world.ids["O2"]})["opportunity"]["name"] == "Rep2 Deal"
    # two levels down as well
    assert _names(world["ceo"]) == (5, sorted(ALL_OPPS))
    assert _account_names(world["ceo"])[0] == 3


def test_a_user_in_an_unrelated_branch_reaches_none_of_the_others(world: World) -> None:
    assert _names(world["support"]) == (1, ["Support Deal"])
    assert _names(world["supportBoss"]) == (1, ["Support Deal"])
    assert _account_names(world["supportBoss"]) == (1, ["Support Corp"])
    assert world["supportBoss"].data(ONE_OPP, {"id": world.ids["O1"]}) == {"opportunity": None}
    # and nobody reaches upwards: a rep does not see the records of the role above
    assert _names(world["rep1"], {"name": {"eq": "Support Deal"}}) == (0, [])


def test_the_manager_may_edit_a_subordinates_record(world: World) -> None:
    updated = world["manager"].data(UPDATE_OPP, {"id": world.ids["O2"], "data": {"nextStep": "manager call"}})
    assert updated["updateOpportunity"]["nextStep"] == "manager call"


# --- writes ------------------------------------------------------------------------------------
def test_changing_an_unreachable_record_is_not_found(world: World) -> None:
    rep1, o2 = world["rep1"], world.ids["O2"]
    for document, variables in [(UPDATE_OPP, {"id": o2, "data": {"nextStep": "rep1 was here"}}),
                                (DELETE_OPP, {"id": o2}), (RESTORE_OPP, {"id": o2})]:
        error = rep1.error(document, variables)
        assert _code(error) == "NOT_FOUND", error
        assert o2 in error["message"]
    found = world.admin.data("query($id: ID!) { opportunity(id: $id) { nextStep } }", {"id": o2})
    assert found["opportunity"]["nextStep"] != "rep1 was here"
    assert _names(world.admin)[0] == 5


def test_a_lookup_to_an_unreachable_record_is_refused_on_write(world: World) -> None:
    rep1, ids = world["rep1"], world.ids
    error = rep1.error(CREATE_OPP, {"data": {"name": "Sneaky", "closeDate": "2026-01-01", "account": ids["A2"]}})
    assert _code(error) == "VALIDATION_ERROR"
    assert error["message"] == f"account: no account with id {ids['A2']}"
    error = rep1.error(UPDATE_OPP, {"id": ids["O1"], "data": {"account": ids["A3"]}})
    assert error["message"] == f"account: no account with id {ids['A3']}"
    # nothing was written
    assert _names(world.admin, {"name": {"eq": "Sneaky"}}) == (0, [])
    assert rep1.data(ONE_OPP, {"id": ids["O1"]})["opportunity"]["account"] == {"name": "Rep1 Corp"}


# --- view all / modify all ---------------------------------------------------------------------
def test_view_all_reads_every_record_but_edits_none_it_does_not_own(world: World) -> None:
    viewer, o2 = world["viewer"], world.ids["O2"]
    assert _names(viewer) == (5, sorted(ALL_OPPS))
    assert viewer.data(ONE_OPP, {"id": o2})["opportunity"]["name"] == "Rep2 Deal"
    # view all on opportunities says nothing of accounts: the viewer owns none of them
    assert viewer.data(ONE_OPP, {"id": o2})["opportunity"]["account"] is None
    assert _account_names(viewer) == (0, [])
    for document, variables in [(UPDATE_OPP, {"id": o2, "data": {"nextStep": "viewer"}}), (DELETE_OPP, {"id": o2})]:
        error = viewer.error(document, variables)
        assert _code(error) == "FORBIDDEN", error


def test_modify_all_reads_and_edits_every_record(world: World) -> None:
    modifier, o3 = world["modifier"], world.ids["O3"]
    assert _names(modifier) == (5, sorted(ALL_OPPS))
    updated = modifier.data(UPDATE_OPP, {"id": o3, "data": {"nextStep": "modified by modifier"}})
    assert updated["updateOpportunity"]["nextStep"] == "modified by modifier"
    assert world["support"].data(ONE_OPP, {"id": o3})["opportunity"]["nextStep"] == "modified by modifier"


# --- manual shares -----------------------------------------------------------------------------
def test_a_read_share_grants_reading_only_an_edit_share_editing_and_unsharing_removes_it(world: World) -> None:
    rep1, rep2, o2 = world["rep1"], world["rep2"], world.ids["O2"]
    # the owner shares for reading
    share = rep2.data(SHARE, {"input": {"object": "opportunity", "record": o2, "user": world.user_ids["rep1"],
                                        "access": "READ"}})["shareRecord"]
    assert share == {"id": share["id"], "object": "opportunity", "record": o2, "userId": world.user_ids["rep1"],
                     "role": None, "access": "READ"}
    try:
        assert rep1.data(ONE_OPP, {"id": o2})["opportunity"]["name"] == "Rep2 Deal"
        assert _names(rep1) == (3, ["Rep1 Deal", "Rep1 on Rep2 Account", "Rep2 Deal"])
        assert _names(rep1, {"id": {"in": [o2]}}) == (1, ["Rep2 Deal"])
        for document, variables in [(UPDATE_OPP, {"id": o2, "data": {"nextStep": "by rep1"}}), (DELETE_OPP, {"id": o2})]:
            assert _code(rep1.error(document, variables)) == "FORBIDDEN"
        # a grantee does not get to see or manage the record's shares
        assert _code(rep1.error(SHARES_OF, {"object": "opportunity", "id": o2})) == "FORBIDDEN"
        # sharing again raises the level of the same share
        again = rep2.data(SHARE, {"input": {"object": "opportunity", "record": o2, "user": world.user_ids["rep1"],
                                            "access": "EDIT"}})["shareRecord"]
        assert (again["id"], again["access"]) == (share["id"], "EDIT")
        assert rep2.data(SHARES_OF, {"object": "opportunity", "id": o2})["recordShares"] == [
            {"id": share["id"], "userId": world.user_ids["rep1"], "role": None, "access": "EDIT"}]
        updated = rep1.data(UPDATE_OPP, {"id": o2, "data": {"nextStep": "by rep1"}})
        assert updated["updateOpportunity"]["nextStep"] == "by rep1"
        # the share is of this record only
        assert rep1.data(ONE_ACCOUNT, {"id": world.ids["A2"]}) == {"account": None}
        assert rep1.data(ONE_OPP, {"id": o2})["opportunity"]["account"] is None
    finally:
        removed = rep2.data(UNSHARE, {"id": share["id"]})["unshareRecord"]
    assert removed == {"id": share["id"], "access": "EDIT"}
    assert rep1.data(ONE_OPP, {"id": o2}) == {"opportunity": None}
    assert _names(rep1)[0] == 2
    assert _code(rep1.error(UPDATE_OPP, {"id": o2, "data": {"nextStep": "again"}})) == "NOT_FOUND"
    assert rep2.data(SHARES_OF, {"object": "opportunity", "id": o2})["recordShares"] == []


TRANSFER = "mutation($id: ID!, $owner: ID!) { updateOpportunity(id: $id, data: {owner: $owner}) { owner { id } } }"


def test_an_edit_share_edits_but_does_not_delete_or_transfer(world: World) -> None:
    rep1, rep2, o2 = world["rep1"], world["rep2"], world.ids["O2"]
    share = rep2.data(SHARE, {"input": {"object": "opportunity", "record": o2, "user": world.user_ids["rep1"],
                                        "access": "EDIT"}})["shareRecord"]
    try:
        # editing is what an EDIT share grants; deleting and giving the record away need full access
        assert rep1.data(UPDATE_OPP, {"id": o2, "data": {"nextStep": "shared edit"}})["updateOpportunity"][
            "nextStep"] == "shared edit"
        refused = rep1.error(DELETE_OPP, {"id": o2})
        assert (_code(refused), refused["message"]) == (
            "FORBIDDEN", f"you may read opportunity {o2} but not delete, restore or transfer it")
        assert _code(rep1.error(TRANSFER, {"id": o2, "owner": world.user_ids["rep1"]})) == "FORBIDDEN"
        # and the record is unchanged by the refusals
        assert world.admin.data("query($id: ID!) { opportunity(id: $id) { owner { id } } }", {"id": o2})[
            "opportunity"]["owner"]["id"] == world.user_ids["rep2"]
    finally:
        rep2.data(UNSHARE, {"id": share["id"]})
        rep2.data(UPDATE_OPP, {"id": o2, "data": {"nextStep": None}})


def test_the_owner_and_those_above_transfer_a_record(world: World) -> None:
    rep1, manager, o1 = world["rep1"], world["manager"], world.ids["O1"]
    rep1_id, rep2_id = world.user_ids["rep1"], world.user_ids["rep2"]
    # the manager (above rep2 and rep1) moves rep1's deal to rep2, which rep1 then no longer reaches
    assert manager.data(TRANSFER, {"id": o1, "owner": rep2_id})["updateOpportunity"]["owner"]["id"] == rep2_id
    try:
        assert rep1.data(ONE_OPP, {"id": o1}) == {"opportunity": None}
        # rep2, the new owner, may give it back
        assert world["rep2"].data(TRANSFER, {"id": o1, "owner": rep1_id})["updateOpportunity"]["owner"]["id"] == rep1_id
    finally:
        world.admin.data(TRANSFER, {"id": o1, "owner": rep1_id})
    assert rep1.data(ONE_OPP, {"id": o1})["opportunity"]["name"] == "Rep1 Deal"


def test_a_role_share_reaches_the_users_of_that_role_only(world: World) -> None:
    o1 = world.ids["O1"]
    share = world.admin.data(SHARE, {"input": {"object": "opportunity", "record": o1, "role": "supportRep",
                                               "access": "READ"}})["shareRecord"]
    assert (share["role"], share["userId"], share["access"]) == ("supportRep", None, "READ")
    try:
        assert _names(world["support"]) == (2, ["Rep1 Deal", "Support Deal"])
        assert world["support"].data(ONE_OPP, {"id": o1})["opportunity"]["name"] == "Rep1 Deal"
        # not the role above it, nor users of other roles
        assert _names(world["supportBoss"]) == (1, ["Support Deal"])
        assert world["rep2"].data(ONE_OPP, {"id": o1}) == {"opportunity": None}
        assert _code(world["support"].error(UPDATE_OPP, {"id": o1, "data": {"nextStep": "x"}})) == "FORBIDDEN"
    finally:
        world.admin.data(UNSHARE, {"id": share["id"]})
    assert _names(world["support"]) == (1, ["Support Deal"])


def test_who_may_share_a_record(world: World) -> None:
    ids, users = world.ids, world.user_ids

    def share(client: GraphQLClient, record: str, user: str) -> dict[str, Any]:
        return client.execute(SHARE, {"input": {"object": "opportunity", "record": record, "user": users[user],
                                                "access": "READ"}})

    # a user who cannot see the record: NOT_FOUND; one who may only read it: FORBIDDEN
    assert _code(share(world["rep1"], ids["O2"], "support")["errors"][0]) == "NOT_FOUND"
    assert _code(share(world["viewer"], ids["O2"], "support")["errors"][0]) == "FORBIDDEN"
    # the owner, a user above the owner, modify all and administrators may
    made = []
    for client, record in [(world["rep2"], "O2"), (world["manager"], "O5"), (world["ceo"], "O1"),
                           (world["modifier"], "O4"), (world.admin, "O3")]:
        result = share(client, ids[record], "supportBoss")
        assert not result.get("errors"), (record, result)
        made.append((client, result["data"]["shareRecord"]["id"]))
    try:
        assert _names(world["supportBoss"])[0] == 5
    finally:
        for client, share_id in made:
            client.data(UNSHARE, {"id": share_id})
    assert _names(world["supportBoss"]) == (1, ["Support Deal"])


def test_unsharing_needs_full_access_to_the_record(world: World) -> None:
    o2 = world.ids["O2"]
    share = world["rep2"].data(SHARE, {"input": {"object": "opportunity", "record": o2,
                                                 "user": world.user_ids["rep1"], "access": "READ"}})["shareRecord"]
    try:
        # the grantee reads the record but may not remove (or manage) its shares; a stranger does not see it
        assert _code(world["rep1"].error(UNSHARE, {"id": share["id"]})) == "FORBIDDEN"
        assert _code(world["support"].error(UNSHARE, {"id": share["id"]})) == "NOT_FOUND"
        assert world["rep1"].data(ONE_OPP, {"id": o2})["opportunity"] is not None
    finally:
        world["manager"].data(UNSHARE, {"id": share["id"]})
    assert world["rep1"].data(ONE_OPP, {"id": o2}) == {"opportunity": None}


# --- org-wide defaults -------------------------------------------------------------------------
def test_org_wide_defaults_public_read_write_public_read_and_private(world: World) -> None:
    admin, rep1, rep2 = world.admin, world["rep1"], world["rep2"]
    one = "query($id: ID!) { contact(id: $id) { lastName } }"
    update = "mutation($id: ID!, $data: ContactUpdateInput!) { updateContact(id: $id, data: $data) { lastName } }"
    delete = "mutation($id: ID!) { deleteContact(id: $id) { id } }"
    count = "{ contacts { totalCount } }"
    sharing = '{ object(name: "contact") { sharing } }'
    contact = admin.data(CREATE_CONTACT, {"data": {"lastName": "Peer", "owner": world.user_ids["rep2"]}})[
        "createContact"]["id"]
    try:
        # PUBLIC_READ_WRITE (the default): everyone reads and edits
        assert rep1.data(sharing) == {"object": {"sharing": "PUBLIC_READ_WRITE"}}
        assert rep1.data(update, {"id": contact, "data": {"lastName": "Peer2"}})["updateContact"] == {"lastName": "Peer2"}
        assert world["support"].data(count) == {"contacts": {"totalCount": 1}}
        # PUBLIC_READ: everyone reads; only the owner (and those above) edit
        admin.data(UPDATE_OBJECT, {"input": {"name": "contact", "sharing": "PUBLIC_READ"}})
        assert rep1.data(sharing) == {"object": {"sharing": "PUBLIC_READ"}}
        assert rep1.data(one, {"id": contact}) == {"contact": {"lastName": "Peer2"}}
        assert rep1.data(count) == {"contacts": {"totalCount": 1}}
        assert _code(rep1.error(update, {"id": contact, "data": {"lastName": "X"}})) == "FORBIDDEN"
        assert _code(rep1.error(delete, {"id": contact})) == "FORBIDDEN"
        assert rep2.data(update, {"id": contact, "data": {"lastName": "Peer3"}})["updateContact"] == {"lastName": "Peer3"}
        assert world["manager"].data(update, {"id": contact, "data": {"lastName": "Peer4"}})["updateContact"] == {
            "lastName": "Peer4"}
        # PRIVATE: only the owner and those above
        admin.data(UPDATE_OBJECT, {"input": {"name": "contact", "sharing": "PRIVATE"}})
        assert rep1.data(one, {"id": contact}) == {"contact": None}
        assert rep1.data(count) == {"contacts": {"totalCount": 0}}
        assert _code(rep1.error(update, {"id": contact, "data": {"lastName": "X"}})) == "NOT_FOUND"
        assert world["manager"].data(one, {"id": contact}) == {"contact": {"lastName": "Peer4"}}
        assert world["supportBoss"].data(count) == {"contacts": {"totalCount": 0}}
    finally:
        admin.data(UPDATE_OBJECT, {"input": {"name": "contact", "sharing": "PUBLIC_READ_WRITE"}})
        admin.data(delete, {"id": contact})



def test_a_duplicate_held_by_an_unreachable_record_is_not_named(world: World) -> None:
    admin, a2 = world.admin, world.ids["A2"]
    admin.data("mutation { createField(input: {object: \"account\", name: \"taxCode\", type: TEXT, unique: true}) { name } }")
    try:
        admin.data("mutation($id: ID!) { updateAccount(id: $id, data: {taxCode: \"T-2\"}) { id } }", {"id": a2})
        create = "mutation { createAccount(data: {name: \"Dup\", taxCode: \"T-2\"}) { id } }"
        # rep1 cannot reach A2 (rep2's), so the refusal does not say which account holds the value
        refused = world["rep1"].error(create)
        assert (_code(refused), refused["message"]) == (
            "VALIDATION_ERROR", "taxCode: value 'T-2' is already used by another account")
        # an administrator sees every account, so is told which one
        assert admin.error(create)["message"] == f"taxCode: value 'T-2' is already used by account {a2}"
    finally:
        admin.data("mutation { deleteField(input: {object: \"account\", name: \"taxCode\", confirm: true}) { name } }")
