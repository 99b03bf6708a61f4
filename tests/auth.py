"""Logging in from tests: accounts for each role, logged-in test clients, browser cookies."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import flask
from flask.sessions import SecureCookieSessionInterface

from app.auth.session import ACCOUNTS, SessionUser
from benchmarks.load_client import ROUTER, router_body  # noqa: F401  (the router's wire format)
from pipeline import accounts
from pipeline.accounts import Role
from pipeline.warehouse import Warehouse
from pipeline.warehouse import users as user_store

PASSWORD = "correct horse battery"
USERS = {Role.EXECUTIVE: "erin", Role.ANALYST: "ana", Role.ADMIN: "admin"}


def ensure_users(wh: Warehouse) -> dict[Role, str]:
    """One account per role (password :data:`PASSWORD`); returns role -> user name."""
    for role, name in USERS.items():
        if user_store.get_user(wh, name) is None:
            accounts.add_user(wh, name, role.value, PASSWORD, "tests")
    ACCOUNTS.forget()
    return dict(USERS)


@contextlib.contextmanager
def acting_as(
    server: flask.Flask, role: Role | None, username: str | None = None
) -> Iterator[None]:
    """A request context in which ``role`` (None: nobody) is logged in, for plain callbacks."""
    with server.test_request_context("/_dash-update-component", method="POST"):
        flask.g.plumbline_user = (
            None if role is None else SessionUser(username or USERS[role], role)
        )
        yield


def logged_in_client(server: flask.Flask, username: str, password: str = PASSWORD):
    """A Flask test client that has logged in through the login form."""
    client = server.test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf": csrf, "next": "/"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def session_cookie(secret_key: str, username: str, auth_version: int = 1) -> str:
    """The signed session cookie value a browser would hold after logging in."""
    app = flask.Flask("plumbline-test-cookie")
    app.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps(
        {"user": username, "v": auth_version, "csrf": "test", "_permanent": True}
    )


def callback_body(
    output: str, spec: dict, values: dict[str, object] | None = None, changed: bool = True
) -> dict:
    """The body a browser posts to run the callback ``output`` (its ``app.callback_map`` entry
    is ``spec``). ``values`` maps "component-id.property" to the value sent; the rest are None.
    With ``changed`` the first input is named as the one that changed."""
    values = values or {}

    def items(deps):
        return [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get(f"{d['id']}.{d['property']}"),
            }
            for d in deps
        ]

    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    inputs = spec.get("inputs", [])
    return {
        "output": output,
        "outputs": outputs if output.startswith("..") else outputs[0],
        "inputs": items(inputs),
        "state": items(spec.get("state", [])),
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in inputs[:1]] if changed else [],
    }


def callback_request(app, function_name: str, values: dict[str, object]) -> dict:
    """The body a browser posts to run the callback ``function_name`` of ``app``."""
    output, spec = next(
        (out, spec)
        for out, spec in app.callback_map.items()
        if getattr(spec.get("callback"), "__name__", "") == function_name
    )
    return callback_body(output, spec, values)
