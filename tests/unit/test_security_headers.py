"""Every response carries the security headers, and errors never show a traceback.

The app is built with ``create_app`` over an empty warehouse and exercised with Flask's test
client: a static asset, a page (a redirect to /login when logged out), the login page, a page
and a layout when logged in, a 404, a 405, a 413 and a callback that raises.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import pytest
from dash import Input, Output

from app import create_app
from app.auth import Role, requires
from app.security import install_security
from app.security.headers import HSTS
from pipeline.runner import RunRequest
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse
from tests.auth import ensure_users, logged_in_client

SECRET = "the callback failed on /secret/path/42"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _start_run(trigger: str, user: str | None) -> RunRequest:
    return RunRequest(True, 1, "Run #1 started")


def _build(settings: Settings, wh: Warehouse) -> dash.Dash:
    app = create_app(settings, wh, _start_run)

    @app.callback(Output("boom-out", "children"), Input("boom-in", "n_clicks"))
    @requires(Role.EXECUTIVE)
    def boom(n_clicks: int | None) -> str:
        raise RuntimeError(SECRET)

    install_security(app, settings)  # a no-op once create_app installs it
    ensure_users(wh)
    return app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Demo settings in a temporary data dir."""
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def wh(tmp_path: Path):
    """An empty, migrated warehouse."""
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    yield warehouse
    warehouse.close()


@pytest.fixture
def app(settings: Settings, wh: Warehouse) -> dash.Dash:
    """The app with one extra callback that always raises."""
    return _build(settings, wh)


@pytest.fixture
def admin(app: dash.Dash):
    """A test client logged in as the admin."""
    return logged_in_client(app.server, "admin")


def _assert_secured(response, app: dash.Dash, kind: str = "") -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (kind, name, response.status_code)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    script_src = directives["script-src"].split()
    assert script_src[0] == "'self'"
    assert set(app.csp_hashes()) <= set(script_src[1:])
    assert all(s.startswith("'sha256-") for s in script_src[1:])
    assert "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP by default


def _callback_body() -> dict:
    return {
        "output": "boom-out.children",
        "outputs": {"id": "boom-out", "property": "children"},
        "inputs": [{"id": "boom-in", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["boom-in.n_clicks"],
        "state": [],
    }


def test_every_kind_of_response_carries_the_security_headers(app, admin) -> None:
    anonymous = app.server.test_client()
    responses = {
        "asset": anonymous.get("/assets/plumbline.css"),
        "script bundle": anonymous.get("/_dash-component-suites/dash/deps/polyfill@7.12.1.min.js"),
        "redirect to login": anonymous.get("/models"),
        "login page": anonymous.get("/login"),
        "callback refused": anonymous.post("/_dash-update-component", json=_callback_body()),
        "page": admin.get("/"),
        "layout": admin.get("/_dash-layout"),
        "not found": admin.get("/assets/no-such-file.css"),
        "wrong method": admin.post("/assets/plumbline.css"),
        "unknown script": admin.get("/_dash-component-suites/dash/nope.js"),
        "callback error": admin.post("/_dash-update-component", json=_callback_body()),
    }
    assert responses["redirect to login"].status_code == 302
    assert responses["redirect to login"].headers["Location"].startswith("/login")
    assert responses["callback error"].status_code == 500
    assert responses["unknown script"].status_code == 404
    for kind, response in responses.items():
        _assert_secured(response, app, kind)


def test_the_policy_pins_the_inline_scripts_dash_renders(app, admin) -> None:
    page = admin.get("/")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    body = page.get_data(as_text=True)
    assert f"<script>{app.renderer}</script>" in body or app.renderer in body
    for script_hash in app.csp_hashes():
        assert script_hash in policy


def test_a_callback_that_raises_answers_500_without_a_traceback(app, admin, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        response = admin.post("/_dash-update-component", json=_callback_body())
    assert response.status_code == 500
    assert response.is_json
    text = response.get_data(as_text=True)
    for leak in (SECRET, "Traceback", "RuntimeError", 'File "', ".py"):
        assert leak not in text
    assert response.get_json() == {"error": response.get_json()["error"]}
    assert "went wrong" in response.get_json()["error"]
    assert SECRET in caplog.text  # the details are in the server's log instead


def test_a_wrong_method_keeps_its_allow_header(app, admin) -> None:
    response = admin.post("/assets/plumbline.css")  # static files are GET only
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.mimetype == "text/html"
    assert "does not accept" in response.get_data(as_text=True)


def test_errors_answer_html_to_browsers_and_json_to_json_clients(app, admin) -> None:
    # Unknown page paths are Dash's (its client-side "not found" page); unknown files are ours.
    page = admin.get("/assets/missing.php", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "no such page" in body and "<script" not in body
    data = admin.get("/assets/missing.php", headers={"Accept": "application/json"})
    assert data.status_code == 404
    assert data.get_json() == {"error": "There is no such page."}


def test_a_request_over_the_size_limit_is_refused_with_the_limit_in_mb(app, admin) -> None:
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    response = admin.post(
        "/_dash-update-component",
        data=b"{" + b" " * limit + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    message = response.get_json()["error"]
    assert f"{limit / 2**20:.0f} MB" in message
    _assert_secured(response, app)


def test_an_unknown_script_path_is_not_echoed_back(app) -> None:
    response = app.server.test_client().get(
        "/_dash-component-suites/dash/<script>alert(1)</script>.js"
    )
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


def test_hsts_is_sent_only_when_cookies_are_secure(tmp_path: Path, wh: Warehouse) -> None:
    settings = load_settings(data_dir=tmp_path / "tls", web={"secure_cookies": True})
    app = _build(settings, wh)
    response = app.server.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == HSTS
