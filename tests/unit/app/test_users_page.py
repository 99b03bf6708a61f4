"""The Users page: the accounts grid, adding accounts, and changing one, each written to the
audit trail with the acting admin, the action and its outcome. Callbacks are called as plain
functions inside a request whose logged-in user is the admin ``root``."""

from __future__ import annotations

import importlib
from types import ModuleType

import dash
import flask
import pytest
from dash import html, no_update

from app.auth import Role, SessionUser, needed_role
from pipeline import accounts
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store

ROOT_PASSWORD = "root-password-123"
ANN_PASSWORD = "ann-password-456"


@pytest.fixture
def wh(empty_warehouse: Warehouse) -> Warehouse:
    """root (admin, the acting user) and ann (analyst)."""
    accounts.add_user(empty_warehouse, "root", "admin", ROOT_PASSWORD, by="test")
    accounts.add_user(empty_warehouse, "ann", "analyst", ANN_PASSWORD, by="root")
    return empty_warehouse


@pytest.fixture
def page(make_app, wh) -> ModuleType:
    """The Users page, called inside a request of the logged-in admin root."""
    app = make_app(wh)
    module = importlib.import_module("app.pages.users")
    with app.server.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        flask.g.plumbline_user = SessionUser("root", Role.ADMIN)
        yield module


def _rows(page: ModuleType) -> list[dict]:
    return page.update_users("tick")


def _choose(page: ModuleType, name: str) -> tuple[list[dict], list[dict]]:
    """(selectedRows, rowData) with ``name`` chosen in the grid."""
    rows = _rows(page)
    return [next(r for r in rows if r["username"] == name)], rows


def _last_event(wh: Warehouse):
    return audit_store.list_events(wh, limit=1).iloc[0]


def _alert(result) -> tuple[str, str]:
    alert = result[0]
    return alert.color, _text(alert)


def _text(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list | tuple):
        return " ".join(_text(n) for n in node)
    return _text(getattr(node, "children", None) or "")


def _code(node) -> str:
    """The text of the first html.Code in a component tree (the password shown once)."""
    if isinstance(node, html.Code):
        return node.children
    children = getattr(node, "children", None) if not isinstance(node, list) else node
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str) and (found := _code(child)):
            return found
    return ""


# -- the page and its grid ------------------------------------------------------------------------


def test_the_page_is_for_admins_and_every_callback_says_so(page):
    entry = dash.page_registry["app.pages.users"]
    assert (entry["path"], entry["order"], entry["role"]) == ("/users", 20, Role.ADMIN)
    assert entry["title"] == "Plumbline · Users"
    for name in ("update_users", "describe_selection", "password_fields"):
        assert needed_role(getattr(page, name)) == (Role.ADMIN, None)
    for name, action in (
        ("add_user", "user.add"),
        ("disable_user", "user.disable"),
        ("enable_user", "user.enable"),
        ("change_role", "user.role"),
        ("set_password", "user.password"),
    ):
        assert needed_role(getattr(page, name)) == (Role.ADMIN, action)


def test_the_grid_lists_accounts_without_their_password_hashes(page, wh):
    rows = _rows(page)
    assert [r["username"] for r in rows] == ["ann", "root"]
    ann = rows[0]
    assert (ann["role"], ann["status"], ann["created_by"], ann["last_login"]) == (
        "analyst",
        "enabled",
        "root",
        "never",
    )
    assert "argon2" not in repr(rows) and "password" not in repr(rows)
    assert "argon2" not in repr(page.layout())


def test_choosing_an_account_fills_the_actions(page):
    selected, rows = _choose(page, "ann")
    text, role, change_off, disable_off, enable_off, password_off = page.describe_selection(
        selected, rows
    )
    assert text == "ann: analyst, enabled"
    assert (role, change_off, disable_off, enable_off, password_off) == (
        "analyst",
        False,
        False,
        True,
        False,
    )
    assert page.describe_selection(*_choose(page, "root"))[0] == "root (you): admin, enabled"
    assert page.describe_selection([], rows)[2:] == (True, True, True, True)


def test_a_password_field_opens_only_when_typing_is_chosen(page):
    assert page.password_fields("generate", "type") == (True, False)


# -- adding ---------------------------------------------------------------------------------------


def test_adding_with_a_typed_password(page, wh):
    alert, refresh, name, password = page.add_user(1, " bob ", "executive", "type", "bob-pass-1234")
    assert alert.color == "success" and "Added bob as executive." in _text(alert)
    assert "bob-pass-1234" not in _text(alert)
    assert refresh is not no_update and (name, password) == ("", "")
    assert accounts.authenticate(wh, "bob", "bob-pass-1234").role == "executive"
    event = _last_event(wh)
    assert (event.actor, event.role, event.action, event.target, event.outcome) == (
        "root",
        "admin",
        "user.add",
        "bob",
        "ok",
    )
    assert event.detail == "role executive, typed password"
    assert event.address == "10.0.0.7"
    assert "bob" in [r["username"] for r in _rows(page)]


def test_a_generated_password_is_shown_once_and_works(page, wh):
    alert, *_ = page.add_user(1, "carol", "analyst", "generate", "ignored-typed-value")
    shown = _code(alert)
    assert len(shown) >= accounts.MIN_PASSWORD
    assert "shown only this once" in _text(alert) and "securely" in _text(alert)
    assert accounts.authenticate(wh, "carol", shown) is not None
    assert accounts.authenticate(wh, "carol", "ignored-typed-value") is None
    event = _last_event(wh)
    assert (event.action, event.outcome, event.detail) == (
        "user.add",
        "ok",
        "role analyst, generated password",
    )
    assert shown not in repr(audit_store.list_events(wh).to_dict())


def test_a_duplicate_name_is_refused_and_audited(page, wh):
    alert, refresh, name, _ = page.add_user(1, "ann", "admin", "type", "another-pass-99")
    assert alert.color == "danger" and "exists already" in _text(alert)
    assert refresh is no_update and name is no_update
    event = _last_event(wh)
    assert (event.actor, event.action, event.target, event.outcome) == (
        "root",
        "user.add",
        "ann",
        "refused",
    )
    assert "exists already" in event.detail
    assert accounts.authenticate(wh, "ann", ANN_PASSWORD).role == "analyst"


def test_a_short_password_is_refused_and_audited(page, wh):
    color, text = _alert(page.add_user(1, "dave", "analyst", "type", "short"))
    assert color == "danger" and "too short" in text
    assert "short" not in (_last_event(wh).detail or "").replace("too short", "")
    assert (_last_event(wh).outcome, _last_event(wh).target) == ("refused", "dave")
    assert "dave" not in [r["username"] for r in _rows(page)]


# -- changing an account --------------------------------------------------------------------------


def test_disabling_and_enabling_an_account(page, wh):
    alert, refresh, _ = page.disable_user(1, *_choose(page, "ann"))
    assert alert.color == "success" and refresh is not no_update
    assert accounts.authenticate(wh, "ann", ANN_PASSWORD) is None
    assert page.describe_selection(*_choose(page, "ann"))[0] == "ann: analyst, disabled"
    event = _last_event(wh)
    assert (event.actor, event.action, event.target, event.outcome) == (
        "root",
        "user.disable",
        "ann",
        "ok",
    )
    alert, _, _ = page.enable_user(1, *_choose(page, "ann"))
    assert alert.color == "success"
    assert accounts.authenticate(wh, "ann", ANN_PASSWORD) is not None
    assert (_last_event(wh).action, _last_event(wh).outcome) == ("user.enable", "ok")


def test_an_admin_cannot_disable_themselves(page, wh):
    color, text = _alert(page.disable_user(1, *_choose(page, "root")))
    assert color == "danger" and "cannot disable your own account" in text
    event = _last_event(wh)
    assert (event.action, event.target, event.outcome) == ("user.disable", "root", "refused")
    assert accounts.authenticate(wh, "root", ROOT_PASSWORD) is not None


def test_the_last_admin_keeps_the_admin_role(page, wh):
    color, text = _alert(page.change_role(1, *_choose(page, "root"), "analyst"))
    assert color == "danger" and "last enabled admin" in text
    event = _last_event(wh)
    assert (event.action, event.target, event.outcome) == ("user.role", "root", "refused")
    assert "last enabled admin" in event.detail
    assert next(r for r in _rows(page) if r["username"] == "root")["role"] == "admin"


def test_changing_a_role(page, wh):
    alert, refresh, _ = page.change_role(1, *_choose(page, "ann"), "admin")
    assert alert.color == "success" and refresh is not no_update
    assert next(r for r in _rows(page) if r["username"] == "ann")["role"] == "admin"
    event = _last_event(wh)
    assert (event.actor, event.action, event.target, event.outcome, event.detail) == (
        "root",
        "user.role",
        "ann",
        "ok",
        "from analyst to admin",
    )
    # the same role again changes nothing and records nothing
    before = len(audit_store.list_events(wh))
    assert page.change_role(1, *_choose(page, "ann"), "admin")[0].color == "info"
    assert len(audit_store.list_events(wh)) == before


def test_a_new_password_replaces_the_old_one(page, wh):
    alert, refresh, typed = page.set_password(
        1, *_choose(page, "ann"), "type", "fresh-password-789"
    )
    assert alert.color == "success" and typed == ""
    assert accounts.authenticate(wh, "ann", ANN_PASSWORD) is None
    assert accounts.authenticate(wh, "ann", "fresh-password-789") is not None
    event = _last_event(wh)
    assert (event.action, event.target, event.outcome, event.detail) == (
        "user.password",
        "ann",
        "ok",
        "typed",
    )
    alert, _, _ = page.set_password(1, *_choose(page, "ann"), "generate", None)
    generated = _code(alert)
    assert accounts.authenticate(wh, "ann", "fresh-password-789") is None
    assert accounts.authenticate(wh, "ann", generated) is not None
    assert _last_event(wh).detail == "generated"


def test_a_short_new_password_is_refused(page, wh):
    color, text = _alert(page.set_password(1, *_choose(page, "ann"), "type", "tiny"))
    assert color == "danger" and "too short" in text
    assert (_last_event(wh).action, _last_event(wh).outcome) == ("user.password", "refused")
    assert accounts.authenticate(wh, "ann", ANN_PASSWORD) is not None


def test_an_action_without_a_chosen_account_does_nothing(page, wh):
    before = len(audit_store.list_events(wh))
    alert, refresh, _ = page.disable_user(1, [], _rows(page))
    assert alert.color == "warning" and refresh is no_update
    assert len(audit_store.list_events(wh)) == before


def test_an_account_removed_meanwhile_is_refused(page, wh):
    selected = [{"username": "ghost"}]
    rows = [{"username": "ghost", "role": "analyst", "status": "enabled"}]
    color, text = _alert(page.enable_user(1, selected, rows))
    assert color == "danger" and "no user called 'ghost'" in text
    assert (_last_event(wh).target, _last_event(wh).outcome) == ("ghost", "refused")
