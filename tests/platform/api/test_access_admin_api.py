"""The security admin API: users, roles and permission sets are administrators' work; what an
administrator changes there takes effect on the very next request.

One tenant for the module; each test uses names of its own, so tests do not see each other's roles,
users or sets. ``rep`` is a non-administrator holding the standard user set and no role.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, tenant_scope

USER_FIELDS = "id email name active isAdmin role managerId permissionSets hasPassword"
SET_FIELDS = """name label origin objectPermissions { object read create edit delete viewAll modifyAll }
fieldPermissions { object field read edit }"""
CREATE_USER = f"mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {USER_FIELDS} }} }}"
UPDATE_USER = f"mutation($input: UpdateUserInput!) {{ updateUser(input: $input) {{ {USER_FIELDS} }} }}"
CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name parent } }"
UPDATE_ROLE = "mutation($input: RoleInput!) { updateRole(input: $input) { name parent } }"
DELETE_ROLE = "mutation($input: DeleteByNameInput!) { deleteRole(input: $input) { name } }"
CREATE_SET = f"mutation($input: PermissionSetInput!) {{ createPermissionSet(input: $input) {{ {SET_FIELDS} }} }}"
UPDATE_SET = f"mutation($input: PermissionSetInput!) {{ updatePermissionSet(input: $input) {{ {SET_FIELDS} }} }}"
DELETE_SET = "mutation($input: DeleteByNameInput!) { deletePermissionSet(input: $input) { name } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
UPDATE_OBJECT = "mutation($input: UpdateObjectInput!) { updateObject(input: $input) { name sharing } }"
ROLES = "{ roles { name parent } }"
USERS = f"{{ users {{ {USER_FIELDS} }} }}"
SETS = f"{{ permissionSets {{ {SET_FIELDS} }} }}"
ME = "{ me { id email isAdmin tokenScope } }"

STANDARD_OBJECTS = ["account", "activity", "contact", "lead", "opportunity"]


@dataclass
class World:
    app: Any
    admin: GraphQLClient
    admin_id: str
    rep: GraphQLClient
    rep_id: str

    def user(self, email: str, **data: Any) -> tuple[str, GraphQLClient]:
        """A new user (through the API) and a client with a token of theirs."""
        user_id = self.admin.data(CREATE_USER, {"input": {"email": email, **data}})["createUser"]["id"]
        token = self.admin.data(CREATE_TOKEN, {"input": {"name": "t", "user": user_id}})["createApiToken"]["token"]
        return user_id, GraphQLClient(self.app, token)


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        admin = GraphQLClient(app, created.token)
        admin.data(CREATE_ROLE, {"input": {"name": "existingRole"}})
        admin.data(CREATE_SET, {"input": {"name": "existingSet", "objectPermissions": [{"object": "lead", "read": True}]}})
        w = World(app, admin, created.admin_user_id, admin, "")
        w.rep_id, w.rep = w.user("rep@example.com", name="Rep")
        yield w


def _set(world: World, name: str) -> dict[str, Any]:
    return next(s for s in world.admin.data(SETS)["permissionSets"] if s["name"] == name)


def _flags(read: bool = False, create: bool = False, edit: bool = False, delete: bool = False,
           view_all: bool = False, modify_all: bool = False) -> dict[str, bool]:
    return {"read": read, "create": create, "edit": edit, "delete": delete, "viewAll": view_all, "modifyAll": modify_all}


# --- who may administer ------------------------------------------------------------------------
def test_me_tells_who_the_caller_is(world: World) -> None:
    assert world.admin.data(ME)["me"] == {"id": world.admin_id, "email": "admin@example.com", "isAdmin": True,
                                          "tokenScope": "READ_WRITE"}
    assert world.rep.data(ME)["me"] == {"id": world.rep_id, "email": "rep@example.com", "isAdmin": False,
                                        "tokenScope": "READ_WRITE"}


REFUSED = [
    ("{ users { id } }", {}),
    ("{ permissionSets { name } }", {}),
    (CREATE_USER, {"input": {"email": "intruder@example.com", "isAdmin": True}}),
    (UPDATE_USER, {"input": {"id": "@rep", "isAdmin": True}}),
    (UPDATE_USER, {"input": {"id": "@rep", "permissionSets": ["standardUser", "existingSet"]}}),
    (CREATE_ROLE, {"input": {"name": "intruderRole"}}),
    (UPDATE_ROLE, {"input": {"name": "existingRole", "label": "Hacked"}}),
    (DELETE_ROLE, {"input": {"name": "existingRole"}}),
    (CREATE_SET, {"input": {"name": "intruderSet", "objectPermissions": [{"object": "account", "modifyAll": True}]}}),
    (UPDATE_SET, {"input": {"name": "standardUser",
                            "objectPermissions": [{"object": "account", "modifyAll": True}]}}),
    (DELETE_SET, {"input": {"name": "existingSet"}}),
    ('mutation { createObject(input: {name: "intruder", pluralName: "intruders"}) { name } }', {}),
    (UPDATE_OBJECT, {"input": {"name": "account", "sharing": "PRIVATE"}}),
    ('mutation { deleteObject(input: {name: "account", confirm: true}) { name } }', {}),
    ('mutation { createField(input: {object: "account", name: "secret", type: TEXT}) { name } }', {}),
    ('mutation { updateField(input: {object: "account", name: "phone", label: "Hacked"}) { name } }', {}),
    ('mutation { deleteField(input: {object: "account", name: "phone", confirm: true}) { name } }', {}),
    ('mutation { createValidationRule(input: {object: "account", name: "noNames", expression: "TRUE", '
     'message: "no"}) { name } }', {}),
    (CREATE_TOKEN, {"input": {"name": "for the admin", "user": "@admin"}}),
]


@pytest.mark.parametrize(("document", "variables"), REFUSED, ids=[
    "users", "permissionSets", "createUser", "updateUser-isAdmin", "updateUser-sets", "createRole", "updateRole",
    "deleteRole", "createPermissionSet", "updatePermissionSet", "deletePermissionSet", "createObject",
    "updateObject", "deleteObject", "createField", "updateField", "deleteField", "createValidationRule",
    "createApiToken-for-another",
])
def test_a_non_admin_is_refused_admin_queries_and_mutations(world: World, document: str, variables: Any) -> None:
    ids = {"@rep": world.rep_id, "@admin": world.admin_id}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    result = world.rep.execute(document, fill(variables))
    assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"], result
    assert result["data"] is None


def test_refused_changes_left_nothing_behind(world: World) -> None:
    # runs after the refusals above (same module, same tenant)
    assert world.rep.data(ME)["me"]["isAdmin"] is False
    users = {u["email"]: u for u in world.admin.data(USERS)["users"]}
    assert "intruder@example.com" not in users
    assert users["rep@example.com"]["permissionSets"] == ["standardUser"]
    roles = world.admin.data(ROLES)["roles"]
    assert {"name": "existingRole", "parent": None} in roles and "intruderRole" not in {r["name"] for r in roles}
    labels = {r["name"]: r["label"] for r in world.admin.data("{ roles { name label } }")["roles"]}
    assert labels["existingRole"] == "Existing role"
    sets = {s["name"]: s for s in world.admin.data(SETS)["permissionSets"]}
    assert "intruderSet" not in sets and "existingSet" in sets
    assert all(not p["modifyAll"] for p in sets["standardUser"]["objectPermissions"])
    objects = world.admin.data('{ objects { name sharing fields { name } } }')["objects"]
    account = next(o for o in objects if o["name"] == "account")
    assert account["sharing"] == "PUBLIC_READ_WRITE"
    assert "phone" in {f["name"] for f in account["fields"]} and "secret" not in {f["name"] for f in account["fields"]}
    assert "intruder" not in {o["name"] for o in objects}
    assert world.admin.data('{ object(name: "account") { validationRules { name } } }') == {
        "object": {"validationRules": []}}


def test_everyone_reads_the_role_hierarchy(world: World) -> None:
    assert {"name": "existingRole", "parent": None} in world.rep.data(ROLES)["roles"]


# --- users ---------------------------------------------------------------------------------------
def test_a_new_user_gets_the_standard_user_set_unless_told_otherwise(world: World) -> None:
    made = world.admin.data(CREATE_USER, {"input": {"email": "Plain.User@Example.com", "name": "Plain"}})["createUser"]
    assert made == {"id": made["id"], "email": "plain.user@example.com", "name": "Plain", "active": True,
                    "isAdmin": False, "role": None, "managerId": None, "permissionSets": ["standardUser"],
                    "hasPassword": False}
    other = world.admin.data(CREATE_USER, {"input": {
        "email": "custom@example.com", "permissionSets": ["existingSet"], "role": "existingRole",
        "manager": made["id"], "password": "a long enough password",
    }})["createUser"]
    assert (other["permissionSets"], other["role"], other["managerId"], other["hasPassword"]) == (
        ["existingSet"], "existingRole", made["id"], True)
    none = world.admin.data(CREATE_USER, {"input": {"email": "nothing@example.com", "permissionSets": []}})["createUser"]
    assert none["permissionSets"] == []
    # updating the sets replaces them
    updated = world.admin.data(UPDATE_USER, {"input": {"id": other["id"], "permissionSets": ["standardUser"]}})
    assert updated["updateUser"]["permissionSets"] == ["standardUser"]
    assert updated["updateUser"]["role"] == "existingRole"


def test_the_standard_user_set_grants_the_standard_objects(world: World) -> None:
    standard = _set(world, "standardUser")
    assert standard["origin"] == "standard"
    assert standard["fieldPermissions"] == []
    assert standard["objectPermissions"] == [
        {"object": name, **_flags(read=True, create=True, edit=True, delete=True)} for name in STANDARD_OBJECTS]


def test_an_administrator_cannot_demote_or_deactivate_themselves(world: World) -> None:
    for change in ({"isAdmin": False}, {"active": False}, {"isAdmin": False, "active": False}):
        error = world.admin.error(UPDATE_USER, {"input": {"id": world.admin_id, **change}})
        assert error["extensions"]["code"] == "FORBIDDEN", error
    me = next(u for u in world.admin.data(USERS)["users"] if u["id"] == world.admin_id)
    assert (me["isAdmin"], me["active"]) == (True, True)
    # another administrator may be demoted
    other_id, other = world.user("second.admin@example.com", isAdmin=True)
    assert other.data(ME)["me"]["isAdmin"] is True
    assert world.admin.data(UPDATE_USER, {"input": {"id": other_id, "isAdmin": False}})["updateUser"]["isAdmin"] is False
    assert other.data(ME)["me"]["isAdmin"] is False
    assert other.error("{ users { id } }")["extensions"]["code"] == "FORBIDDEN"


# --- permission sets -------------------------------------------------------------------------------
def test_object_and_field_permissions_imply_each_other(world: World) -> None:
    made = world.admin.data(CREATE_SET, {"input": {
        "name": "implications", "label": "Implications",
        "objectPermissions": [
            {"object": "account", "modifyAll": True}, {"object": "contact", "delete": True},
            {"object": "lead", "viewAll": True}, {"object": "opportunity", "create": True},
            {"object": "activity", "edit": True},
        ],
        "fieldPermissions": [
            {"object": "opportunity", "field": "amount", "edit": True},
            {"object": "opportunity", "field": "nextStep", "read": True},
            {"object": "opportunity", "field": "competitor"},
        ],
    }})["createPermissionSet"]
    assert (made["name"], made["label"], made["origin"]) == ("implications", "Implications", "custom")
    assert made["objectPermissions"] == [
        {"object": "account", **_flags(True, False, True, True, True, True)},
        {"object": "activity", **_flags(read=True, edit=True)},
        {"object": "contact", **_flags(read=True, edit=True, delete=True)},
        {"object": "lead", **_flags(read=True, view_all=True)},
        {"object": "opportunity", **_flags(read=True, create=True)},
    ]
    assert made["fieldPermissions"] == [
        {"object": "opportunity", "field": "amount", "read": True, "edit": True},
        {"object": "opportunity", "field": "competitor", "read": False, "edit": False},
        {"object": "opportunity", "field": "nextStep", "read": True, "edit": False},
    ]
    assert _set(world, "implications") == made


def test_updating_a_permission_set_replaces_the_lists_given(world: World) -> None:
    world.admin.data(CREATE_SET, {"input": {
        "name": "replaced", "objectPermissions": [{"object": "account", "read": True}, {"object": "lead", "edit": True}],
        "fieldPermissions": [{"object": "account", "field": "phone", "read": True}],
    }})
    # object permissions given: they replace; field permissions not given: kept
    updated = world.admin.data(UPDATE_SET, {"input": {"name": "replaced",
                                                      "objectPermissions": [{"object": "contact", "create": True}]}})
    assert updated["updatePermissionSet"]["objectPermissions"] == [
        {"object": "contact", **_flags(read=True, create=True)}]
    assert updated["updatePermissionSet"]["fieldPermissions"] == [
        {"object": "account", "field": "phone", "read": True, "edit": False}]
    # empty lists clear
    cleared = world.admin.data(UPDATE_SET, {"input": {"name": "replaced", "objectPermissions": [],
                                                      "fieldPermissions": []}})["updatePermissionSet"]
    assert (cleared["objectPermissions"], cleared["fieldPermissions"]) == ([], [])
    assert world.admin.data(DELETE_SET, {"input": {"name": "replaced"}}) == {"deletePermissionSet": {"name": "replaced"}}
    assert "replaced" not in {s["name"] for s in world.admin.data(SETS)["permissionSets"]}


def test_permission_set_changes_take_effect_on_the_next_request(world: World) -> None:
    world.admin.data(CREATE_SET, {"input": {"name": "leadReader", "objectPermissions": [{"object": "lead", "read": True}]}})
    _, user = world.user("lead.reader@example.com", permissionSets=["leadReader"])
    assert user.data("{ leads { totalCount } }") == {"leads": {"totalCount": 0}}
    assert user.error("{ accounts { totalCount } }")["extensions"]["code"] == "VALIDATION_ERROR"
    # grant accounts: the next request has them
    world.admin.data(UPDATE_SET, {"input": {"name": "leadReader", "objectPermissions": [
        {"object": "lead", "read": True}, {"object": "account", "read": True}]}})
    assert user.data("{ accounts { totalCount } leads { totalCount } }") == {
        "accounts": {"totalCount": 0}, "leads": {"totalCount": 0}}
    # delete the set: the user keeps no grant at all
    world.admin.data(DELETE_SET, {"input": {"name": "leadReader"}})
    assert user.error("{ leads { totalCount } }")["extensions"]["code"] == "VALIDATION_ERROR"
    assert user.data("{ objects { name } }") == {"objects": []}


# --- roles ---------------------------------------------------------------------------------------
def test_a_role_held_by_a_user_or_above_another_cannot_be_deleted(world: World) -> None:
    admin = world.admin
    admin.data(CREATE_ROLE, {"input": {"name": "delTop"}})
    admin.data(CREATE_ROLE, {"input": {"name": "delChild", "parent": "delTop"}})
    admin.data(CREATE_ROLE, {"input": {"name": "delHeld"}})
    holder_id, _ = world.user("holder@example.com", role="delHeld")
    for name in ("delTop", "delHeld"):
        error = admin.error(DELETE_ROLE, {"input": {"name": name}})
        assert error["extensions"]["code"] == "IN_USE", error
    assert {"delTop", "delChild", "delHeld"} <= {r["name"] for r in admin.data(ROLES)["roles"]}
    # once nobody holds it (and nothing is below it) it goes
    admin.data(UPDATE_USER, {"input": {"id": holder_id, "role": None}})
    assert admin.data(DELETE_ROLE, {"input": {"name": "delHeld"}}) == {"deleteRole": {"name": "delHeld"}}
    assert admin.data(DELETE_ROLE, {"input": {"name": "delChild"}}) == {"deleteRole": {"name": "delChild"}}
    assert admin.data(DELETE_ROLE, {"input": {"name": "delTop"}}) == {"deleteRole": {"name": "delTop"}}
    assert not {"delTop", "delChild", "delHeld"} & {r["name"] for r in admin.data(ROLES)["roles"]}


def test_a_role_cannot_end_up_above_itself(world: World) -> None:
    admin = world.admin
    admin.data(CREATE_ROLE, {"input": {"name": "cycA"}})
    admin.data(CREATE_ROLE, {"input": {"name": "cycB", "parent": "cycA"}})
    admin.data(CREATE_ROLE, {"input": {"name": "cycC", "parent": "cycB"}})
    for name, parent in [("cycA", "cycC"), ("cycA", "cycB"), ("cycB", "cycB")]:
        error = admin.error(UPDATE_ROLE, {"input": {"name": name, "parent": parent}})
        assert error["extensions"]["code"] == "VALIDATION_ERROR", error
        assert error["extensions"]["field"] == "parent"
    parents = {r["name"]: r["parent"] for r in admin.data(ROLES)["roles"]}
    assert (parents["cycA"], parents["cycB"], parents["cycC"]) == (None, "cycA", "cycB")


def test_role_hierarchy_changes_take_effect_on_the_next_request(world: World) -> None:
    admin = world.admin
    admin.data(CREATE_ROLE, {"input": {"name": "hierBoss"}})
    admin.data(CREATE_ROLE, {"input": {"name": "hierWorker"}})
    _, boss = world.user("boss@example.com", role="hierBoss")
    worker_id, worker = world.user("worker@example.com", role="hierWorker")
    admin.data(UPDATE_OBJECT, {"input": {"name": "lead", "sharing": "PRIVATE"}})
    try:
        created = worker.data('mutation { createLead(data: {lastName: "Work", company: "W"}) { id } }')
        lead = created["createLead"]["id"]
        one = "query($id: ID!) { lead(id: $id) { lastName } }"
        assert boss.data("{ leads { totalCount } }") == {"leads": {"totalCount": 0}}
        assert boss.data(one, {"id": lead}) == {"lead": None}
        # the worker's role moves under the boss's
        assert admin.data(UPDATE_ROLE, {"input": {"name": "hierWorker", "parent": "hierBoss"}})["updateRole"] == {
            "name": "hierWorker", "parent": "hierBoss"}
        assert boss.data("{ leads { totalCount } }") == {"leads": {"totalCount": 1}}
        assert boss.data(one, {"id": lead}) == {"lead": {"lastName": "Work"}}
        # the worker leaves that role: out of reach again
        admin.data(UPDATE_USER, {"input": {"id": worker_id, "role": None}})
        assert boss.data("{ leads { totalCount } }") == {"leads": {"totalCount": 0}}
        # ...and back into it
        admin.data(UPDATE_USER, {"input": {"id": worker_id, "role": "hierWorker"}})
        assert boss.data(one, {"id": lead}) == {"lead": {"lastName": "Work"}}
        # the role is detached from the boss's
        admin.data(UPDATE_ROLE, {"input": {"name": "hierWorker", "parent": None}})
        assert boss.data(one, {"id": lead}) == {"lead": None}
        # the worker never reached upwards
        assert worker.data("{ leads { totalCount } }") == {"leads": {"totalCount": 1}}
    finally:
        admin.data(UPDATE_OBJECT, {"input": {"name": "lead", "sharing": "PUBLIC_READ_WRITE"}})
