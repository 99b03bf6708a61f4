"""Authorisation on the server: every callback and page, unauthenticated and as each role.

Callbacks are plain POST endpoints, so the test posts to each one the way a script would,
without the UI. The expected role of each callback is written here from the pages' purpose,
independently of the ``@requires`` marks in the code it checks.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import dash
import pytest

from app.services import install, installed
from pipeline.accounts import Role
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store
from tests.auth import (
    PASSWORD,
    ROUTER,
    USERS,
    callback_body,
    ensure_users,
    logged_in_client,
    router_body,
)
from tests.unit.app.conftest import (
    FakeStartRun,
    synthetic_facts,
    write_history,
    write_serving_facts,
)

# Which role each page module (and its `_page_*` helpers) needs.
PAGE_ROLES = {
    "overview": Role.EXECUTIVE,
    "data": Role.ANALYST,
    "models": Role.ANALYST,
    "explain": Role.ANALYST,
    "monitor": Role.ANALYST,
    "runs": Role.ANALYST,
    "users": Role.ADMIN,
    "audit": Role.ADMIN,
    "settings": Role.ADMIN,
}
RANK = {Role.EXECUTIVE: 1, Role.ANALYST: 2, Role.ADMIN: 3}


def _module(func: Any) -> str:
    if func is None:  # a clientside callback: it runs in the browser, never posts here
        return "dash.clientside"
    while getattr(func, "__wrapped__", None) is not None:
        func = func.__wrapped__
    return func.__module__


def _expected_role(module: str) -> Role | None:
    """The role a callback of ``module`` needs; None for Dash's own (any logged-in user)."""
    if module.split(".")[0] == "dash":
        return None
    match = re.fullmatch(r"app\.pages\._?([a-z]+)(_[a-z_]+)?", module)
    assert match, f"callback in unexpected module {module}"
    return PAGE_ROLES[match.group(1)]


def _body(output: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A minimal, well-formed callback request with every input and state None."""
    return callback_body(output, spec, changed=False)


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    """One app over one populated warehouse for this module's many read-only checks, after a
    first request (Dash adds its page router then); yields (app, its services)."""
    from app import create_app

    data = tmp_path_factory.mktemp("authz")
    wh = Warehouse(data / "warehouse.duckdb")
    write_history(wh)
    write_serving_facts(wh, synthetic_facts())
    ensure_users(wh)
    app = create_app(load_settings(data_dir=data), wh, FakeStartRun())
    svc = installed()
    admin = logged_in_client(app.server, "admin")
    assert admin.get("/_dash-dependencies").status_code == 200
    assert ROUTER in app.callback_map
    clients = {role: logged_in_client(app.server, name) for role, name in USERS.items()}
    yield app, svc, clients
    wh.close()


@pytest.fixture
def served(module_app):
    """The module's app with its services installed (other tests install their own)."""
    app, svc, _ = module_app
    install(svc)
    return app


@pytest.fixture
def clients(served, module_app):
    return module_app[2]


@pytest.fixture
def fresh(app, warehouse):
    """An app of its own, for tests that change accounts, sessions or the login throttle."""
    ensure_users(warehouse)
    return app


@pytest.fixture
def fresh_clients(fresh):
    return {role: logged_in_client(fresh.server, name) for role, name in USERS.items()}


def test_every_callback_refuses_unauthenticated_posts(served):
    anonymous = served.server.test_client()
    for output, spec in served.callback_map.items():
        response = anonymous.post("/_dash-update-component", json=_body(output, spec))
        assert response.status_code == 401, output
        assert response.get_json() == {"error": "log in first"}


def test_each_role_gets_exactly_its_callbacks(served, clients):
    seen = {"allowed": 0, "denied": 0}
    for output, spec in served.callback_map.items():
        needed = _expected_role(_module(spec.get("callback")))
        for role, client in clients.items():
            response = client.post("/_dash-update-component", json=_body(output, spec))
            allowed = needed is None or RANK[role] >= RANK[needed]
            if allowed:
                assert response.status_code not in (401, 403), (role, output)
                seen["allowed"] += 1
            else:
                assert response.status_code == 403, (role, output, response.status_code)
                seen["denied"] += 1
    assert seen["allowed"] > 100 and seen["denied"] > 50  # the map really was walked


def test_a_refused_retrain_is_answered_and_audited(fresh, fresh_clients, warehouse):
    retrain = next(
        out
        for out, spec in fresh.callback_map.items()
        if getattr(spec.get("callback"), "__name__", "") == "retrain"
    )
    response = fresh_clients[Role.EXECUTIVE].post(
        "/_dash-update-component", json=_body(retrain, fresh.callback_map[retrain])
    )
    assert response.status_code == 403
    assert "executive" in response.get_json()["error"]
    denied = audit_store.list_events(warehouse, action="denied")
    assert (denied["actor"].iloc[0], denied["target"].iloc[0]) == ("erin", "retrain")
    assert denied["outcome"].iloc[0] == "denied" and denied["role"].iloc[0] == "executive"


def _route(client, pathname: str) -> tuple[int, str]:
    response = client.post("/_dash-update-component", json=router_body(pathname))
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("page_name", sorted(PAGE_ROLES))
def test_pages_a_role_may_not_use_are_refused_even_with_a_crafted_pathname(
    served, clients, page_name
):
    page = page_name
    path = next(p["path"] for p in dash.page_registry.values() if p["module"].endswith(page))
    for role, client in clients.items():
        status, text = _route(client, path)
        assert status == 200
        refused = "page-refused" in text
        assert refused == (RANK[role] < RANK[PAGE_ROLES[page]]), (role, path)
    assert _route(served.server.test_client(), path)[0] == 401


def test_the_navigation_lists_only_the_pages_a_role_may_open(served, clients):
    names = {p["module"].rsplit(".", 1)[1]: p["name"] for p in dash.page_registry.values()}
    for role, client in clients.items():
        layout = client.get("/_dash-layout").get_data(as_text=True)
        for page, needed in PAGE_ROLES.items():
            link = f'"children": "{names[page]}"'.replace(" ", "")
            shown = link in layout.replace(" ", "")
            assert shown == (RANK[role] >= RANK[needed]), (role, page)


def test_unauthenticated_visitors_are_sent_to_the_login_page(served):
    anonymous = served.server.test_client()
    response = anonymous.get("/monitor?segment=region")
    assert response.status_code == 302
    target = urllib.parse.urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert urllib.parse.parse_qs(target.query) == {"next": ["/monitor?segment=region"]}
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/status"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/assets/plumbline.css").status_code == 200


def test_the_login_does_not_redirect_off_site(fresh):
    client = fresh.server.test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.get("/login")
        response = client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf": _csrf(client), "next": target},
        )
        assert response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf": _csrf(client)})


def _csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess.get("csrf", "")


def test_the_session_cookie_is_httponly_and_samesite_lax(fresh):
    client = fresh.server.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf": _csrf(client)}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_renewed_once_a_minute_not_on_every_response(fresh, monkeypatch):
    from app.auth import session as session_module

    now = [1_900_000_000.0]
    monkeypatch.setattr(session_module.time, "time", lambda: now[0])
    client = logged_in_client(fresh.server, "ana")

    def cookie_sent() -> str | None:
        response = client.get("/login")  # logged in: redirects, reading the session only
        return response.headers.get("Set-Cookie")

    assert cookie_sent() is None  # the login set it a moment ago
    now[0] += session_module.RENEW_SECONDS - 1
    assert cookie_sent() is None
    now[0] += 2
    renewed = cookie_sent()
    assert renewed is not None and "Expires=" in renewed and cookie_sent() is None
    now[0] += 3 * session_module.RENEW_SECONDS
    again = cookie_sent()
    assert again is not None and again != renewed  # signed again, with the new renewal time
    # Still logged in with the cookie it holds; a change to the session is always sent.
    assert client.get("/login").status_code == 302
    client.post("/logout", data={"csrf": _csrf(client)})
    assert client.get("/login").status_code == 200


def test_the_session_cookie_is_secure_behind_https(settings, warehouse, start_run):
    from app import create_app

    secure = settings.model_copy(
        update={"web": settings.web.model_copy(update={"secure_cookies": True})}
    )
    app = create_app(secure, warehouse, start_run)
    ensure_users(warehouse)
    client = app.server.test_client()
    client.get("/login", base_url="https://localhost")
    response = client.post(
        "/login",
        base_url="https://localhost",
        data={"username": "ana", "password": PASSWORD, "csrf": _csrf(client)},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_failed_logins_are_audited_then_throttled(fresh, warehouse):
    client = fresh.server.test_client()
    client.get("/login")
    answers = [
        client.post(
            "/login", data={"username": "ana", "password": "wrong password", "csrf": _csrf(client)}
        ).status_code
        for _ in range(6)
    ]
    assert answers == [401] * 5 + [429]
    # Even the right password waits now: the throttle does not tell which guess was right.
    right = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf": _csrf(client)}
    )
    assert right.status_code == 429 and "try again in" in right.get_data(as_text=True)
    logins = audit_store.list_events(warehouse, action="login").head(7)
    assert logins["outcome"].tolist() == ["throttled"] * 2 + ["failed"] * 5
    assert set(logins["target"]) == {"ana"}


def test_an_unknown_user_name_is_not_recorded_as_typed(fresh, warehouse):
    client = fresh.server.test_client()
    client.get("/login")
    typed = "my-password-typed-in-the-wrong-box"
    client.post("/login", data={"username": typed, "password": "x", "csrf": _csrf(client)})
    event = audit_store.list_events(warehouse, action="login").iloc[0]
    assert event["target"] == "(unknown user)" and event["outcome"] == "failed"
    assert typed not in audit_store.list_events(warehouse).to_csv()


def test_a_login_form_without_its_token_is_refused(fresh):
    client = fresh.server.test_client()
    response = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/_dash-layout").status_code == 401


def test_disabling_a_user_ends_their_session(fresh, fresh_clients, warehouse):
    from app.auth.session import ACCOUNTS
    from pipeline import accounts

    analyst = fresh_clients[Role.ANALYST]
    assert analyst.get("/_dash-layout").status_code == 200
    accounts.set_disabled(warehouse, "ana", True, "admin")
    ACCOUNTS.forget()  # the app re-reads accounts every few seconds; do it now
    assert analyst.get("/_dash-layout").status_code == 401
    accounts.set_disabled(warehouse, "ana", False, "admin")
    ACCOUNTS.forget()
    assert analyst.get("/_dash-layout").status_code == 401  # a new login is needed


def test_logging_out_ends_the_session_and_is_audited(fresh, fresh_clients, warehouse):
    analyst = fresh_clients[Role.ANALYST]
    response = analyst.post("/logout", data={"csrf": _csrf(analyst)})
    assert response.status_code == 302
    assert analyst.get("/_dash-layout").status_code == 401
    assert audit_store.list_events(warehouse, action="logout")["actor"].tolist() == ["ana"]


def test_a_wrong_or_malformed_bearer_token_is_refused_not_an_error(served):
    anonymous = served.server.test_client()
    for header in ("Bearer nope", "Bearer caf\u00e9", "Basic abc", ""):
        response = anonymous.get("/api/status", headers={"Authorization": header})
        assert response.status_code == 401, header
