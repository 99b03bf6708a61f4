"""The Monitor page's component ids and the static parts of its layout.

Kept apart from the page module (``layout`` and the callbacks) so each stays short; the leading
underscore keeps it out of the page list.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from app.components.filters import filter_card, labelled_select
from app.pages._explain_layout import GRAPH_CONFIG, card, loading

HEATMAP_ROOM = 420  # px kept for the heatmap while it loads


class Ids(StrEnum):
    """Component ids of the Monitor page."""

    URL = "monitor-url"
    POLL = "monitor-poll"
    STORE = "monitor-store"
    REFRESH = "monitor-refresh"
    SUMMARY = "monitor-summary"
    HEALTH = "monitor-health"
    EMPTY = "monitor-empty"
    BODY = "monitor-body"
    SEGMENT = "monitor-segment"
    HEATMAP = "monitor-heatmap"
    PERIOD = "monitor-period"
    FEATURE = "monitor-feature"
    CELL = "monitor-cell"
    PREDICTION = "monitor-prediction"
    METRIC = "monitor-metric"
    PERFORMANCE = "monitor-performance"
    QUALITY = "monitor-quality"
    ALERTS = "monitor-alerts"
    SHOW_ALL = "monitor-show-all"
    SELECTED = "monitor-selected"
    COMMENT = "monitor-comment"
    MUTE_FOR = "monitor-mute-for"
    ACKNOWLEDGE = "monitor-acknowledge"
    MUTE = "monitor-mute"
    FEEDBACK = "monitor-feedback"
    DECISIONS = "monitor-decisions"


MUTE_OPTIONS = [
    {"label": "for 1 day", "value": "1"},
    {"label": "for 7 days", "value": "7"},
    {"label": "for 30 days", "value": "30"},
    {"label": "until it is resolved", "value": "resolved"},
]


def filter_bar(segment_options: list, segment: str) -> dbc.Card:
    """The segment picker, what it drives, and where retraining is started."""
    return filter_card(
        [
            dbc.Col(
                labelled_select("Segment", Ids.SEGMENT, segment_options, segment, size="sm"),
                xs=12,
                md=4,
                lg=3,
            ),
            dbc.Col(
                html.Div(
                    "The segment drives the heatmap, the distributions and the performance "
                    "chart. Choices are kept in the address, so a link restores them.",
                    className="small text-muted",
                ),
                md=5,
                class_name="align-self-end",
            ),
            dbc.Col(
                html.Div(
                    [
                        "Plumbline retrains by itself when its policy says so (see below). To "
                        "retrain now, use ",
                        dcc.Link("Retrain now on the Runs page", href="/runs"),
                        ".",
                    ],
                    className="small",
                ),
                md=3,
                lg=4,
                class_name="align-self-end",
            ),
        ]
    )


def heatmap_card() -> dbc.Card:
    """The feature x month drift heatmap; its figure is set by a callback."""
    graph = dcc.Graph(
        id=Ids.HEATMAP,
        config=GRAPH_CONFIG | {"displayModeBar": False},
        style={"height": f"{HEATMAP_ROOM}px"},
        figure={"data": [], "layout": {"height": HEATMAP_ROOM}},
    )
    return card(
        "Drift by feature and month",
        "Each cell compares one month's customers with the reference window; hover for the "
        "verdict in words, click for the distributions.",
        dcc.Loading(graph, delay_show=300, type="dot"),
    )


def cell_card(
    period_options: list, period: str | None, feature_options: list, feature: str | None
) -> dbc.Card:
    """The chosen cell's distributions and verdict; month and feature pickers on top."""
    pickers = dbc.Row(
        [
            dbc.Col(labelled_select("Month", Ids.PERIOD, period_options, period, size="sm"), xs=6),
            dbc.Col(
                labelled_select("Feature", Ids.FEATURE, feature_options, feature, size="sm"), xs=6
            ),
        ],
        class_name="g-2 mb-3",
    )
    return card(
        "Reference against current",
        "The selected cell: how the share of customers per bin moved.",
        [pickers, loading(Ids.CELL, 560)],
        class_name="h-100",
    )


def performance_card(metric_options: list, metric: str) -> dbc.Card:
    """Estimated and realised performance with the metric picker."""
    picker = dbc.Row(
        dbc.Col(
            labelled_select("Metric", Ids.METRIC, metric_options, metric, size="sm"), xs=6, md=3
        ),
        class_name="mb-2",
    )
    return card(
        "Performance over time",
        "Estimated every month from the model's own confidence (no labels needed), with its "
        "band; realised once the month's churn is known. ★ marks a new champion, ↻ a retrain.",
        [picker, loading(Ids.PERFORMANCE, 520)],
    )


# Every cell keeps a normal line height (AG Grid's default is the row height, which spaces
# wrapped lines a row apart), so wrapped and single-line cells share their first line.
WRAPPED = {"lineHeight": "1.35", "paddingTop": "10px", "paddingBottom": "10px"}
ALERT_COLUMNS: list[dict[str, Any]] = [
    {"field": "alert_id", "headerName": "#", "width": 70, "type": "rightAligned"},
    {
        "field": "severity",
        "headerName": "Severity",
        "width": 110,
        "cellStyle": {
            "styleConditions": [
                {
                    "condition": "params.value == 'critical'",
                    "style": WRAPPED | {"color": "#c0392b", "fontWeight": 700},
                },
                {
                    "condition": "params.value == 'warning'",
                    "style": WRAPPED | {"color": "#9a5b00", "fontWeight": 700},
                },
            ],
            "defaultStyle": WRAPPED,
        },
    },
    {"field": "raised", "headerName": "Raised (UTC)", "width": 170, "sort": "desc"},
    {"field": "period", "headerName": "Month", "width": 105},
    {
        "field": "subject",
        "headerName": "Subject",
        "width": 210,
        "wrapText": True,
        "autoHeight": True,
    },
    {
        "field": "message",
        "headerName": "Message",
        "flex": 2,
        "minWidth": 260,
        "wrapText": True,
        "autoHeight": True,
    },
    {"field": "status", "headerName": "Status", "width": 130},
    {
        "field": "handled",
        "headerName": "Handled by / comment",
        "flex": 1,
        "minWidth": 220,
        "wrapText": True,
        "autoHeight": True,
    },
]


def alerts_card() -> dbc.Card:
    """The alert list and the acknowledge / mute form."""
    grid = dag.AgGrid(
        id=Ids.ALERTS,
        columnDefs=ALERT_COLUMNS,
        rowData=[],
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": True,
            "cellStyle": WRAPPED,
        },
        getRowId="params.data.row_id",
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "enableCellTextSelection": True,
            "localeText": {"noRowsToShow": "No active alert: nothing needs a person right now."},
        },
        style={"height": "320px", "width": "100%"},
    )
    form = dbc.Row(
        [
            dbc.Col(
                [
                    html.Div(
                        "Click an alert in the table to acknowledge or mute it.",
                        id=Ids.SELECTED,
                        className="small fw-semibold mb-2",
                    ),
                    dbc.Label(
                        "Comment (required: what you are doing about it)",
                        html_for=Ids.COMMENT,
                        class_name="small text-muted mb-1",
                    ),
                    dbc.Textarea(
                        id=Ids.COMMENT,
                        rows=2,
                        maxLength=1000,
                        placeholder="e.g. price change in the South, retrain planned for Monday",
                    ),
                ],
                lg=7,
            ),
            dbc.Col(
                [
                    *labelled_select("Mute", Ids.MUTE_FOR, MUTE_OPTIONS, "7", size="sm"),
                    html.Div(
                        [
                            dbc.Button(
                                "Acknowledge",
                                id=Ids.ACKNOWLEDGE,
                                color="primary",
                                size="sm",
                                class_name="me-2",
                            ),
                            dbc.Button(
                                "Mute", id=Ids.MUTE, color="primary", outline=True, size="sm"
                            ),
                        ],
                        className="mt-3",
                    ),
                ],
                lg=5,
            ),
        ],
        class_name="g-3 mt-2",
    )
    switch = dbc.Switch(
        id=Ids.SHOW_ALL,
        label="Show resolved alerts too",
        value=False,
        class_name="small mb-2",
    )
    return card(
        "Alerts",
        "Acknowledge: you have seen it and are on it (it stays listed). Mute: silence it for a "
        "while; a muted alert does not make the health badge worse.",
        [switch, grid, form, html.Div(id=Ids.FEEDBACK, className="mt-2")],
    )


def decisions_card() -> dbc.Card:
    """The retrain policy's decisions in words."""
    return card(
        "Why Plumbline retrained",
        "Each run's retrain policy decision: what triggered it, what it did and how it ended.",
        loading(Ids.DECISIONS, 120),
    )
