"""The Audit page's component ids, its rows, CSV and chain verdict, and its static layout.

Kept apart from the page module (``layout`` and the callbacks) so each stays short; the leading
underscore keeps it out of the page list.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from app.components.filters import filter_card, labelled_select
from app.figures.formatting import is_missing
from app.pages._data_quarantine import neutralise_frame
from app.pages._explain_layout import card

ALL = "*"  # the "any" choice of a filter menu; no actor, action or outcome starts with it
PAGE_LIMIT = 5_000  # newest events sent to the grid; narrower filters reach older ones
DOWNLOAD_LIMIT = 200_000
DETAIL_SHOWN = 400  # characters of a detail in the grid (a settings snapshot is long)
STAMP = "%Y-%m-%d %H:%M:%S"
BAD_OUTCOMES = ("failed", "refused", "throttled", "denied")


class Ids(StrEnum):
    """Component ids of the Audit page."""

    ACTOR = "audit-actor"
    ACTION = "audit-action"
    OUTCOME = "audit-outcome"
    DATES = "audit-dates"
    REFRESH = "audit-refresh"
    GRID = "audit-grid"
    NOTE = "audit-note"
    DOWNLOAD_BUTTON = "audit-download-button"
    DOWNLOAD = "audit-download"
    CHAIN = "audit-chain"


HEADERS = {
    "event_id": "#",
    "at": "Time (UTC)",
    "actor": "Who",
    "role": "Role",
    "address": "From",
    "action": "Action",
    "target": "On",
    "outcome": "Outcome",
    "detail": "Detail",
}

COLUMNS: list[dict[str, Any]] = [
    {
        "field": "event_id",
        "headerName": "#",
        "width": 90,
        "filter": "agNumberColumnFilter",
        "type": "rightAligned",
        "sort": "desc",
    },
    {"field": "at", "headerName": "Time (UTC)", "width": 175},
    {"field": "actor", "headerName": "Who", "width": 160, "tooltipField": "actor"},
    {"field": "role", "headerName": "Role", "width": 105},
    {"field": "address", "headerName": "From", "width": 130},
    {"field": "action", "headerName": "Action", "width": 150},
    {"field": "target", "headerName": "On", "width": 170, "tooltipField": "target"},
    {
        "field": "outcome",
        "headerName": "Outcome",
        "width": 115,
        "cellClassRules": {
            "text-danger fw-bold": f"{list(BAD_OUTCOMES)}.includes(params.value)",
        },
    },
    {
        "field": "detail",
        "headerName": "Detail",
        "flex": 1,
        "minWidth": 260,
        "tooltipField": "detail",
    },
]


def options(values: list[str], everything: str) -> list[dict[str, str]]:
    """A filter menu: "any" first, then the values seen in the trail."""
    return [{"label": everything, "value": ALL}] + [{"label": v, "value": v} for v in values]


def choice(value: object) -> str | None:
    """A filter menu's value as a filter (None for "any")."""
    return value if isinstance(value, str) and value and value != ALL else None


def day(value: object) -> date | None:
    """A date picker's ``YYYY-MM-DD`` (possibly with a time) as a date; None when unset/odd."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def window(start: object, end: object) -> tuple[datetime | None, datetime | None]:
    """(since, until) in UTC for a date range; both days are included."""
    first, last = day(start), day(end)
    since = datetime.combine(first, time()) if first else None
    until = datetime.combine(last + timedelta(days=1), time()) if last else None
    return since, until


def _text(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


def grid_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid rows of :func:`pipeline.warehouse.audit.list_events`; long details shortened."""
    rows = []
    for r in frame.itertuples(index=False):
        detail = _text(r.detail)
        if detail and len(detail) > DETAIL_SHOWN:
            detail = detail[:DETAIL_SHOWN] + "… (whole text in the CSV)"
        rows.append(
            {
                "event_id": int(r.event_id),
                "at": f"{pd.Timestamp(r.at):{STAMP}}",
                "actor": str(r.actor),
                "role": _text(r.role),
                "address": _text(r.address),
                "action": str(r.action),
                "target": _text(r.target),
                "outcome": str(r.outcome),
                "detail": detail,
            }
        )
    return rows


def csv_text(frame: pd.DataFrame) -> str:
    """The events as CSV with readable headers, times in UTC, every text cell neutralised."""
    data = frame.copy()
    data["at"] = [f"{pd.Timestamp(v):{STAMP}}" for v in data["at"]]
    return neutralise_frame(data.rename(columns=HEADERS)).to_csv(index=False)


def page_note(shown: int) -> str:
    """What the grid holds, in words."""
    if shown == 0:
        return "No audit event matches these filters."
    if shown >= PAGE_LIMIT:
        return (
            f"Showing the newest {PAGE_LIMIT:,} matching events; narrow the filters or the "
            f"dates to see older ones (the CSV holds up to {DOWNLOAD_LIMIT:,})."
        )
    text = "Showing the one matching event." if shown == 1 else f"Showing {shown:,} events."
    return text + " Sort and filter any column in its header."


def chain_verdict(broken: int | None, newest: int | None) -> dbc.Alert:
    """Whether every event still matches its recorded hash, in words."""
    if broken is not None:
        return dbc.Alert(
            [
                html.Strong(f"Event #{broken} does not match its recorded hash: "),
                "the trail was edited outside Plumbline. Events from there on cannot be "
                "trusted; keep a copy of the warehouse file and find out who changed it.",
            ],
            color="danger",
            class_name="mb-0",
        )
    if not newest:
        return dbc.Alert("The audit trail is empty.", color="secondary", class_name="mb-0")
    noun = "event" if newest == 1 else "events"
    return dbc.Alert(
        [
            html.Strong(f"Audit trail intact: {newest:,} {noun}, each chained to the one before."),
            html.Div(
                "Each event's hash covers its content and the previous event's hash, so an "
                "edited or removed event breaks the chain from there on. Removing the newest "
                "events leaves no trace in the chain itself: compare the count with a copy "
                "kept elsewhere.",
                className="small mt-1",
            ),
        ],
        color="success",
        class_name="mb-0",
    )


def filter_bar(actors: list[str], actions: list[str], outcomes: list[str]) -> dbc.Card:
    """The actor, action, outcome and date pickers, and the refresh and download buttons."""
    buttons = html.Div(
        [
            dbc.Button(
                "Refresh",
                id=Ids.REFRESH,
                color="secondary",
                outline=True,
                size="sm",
                class_name="me-2",
            ),  # fmt: skip
            dbc.Button(
                "Download CSV", id=Ids.DOWNLOAD_BUTTON, color="primary", outline=True, size="sm"
            ),
            dcc.Download(id=Ids.DOWNLOAD),
        ]
    )
    return filter_card(
        [
            dbc.Col(
                labelled_select("Who", Ids.ACTOR, options(actors, "Anyone"), ALL, size="sm"),
                xs=12,
                md=3,
                lg=2,
            ),
            dbc.Col(
                labelled_select(
                    "Action", Ids.ACTION, options(actions, "Any action"), ALL, size="sm"
                ),
                xs=12,
                md=3,
                lg=2,
            ),
            dbc.Col(
                labelled_select(
                    "Outcome", Ids.OUTCOME, options(outcomes, "Any outcome"), ALL, size="sm"
                ),
                xs=12,
                md=3,
                lg=2,
            ),
            dbc.Col(
                [
                    dbc.Label("Days (UTC)", html_for=Ids.DATES, class_name="small text-muted mb-1"),
                    html.Div(
                        dcc.DatePickerRange(
                            id=Ids.DATES,
                            display_format="YYYY-MM-DD",
                            clearable=True,
                            start_date_placeholder_text="from",
                            end_date_placeholder_text="to",
                        )
                    ),
                ],
                xs=12,
                md=3,
                lg=3,
            ),
            dbc.Col(buttons, xs=12, lg=3, class_name="align-self-end text-lg-end"),
        ]
    )


def events_card() -> dbc.Card:
    """The grid of events; filled by a callback."""
    grid = dag.AgGrid(
        id=Ids.GRID,
        columnDefs=COLUMNS,
        rowData=[],
        defaultColDef={
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "minWidth": 80,
        },
        getRowId="params.data.event_id",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 50,
            "paginationPageSizeSelector": [20, 50, 100, 500],
            "enableCellTextSelection": True,
            "tooltipShowDelay": 300,
            "localeText": {"noRowsToShow": "No audit event matches these filters."},
        },
        style={"height": "560px", "width": "100%"},
    )
    return card(
        "Events",
        "Who did what, when (UTC), from where, and how it ended; newest first. The download "
        "holds every event matching the filters above, whole; the grid's own column filters "
        "only narrow the view.",
        [html.Div(id=Ids.NOTE, className="small text-muted mb-2"), grid],
    )
