"""The Users page's component ids, the accounts grid's rows, and the static parts of its layout.

Kept apart from the page module (``layout`` and the callbacks) so each stays short; the leading
underscore keeps it out of the page list.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from app.figures.formatting import is_missing
from app.pages._explain_layout import card
from pipeline.accounts import MIN_PASSWORD, Role


class Ids(StrEnum):
    """Component ids of the Users page."""

    REFRESH = "users-refresh"
    GRID = "users-grid"
    NEW_NAME = "users-new-name"
    NEW_ROLE = "users-new-role"
    NEW_MODE = "users-new-mode"
    NEW_PASSWORD = "users-new-password"
    ADD = "users-add"
    ADD_FEEDBACK = "users-add-feedback"
    SELECTED = "users-selected"
    ROLE = "users-role"
    CHANGE_ROLE = "users-change-role"
    DISABLE = "users-disable"
    ENABLE = "users-enable"
    RESET_MODE = "users-reset-mode"
    RESET_PASSWORD = "users-reset-password"
    SET_PASSWORD = "users-set-password"
    FEEDBACK = "users-feedback"


GENERATE, TYPE = "generate", "type"

ROLE_OPTIONS = [
    {"label": "Executive: the business pages", "value": Role.EXECUTIVE.value},
    {"label": "Analyst: also data, models, monitoring, runs", "value": Role.ANALYST.value},
    {"label": "Admin: also users, settings, audit trail", "value": Role.ADMIN.value},
]
PASSWORD_MODES = [
    {"label": "Generate a password (shown once)", "value": GENERATE},
    {"label": "Type a password", "value": TYPE},
]

COLUMNS: list[dict[str, Any]] = [
    {"field": "username", "headerName": "User", "width": 170, "pinned": "left"},
    {"field": "role", "headerName": "Role", "width": 120},
    {"field": "status", "headerName": "Status", "width": 110},
    {"field": "created", "headerName": "Created (UTC)", "width": 160},
    {"field": "created_by", "headerName": "Created by", "width": 190},
    {"field": "last_login", "headerName": "Last login (UTC)", "width": 160},
    {"field": "updated", "headerName": "Last changed (UTC)", "flex": 1, "minWidth": 160},
]


def stamp(value: object, missing: str = "—") -> str:
    """A stored UTC timestamp to the minute, or ``missing``."""
    if is_missing(value):
        return missing
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"  # type: ignore[arg-type]


def user_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid rows of :func:`pipeline.warehouse.users.list_users`; no password hash is read."""
    return [
        {
            "username": str(r.username),
            "role": str(r.role),
            "status": "disabled" if bool(r.disabled) else "enabled",
            "created": stamp(r.created_at),
            "created_by": str(r.created_by),
            "last_login": stamp(r.last_login_at, "never"),
            "updated": stamp(r.updated_at),
        }
        for r in frame.itertuples(index=False)
    ]


def _password_choice(mode_id: str, password_id: str) -> list[Any]:
    return [
        dbc.RadioItems(id=mode_id, options=PASSWORD_MODES, value=GENERATE, class_name="small mb-1"),
        dbc.Input(
            id=password_id,
            type="password",
            placeholder=f"at least {MIN_PASSWORD} characters",
            autocomplete="new-password",
            disabled=True,
            size="sm",
            maxLength=200,
        ),
    ]


def accounts_card(rows: list[dict[str, Any]]) -> dbc.Card:
    """The accounts grid and the actions on the chosen account."""
    grid = dag.AgGrid(
        id=Ids.GRID,
        columnDefs=COLUMNS,
        rowData=rows,
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        getRowId="params.data.username",
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "enableCellTextSelection": True,
        },
        style={"height": "300px", "width": "100%"},
    )
    actions = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Role", html_for=Ids.ROLE, class_name="small text-muted mb-1"),
                    dbc.InputGroup(
                        [
                            dbc.Select(id=Ids.ROLE, options=ROLE_OPTIONS, value=None),
                            dbc.Button(
                                "Change role", id=Ids.CHANGE_ROLE, color="primary", disabled=True
                            ),
                        ],
                        size="sm",
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                "Disable",
                                id=Ids.DISABLE,
                                color="danger",
                                outline=True,
                                size="sm",
                                disabled=True,
                                class_name="me-2",
                            ),
                            dbc.Button(
                                "Enable",
                                id=Ids.ENABLE,
                                color="success",
                                outline=True,
                                size="sm",
                                disabled=True,
                            ),
                        ],
                        className="mt-3",
                    ),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    dbc.Label("New password", class_name="small text-muted mb-1"),
                    *_password_choice(Ids.RESET_MODE, Ids.RESET_PASSWORD),
                    dbc.Button(
                        "Set password",
                        id=Ids.SET_PASSWORD,
                        color="primary",
                        outline=True,
                        size="sm",
                        disabled=True,
                        class_name="mt-2",
                    ),
                ],
                lg=6,
            ),
        ],
        class_name="g-3 mt-1",
    )
    return card(
        "Accounts",
        "Click an account to change its role, disable or enable it, or give it a new "
        "password. Every change ends that person's open sessions and is written to the audit "
        "trail.",
        [
            grid,
            html.Div(
                "Click an account in the table.",
                id=Ids.SELECTED,
                className="small fw-semibold mt-3",
            ),
            actions,
            html.Div(id=Ids.FEEDBACK, className="mt-3"),
        ],
    )


def add_card() -> dbc.Card:
    """The form that adds an account."""
    form = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("User name", html_for=Ids.NEW_NAME, class_name="small mb-1"),
                    dbc.Input(
                        id=Ids.NEW_NAME,
                        placeholder="e.g. j.doe",
                        autocomplete="off",
                        size="sm",
                        maxLength=64,
                    ),
                    html.Div(
                        "2 to 64 letters, digits, '.', '_', '@' or '-'.",
                        className="small text-muted mt-1",
                    ),
                ],
                md=4,
            ),
            dbc.Col(
                [
                    dbc.Label("Role", html_for=Ids.NEW_ROLE, class_name="small mb-1"),
                    dbc.Select(
                        id=Ids.NEW_ROLE,
                        options=ROLE_OPTIONS,
                        value=Role.ANALYST.value,
                        size="sm",
                    ),
                ],
                md=4,
            ),
            dbc.Col(
                [
                    dbc.Label("Password", class_name="small mb-1"),
                    *_password_choice(Ids.NEW_MODE, Ids.NEW_PASSWORD),
                ],
                md=4,
            ),
        ],
        class_name="g-3",
    )
    return card(
        "Add an account",
        None,
        [
            form,
            dbc.Button("Add account", id=Ids.ADD, color="primary", size="sm", class_name="mt-3"),
            html.Div(id=Ids.ADD_FEEDBACK, className="mt-3"),
        ],
    )


def stores() -> list[Any]:
    """The store whose change makes the grid re-read the accounts."""
    return [dcc.Store(id=Ids.REFRESH)]
