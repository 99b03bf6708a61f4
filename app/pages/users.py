"""Users: who may log in, with which role. For admins.

The accounts grid (never a password hash), a form to add an account with a typed or generated
password, and, for the chosen account, changing its role, disabling or enabling it, and setting
a new password. The accounts module enforces the rules (no admin disables themselves, the last
enabled admin stays an admin); every change, and every refusal, goes to the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from app.audit import audit
from app.auth import Role, requires
from app.identity import current_actor
from app.pages._users_layout import GENERATE, Ids, accounts_card, add_card, stores, user_rows
from app.services import services
from pipeline import accounts
from pipeline.warehouse import users as user_store
from pipeline.warehouse import utcnow

dash.register_page(
    __name__,
    path="/users",
    name="Users",
    title="Plumbline · Users",
    order=20,
    role=Role.ADMIN,
)

TARGET_MAX = 80  # a refused user name is the admin's typing: keep the audit row short
# What the accounts module refuses with a message meant for people.
REFUSALS = (accounts.AccountError, accounts.UserExists, accounts.NoSuchUser)


def layout(**kwargs: Any) -> html.Div:
    """The page; query values are ignored."""
    rows = user_rows(user_store.list_users(services().warehouse))
    return html.Div(
        [
            *stores(),
            html.H2("Users", className="h4 mt-3"),
            html.Div(
                "Accounts and roles. Executives read the business pages; analysts also see "
                "data, models, monitoring and runs, and retrain, promote and roll back; admins "
                "also manage users, see the settings and the audit trail. Times are UTC.",
                className="small text-muted mb-3",
            ),
            accounts_card(rows),
            add_card(),
        ],
        className="users-page",
    )


# -- the grid and the chosen account -----------------------------------------------------------


@callback(Output(Ids.GRID, "rowData"), Input(Ids.REFRESH, "data"), prevent_initial_call=True)
@requires(Role.ADMIN)
def update_users(refresh: object) -> list[dict[str, Any]]:
    """The accounts again, after a change."""
    return user_rows(user_store.list_users(services().warehouse))


def chosen(selected: object, rows: object) -> dict[str, Any] | None:
    """The chosen account's current row (from the grid's latest data), or None."""
    if not isinstance(selected, list) or not selected or not isinstance(selected[0], dict):
        return None
    name = selected[0].get("username")
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("username") == name:
            return row
    return None


@callback(
    Output(Ids.SELECTED, "children"),
    Output(Ids.ROLE, "value"),
    Output(Ids.CHANGE_ROLE, "disabled"),
    Output(Ids.DISABLE, "disabled"),
    Output(Ids.ENABLE, "disabled"),
    Output(Ids.SET_PASSWORD, "disabled"),
    Input(Ids.GRID, "selectedRows"),
    Input(Ids.GRID, "rowData"),
)
@requires(Role.ADMIN)
def describe_selection(selected: object, rows: object) -> tuple[Any, ...]:
    """Which account the actions apply to, its role, and which actions fit its state."""
    row = chosen(selected, rows)
    if row is None:
        return "Click an account in the table.", None, True, True, True, True
    you = " (you)" if row["username"] == current_actor() else ""
    text = f"{row['username']}{you}: {row['role']}, {row['status']}"
    disabled = row["status"] == "disabled"
    return text, row["role"], False, disabled, not disabled, False


@callback(
    Output(Ids.NEW_PASSWORD, "disabled"),
    Output(Ids.RESET_PASSWORD, "disabled"),
    Input(Ids.NEW_MODE, "value"),
    Input(Ids.RESET_MODE, "value"),
)
@requires(Role.ADMIN)
def password_fields(new_mode: object, reset_mode: object) -> tuple[bool, bool]:
    """A password field is open only when the admin chose to type the password."""
    return new_mode == GENERATE, reset_mode == GENERATE


# -- changes ------------------------------------------------------------------------------------


def _alert(children: Any, color: str) -> dbc.Alert:
    return dbc.Alert(children, color=color, dismissable=True, class_name="py-2 mb-0")


def _refresh() -> str:
    return utcnow().isoformat()


def _password(mode: object, typed: object) -> tuple[str, bool]:
    """(the password to set, whether it was generated)."""
    if mode == GENERATE:
        return accounts.generate_password(), True
    return (typed if isinstance(typed, str) else ""), False


def _shown_once(name: str, password: str) -> list[Any]:
    return [
        html.Div([f"Password for {name}: ", html.Code(password, className="user-select-all fs-6")]),
        html.Div(
            "It is shown only this once. Pass it on securely (in person or through a "
            "password manager, not in plain e-mail or chat) and ask them to keep it private.",
            className="small mt-1",
        ),
    ]


def _attempt(
    action: str, target: str, do: Callable[[], str | list[Any]], detail: str | None = None
) -> tuple[dbc.Alert, bool]:
    """Run ``do``, audit the outcome, and return (the alert to show, whether it worked)."""
    try:
        message = do()
    except REFUSALS as error:
        why = str(error.args[0]) if error.args else str(error)
        audit(action, target=target[:TARGET_MAX], outcome="refused", detail=why)
        return _alert(f"Not done: {why}.", "danger"), False
    audit(action, target=target, detail=detail)
    return _alert(message, "success"), True


@callback(
    Output(Ids.ADD_FEEDBACK, "children"),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Output(Ids.NEW_NAME, "value"),
    Output(Ids.NEW_PASSWORD, "value"),
    Input(Ids.ADD, "n_clicks"),
    State(Ids.NEW_NAME, "value"),
    State(Ids.NEW_ROLE, "value"),
    State(Ids.NEW_MODE, "value"),
    State(Ids.NEW_PASSWORD, "value"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN, action="user.add")
def add_user(
    n_clicks: int | None, name: object, role: object, mode: object, typed: object
) -> tuple[Any, ...]:
    """Create the account; a generated password is shown once in the result."""
    name = name.strip() if isinstance(name, str) else ""
    role = role if isinstance(role, str) else ""
    password, generated = _password(mode, typed)

    def do() -> str | list[Any]:
        accounts.add_user(services().warehouse, name, role, password, by=current_actor())
        added = html.Div(f"Added {name} as {role}.")
        return [added, *_shown_once(name, password)] if generated else [added]

    how = "generated" if generated else "typed"
    alert, ok = _attempt("user.add", name, do, f"role {role}, {how} password")
    if not ok:
        return alert, no_update, no_update, ""
    return alert, _refresh(), "", ""


_CHANGE_OUTPUTS = (
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Output(Ids.RESET_PASSWORD, "value", allow_duplicate=True),
)
NOTHING_CHOSEN = "Click an account in the table first."


def _change(
    action: str,
    selected: object,
    rows: object,
    do: Callable[[str], str | list[Any]],
    detail: str | None = None,
) -> tuple[Any, ...]:
    row = chosen(selected, rows)
    if row is None:
        return _alert(NOTHING_CHOSEN, "warning"), no_update, ""
    alert, ok = _attempt(action, row["username"], lambda: do(row["username"]), detail)
    return alert, (_refresh() if ok else no_update), ""


@callback(
    *_CHANGE_OUTPUTS,
    Input(Ids.DISABLE, "n_clicks"),
    State(Ids.GRID, "selectedRows"),
    State(Ids.GRID, "rowData"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN, action="user.disable")
def disable_user(n_clicks: int | None, selected: object, rows: object) -> tuple[Any, ...]:
    """Disable the chosen account, ending its sessions."""

    def do(name: str) -> str:
        accounts.set_disabled(services().warehouse, name, True, by=current_actor())
        return f"{name} is disabled and logged out everywhere."

    return _change("user.disable", selected, rows, do)


@callback(
    *_CHANGE_OUTPUTS,
    Input(Ids.ENABLE, "n_clicks"),
    State(Ids.GRID, "selectedRows"),
    State(Ids.GRID, "rowData"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN, action="user.enable")
def enable_user(n_clicks: int | None, selected: object, rows: object) -> tuple[Any, ...]:
    """Enable the chosen account again."""

    def do(name: str) -> str:
        accounts.set_disabled(services().warehouse, name, False, by=current_actor())
        return f"{name} may log in again."

    return _change("user.enable", selected, rows, do)


@callback(
    *_CHANGE_OUTPUTS,
    Input(Ids.CHANGE_ROLE, "n_clicks"),
    State(Ids.GRID, "selectedRows"),
    State(Ids.GRID, "rowData"),
    State(Ids.ROLE, "value"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN, action="user.role")
def change_role(
    n_clicks: int | None, selected: object, rows: object, role: object
) -> tuple[Any, ...]:
    """Give the chosen account the chosen role, ending its sessions."""
    row = chosen(selected, rows)
    new = role if isinstance(role, str) else ""
    if row is not None and row["role"] == new:
        return _alert(f"{row['username']} is already {new}.", "info"), no_update, ""

    def do(name: str) -> str:
        accounts.set_role(services().warehouse, name, new)
        return f"{name} is now {new}; their open sessions have ended."

    old = row["role"] if row else "?"
    return _change("user.role", selected, rows, do, f"from {old} to {new}")


@callback(
    *_CHANGE_OUTPUTS,
    Input(Ids.SET_PASSWORD, "n_clicks"),
    State(Ids.GRID, "selectedRows"),
    State(Ids.GRID, "rowData"),
    State(Ids.RESET_MODE, "value"),
    State(Ids.RESET_PASSWORD, "value"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN, action="user.password")
def set_password(
    n_clicks: int | None, selected: object, rows: object, mode: object, typed: object
) -> tuple[Any, ...]:
    """Give the chosen account a new password (generated: shown once), ending its sessions."""
    password, generated = _password(mode, typed)

    def do(name: str) -> str | list[Any]:
        accounts.set_password(services().warehouse, name, password)
        done = html.Div(f"{name} has a new password; their open sessions have ended.")
        return [done, *_shown_once(name, password)] if generated else [done]

    return _change("user.password", selected, rows, do, "generated" if generated else "typed")
