"""Browser sessions through ``POST /graphql``: without credentials only ``login`` runs; a login sets an
HttpOnly, Secure, SameSite=Strict cookie for 12 hours; requests with the cookie act as the user, and their
mutations need the session's CSRF token (``X-CSRF-Token``); ``logout``, a new password or a deactivation ends
the session; failed logins answer alike and are throttled per account (5 in 15 minutes) and per client
address (20); passwords are at least 10 characters and stored as scrypt hashes.

Requests go through Flask's test client on https://localhost (the cookie is Secure). The module shares one
tenant; each test has users and client addresses (10.61.N.x) of its own, since the throttle table is shared
by the whole test session. The lock window is crossed by moving the clock ``sessions.py`` reads, never by
sleeping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.http import parse_date

from tessera.core.clock import utcnow
from tessera.services.runtime import Runtime
from tessera.services.security import sessions
from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import sessions as sessions_table
from tessera.storage.system_tables import users
from tessera.testing import GraphQLClient, tenant_scope

LOGIN = """
mutation($tenant: String!, $email: String!, $password: String!) {
  login(tenant: $tenant, email: $email, password: $password) { csrfToken expiresAt userId email tenant }
}
"""
ME = "{ me { id email isAdmin tokenScope } }"
CREATE_ACCOUNT = 'mutation { createAccount(data: {name: "Mine"}) { owner { id } } }'
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id hasPassword } }"
UPDATE_USER = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { id active hasPassword } }"
COOKIE = "tessera_session"
PASSWORD = "correct horse battery"
WRONG = "wrong tenant, email or password"
HTTPS = "https://localhost"


class Browser:
    """One browser: a cookie jar, a client address, and the CSRF token of its last login."""

    def __init__(self, app: Any, address: str) -> None:
        self.client = app.test_client()
        self.address = address
        self.csrf: str | None = None

    def post(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/graphql", json=payload, headers=headers or {}, base_url=HTTPS,
                                environ_overrides={"REMOTE_ADDR": self.address})

    def login(self, tenant: str, email: str, password: str) -> Any:
        response = self.post({"query": LOGIN, "variables": {"tenant": tenant, "email": email, "password": password}})
        data = response.get_json().get("data")
        if data:
            self.csrf = data["login"]["csrfToken"]
        return response

    def query(self, query: str, variables: dict[str, Any] | None = None, *, csrf: str | None = "mine") -> Any:
        """A request with the session cookie and (by default) this browser's CSRF token."""
        token = self.csrf if csrf == "mine" else csrf
        headers = {} if token is None else {"X-CSRF-Token": token}
        return self.post({"query": query, "variables": variables or {}}, headers)

    @property
    def cookie(self) -> str | None:
        found = self.client.get_cookie(COOKIE, domain="localhost")
        return found.value if found else None


@pytest.fixture(scope="module")
def tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for the module (each test has users of its own, so throttle keys never meet)."""
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture(scope="module")
def gql(app: Any, tenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, tenant.token)


@dataclass
class Clock:
    """The time ``sessions.py`` sees; starts at the real now."""

    now: datetime

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock(utcnow())
    monkeypatch.setattr(sessions, "utcnow", lambda: found.now)
    return found


def _attempt(app: Any, address: str, tenant: str, email: str, password: str) -> Any:
    """One login from a browser without a session (a fresh cookie jar) at ``address``."""
    return Browser(app, address).login(tenant, email, password)


def _ended(response: Any) -> None:
    """The refusal of a request whose session has ended: as without credentials, clearing the cookie."""
    status, code, _, _ = _error(response)
    assert (status, code) == (401, "UNAUTHENTICATED")
    cleared = _set_cookie(response)
    assert cleared["value"] == "" and parse_date(str(cleared["expires"])) == datetime(1970, 1, 1, tzinfo=UTC)


def _user(gql: GraphQLClient, email: str, password: str | None = PASSWORD, **extra: Any) -> str:
    data = {"email": email, **extra}
    if password is not None:
        data["password"] = password
    return gql.data(CREATE_USER, {"input": data})["createUser"]["id"]


def _error(response: Any) -> tuple[int, str, str, dict[str, Any]]:
    """(status, code, message, extensions) of a response's first error."""
    error = response.get_json()["errors"][0]
    return response.status_code, error["extensions"]["code"], error["message"], error["extensions"]


def _set_cookie(response: Any) -> dict[str, str | bool]:
    """The attributes of the session cookie a response sets (flags as True)."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, headers
    name_value, *attributes = [part.strip() for part in headers[0].split(";")]
    found: dict[str, str | bool] = {"value": name_value.split("=", 1)[1]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value or True
    return found


# --- without credentials ------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [
    {"query": ME},
    {"query": 'mutation { createAccount(data: {name: "X"}) { id } }'},
    {"query": "{ accounts { totalCount } }"},
    [{"query": LOGIN, "variables": {"tenant": "t", "email": "e@example.com", "password": "p"}}],
], ids=["me", "mutation", "records", "batched-login"])
def test_without_credentials_only_login_runs(app: Any, payload: Any) -> None:
    response = Browser(app, "10.61.1.1").post(payload)
    status, code, message, _ = _error(response)
    assert (status, code) == (401, "UNAUTHENTICATED")
    assert message == "missing credentials: send 'Authorization: Bearer <token>' or log in"
    assert "Set-Cookie" not in response.headers


# --- a session ------------------------------------------------------------------------------------------
def test_login_sets_a_secure_http_only_strict_cookie_for_12_hours(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant, runtime: Runtime
) -> None:
    user_id = _user(gql, "ann@example.com")
    browser = Browser(app, "10.61.2.1")
    before = utcnow()
    # when the user logs in (the email in another case, with spaces)
    response = browser.login(tenant.tenant.slug, "  Ann@Example.COM ", PASSWORD)
    # then the answer names the user and tenant, with a CSRF token and the session's end, 12 hours away
    assert response.status_code == 200
    login = response.get_json()["data"]["login"]
    assert {k: login[k] for k in ("userId", "email", "tenant")} == {
        "userId": user_id, "email": "ann@example.com", "tenant": tenant.tenant.slug}
    expires_at = datetime.fromisoformat(login["expiresAt"].replace("Z", "+00:00"))
    assert before + timedelta(hours=12) <= expires_at <= utcnow() + timedelta(hours=12)
    # and the cookie is HttpOnly, Secure, SameSite=Strict, for the whole site, ending with the session
    cookie = _set_cookie(response)
    assert {k: cookie.get(k) for k in ("httponly", "secure", "samesite", "path")} == {
        "httponly": True, "secure": True, "samesite": "Strict", "path": "/"}
    assert parse_date(str(cookie["expires"])) == expires_at.replace(microsecond=0)
    assert cookie["value"] == browser.cookie and len(str(cookie["value"])) >= 40
    assert login["csrfToken"] and login["csrfToken"] != cookie["value"]
    # and only the cookie's SHA-256 is stored
    with runtime.db.system.connect() as conn:
        stored = conn.execute(sa.select(sessions_table).where(sessions_table.c.user_id == user_id)).mappings().all()
    assert [row["secret_hash"] for row in stored] == [hashlib.sha256(str(cookie["value"]).encode()).hexdigest()]
    assert str(cookie["value"]) not in {str(v) for v in stored[0].values()}


def test_the_session_acts_as_the_user_and_its_mutations_need_the_csrf_token(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    user_id = _user(gql, "ben@example.com", permissionSets=["standardUser"])
    browser = Browser(app, "10.61.3.1")
    assert browser.login(tenant.tenant.slug, "ben@example.com", PASSWORD).status_code == 200
    # then with the cookie and its CSRF token, requests run as the user: who they are ...
    response = browser.query(ME)
    assert (response.status_code, response.get_json()) == (200, {"data": {"me": {
        "id": user_id, "email": "ben@example.com", "isAdmin": False, "tokenScope": "READ_WRITE"}}})
    # ... what they may do (records, owned by them) ...
    assert browser.query(CREATE_ACCOUNT).get_json() == {"data": {"createAccount": {"owner": {"id": user_id}}}}
    # ... and may not (administrators' queries)
    refused = browser.query("{ users { id } }").get_json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # when a mutation comes without the CSRF token, with a wrong one, or with another session's
    other = Browser(app, "10.61.3.2")
    other.login(tenant.tenant.slug, "ben@example.com", PASSWORD)
    assert other.csrf != browser.csrf
    for csrf in (None, "not-the-token", other.csrf):
        response = browser.query(CREATE_ACCOUNT, csrf=csrf)
        # then it is refused before running: no account is created
        status, code, message, _ = _error(response)
        assert (status, code) == (403, "FORBIDDEN")
        assert "X-CSRF-Token" in message
        assert response.get_json().get("data") is None
    # and a batch holding a mutation is refused as a whole
    batch = browser.post([{"query": ME}, {"query": CREATE_ACCOUNT}])
    assert _error(batch)[:2] == (403, "FORBIDDEN")
    mine = browser.query('{ accounts(filter: {name: {eq: "Mine"}}) { totalCount } }').get_json()
    assert mine == {"data": {"accounts": {"totalCount": 1}}}
    # and reading needs no token: after a page reload the console gets it back from me
    again = browser.query("{ me { email csrfToken } }", csrf=None)
    assert (again.status_code, again.get_json()) == (200, {"data": {"me": {
        "email": "ben@example.com", "csrfToken": browser.csrf}}})
    # and API tokens have no CSRF token
    assert gql.data("{ me { csrfToken } }") == {"me": {"csrfToken": None}}


def test_logout_ends_the_session_and_clears_the_cookie(app: Any, gql: GraphQLClient, tenant: CreatedTenant) -> None:
    _user(gql, "cat@example.com")
    browser = Browser(app, "10.61.4.1")
    browser.login(tenant.tenant.slug, "cat@example.com", PASSWORD)
    old_cookie = browser.cookie
    assert old_cookie is not None
    # when the user logs out
    response = browser.query("mutation { logout }")
    # then it answers true and clears the cookie
    assert (response.status_code, response.get_json()) == (200, {"data": {"logout": True}})
    cleared = _set_cookie(response)
    assert cleared["value"] == "" and parse_date(str(cleared["expires"])) == datetime(1970, 1, 1, tzinfo=UTC)
    assert browser.cookie is None
    # and the old cookie no longer works, even with its CSRF token: it is answered as no credentials
    for request in (ME, CREATE_ACCOUNT):
        browser.client.set_cookie(COOKIE, old_cookie, domain="localhost")
        _ended(browser.query(request))
    # and logout is for sessions, not API tokens
    refused = gql.error("mutation { logout }")
    assert refused["extensions"]["code"] == "VALIDATION_ERROR"
    assert gql.data("{ me { email } }") == {"me": {"email": "admin@example.com"}}


def test_a_browser_still_sending_an_ended_sessions_cookie_can_log_in_again(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    _user(gql, "dan@example.com")
    browser = Browser(app, "10.61.15.1")
    browser.login(tenant.tenant.slug, "dan@example.com", PASSWORD)
    old_cookie = browser.cookie
    browser.query("mutation { logout }")
    # when the browser, still sending the ended session's cookie, logs in
    browser.client.set_cookie(COOKIE, old_cookie, domain="localhost")
    response = browser.login(tenant.tenant.slug, "dan@example.com", PASSWORD)
    # then it gets a new session, which works
    assert (response.status_code, response.get_json().get("errors")) == (200, None)
    assert browser.cookie not in (None, old_cookie)
    assert browser.query(ME).get_json()["data"]["me"]["email"] == "dan@example.com"


def test_a_deactivated_users_session_ends_and_they_cannot_log_in(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    user_id = _user(gql, "eve@example.com")
    browser = Browser(app, "10.61.5.1")
    browser.login(tenant.tenant.slug, "eve@example.com", PASSWORD)
    assert browser.query(ME).status_code == 200
    # when an administrator deactivates the user
    gql.data(UPDATE_USER, {"input": {"id": user_id, "active": False}})
    # then their session is refused, and a new login fails like a wrong password
    _ended(browser.query(ME))
    _, code, message, _ = _error(Browser(app, "10.61.5.2").login(tenant.tenant.slug, "eve@example.com", PASSWORD))
    assert (code, message) == ("UNAUTHENTICATED", WRONG)


def test_a_new_password_ends_the_users_sessions(app: Any, gql: GraphQLClient, tenant: CreatedTenant) -> None:
    user_id = _user(gql, "fay@example.com")
    browser = Browser(app, "10.61.14.1")
    browser.login(tenant.tenant.slug, "fay@example.com", PASSWORD)
    # when an administrator sets a new password
    gql.data(UPDATE_USER, {"input": {"id": user_id, "password": "a brand new one"}})
    # then the session has ended; the old password no longer logs in, the new one does
    _ended(browser.query(ME))
    assert _refused(_attempt(app, "10.61.14.1", tenant.tenant.slug, "fay@example.com", PASSWORD))
    assert _attempt(app, "10.61.14.1", tenant.tenant.slug, "fay@example.com", "a brand new one").status_code == 200


def test_a_session_ends_after_12_hours(app: Any, gql: GraphQLClient, tenant: CreatedTenant, clock: Clock) -> None:
    _user(gql, "gus@example.com")
    browser = Browser(app, "10.61.6.1")
    browser.login(tenant.tenant.slug, "gus@example.com", PASSWORD)
    # 11 hours 59 minutes later it still works; 12 hours and a second later it does not
    clock.advance(hours=11, minutes=59)
    assert browser.query(ME).status_code == 200
    clock.advance(minutes=1, seconds=1)
    _ended(browser.query(ME))


# --- failed logins --------------------------------------------------------------------------------------
def test_wrong_password_unknown_email_and_unknown_tenant_answer_alike(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    _user(gql, "hal@example.com")
    browser = Browser(app, "10.61.7.1")
    answers = [
        browser.login(tenant.tenant.slug, "hal@example.com", "wrong password!"),
        browser.login(tenant.tenant.slug, "nobody@example.com", PASSWORD),
        browser.login("nosuchtenant", "hal@example.com", PASSWORD),
        browser.login("", "hal@example.com", PASSWORD),
    ]
    # then every answer is the same refusal, with no data and no cookie
    for response in answers:
        status, code, message, extensions = _error(response)
        assert (status, code, message, extensions) == (200, "UNAUTHENTICATED", WRONG, {"code": "UNAUTHENTICATED"})
        assert response.get_json()["data"] is None
        assert "Set-Cookie" not in response.headers
    assert browser.cookie is None


def test_users_without_a_password_cannot_log_in(app: Any, gql: GraphQLClient, tenant: CreatedTenant) -> None:
    # given the tenant's administrator (created without a password) and a user whose password was removed
    user_id = _user(gql, "ida@example.com")
    assert gql.data(UPDATE_USER, {"input": {"id": user_id, "password": None}})["updateUser"]["hasPassword"] is False
    browser = Browser(app, "10.61.8.1")
    for email, password in [("admin@example.com", ""), ("admin@example.com", PASSWORD), ("ida@example.com", PASSWORD),
                            ("ida@example.com", "")]:
        # then no password lets them in
        _, code, message, _ = _error(browser.login(tenant.tenant.slug, email, password))
        assert (code, message) == ("UNAUTHENTICATED", WRONG)


def _locked(response: Any) -> int:
    """The minutes a LIMIT_EXCEEDED (HTTP 429) refusal tells to wait, checked against Retry-After."""
    status, code, message, extensions = _error(response)
    assert (status, code) == (429, "LIMIT_EXCEEDED"), response.get_json()
    minutes = extensions["retryAfterMinutes"]
    assert message == f"too many failed logins; try again in {minutes} minutes"
    assert response.headers["Retry-After"] == str(minutes * 60)
    assert response.get_json()["data"] is None and "Set-Cookie" not in response.headers
    return minutes


def _refused(response: Any) -> bool:
    """Whether a login was refused as a wrong tenant, email or password."""
    status, code, message, _ = _error(response)
    return (status, code, message) == (200, "UNAUTHENTICATED", WRONG)


def test_five_failures_lock_the_account_for_15_minutes_whatever_the_password(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant, clock: Clock
) -> None:
    slug = tenant.tenant.slug
    _user(gql, "jon@example.com")
    _user(gql, "jon2@example.com")
    address = "10.61.9.1"
    # when four wrong passwords are tried, each is only refused
    for _ in range(4):
        assert _refused(_attempt(app, address, slug, "jon@example.com", "wrong password!"))
    # and the fifth too (its failure locks the account, whatever the email's case)
    assert _refused(_attempt(app, address, slug, "Jon@example.com", "wrong password!"))
    # then a second later even the right password is refused for 15 minutes, from any address
    clock.advance(seconds=1)
    assert _locked(_attempt(app, address, slug, "jon@example.com", PASSWORD)) == 15
    assert _locked(_attempt(app, "10.61.9.2", slug, "jon@example.com", PASSWORD)) == 15
    # and another account from the same address still logs in
    assert _attempt(app, address, slug, "jon2@example.com", PASSWORD).status_code == 200
    # and 14 minutes later the account is still locked (a minute left)
    clock.advance(minutes=14)
    assert _locked(_attempt(app, address, slug, "jon@example.com", PASSWORD)) == 1
    # and once the 15 minutes are over the right password works again
    clock.advance(minutes=1)
    response = _attempt(app, address, slug, "jon@example.com", PASSWORD)
    assert response.status_code == 200 and response.get_json()["data"]["login"]["email"] == "jon@example.com"


def test_failures_further_apart_than_15_minutes_do_not_add_up(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant, clock: Clock
) -> None:
    slug = tenant.tenant.slug
    _user(gql, "kim@example.com")
    address = "10.61.10.1"
    # given four failures, then four more 15 minutes and a second later
    for _ in range(4):
        assert _refused(_attempt(app, address, slug, "kim@example.com", "wrong password!"))
    clock.advance(minutes=15, seconds=1)
    for _ in range(4):
        assert _refused(_attempt(app, address, slug, "kim@example.com", "wrong password!"))
    # then the account is not locked
    assert _attempt(app, address, slug, "kim@example.com", PASSWORD).status_code == 200


def test_a_successful_login_resets_the_accounts_failures(app: Any, gql: GraphQLClient, tenant: CreatedTenant) -> None:
    slug = tenant.tenant.slug
    _user(gql, "lou@example.com")
    address = "10.61.11.1"
    # given four failures, a success, and four failures more (eight within 15 minutes)
    for _ in range(4):
        assert _refused(_attempt(app, address, slug, "lou@example.com", "wrong password!"))
    assert _attempt(app, address, slug, "lou@example.com", PASSWORD).status_code == 200
    for _ in range(4):
        assert _refused(_attempt(app, address, slug, "lou@example.com", "wrong password!"))
    # then the account is not locked, since the success started the count again
    assert _attempt(app, address, slug, "lou@example.com", PASSWORD).status_code == 200


def test_twenty_failures_from_one_address_lock_the_address(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    slug = tenant.tenant.slug
    _user(gql, "max@example.com")
    address = "10.61.12.1"
    # when one address fails 20 times, on 20 different accounts (none of which gets locked)
    for n in range(20):
        assert _refused(_attempt(app, address, slug, f"guess{n}@example.com", "wrong password!"))
    # then that address is refused even for a good login
    assert _locked(_attempt(app, address, slug, "max@example.com", PASSWORD)) == 15
    # and the same login from another address works
    assert _attempt(app, "10.61.12.2", slug, "max@example.com", PASSWORD).status_code == 200


# --- passwords ------------------------------------------------------------------------------------------
def test_passwords_need_10_characters_and_only_their_scrypt_hash_is_stored(
    app: Any, gql: GraphQLClient, tenant: CreatedTenant, runtime: Runtime
) -> None:
    # when a user is created with a 9-character password
    refused = gql.error(CREATE_USER, {"input": {"email": "nedshort@example.com", "password": "123456789"}})
    # then it is refused naming the password, and no user is created
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("VALIDATION_ERROR", "password")
    assert "nedshort@example.com" not in [u["email"] for u in gql.data("{ users { email } }")["users"]]
    # when with exactly 10 characters, it is accepted
    created = gql.data(CREATE_USER, {"input": {"email": "ned@example.com", "password": "0123456789"}})["createUser"]
    assert created["hasPassword"] is True
    # when the password is changed to 9 characters, it is refused and the old one still works
    refused = gql.error(UPDATE_USER, {"input": {"id": created["id"], "password": "abcdefghi"}})
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("VALIDATION_ERROR", "password")
    browser = Browser(app, "10.61.13.1")
    assert browser.login(tenant.tenant.slug, "ned@example.com", "abcdefghi").get_json()["errors"]
    assert browser.login(tenant.tenant.slug, "ned@example.com", "0123456789").status_code == 200
    # and only a scrypt hash of it is stored
    with runtime.db.system.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.id == created["id"])).scalar_one()
    assert stored.startswith("scrypt$14$8$1$")
    assert "0123456789" not in stored and len(stored.split("$")) == 6
