"""Property (issue 3): whatever tenant A's tokens send, nothing of tenant B appears or changes.

Two tenants live for the whole module. B holds users, roles, permission sets, API tokens, record
shares, standard records and a custom field of its own; every text of B is a *marker* (``zq00042x``)
that A's generated input cannot spell. Each Hypothesis example then

- builds random custom objects (random field types, unique fields, auto numbers, formulas, lookups,
  rollups, org-wide defaults) placed in both tenants with identical or differing fields, only in B,
  or only in A, and random records in both;
- snapshots B completely through B's own admin token (metadata, every record with every field, the
  recycle bins, users, roles, permission sets, tokens, shares, record history, the audit log);
- runs a random sequence of queries and mutations with A's admin token or A's non-admin user's token
  (records, shares, history, recycle bin and purge, audit log, users, roles, permission sets, tokens,
  objects and fields), many of them naming B's record, user, token and share ids, B's role, permission
  set, object and field names, B's records as lookup targets and owners, B's cursors and unique values;
- checks every response: no HTTP 5xx; error codes only the expected ones (never ``INTERNAL_ERROR``);
  no id or marker of B unless A's own request carried it (error messages echo input); operations on
  B's things refused or finding nothing; A's own operations behaving (creates readable, deletes gone,
  lists holding exactly A's records, A's objects and users exactly A's);
- snapshots B again: unchanged; B's next auto numbers still follow B's own records.

Hypothesis draws every choice up front in a fixed shape (``Dice``) that the test reads against the
tenants' current state: the tenants live across examples, and Hypothesis needs draws that do not
depend on such state.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.services.metadata import create_field
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant, drop_tenant
from tessera.testing import GraphQLClient, drop_custom_objects, new_tenant

T = TypeVar("T")

# Every string only B holds contains a marker; A's generated text cannot spell one (no z or q).
MARKER = re.compile(r"zq\d{5}x")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
A_TEXT = "abcdefghij ABC0123-_.ÄΩ"
ALLOWED_CODES = frozenset({"VALIDATION_ERROR", "NOT_FOUND", "FORBIDDEN", "CONFLICT", "UNSAFE_CHANGE", "IN_USE",
                           "LIMIT_EXCEEDED"})
REFUSED = frozenset({"VALIDATION_ERROR", "NOT_FOUND", "FORBIDDEN", "CONFLICT"})
NIL_ID = "00000000-0000-0000-0000-000000000000"
COMMON_ROLE = "salesTeam"
STANDARD_SET = "standardUser"
A_USER_SET = "aUserSet"
STANDARD_OBJECTS = ("account", "contact", "lead", "opportunity", "activity")
PICKS = ("red", "green", "blue")
FIELD_TYPES = ("TEXT", "LONG_TEXT", "INTEGER", "NUMBER", "CURRENCY", "BOOLEAN", "DATE", "DATETIME", "EMAIL",
               "PICKLIST", "MULTI_PICKLIST", "JSON", "AUTO_NUMBER", "LOOKUP", "FORMULA")
TEXTUAL = ("TEXT", "LONG_TEXT", "EMAIL")
SHARING = ("PUBLIC_READ_WRITE", "PUBLIC_READ", "PRIVATE")
DIRECTIONS = ("AscNullsFirst", "AscNullsLast", "DescNullsFirst", "DescNullsLast")

_markers = itertools.count(1)
_names = itertools.count(1)


def marker() -> str:
    return f"zq{next(_markers):05d}x"


def type_name(name: str) -> str:
    return name[0].upper() + name[1:]


def codes(response: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in response.get("errors") or []]


# --- choices ----------------------------------------------------------------------------------
class Dice:
    """Choices for one step, from one seed Hypothesis draws: the shape of the draw never depends on the
    tenants' state (which lives across examples), as Hypothesis requires."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.random = random.Random(seed)

    def __repr__(self) -> str:
        return f"Dice({self.seed})"

    def below(self, n: int) -> int:
        return self.random.randrange(n)

    def roll(self) -> int:
        return self.random.randrange(2**20)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def one_in(self, n: int) -> bool:
        return self.below(n) == 0

    def text(self, alphabet: str = A_TEXT, longest: int = 10) -> str:
        return "".join(self.pick(alphabet) for _ in range(1 + self.below(longest)))


dice = st.integers(0, 2**32 - 1).map(Dice)


def plain_value(kind: str, d: Dice, text: str | None = None) -> Any:
    """A value of a field type; texts are ``text`` when given (B's markers)."""
    r = d.roll()
    if kind in ("TEXT", "LONG_TEXT"):
        return text or d.text()
    if kind == "EMAIL":
        return f"{text or d.text('abcdefgh', 6)}@example.org"
    if kind == "JSON":
        return {"m": text} if text else {"n": r % 10}
    if kind == "INTEGER":
        return r % 2001 if r % 5 else -(r % 1000)
    if kind in ("NUMBER", "CURRENCY"):
        return f"{r % 2_000_001 - 1_000_000}.{d.below(100):02d}"
    if kind == "BOOLEAN":
        return r % 2 == 0
    if kind == "DATE":
        return (date(1990, 1, 1) + timedelta(days=r % 18000)).isoformat()
    if kind == "DATETIME":
        return (datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=r * 1511)).isoformat()
    if kind == "PICKLIST":
        return PICKS[r % 3]
    if kind == "MULTI_PICKLIST":
        return [p for i, p in enumerate(PICKS) if r >> i & 1]
    raise AssertionError(kind)


# --- the tenants' objects as the test knows them ------------------------------------------------
@dataclass
class Field:
    name: str
    type: str
    unique: bool = False
    target: str | None = None  # LOOKUP
    expression: str | None = None  # FORMULA
    result_type: str | None = None

    @property
    def writable(self) -> bool:
        return self.type not in ("AUTO_NUMBER", "FORMULA", "ROLLUP")

    def definition(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.unique:
            spec["unique"] = True
        if self.type in ("PICKLIST", "MULTI_PICKLIST"):
            spec["options"] = [{"value": v} for v in PICKS]
        if self.type == "LOOKUP":
            spec["target"] = self.target
        if self.type == "FORMULA":
            spec.update(resultType=self.result_type, expression=self.expression)
        return spec


@dataclass
class Obj:
    """One of A's objects and the ids of its records."""

    name: str
    plural: str
    fields: dict[str, Field]
    custom: bool = True
    exact: bool = True  # live and deleted are exact (no cascade reaches this object)
    live: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    relations: tuple[str, ...] = ()  # reverse relations (connections of the records looking it up)

    def selection(self) -> str:
        parts = ["id version owner { id } createdBy { id email }"]
        parts += [f"{f.name} {{ id }}" if f.type == "LOOKUP" else f.name for f in self.fields.values()]
        parts += [f"{r}(first: 5) {{ totalCount edges {{ node {{ id }} }} }}" for r in self.relations]
        return " ".join(parts)


# --- random object definitions ----------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    type: str
    unique: bool
    target: int  # LOOKUP: -1 account, -2 the object itself, i >= 0 an earlier object of the example
    ref: int  # FORMULA: which earlier field of its object the expression reads; LOOKUP: even adds a rollup


@dataclass(frozen=True)
class ObjectSpec:
    placement: str  # "same" (identical in A and B), "both" (differing fields), "b" (only B), "a" (only A)
    common: tuple[FieldSpec, ...]
    a_extra: tuple[FieldSpec, ...]
    b_extra: tuple[FieldSpec, ...]
    a_sharing: str
    b_sharing: str


field_specs = st.builds(FieldSpec, type=st.sampled_from((*FIELD_TYPES, "LOOKUP", "LOOKUP")), unique=st.booleans(),
                        target=st.sampled_from((-2, -1, 0, 0, 1)), ref=st.integers(0, 4))
object_specs = st.builds(
    ObjectSpec,
    placement=st.sampled_from(("same", "both", "both", "b", "a")),
    common=st.lists(field_specs, min_size=1, max_size=4).map(tuple),
    a_extra=st.lists(field_specs, max_size=2).map(tuple),
    b_extra=st.lists(field_specs, max_size=2).map(tuple),
    a_sharing=st.sampled_from(SHARING),
    b_sharing=st.sampled_from(SHARING),
)


def formula_for(ref: Field | None) -> tuple[str, str]:
    """A formula reading ``ref`` (or no field): (expression, result type)."""
    if ref is None or ref.type in ("FORMULA", "JSON", "MULTI_PICKLIST", "DATETIME"):
        return '"c" & "d"', "TEXT"
    name, kind = ref.name, ref.type
    if kind in ("TEXT", "LONG_TEXT", "EMAIL", "PICKLIST", "AUTO_NUMBER"):
        return f'{name} & "!"', "TEXT"
    if kind == "INTEGER":
        return f"{name} * 2", "INTEGER"
    if kind in ("NUMBER", "CURRENCY"):
        return f"{name} + 1", "NUMBER"
    if kind == "DATE":
        return f"{name} + 1", "DATE"
    if kind == "BOOLEAN":
        return f"NOT({name})", "BOOLEAN"
    if ref.target == "account":
        return f"{name}.name", "TEXT"  # a lookup path into another table
    return f"ISBLANK({name})", "BOOLEAN"


def realise(specs: tuple[FieldSpec, ...], names: list[str], obj_name: str, targets: list[str | None],
            before: list[Field]) -> list[Field]:
    """Fields from specs; lookups to objects this tenant lacks point at account instead."""
    out: list[Field] = []
    for spec, name in zip(specs, names, strict=True):
        known = before + out
        if spec.type == "LOOKUP":
            target = {-1: "account", -2: obj_name}.get(spec.target) or (
                targets[spec.target] if spec.target < len(targets) else None) or "account"
            out.append(Field(name, "LOOKUP", target=target))
        elif spec.type == "FORMULA":
            expression, result = formula_for(known[spec.ref % len(known)] if known else None)
            out.append(Field(name, "FORMULA", expression=expression, result_type=result))
        else:
            out.append(Field(name, spec.type, unique=spec.unique and spec.type in ("TEXT", "INTEGER", "EMAIL")))
    return out


# --- the module's two tenants -------------------------------------------------------------------
@dataclass
class Tenants:
    rt: Runtime
    a: CreatedTenant
    b: CreatedTenant
    a_admin: GraphQLClient
    a_user: GraphQLClient
    b_admin: GraphQLClient
    a_user_id: str
    b_user_ids: list[str]
    b_user_emails: list[str]
    b_role: str
    b_set: str
    b_field: str  # B's custom field on account
    b_token_ids: list[str]
    b_share_ids: list[str]
    b_cursor: str
    b_shared: list[str]  # B's accounts with shares
    b_secrets: list[str]  # strings that must never reach A at all
    b_ids: set[str] = field(default_factory=set)  # every id B has shown
    a_knows: set[str] = field(default_factory=set)  # B's markers that A's own requests carried
    a_objects: dict[str, Obj] = field(default_factory=dict)  # A's standard objects, across examples
    a_users: set[str] = field(default_factory=set)
    a_emails: set[str] = field(default_factory=set)
    a_roles: set[str] = field(default_factory=set)
    a_tokens: set[str] = field(default_factory=set)  # tokens A issued in examples (revocable)
    a_shares: set[str] = field(default_factory=set)
    a_unique: dict[tuple[str, str], set[Any]] = field(default_factory=dict)  # values A wrote to unique fields


def _create_user_and_token(gql: GraphQLClient, email: str, name: str, **extra: Any) -> tuple[str, str]:
    user = gql.data("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                    {"i": {"email": email, "name": name, **extra}})["createUser"]["id"]
    issued = gql.data("mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }",
                      {"i": {"name": name, "user": user}})["createApiToken"]
    return user, issued["token"]


@pytest.fixture(scope="module")
def tenants(app: Any, runtime: Runtime) -> Iterator[Tenants]:
    a = new_tenant(runtime, email="admin@example.org")
    b = new_tenant(runtime, email=f"{marker()}@example.com")
    try:
        yield _populate(app, runtime, a, b)
    finally:
        drop_tenant(runtime, a.tenant.slug)
        drop_tenant(runtime, b.tenant.slug)


def _populate(app: Any, runtime: Runtime, a: CreatedTenant, b: CreatedTenant) -> Tenants:
    gb, ga = GraphQLClient(app, b.token), GraphQLClient(app, a.token)
    create_field = "mutation($i: CreateFieldInput!) { createField(input: $i) { name } }"
    role = "mutation($i: RoleInput!) { createRole(input: $i) { name } }"
    share = "mutation($i: ShareRecordInput!) { shareRecord(input: $i) { id } }"
    # B: a custom field on a standard object, a role named like one of A's and one below it, a
    # permission set, a user with a token, a revoked token, accounts and contacts (some deleted), shares.
    b_field = f"{marker()}note"
    gb.data(create_field, {"i": {"object": "account", "name": b_field, "type": "TEXT"}})
    gb.data(role, {"i": {"name": COMMON_ROLE, "label": marker()}})
    b_role = f"{marker()}role"
    gb.data(role, {"i": {"name": b_role, "label": marker(), "parent": COMMON_ROLE}})
    b_set = f"{marker()}set"
    gb.data("mutation($i: PermissionSetInput!) { createPermissionSet(input: $i) { name } }", {"i": {
        "name": b_set, "label": marker(), "objectPermissions": [{"object": "account", "read": True, "edit": True}]}})
    b_admin_id = gb.data("{ me { id } }")["me"]["id"]
    b_user, b_user_token = _create_user_and_token(gb, f"{marker()}@example.com", marker(), role=b_role,
                                                  manager=b_admin_id, permissionSets=[STANDARD_SET, b_set])
    revoked = gb.data("mutation($n: String!) { createApiToken(input: {name: $n}) { token apiToken { id } } }",
                      {"n": marker()})["createApiToken"]
    gb.data("mutation($id: ID!) { revokeApiToken(id: $id) { id } }", {"id": revoked["apiToken"]["id"]})
    accounts = [r["id"] for r in gb.data("mutation($d: [AccountCreateInput!]!) { createAccounts(data: $d) { id } }", {"d": [
        {"name": marker(), "lei": marker(), b_field: marker(), "employees": n, "email": f"{marker()}@example.com"}
        for n in range(4)]})["createAccounts"]]
    contacts = [r["id"] for r in gb.data("mutation($d: [ContactCreateInput!]!) { createContacts(data: $d) { id } }", {"d": [
        {"lastName": marker(), "firstName": marker(), "account": accounts[n % 2]} for n in range(3)]})["createContacts"]]
    gb.data("mutation($id: ID!) { deleteContact(id: $id) { id } }", {"id": contacts[2]})
    gb.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": accounts[3]})
    shares = [gb.data(share, {"i": {"object": "account", "record": accounts[0], "user": b_user, "access": "READ"}}),
              gb.data(share, {"i": {"object": "account", "record": accounts[1], "role": b_role, "access": "EDIT"}})]
    cursor = gb.data("{ accounts(first: 1, orderBy: [{name: AscNullsLast}]) { pageInfo { endCursor } } }")

    # A: its own custom field on account, a role named like B's, a permission set for its user, accounts.
    ga.data(create_field, {"i": {"object": "account", "name": "aNote", "type": "TEXT"}})
    ga.data(role, {"i": {"name": COMMON_ROLE, "label": "Sales"}})
    ga.data("mutation($i: PermissionSetInput!) { createPermissionSet(input: $i) { name } }",
            {"i": {"name": A_USER_SET, "label": "A user"}})
    a_user, a_user_token = _create_user_and_token(ga, "user@example.org", "user",
                                                  permissionSets=[STANDARD_SET, A_USER_SET])
    t = Tenants(
        rt=runtime, a=a, b=b, a_admin=ga, a_user=GraphQLClient(app, a_user_token), b_admin=gb, a_user_id=a_user,
        b_user_ids=[b_user, b_admin_id], b_user_emails=[u["email"] for u in gb.data("{ users { email } }")["users"]],
        b_role=b_role, b_set=b_set, b_field=b_field, b_token_ids=[k["id"] for k in gb.data("{ apiTokens { id } }")["apiTokens"]],
        b_share_ids=[s["shareRecord"]["id"] for s in shares], b_cursor=cursor["accounts"]["pageInfo"]["endCursor"],
        b_shared=accounts[:2], b_secrets=[b.token, b_user_token, revoked["token"], b.tenant.slug, b.tenant.schema_name],
    )
    t.b_ids.update(accounts + contacts)
    t.a_users.update({a.admin_user_id, a_user})
    t.a_emails.update({"admin@example.org", "user@example.org"})
    t.a_roles.add(COMMON_ROLE)
    account = Obj("account", "accounts", {f.name: f for f in [
        Field("name", "TEXT"), Field("lei", "TEXT", unique=True), Field("employees", "INTEGER"),
        Field("aNote", "TEXT"), Field("parentAccount", "LOOKUP", target="account")]}, custom=False,
        relations=("contacts", "accounts"))
    # Deleting an account deletes its contacts: A's contacts are not tracked exactly.
    contact = Obj("contact", "contacts", {f.name: f for f in [
        Field("lastName", "TEXT"), Field("firstName", "TEXT"), Field("account", "LOOKUP", target="account")]},
        custom=False, exact=False)
    t.a_objects = {"account": account, "contact": contact}
    account.live.update(r["id"] for r in ga.data(
        'mutation { createAccounts(data: [{name: "Alpha"}, {name: "Beta", lei: "LEI-A"}]) { id } }')["createAccounts"])
    t.a_unique[("account", "lei")] = {"LEI-A"}
    return t


# --- B's snapshot -------------------------------------------------------------------------------
B_META = """
{
  me { id }
  objects { name pluralName sharing label fields { name type label required unique options } }
  users { id email name active isAdmin role managerId permissionSets hasPassword }
  roles { name label labels parent }
  permissionSets { name labels origin objectPermissions { object read create edit delete viewAll modifyAll }
                   fieldPermissions { object field read edit } }
  apiTokens { id userId name scope createdAt expiresAt revokedAt }
  auditEvents(first: 500) { id kind target userId details at }
}
"""


def snapshot(t: Tenants) -> dict[str, Any]:
    gb = t.b_admin
    meta = gb.data(B_META)
    records: dict[str, Any] = {}
    for obj in meta["objects"]:
        selection = " ".join(f"{f['name']} {{ id }}" if f["type"] == "LOOKUP" else f["name"] for f in obj["fields"])
        records[obj["name"]] = gb.data(
            f"{{ {obj['pluralName']}(first: 500, orderBy: [{{id: AscNullsLast}}]) {{ totalCount edges {{ node {{"
            f" id version createdAt updatedAt owner {{ id }} createdBy {{ id }} updatedBy {{ id }} {selection} }} }} }} }}"
        )[obj["pluralName"]]
        records[f"{obj['name']} (recycle bin)"] = gb.data(
            "query($o: String!) { deletedRecords(object: $o, first: 500) { id deletedAt deletedBy values } }",
            {"o": obj["name"]})["deletedRecords"]
    shares = {record: gb.data("""query($id: ID!) {
        recordShares(object: "account", id: $id) { id record userId role access }
        recordHistory(object: "account", id: $id) { action field oldValue newValue user { id } at }
    }""", {"id": record}) for record in t.b_shared}
    snap = {"meta": meta, "records": records, "shares": shares}
    t.b_ids.update(UUID.findall(json.dumps(snap)))
    return snap


# --- one example --------------------------------------------------------------------------------
class Leak(AssertionError):
    pass


@dataclass
class Example:
    t: Tenants
    objects: dict[str, Obj]  # A's objects: the standard ones (shared with the module) and this example's
    b_only: dict[str, list[str]]  # B's objects A does not have -> their fields
    b_fields: dict[str, list[str]]  # objects both have -> the fields only B's has
    b_all: dict[str, list[str]]  # this example's objects in B -> their fields
    b_records: dict[str, list[str]]  # B's live record ids per object
    b_deleted: list[str]
    b_values: dict[tuple[str, str], list[Any]]  # B's values per (object, field)
    b_numbered: dict[str, tuple[list[str], int]]  # B's objects with auto numbers -> (fields, records made)
    log: list[str] = field(default_factory=list)

    # -- the checks every response to A goes through --
    def call(self, client: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        sent = json.dumps({"query": query, "variables": variables}).lower()
        response = client.execute(query, variables)
        who = "admin" if client is self.t.a_admin else "user"
        self.log.append(f"A {who}: {' '.join(query.split())[:200]} {json.dumps(variables)[:400]}\n"
                        f"  -> {client.last_status} {json.dumps(response)[:400]}")
        assert client.last_status < 500, f"server error\n{self.trail()}"
        assert response is not None, self.trail()
        for code in codes(response):
            assert code in ALLOWED_CODES, f"unexpected error code {code}\n{self.trail()}"
        received = json.dumps(response).lower()
        for secret in self.t.b_secrets:
            if secret.lower() in received:
                raise Leak(f"B's secret {secret} in a response to A\n{self.trail()}")
        for found in sorted(set(UUID.findall(received)) & self.t.b_ids):
            if found not in sent:
                raise Leak(f"B's id {found} in a response to A\n{self.trail()}")
        for found in sorted(set(MARKER.findall(received))):
            if found not in sent and found not in self.t.a_knows:
                raise Leak(f"B's marker {found} in a response to A\n{self.trail()}")
        self.t.a_knows.update(MARKER.findall(sent))
        return response

    def trail(self) -> str:
        return "\n".join(self.log[-10:])

    def refused(self, response: dict[str, Any], why: str) -> None:
        errors = codes(response)
        assert errors and set(errors) <= REFUSED, f"{why}: expected a refusal\n{self.trail()}"

    # -- choices --
    def client(self, d: Dice) -> GraphQLClient:
        return self.t.a_user if d.one_in(4) else self.t.a_admin

    def object(self, d: Dice) -> tuple[str, Obj | None]:
        name = d.pick(sorted(self.objects) * 3 + sorted(self.b_only))
        return name, self.objects.get(name)

    def record_id(self, d: Dice, name: str) -> tuple[str, str]:
        """(kind, id): kind "live"/"deleted" for A's records of the object, "b"/"other" for ids not A's."""
        obj = self.objects.get(name)
        same = self.b_records.get(name, [])
        live = sorted(obj.live) if obj else []
        pools: list[tuple[str, list[str]]] = [
            ("live", live), ("live", live), ("live", live), ("live", live),
            ("deleted", sorted(obj.deleted) if obj else []),
            ("b", same), ("b", same), ("b", sorted(self.t.b_ids)), ("b", self.b_deleted),
            ("other", sorted(i for o in self.objects.values() if o is not obj for i in o.live | o.deleted)),
        ]
        kind, ids = d.pick(pools)
        if not ids:
            kind, ids = "other", [NIL_ID, "not-an-id", self.t.a_user_id]
        return kind, d.pick(ids)

    def value(self, d: Dice, obj: Obj, f: Field) -> tuple[Any, bool]:
        """(value, whether it points into B) for one of A's fields."""
        if f.type == "LOOKUP":
            target = self.objects.get(f.target or "")
            ours = sorted(target.live) if target is not None and target.exact else []
            theirs = self.b_records.get(f.target or "", [])
            choice = d.below(4)
            if choice == 0 and theirs:
                return d.pick(theirs), True
            return (d.pick(ours) if ours and choice > 1 else None), False
        copied = self.b_values.get((obj.name, f.name), [])
        if copied and d.one_in(3):
            return d.pick(copied), False
        return (None if d.one_in(6) else plain_value(f.type, d)), False

    def data(self, d: Dice, obj: Obj, into_b: bool = True) -> tuple[dict[str, Any], bool]:
        """Input for one of A's records: (data, whether it names a record, user or field of B)."""
        data: dict[str, Any] = {}
        names_b = False
        for f in obj.fields.values():
            if not f.writable or d.one_in(2):
                continue
            value, points_into_b = self.value(d, obj, f)
            if points_into_b and not into_b:
                continue
            data[f.name] = value
            names_b |= points_into_b
        required = {"account": "name", "contact": "lastName"}.get(obj.name)
        if required and data.get(required) is None:
            data[required] = d.text()
        extra = d.below(8) if into_b else 0
        if extra == 1:
            data["owner"] = d.pick([*self.t.b_user_ids, self.t.a_user_id])
            names_b |= data["owner"] in self.t.b_user_ids
        elif extra == 2 and self.b_fields.get(obj.name):
            data[d.pick(self.b_fields[obj.name])] = "x"
            names_b = True
        return data, names_b

    def copies_unique(self, obj: Obj, data: dict[str, Any]) -> bool:
        """Whether data gives a unique field a value of B's that A never wrote."""
        return any(f.unique and data.get(f.name) is not None
                   and data[f.name] in self.b_values.get((obj.name, f.name), [])
                   and data[f.name] not in self.t.a_unique.get((obj.name, f.name), set())
                   for f in obj.fields.values())

    def wrote(self, obj: Obj, data: dict[str, Any]) -> None:
        for f in obj.fields.values():
            if f.unique and data.get(f.name) is not None:
                self.t.a_unique.setdefault((obj.name, f.name), set()).add(data[f.name])

    def no_clash(self, response: dict[str, Any]) -> None:
        """A value only B holds must not be refused as taken."""
        for error in response.get("errors") or []:
            assert "already" not in error["message"], f"A's value clashed with B's\n{self.trail()}"

    # -- operations --
    def op_list(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        plural = obj.plural if obj else f"{name}s"
        ids = [self.record_id(d, name)[1] for _ in range(1 + d.below(4))]
        fields = list(obj.fields.values()) if obj else []
        texts = [f.name for f in fields if f.type in TEXTUAL]
        lookups = [f.name for f in fields if f.type == "LOOKUP"]
        marks = [v for (o, _), vs in self.b_values.items() if o == name for v in vs if isinstance(v, str)] or ["zq"]
        kind = d.pick(("none", "ids", "id", "owner", "or", "text", "lookup", "bField"))
        flt: dict[str, Any] | None = None
        if kind == "ids":
            flt = {"id": {"in": ids}}
        elif kind == "id":
            flt = {"id": {"eq": ids[0]}}
        elif kind == "owner":
            flt = {"owner": {"in": self.t.b_user_ids}}
        elif kind == "or":
            flt = {"or": [{"id": {"in": ids}}, {"not": {"id": {"eq": ids[0]}}}]}
        elif kind == "text" and texts:
            flt = {d.pick(texts): {d.pick(("eq", "contains", "startsWith", "neq")): d.pick(marks)}}
        elif kind == "lookup" and lookups:
            flt = {d.pick(lookups): {"id": {"in": ids}}}
        elif kind == "bField" and self.b_fields.get(name):
            flt = {d.pick(self.b_fields[name]): {"isNull": False}}
        else:
            kind = "none"
        sortable = [f.name for f in fields if f.type not in ("MULTI_PICKLIST", "JSON")] + ["id", "updatedAt"]
        theirs = self.b_fields.get(name, [])
        by_theirs = bool(theirs) and d.one_in(8)  # ordering by a field only B's object has
        order = [{d.pick(theirs if by_theirs else sortable): d.pick(DIRECTIONS)}] if by_theirs or d.one_in(2) else None
        first = d.pick((None, 1, 3, 500))
        after = self.t.b_cursor if d.one_in(6) else None
        tn = type_name(name)
        response = self.call(client, (
            f"query($f: {tn}Filter, $o: [{tn}OrderBy!], $n: Int, $a: String) {{ {plural}(filter: $f, orderBy: $o,"
            f" first: $n, after: $a) {{ totalCount edges {{ node {{ {obj.selection() if obj else 'id'} }} }} }} }}"),
            {"f": flt, "o": order, "n": first, "a": after})
        if obj is None or kind == "bField" or by_theirs:
            self.refused(response, f"list of B's object {name} or by B's field")
            return
        if response.get("errors"):
            return
        found = {e["node"]["id"] for e in response["data"][plural]["edges"]}
        if obj.exact:
            assert found <= obj.live, f"{name}: records not among A's: {found - obj.live}\n{self.trail()}"
        if client is self.t.a_admin and obj.exact and after is None:
            if kind == "none":
                assert response["data"][plural]["totalCount"] == len(obj.live), self.trail()
            if kind == "ids" and first in (None, 500):
                assert found == set(ids) & obj.live, self.trail()

    def op_get(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        theirs = self.b_fields.get(name, [])
        probe = d.pick(theirs) if theirs and d.one_in(4) else ""
        response = self.call(client, f"query($id: ID!) {{ {name}(id: $id) {{ {obj.selection() if obj else 'id'} {probe} }} }}",
                             {"id": record})
        if obj is None or probe:
            self.refused(response, f"get of B's object {name} or field {probe}")
            return
        if response.get("errors"):
            return
        got = response["data"][name]
        if kind in ("b", "other") or (kind == "deleted" and obj.exact):
            assert got is None, f"{name}({record}) is not A's live record\n{self.trail()}"
        elif kind == "live" and obj.exact and client is self.t.a_admin:
            assert got is not None and got["id"] == record, f"A's record {record} is gone\n{self.trail()}"

    def op_create(self, d: Dice, bulk: bool = False) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        tn = type_name(name)
        plural = type_name(obj.plural if obj else f"{name}s")
        rows = [self.data(d, obj) for _ in range(1 + d.below(3) if bulk else 1)] if obj else [({"x": 1}, True)]
        data: Any = [r for r, _ in rows] if bulk else rows[0][0]
        names_b = any(b for _, b in rows)
        selection = obj.selection() if obj else "id"
        if bulk:
            query = f"mutation($d: [{tn}CreateInput!]!) {{ create{plural}(data: $d) {{ {selection} }} }}"
        else:
            query = f"mutation($d: {tn}CreateInput!) {{ create{tn}(data: $d) {{ {selection} }} }}"
        response = self.call(client, query, {"d": data})
        if obj is None or names_b:
            self.refused(response, f"create in {name} naming B")
            return
        if not bulk and self.copies_unique(obj, data):
            self.no_clash(response)
        if response.get("errors"):
            return
        created = response["data"][f"create{plural}"] if bulk else [response["data"][f"create{tn}"]]
        for record, row in zip(created, data if bulk else [data], strict=True):
            obj.live.add(record["id"])
            self.wrote(obj, row)
            again = self.call(client, f"query($id: ID!) {{ {name}(id: $id) {{ id }} }}", {"id": record["id"]})
            assert again["data"][name] == {"id": record["id"]}, f"A's new record is not readable\n{self.trail()}"

    def op_update(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        data, names_b = self.data(d, obj) if obj else ({"x": 1}, True)
        if d.one_in(2):
            data.pop("name", None)
            data.pop("lastName", None)
        tn = type_name(name)
        response = self.call(client, f"mutation($id: ID!, $d: {tn}UpdateInput!) {{ update{tn}(id: $id, data: $d) "
                                     f"{{ {obj.selection() if obj else 'id'} }} }}", {"id": record, "d": data})
        if obj is None or names_b or kind in ("b", "other") or (obj.exact and kind != "live"):
            self.refused(response, f"update of {name} {record} ({kind})")
            return
        if kind == "live" and self.copies_unique(obj, data):
            self.no_clash(response)
        if kind == "live" and obj.exact and client is self.t.a_admin:
            assert "NOT_FOUND" not in codes(response), f"A's record {record} is gone\n{self.trail()}"
        if not response.get("errors"):
            assert response["data"][f"update{tn}"]["id"] == record, self.trail()
            self.wrote(obj, data)

    def op_delete_or_restore(self, d: Dice, restore: bool) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        verb = "restore" if restore else "delete"
        response = self.call(client, f"mutation($id: ID!) {{ {verb}{type_name(name)}(id: $id) {{ id }} }}", {"id": record})
        if obj is None or kind in ("b", "other") or (obj.exact and kind != ("deleted" if restore else "live")):
            self.refused(response, f"{verb} of {name} {record} ({kind})")
            return
        if obj.exact and client is self.t.a_admin:
            assert "NOT_FOUND" not in codes(response), f"A's record {record} is gone\n{self.trail()}"
        if not response.get("errors"):
            assert response["data"][f"{verb}{type_name(name)}"]["id"] == record, self.trail()
            (obj.deleted if restore else obj.live).discard(record)
            (obj.live if restore else obj.deleted).add(record)

    def op_share(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        if d.one_in(3):
            grantee, who = "role", d.pick((COMMON_ROLE, self.t.b_role))
        else:
            grantee, who = "user", d.pick((self.t.a_user_id, *self.t.b_user_ids))
        response = self.call(
            client, "mutation($i: ShareRecordInput!) { shareRecord(input: $i) { id object record userId role access } }",
            {"i": {"object": name, "record": record, grantee: who, "access": d.pick(("READ", "EDIT"))}})
        if obj is None or who in (self.t.b_role, *self.t.b_user_ids) or kind in ("b", "other") \
                or (obj.exact and kind != "live"):
            self.refused(response, f"share of {name} {record} with {who}")
        elif not response.get("errors"):
            self.t.a_shares.add(response["data"]["shareRecord"]["id"])

    def op_unshare(self, d: Dice) -> None:
        client = self.client(d)
        ours = sorted(self.t.a_shares)
        share = d.pick([*self.t.b_share_ids, NIL_ID, *ours])
        response = self.call(client, "mutation($id: ID!) { unshareRecord(id: $id) { id record } }", {"id": share})
        if share not in ours:
            self.refused(response, f"unshare of {share}")
        elif not response.get("errors"):
            self.t.a_shares.discard(share)

    def op_record_shares(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        response = self.call(client, "query($o: String!, $id: ID!) { recordShares(object: $o, id: $id) "
                                     "{ id record userId role } }", {"o": name, "id": record})
        if obj is None or kind in ("b", "other") or (obj.exact and kind != "live"):
            self.refused(response, f"recordShares of {name} {record}")

    def op_history(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        kind, record = self.record_id(d, name)
        response = self.call(client, "query($o: String!, $id: ID!) { recordHistory(object: $o, id: $id) "
                                     "{ action field oldValue newValue user { id email } at } }", {"o": name, "id": record})
        if obj is None:
            self.refused(response, f"history of B's object {name}")
        elif kind in ("b", "other") and not response.get("errors"):
            assert response["data"]["recordHistory"] == [], f"history of {record}, not A's\n{self.trail()}"

    def op_recycle_bin(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        response = self.call(client, "query($o: String!) { deletedRecords(object: $o, first: 500) "
                                     "{ id object deletedBy values } }", {"o": name})
        if obj is None:
            self.refused(response, f"recycle bin of B's object {name}")
        elif not response.get("errors") and obj.exact:
            binned = {r["id"] for r in response["data"]["deletedRecords"]}
            assert binned <= obj.deleted, f"{name}: not A's deleted records: {binned - obj.deleted}\n{self.trail()}"
            if client is self.t.a_admin:
                assert binned == obj.deleted, self.trail()

    def op_purge(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        ids = None if d.one_in(4) else [self.record_id(d, name)[1] for _ in range(1 + d.below(3))]
        response = self.call(client, "mutation($o: String!, $ids: [ID!]) { purgeDeletedRecords(object: $o, ids: $ids) }",
                             {"o": name, "ids": ids})
        if obj is None:
            self.refused(response, f"purging B's object {name}")
            return
        if response.get("errors"):
            return
        purged = obj.deleted if ids is None else obj.deleted & set(ids)
        if obj.exact:
            assert response["data"]["purgeDeletedRecords"] == len(purged), f"purged {purged}\n{self.trail()}"
        obj.deleted -= purged

    def op_audit(self, d: Dice) -> None:
        client = self.client(d)
        kind = d.pick((None, "metadata", "security", "token_created", "token_revoked", "purge"))
        response = self.call(client, "query($k: String, $n: Int) { auditEvents(kind: $k, first: $n) "
                                     "{ id kind target userId details at } }", {"k": kind, "n": d.pick((1, 20, 500))})
        if client is self.t.a_admin:
            assert not response.get("errors"), self.trail()
            users = {e["userId"] for e in response["data"]["auditEvents"]} - {None}
            assert users <= self.t.a_users, f"events of users not A's: {users - self.t.a_users}\n{self.trail()}"

    def op_read_everything(self, d: Dice) -> None:
        client = self.client(d)
        probe = d.pick([*self.b_only, "account", *self.objects])
        common = sorted(n for n, f in self.b_fields.items() if f)
        probe_object = d.pick(common)
        probe_field = d.pick(self.b_fields[probe_object])
        response = self.call(client, """query($n: String!, $o: String!, $f: String!) {
          me { id email isAdmin } users { id email role managerId permissionSets } roles { name label parent }
          permissionSets { name label objectPermissions { object } fieldPermissions { object field } }
          apiTokens { id userId name revokedAt } objects { name pluralName fields { name target expression } }
          probe: object(name: $n) { name fields { name } }
          probeField: object(name: $o) { field(name: $f) { name } }
        }""", {"n": probe, "o": probe_object, "f": probe_field})
        data = response.get("data") or {}
        if client is self.t.a_admin:
            assert not response.get("errors"), self.trail()
            names = {o["name"] for o in data["objects"]}
            mine = {n for n, o in self.objects.items() if o.custom} | set(STANDARD_OBJECTS)
            assert names == mine, f"A's objects are {names}, expected {mine}\n{self.trail()}"
            assert {u["id"] for u in data["users"]} == self.t.a_users, self.trail()
        if data.get("probe") is not None:
            assert probe in self.objects, self.trail()
        if data.get("probeField") is not None:
            assert data["probeField"]["field"] is None, self.trail()

    def op_token(self, d: Dice) -> None:
        client = self.client(d)
        if d.one_in(2):
            user = d.pick((None, self.t.a_user_id, self.t.a.admin_user_id, *self.t.b_user_ids))
            response = self.call(client, "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) "
                                         "{ apiToken { id userId } } }", {"i": {"name": d.text(), "user": user}})
            if user in self.t.b_user_ids:
                self.refused(response, "a token for B's user")
            elif not response.get("errors"):
                self.t.a_tokens.add(response["data"]["createApiToken"]["apiToken"]["id"])
        else:
            token = d.pick([*self.t.b_token_ids, *sorted(self.t.a_tokens)])
            response = self.call(client, "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }", {"id": token})
            if token in self.t.b_token_ids:
                self.refused(response, "revoking B's token")

    def op_user(self, d: Dice) -> None:
        client = self.client(d)
        manager = d.pick((None, self.t.a.admin_user_id, *self.t.b_user_ids))
        role = d.pick((None, COMMON_ROLE, self.t.b_role))
        if d.one_in(2):
            sets = d.pick((None, [STANDARD_SET], [self.t.b_set]))
            email = d.pick([*self.t.b_user_emails, f"u{next(_names)}@example.org"])
            payload = {k: v for k, v in {"email": email, "manager": manager, "role": role,
                                         "permissionSets": sets}.items() if v is not None}
            response = self.call(client, "mutation($i: CreateUserInput!) { createUser(input: $i) "
                                         "{ id email managerId role } }", {"i": payload})
            if email not in self.t.a_emails:  # B's users are no reason to refuse an email
                self.no_clash(response)
            if manager in self.t.b_user_ids or role == self.t.b_role or sets == [self.t.b_set]:
                self.refused(response, "a user tied to B")
            elif client is self.t.a_admin and email not in self.t.a_emails and role in {*self.t.a_roles, None}:
                assert not response.get("errors"), f"A could not add a user\n{self.trail()}"
            if not response.get("errors"):
                self.t.a_users.add(response["data"]["createUser"]["id"])
                self.t.a_emails.add(email)
            return
        target = d.pick([self.t.a_user_id, *self.t.b_user_ids, *sorted(self.t.a_users)])
        payload = {"id": target, "name": d.text()}
        if manager is not None and target != self.t.a.admin_user_id:
            payload["manager"] = manager
        if role is not None:
            payload["role"] = role
        response = self.call(client, "mutation($i: UpdateUserInput!) { updateUser(input: $i) "
                                     "{ id name managerId role } }", {"i": payload})
        if target in self.t.b_user_ids or payload.get("manager") in self.t.b_user_ids or role == self.t.b_role:
            self.refused(response, "updating a user with B's things")

    def op_role(self, d: Dice) -> None:
        client = self.client(d)
        kind = d.pick(("create", "update", "delete"))
        if kind == "create":
            name = f"aRole{next(_names)}"
            parent = d.pick((None, COMMON_ROLE, self.t.b_role))
            response = self.call(client, "mutation($i: RoleInput!) { createRole(input: $i) { name parent } }",
                                 {"i": {"name": name, "parent": parent, "label": "Role"}})
            if parent == self.t.b_role:
                self.refused(response, "a role below B's role")
            elif not response.get("errors"):
                self.t.a_roles.add(name)
            return
        name = d.pick([self.t.b_role, *sorted(self.t.a_roles)])
        if kind == "update":
            payload: dict[str, Any] = {"name": name, "label": d.text()}
            if d.one_in(3):
                payload["parent"] = self.t.b_role
            response = self.call(client, "mutation($i: RoleInput!) { updateRole(input: $i) { name label parent } }",
                                 {"i": payload})
            if name == self.t.b_role or "parent" in payload:
                self.refused(response, "updating B's role or moving a role below it")
            return
        response = self.call(client, "mutation($i: DeleteByNameInput!) { deleteRole(input: $i) { name } }",
                             {"i": {"name": name}})
        if name == self.t.b_role:
            self.refused(response, "deleting B's role")
        elif not response.get("errors"):
            self.t.a_roles.discard(name)

    def op_permission_set(self, d: Dice) -> None:
        client = self.client(d)
        kind = d.pick(("create", "grant", "update", "delete"))
        name, obj = self.object(d)
        if kind in ("create", "grant"):
            grants = [{"object": name, "read": True, "create": True, "edit": True, "delete": True}]
            fields: list[dict[str, Any]] = []
            into_b = obj is None
            if self.b_fields.get(name) and d.one_in(2):
                fields = [{"object": name, "field": d.pick(self.b_fields[name]), "read": True}]
                into_b = True
            mutation = "createPermissionSet" if kind == "create" else "updatePermissionSet"
            response = self.call(client, f"mutation($i: PermissionSetInput!) {{ {mutation}(input: $i) "
                                         f"{{ name objectPermissions {{ object }} }} }}", {"i": {
                "name": f"aSet{next(_names)}" if kind == "create" else A_USER_SET,
                "objectPermissions": grants, "fieldPermissions": fields}})
            if into_b:
                self.refused(response, "a permission set naming B's object or field")
            return
        set_name = d.pick((self.t.b_set, STANDARD_SET) if kind == "update" else (self.t.b_set,))
        if kind == "update":
            response = self.call(client, "mutation($i: PermissionSetInput!) { updatePermissionSet(input: $i) "
                                         "{ name label } }", {"i": {"name": set_name, "label": d.text()}})
        else:
            response = self.call(client, "mutation($i: DeleteByNameInput!) { deletePermissionSet(input: $i) { name } }",
                                 {"i": {"name": set_name}})
        if set_name == self.t.b_set:
            self.refused(response, "changing B's permission set")

    def op_field(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        if obj is not None and not obj.custom:  # A's standard objects keep their fields across examples
            if not self.b_only:
                return
            name, obj = d.pick(sorted(self.b_only)), None
        b_fields = self.b_only.get(name, []) if obj is None else self.b_fields.get(name, [])
        kind = d.pick(("create", "create", "update", "delete"))
        if kind == "create":
            new = Field(f"a{next(_names)}n", d.pick(("TEXT", "INTEGER", "BOOLEAN", "DATE", "LOOKUP", "FORMULA")))
            payload: dict[str, Any] = {"object": name, "name": new.name, "type": new.type}
            into_b = obj is None
            if new.type == "LOOKUP":
                new.target = d.pick([*self.b_only, "account", *(n for n, o in self.objects.items() if o.custom)])
                payload["target"] = new.target
                into_b |= new.target in self.b_only
            elif new.type == "FORMULA":
                reads = d.pick([None, *b_fields, *(sorted(obj.fields) if obj else [])])
                ref = obj.fields.get(reads) if obj and reads else None
                if reads is not None and ref is None:
                    new.expression, new.result_type = f"ISBLANK({reads})", "BOOLEAN"
                    into_b = True
                else:
                    new.expression, new.result_type = formula_for(ref)
                payload.update(expression=new.expression, resultType=new.result_type)
            response = self.call(client, "mutation($i: CreateFieldInput!) { createField(input: $i) "
                                         "{ name type target } }", {"i": payload})
            if into_b:
                self.refused(response, "a field on B's object or naming B's object or field")
            elif not response.get("errors") and obj is not None:
                obj.fields[new.name] = new
            return
        choices = b_fields + (sorted(obj.fields) if obj else [])
        field_name = d.pick(choices) if choices else "nope"
        if kind == "update":
            response = self.call(client, "mutation($i: UpdateFieldInput!) { updateField(input: $i) { name label } }",
                                 {"i": {"object": name, "name": field_name, "label": "Changed"}})
        else:
            response = self.call(client, "mutation($i: DeleteFieldInput!) { deleteField(input: $i) { name } }",
                                 {"i": {"object": name, "name": field_name, "confirm": True}})
            if not response.get("errors") and obj is not None:
                obj.fields.pop(field_name, None)
                self.t.a_unique.pop((name, field_name), None)
        if obj is None or field_name in b_fields:
            self.refused(response, f"{kind} of B's field {name}.{field_name}")

    def op_object(self, d: Dice) -> None:
        client = self.client(d)
        name, obj = self.object(d)
        if d.one_in(2):
            response = self.call(client, "mutation($i: UpdateObjectInput!) { updateObject(input: $i) "
                                         "{ name label sharing } }",
                                 {"i": {"name": name, "label": "Changed", "sharing": d.pick(SHARING)}})
        else:
            if obj is not None and not obj.custom:
                return
            response = self.call(client, "mutation($i: DeleteObjectInput!) { deleteObject(input: $i) { name } }",
                                 {"i": {"name": name, "confirm": True}})
            if not response.get("errors") and obj is not None:
                del self.objects[name]
                for other in self.objects.values():
                    assert all(f.target != name for f in other.fields.values()), f"{name} was looked up\n{self.trail()}"
                if name in self.b_all:  # from now on an object only B has
                    self.b_only[name] = self.b_all[name]
                    self.b_fields.pop(name, None)
        if obj is None:
            self.refused(response, f"changing B's object {name}")

    def step(self, kind: str, d: Dice) -> None:
        if kind == "bulk":
            self.op_create(d, bulk=True)
        elif kind in ("delete", "restore"):
            self.op_delete_or_restore(d, restore=kind == "restore")
        else:
            getattr(self, f"op_{kind}")(d)

    def check_b_numbers(self) -> None:
        """B's next auto numbers follow B's own records, whatever A created in objects of the same name."""
        for name, (numbered, made) in self.b_numbered.items():
            tn = type_name(name)
            created = self.t.b_admin.data(f"mutation {{ create{tn}(data: {{}}) {{ {' '.join(numbered)} }} }}")
            assert created[f"create{tn}"] == dict.fromkeys(numbered, f"{made + 1:05d}"), \
                f"B's auto numbers moved: {name} {created}\n{self.trail()}"

    def check_a(self) -> None:
        """A's objects hold exactly the records A's operations left."""
        for name, obj in self.objects.items():
            if not obj.exact:
                continue
            response = self.call(self.t.a_admin, f"{{ {obj.plural}(first: 500) {{ totalCount edges {{ node {{ id }} }} }} }}")
            listed = {e["node"]["id"] for e in response["data"][obj.plural]["edges"]}
            assert listed == obj.live, f"{name}: listed {listed}, expected {obj.live}\n{self.trail()}"
            for gone in sorted(obj.deleted)[:3]:
                again = self.call(self.t.a_admin, f"query($id: ID!) {{ {name}(id: $id) {{ id }} }}", {"id": gone})
                assert again["data"][name] is None, self.trail()


OPERATIONS = (*("list",) * 5, *("get",) * 4, *("create",) * 4, "bulk", *("update",) * 3, *("delete",) * 2,
              *("restore",) * 2, *("share",) * 2, "unshare", "record_shares", "history", "recycle_bin", "purge",
              "audit", "read_everything", "token", "user", "role", "permission_set", "field", "object")


# --- building an example's objects in both tenants ------------------------------------------------
CREATE_OBJECT = "mutation($i: CreateObjectInput!) { createObject(input: $i) { name } }"


def create_objects(gql: GraphQLClient, inputs: list[dict[str, Any]]) -> None:
    """One batch request: the schema is built once for all of them."""
    if inputs:
        results = gql.post([{"query": CREATE_OBJECT, "variables": {"i": i}} for i in inputs])
        assert gql.last_status == 200 and all(not r.get("errors") for r in results), results


def build(t: Tenants, specs: list[ObjectSpec], d: Dice) -> Example:
    n = next(_names)
    a_targets: list[str | None] = []
    b_targets: list[str | None] = []
    objects = dict(t.a_objects)
    b_only: dict[str, list[str]] = {}
    b_fields: dict[str, list[str]] = {"account": [t.b_field]}
    b_defs: dict[str, list[Field]] = {}
    a_inputs: list[dict[str, Any]] = []
    b_inputs: list[dict[str, Any]] = []
    names: list[str] = []
    for i, spec in enumerate(specs):
        name = f"{marker()}o" if spec.placement == "b" else f"a{n}o{i}" if spec.placement == "a" else f"c{n}o{i}"
        names.append(name)
        common_names = [f"f{k}{s.type.lower()[:4]}" for k, s in enumerate(spec.common)]
        if spec.placement != "a":
            extra = [] if spec.placement == "same" else [f"{marker()}f" for _ in spec.b_extra]
            common = realise(spec.common, common_names, name, b_targets, [])
            fields = common + realise(spec.b_extra[:len(extra)], extra, name, b_targets, common)
            b_inputs.append({"name": name, "pluralName": f"{name}s", "sharing": spec.b_sharing,
                             "fields": [f.definition() for f in fields]})
            b_defs[name] = fields
            if spec.placement == "b":
                b_only[name] = [f.name for f in fields]
            else:
                b_fields[name] = extra
        if spec.placement != "b":
            extra = [] if spec.placement == "same" else [f"a{k}x{s.type.lower()[:4]}" for k, s in enumerate(spec.a_extra)]
            common = realise(spec.common, common_names, name, a_targets, [])
            fields = common + realise(spec.a_extra[:len(extra)], extra, name, a_targets, common)
            sharing = spec.b_sharing if spec.placement == "same" else spec.a_sharing
            a_inputs.append({"name": name, "pluralName": f"{name}s", "sharing": sharing,
                             "fields": [f.definition() for f in fields]})
            objects[name] = Obj(name, f"{name}s", {f.name: f for f in fields})
        a_targets.append(name if spec.placement != "b" else None)
        b_targets.append(name if spec.placement != "a" else None)
    create_objects(t.b_admin, b_inputs)
    create_objects(t.a_admin, a_inputs)
    # A COUNT rollup on the target of some lookups between the example's objects (made through the
    # service: the API would rebuild the schema once more).
    rollups: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for spec, name in zip(specs, names, strict=True):
        for tenant, fields in (("a", objects[name].fields.values() if name in objects else []),
                               ("b", b_defs.get(name, []))):
            flags = [s.ref % 2 == 0 for s in spec.common + (spec.a_extra if tenant == "a" else spec.b_extra)]
            for f, flagged in zip(fields, flags, strict=False):
                parent = f.target or ""
                if f.type == "LOOKUP" and flagged and parent != "account":
                    rollups[tenant].append({"object": parent, "name": f"{f.name}In{name}", "type": "ROLLUP",
                                            "childObject": name, "childField": f.name, "function": "COUNT"})
    for tenant, created in (("a", t.a), ("b", t.b)):
        ref = t.rt.tenant(created.tenant.slug)
        for definition in rollups[tenant]:
            create_field(t.rt, Actor(ref, created.admin_user_id), definition)
    for r in rollups["a"]:
        objects[r["object"]].fields[r["name"]] = Field(r["name"], "ROLLUP")
    for r in rollups["b"]:
        b_defs[r["object"]].append(Field(r["name"], "ROLLUP"))

    # B's records: every text a marker; lookups to B's own records; one record of each object deleted.
    accounts = t.b_admin.data("{ accounts(first: 500) { edges { node { id name lei } } } }")["accounts"]["edges"]
    contacts = t.b_admin.data("{ contacts(first: 500) { edges { node { id } } } }")["contacts"]["edges"]
    b_records = {"account": [e["node"]["id"] for e in accounts], "contact": [e["node"]["id"] for e in contacts]}
    b_values: dict[tuple[str, str], list[Any]] = {
        ("account", "lei"): [e["node"]["lei"] for e in accounts if e["node"]["lei"]],
        ("account", "name"): [e["node"]["name"] for e in accounts],
    }
    b_deleted: list[str] = []
    made: dict[str, int] = {}
    for name, fields in b_defs.items():
        rows = []
        for _ in range(1 + d.below(3)):
            row: dict[str, Any] = {}
            for f in fields:
                if not f.writable or d.one_in(5):
                    continue
                if f.type == "LOOKUP":
                    if b_records.get(f.target or ""):
                        row[f.name] = d.pick(b_records[f.target or ""])
                    continue
                row[f.name] = plain_value(f.type, d, text=marker())
            rows.append(row)
        tn = type_name(name)
        made[name] = len(rows)
        ids = [r["id"] for r in t.b_admin.data(f"mutation($d: [{tn}CreateInput!]!) {{ create{tn}s(data: $d) {{ id }} }}",
                                               {"d": rows})[f"create{tn}s"]]
        for f in fields:
            if f.type != "LOOKUP":
                b_values[(name, f.name)] = [r[f.name] for r in rows if isinstance(r.get(f.name), str | int)]
        if len(ids) > 1:
            t.b_admin.data(f"mutation($id: ID!) {{ delete{tn}(id: $id) {{ id }} }}", {"id": ids[0]})
            b_deleted.append(ids.pop(0))
        b_records[name] = ids
        t.b_ids.update(ids + b_deleted)
    numbered = {name: [f.name for f in fields if f.type == "AUTO_NUMBER"] for name, fields in b_defs.items()}
    example = Example(t, objects, b_only, b_fields, {k: [f.name for f in v] for k, v in b_defs.items()},
                      b_records, b_deleted, b_values, {k: (v, made[k]) for k, v in numbered.items() if v})

    # Half the time A's user may use A's new objects (within their org-wide defaults).
    mine = [name for name, obj in objects.items() if obj.custom]
    if mine and d.one_in(2):
        example.call(t.a_admin, "mutation($i: PermissionSetInput!) { updatePermissionSet(input: $i) { name } }", {"i": {
            "name": A_USER_SET, "objectPermissions": [
                {"object": name, "read": True, "create": True, "edit": True, "delete": True} for name in mine]}})

    # A's records, through the checked path; A's auto numbers count A's records only.
    for name, obj in objects.items():
        if not obj.custom:
            continue
        numbered = [f.name for f in obj.fields.values() if f.type == "AUTO_NUMBER"]
        tn = type_name(name)
        for attempt in range(d.below(4)):
            record, _ = example.data(d, obj, into_b=False)
            response = example.call(t.a_admin, f"mutation($d: {tn}CreateInput!) {{ create{tn}(data: $d) "
                                                f"{{ id {' '.join(numbered)} }} }}", {"d": record})
            if response.get("errors"):
                break
            created = response["data"][f"create{tn}"]
            assert all(created[f] == f"{attempt + 1:05d}" for f in numbered), \
                f"A's auto numbers do not start from A's own records\n{example.trail()}"
            obj.live.add(created["id"])
            example.wrote(obj, record)
    return example


def cleanup(t: Tenants) -> None:
    """Drop both tenants' custom objects."""
    for created in (t.a, t.b):
        drop_custom_objects(t.rt, created)


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(specs=st.lists(object_specs, min_size=1, max_size=3), setup=dice,
       steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), dice), min_size=8, max_size=24))
def test_tenant_a_never_sees_or_changes_tenant_b(tenants: Tenants, specs: list[ObjectSpec], setup: Dice,
                                                 steps: list[tuple[str, Dice]]) -> None:
    t = tenants
    try:
        example = build(t, specs, setup)
        before = snapshot(t)
        for kind, d in steps:
            example.step(kind, d)
        example.check_a()
        assert snapshot(t) == before, f"B changed\n{example.trail()}"
        example.check_b_numbers()
    finally:
        cleanup(t)
