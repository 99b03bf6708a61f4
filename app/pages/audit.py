"""Audit trail: who did what, when, from where, and how it ended. For admins.

Filters by person, action, outcome and days (UTC); a sortable, filterable grid of the events;
a CSV download of the filtered events (formula-safe); and whether the hash chain still holds,
i.e. no event was edited behind Plumbline's back.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from app.auth import Role, requires
from app.pages._audit_layout import (
    DOWNLOAD_LIMIT,
    PAGE_LIMIT,
    Ids,
    chain_verdict,
    choice,
    csv_text,
    events_card,
    filter_bar,
    grid_rows,
    options,
    page_note,
    window,
)
from app.pages._explain_layout import card, loading
from app.services import services
from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse import audit as audit_store

dash.register_page(
    __name__,
    path="/audit",
    name="Audit trail",
    title="Plumbline · Audit trail",
    order=21,
    role=Role.ADMIN,
)


def layout(**kwargs: Any) -> html.Div:
    """The page; query values are ignored."""
    wh = services().warehouse
    menus = [audit_store.distinct_values(wh, c) for c in ("actor", "action", "outcome")]
    return html.Div(
        [
            html.H2("Audit trail", className="h4 mt-3"),
            html.Div(
                "Logins, account changes, retrains, promotions, alert handling, uploads, "
                "settings changes and refused requests. Nothing in Plumbline edits or deletes "
                "an event. All times are UTC.",
                className="small text-muted mb-3",
            ),
            # Verifying reads every event, so it runs in a callback, after the page is shown.
            card("Integrity", None, loading(Ids.CHAIN, 60)),
            filter_bar(*menus),
            events_card(),
        ],
        className="audit-page",
    )


def _chain(wh: Warehouse) -> dbc.Alert:
    newest = audit_store.list_events(wh, limit=1)
    # Event ids run 1, 2, 3...; while the chain holds, the newest id is the number of events.
    count = int(newest["event_id"].iloc[0]) if not newest.empty else 0
    return chain_verdict(audit_store.verify_chain(wh), count)


def _events(actor: object, action: object, outcome: object, start: object, end: object, limit: int):
    since, until = window(start, end)
    return audit_store.list_events(
        services().warehouse,
        actor=choice(actor),
        action=choice(action),
        outcome=choice(outcome),
        since=since,
        until=until,
        limit=limit,
    )


@callback(
    Output(Ids.GRID, "rowData"),
    Output(Ids.NOTE, "children"),
    Input(Ids.ACTOR, "value"),
    Input(Ids.ACTION, "value"),
    Input(Ids.OUTCOME, "value"),
    Input(Ids.DATES, "start_date"),
    Input(Ids.DATES, "end_date"),
    Input(Ids.REFRESH, "n_clicks"),
)
@requires(Role.ADMIN)
def update_events(
    actor: object, action: object, outcome: object, start: object, end: object, refresh: object
) -> tuple[list[dict[str, Any]], str]:
    """The newest events matching the filters, and what the grid holds in words."""
    rows = grid_rows(_events(actor, action, outcome, start, end, PAGE_LIMIT))
    return rows, page_note(len(rows))


@callback(
    Output(Ids.CHAIN, "children"),
    Output(Ids.ACTOR, "options"),
    Output(Ids.ACTION, "options"),
    Output(Ids.OUTCOME, "options"),
    Input(Ids.REFRESH, "n_clicks"),
)
@requires(Role.ADMIN)
def refresh_trail(n_clicks: int | None) -> tuple[Any, ...]:
    """Whether the hash chain holds, and the filter menus (again after a refresh)."""
    wh = services().warehouse
    return (
        _chain(wh),
        options(audit_store.distinct_values(wh, "actor"), "Anyone"),
        options(audit_store.distinct_values(wh, "action"), "Any action"),
        options(audit_store.distinct_values(wh, "outcome"), "Any outcome"),
    )


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input(Ids.DOWNLOAD_BUTTON, "n_clicks"),
    State(Ids.ACTOR, "value"),
    State(Ids.ACTION, "value"),
    State(Ids.OUTCOME, "value"),
    State(Ids.DATES, "start_date"),
    State(Ids.DATES, "end_date"),
    prevent_initial_call=True,
)
@requires(Role.ADMIN)
def download_events(
    n_clicks: int | None, actor: object, action: object, outcome: object, start: object, end: object
) -> dict[str, Any]:
    """The events matching the filters as a CSV file, whole and formula-safe."""
    frame = _events(actor, action, outcome, start, end, DOWNLOAD_LIMIT)
    name = f"plumbline_audit_{utcnow():%Y%m%d_%H%M%S}Z.csv"
    return dcc.send_string(csv_text(frame), name, type="text/csv")
