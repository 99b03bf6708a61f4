"""Accounts, the audit chain, login throttling, redirects and the validation skeleton."""

from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html

from app.auth.gate import safe_next
from app.auth.skeleton import id_skeleton
from app.auth.throttle import LoginThrottle
from pipeline import accounts
from pipeline.accounts import AccountError, Role, allows
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store
from pipeline.warehouse import users as user_store


@pytest.fixture
def wh(tmp_path: Path):
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        yield warehouse


def test_passwords_are_stored_as_argon2id_hashes_only(wh):
    accounts.add_user(wh, "ana", "analyst", "a long password", "tests")
    stored = user_store.get_user(wh, "ana")
    assert stored.password_hash.startswith("$argon2id$")
    assert "a long password" not in stored.password_hash
    assert accounts.authenticate(wh, "ana", "a long password").role == "analyst"
    assert accounts.authenticate(wh, "ana", "a wrong password") is None
    assert accounts.authenticate(wh, "nobody", "a long password") is None
    assert accounts.authenticate(wh, "", "") is None


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(wh):
    accounts.add_user(wh, "ana", "analyst", "a long password", "tests")
    accounts.add_user(wh, "root", "admin", "a long password", "tests")
    version = user_store.get_user(wh, "ana").auth_version
    accounts.set_disabled(wh, "ana", True, "root")
    assert accounts.authenticate(wh, "ana", "a long password") is None
    assert user_store.get_user(wh, "ana").auth_version > version


def test_role_hierarchy():
    assert allows("admin", Role.ANALYST) and allows("analyst", Role.ANALYST)
    assert not allows("executive", Role.ANALYST)
    assert not allows(None, Role.EXECUTIVE) and not allows("root", Role.EXECUTIVE)


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("a", "analyst", "long enough pw", "user name"),
        ("<script>", "analyst", "long enough pw", "user name"),
        ("ana", "superuser", "long enough pw", "unknown role"),
        ("ana", "analyst", "short", "too short"),
    ],
)
def test_bad_account_details_are_refused_with_a_reason(wh, name, role, password, problem):
    with pytest.raises(AccountError, match=problem):
        accounts.add_user(wh, name, role, password, "tests")
    assert user_store.count_users(wh) == 0


def test_the_last_admin_cannot_be_disabled_or_demoted_and_no_one_disables_themselves(wh):
    accounts.add_user(wh, "root", "admin", "a long password", "tests")
    accounts.add_user(wh, "ana", "analyst", "a long password", "tests")
    with pytest.raises(AccountError, match="last enabled admin"):
        accounts.set_role(wh, "root", "analyst")
    with pytest.raises(AccountError, match="your own account"):
        accounts.set_disabled(wh, "root", True, "root")
    with pytest.raises(AccountError, match="last enabled admin"):
        accounts.set_disabled(wh, "root", True, "ana")
    with pytest.raises(accounts.UserExists):
        accounts.add_user(wh, "ana", "admin", "a long password", "tests")
    with pytest.raises(accounts.NoSuchUser):
        accounts.set_password(wh, "nobody", "a long password")


def test_the_first_admin_is_made_once(wh):
    password = accounts.bootstrap_admin(wh, None)
    assert password and accounts.authenticate(wh, "admin", password) is not None
    assert accounts.bootstrap_admin(wh, None) is None
    assert audit_store.list_events(wh)["action"].tolist() == ["user.add"]


def test_the_audit_chain_finds_an_edit_made_behind_plumblines_back(wh):
    for i in range(5):
        audit_store.record(wh, audit_store.AuditEvent("ana", "retrain", "ok", f"run #{i}"))
    assert audit_store.verify_chain(wh) is None
    wh.execute("UPDATE audit_log SET actor = 'mallory' WHERE event_id = 3")
    assert audit_store.verify_chain(wh) == 3
    with pytest.raises(ValueError, match="outcome"):
        audit_store.record(wh, audit_store.AuditEvent("ana", "retrain", "maybe"))


def test_audit_events_filter_by_actor_action_and_outcome(wh):
    audit_store.record(wh, audit_store.AuditEvent("ana", "login", "failed", "ana"))
    audit_store.record(wh, audit_store.AuditEvent("ana", "login", "ok", "ana"))
    audit_store.record(wh, audit_store.AuditEvent("root", "user.add", "ok", "erin"))
    assert len(audit_store.list_events(wh, actor="ana")) == 2
    assert audit_store.list_events(wh, action="login", outcome="ok")["event_id"].tolist() == [2]
    assert audit_store.distinct_values(wh, "actor") == ["ana", "root"]
    with pytest.raises(ValueError):
        audit_store.distinct_values(wh, "detail; DROP TABLE audit_log")


def test_the_throttle_waits_after_too_many_failures_then_forgets():
    now = [0.0]
    throttle = LoginThrottle(attempts=3, window_seconds=60, clock=lambda: now[0])
    keys = ["addr:1.2.3.4", "user:ana"]
    for _ in range(3):
        assert throttle.wait_seconds(keys) == 0
        throttle.fail(keys)
    assert throttle.wait_seconds(keys) == pytest.approx(60)
    assert throttle.wait_seconds(["addr:5.6.7.8", "user:ana"]) > 0  # same user, other address
    now[0] = 61.0
    assert throttle.wait_seconds(keys) == 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/monitor?segment=region", "/monitor?segment=region"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        (None, "/"),
    ],
)
def test_after_login_only_same_site_paths_are_followed(target, expected):
    assert safe_next(target) == expected


def test_the_validation_skeleton_keeps_ids_and_drops_content():
    layout = dbc.Card(
        [
            html.H2("Secret revenue 1,234,567"),
            dcc.Graph(id="g", figure={"data": [{"y": [1234567]}]}),
            dcc.Dropdown(id="d", options=["Alice Smith"], value="Alice Smith"),
            html.Div(id="note", children="alice@example.com"),
        ]
    )
    skeleton = str(id_skeleton([layout]).to_plotly_json())
    assert "'g'" in skeleton and "'d'" in skeleton and "'note'" in skeleton
    for leaked in ("1234567", "Alice Smith", "alice@example.com", "Secret revenue"):
        assert leaked not in skeleton
