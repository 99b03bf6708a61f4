"""The Model review page's component ids and the static parts of its layout.

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

from app.components.filters import filter_card
from app.figures.formatting import is_missing
from app.pages._models_actions import MAX_COMMENT, MIN_COMMENT


class Ids(StrEnum):
    """Component ids of the Model review page."""

    URL = "models-url"
    POLL = "models-poll"
    STORE = "models-store"
    REFRESH = "models-refresh"
    SUMMARY = "models-summary"
    ALERTS = "models-alerts"
    EMPTY = "models-empty"
    BODY = "models-body"
    VERSIONS = "models-versions"
    TREND = "models-trend"
    HISTORY = "models-history"
    A = "models-a"
    B = "models-b"
    WINDOW = "models-window"
    METRICS = "models-metrics"
    GATE = "models-gate"
    ROC = "models-roc"
    PR = "models-pr"
    CALIBRATION = "models-calibration"
    GAIN = "models-gain"
    CONFUSION = "models-confusion"
    SEGMENTS = "models-segments"
    THRESHOLD = "models-threshold"
    THRESHOLD_NUMBERS = "models-threshold-numbers"
    PROFIT = "models-profit"
    LINEAGE = "models-lineage"
    PROMOTE = "models-promote"
    PROMOTE_NOTE = "models-promote-note"
    ROLLBACK = "models-rollback"
    PROMOTIONS = "models-promotions"
    ACTION = "models-action"
    ACTION_ALERT = "models-action-alert"
    CONFIRM_MODAL = "models-confirm-modal"
    CONFIRM_TITLE = "models-confirm-title"
    CONFIRM_BODY = "models-confirm-body"
    COMMENT = "models-comment"
    COMMENT_FEEDBACK = "models-comment-feedback"
    CONFIRM = "models-confirm"
    CANCEL = "models-cancel"
    RUN = "models-run"
    RUN_POLL = "models-run-poll"
    CARD_VERSION = "models-card-version"
    CARD_OPEN = "models-card-open"
    CARD_DOWNLOAD_BUTTON = "models-card-download-button"
    CARD_MODAL_DOWNLOAD = "models-card-modal-download"
    CARD_DOWNLOAD = "models-card-download"
    CARD_MODAL = "models-card-modal"
    CARD_TITLE = "models-card-title"
    CARD_BODY = "models-card-body"
    FAIRNESS = "models-fairness"
    FAIRNESS_CHARTS = "models-fairness-charts"
    FAIRNESS_CHARTS_BUTTON = "models-fairness-charts-button"


def card(title: str, subtitle: str | None, body: Any, class_name: str = "mb-4 h-100") -> dbc.Card:
    """A section card: a title and one line saying what it shows, then the body."""
    header = [html.Div(title, className="fw-semibold")]
    if subtitle:
        header.append(html.Div(subtitle, className="small text-muted"))
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], class_name=class_name)


def loading(component_id: str, min_height: int | None = None) -> dcc.Loading:
    """A placeholder filled by a callback; ``min_height`` keeps the page from jumping."""
    style = {"minHeight": f"{min_height}px"} if min_height else None
    return dcc.Loading(html.Div(id=component_id, style=style), delay_show=300, type="dot")


# -- grids -----------------------------------------------------------------------------------

_DECIMALS = "params.value == null ? '—' : params.value.toFixed({})"
ALIAS_CLASSES = {
    "text-info fw-bold": "params.value === 'champion'",
    "text-warning fw-bold": "params.value === 'challenger'",
    "text-muted": "params.value === 'archived'",
}


def _number_column(field: str, header: str, decimals: int, width: int = 105) -> dict[str, Any]:
    return {
        "field": field,
        "headerName": header,
        "width": width,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": _DECIMALS.format(decimals)},
    }


_WRAPPED = {
    "wrapText": True,
    "autoHeight": True,
    "cellStyle": {"lineHeight": "1.35", "paddingTop": "4px", "paddingBottom": "4px"},
}
_VERSION = {
    "field": "version",
    "headerName": "Version",
    "width": 130,
    "filter": "agNumberColumnFilter",
    "valueFormatter": {"function": "'v' + params.value"},
}

# The columns an analyst scans first come first, so the gate's decision is visible without
# scrolling sideways; the rest of the registry record follows.
VERSION_COLUMNS: list[dict[str, Any]] = [
    _VERSION | {"pinned": "left", "sort": "desc"},
    {"field": "alias", "headerName": "Alias", "width": 115, "cellClassRules": ALIAS_CLASSES},
    _number_column("roc_auc", "ROC AUC", 3, 115),
    _number_column("pr_auc", "PR AUC", 3, 110),
    _number_column("brier", "Brier", 4, 100),
    _number_column("threshold", "Threshold", 3, 125),
    {
        "field": "decision",
        "headerName": "Gate decision",
        "flex": 1,
        "minWidth": 380,
        "tooltipField": "decision",
    }
    | _WRAPPED,
    {"field": "created", "headerName": "Trained (UTC)", "width": 150},
    {"field": "holdout", "headerName": "Holdout", "width": 120},
    _number_column("log_loss", "Log loss", 4, 115),
    {"field": "algorithm", "headerName": "Algorithm", "width": 190},
    {"field": "calibration", "headerName": "Calibration", "width": 125},
    {
        "field": "train_rows",
        "headerName": "Train rows",
        "width": 125,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {
            "function": "params.value == null ? '—' : params.value.toLocaleString()"
        },
    },
    _number_column("fit_seconds", "Fit (s)", 1, 100),
]

HISTORY_COLUMNS: list[dict[str, Any]] = [
    {"field": "when", "headerName": "When (UTC)", "width": 170, "sort": "desc"},
    {"field": "alias", "headerName": "Alias", "width": 115, "cellClassRules": ALIAS_CLASSES},
    _VERSION,
    {"field": "reason", "headerName": "Why", "flex": 1, "minWidth": 260, "tooltipField": "reason"}
    | _WRAPPED,
    {"field": "by", "headerName": "By", "width": 130, "tooltipField": "by"},
    {"field": "comment", "headerName": "Comment", "width": 160, "tooltipField": "comment"}
    | _WRAPPED,
]


def _plain(value: Any) -> Any:
    if is_missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _month(value: object) -> str:
    return "—" if is_missing(value) else f"{pd.Timestamp(value):%Y-%m}"  # type: ignore[arg-type]


def version_rows(versions: pd.DataFrame) -> list[dict[str, Any]]:
    """The version grid's rows: numbers stay numbers (sortable), dates become text."""
    rows = []
    for r in versions.itertuples(index=False):
        start, end = _month(r.holdout_from), _month(r.holdout_to)
        rows.append(
            {
                "row_id": str(int(r.version)),
                "version": int(r.version),
                "alias": r.alias,
                "created": f"{pd.Timestamp(r.created_at):%Y-%m-%d %H:%M}",
                "roc_auc": _plain(r.roc_auc),
                "pr_auc": _plain(r.pr_auc),
                "brier": _plain(r.brier),
                "log_loss": _plain(r.log_loss),
                "threshold": _plain(r.threshold),
                "algorithm": _plain(r.algorithm),
                "calibration": _plain(r.calibration),
                "train_rows": _plain(r.train_rows),
                "holdout": start if start == end else f"{start} to {end}",
                "fit_seconds": _plain(r.fit_seconds),
                "decision": _plain(r.decision),
            }
        )
    return rows


def history_rows(history: pd.DataFrame) -> list[dict[str, Any]]:
    """The alias history grid's rows, newest first; the pipeline is named as the actor."""
    return [
        {
            "row_id": str(i),
            "when": f"{pd.Timestamp(h.set_at):%Y-%m-%d %H:%M}",
            "alias": h.alias,
            "version": int(h.version),
            "by": "pipeline" if is_missing(h.actor) else str(h.actor),
            "reason": _plain(h.reason),
            "comment": _plain(h.comment),
        }
        for i, h in enumerate(history.itertuples(index=False))
    ]


def _grid(grid_id: str, columns: list[dict[str, Any]], height: int) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        getRowId="params.data.row_id",
        dashGridOptions={"enableCellTextSelection": True, "tooltipShowDelay": 300},
        style={"height": f"{height}px", "width": "100%"},
    )


# -- sections --------------------------------------------------------------------------------


def registry_section(options: list, card_version: int | None) -> list[Any]:
    """Version list with the model card controls, metric trend and alias history."""
    versions = card(
        "Model versions",
        "Every trained version with its alias, holdout metrics, decision threshold and the "
        "gate's decision. Click a row to compare that version as B.",
        [_grid(Ids.VERSIONS, VERSION_COLUMNS, 340), card_controls(options, card_version)],
        class_name="mb-4",
    )
    trend = card(
        "Metric trend across versions",
        "Each version measured on its own holdout month.",
        loading(Ids.TREND, 520),
    )
    history = card(
        "Alias history",
        "Which version was champion or challenger when, and why.",
        _grid(Ids.HISTORY, HISTORY_COLUMNS, 520),
    )
    return [
        versions,
        dbc.Row(
            [dbc.Col(trend, lg=6, class_name="mb-4"), dbc.Col(history, lg=6, class_name="mb-4")]
        ),
    ]


def _dropdown(label: str, control_id: str, options: list, value: Any) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=control_id, class_name="small text-muted mb-1"),
            dcc.Dropdown(
                id=control_id, options=options, value=value, clearable=False, searchable=True
            ),
        ],
        xs=12,
        md=6,
        lg=4,
    )


def compare_bar(options: list, a: int | None, b: int | None) -> dbc.Card:
    """The A and B selectors."""
    return filter_card(
        [
            _dropdown("Version A (reference)", Ids.A, options, a),
            _dropdown("Version B (compared with A)", Ids.B, options, b),
            dbc.Col(
                html.Div(
                    "Defaults: A is the champion, B the challenger (or the newest other "
                    "version). The choice is kept in the address, so a link restores it.",
                    className="small text-muted",
                ),
                lg=4,
                class_name="align-self-end",
            ),
        ],
        margin="mb-3",
    )


def decision_card() -> dbc.Card:
    """The gate's decision about B, the promote and rollback buttons, and their history."""
    return card(
        "Decision",
        "What the promotion gate decided about B, and promoting or rolling back by hand.",
        [
            loading(Ids.GATE),
            html.Hr(),
            html.Div(
                [
                    dbc.Button(
                        "Make B champion", id=Ids.PROMOTE, color="primary", class_name="me-2"
                    ),
                    dbc.Button(
                        "Roll back",
                        id=Ids.ROLLBACK,
                        color="danger",
                        outline=True,
                        style={"display": "none"},
                    ),
                ],
                className="mb-1",
            ),
            html.Div(id=Ids.PROMOTE_NOTE, className="small text-muted mb-2"),
            html.Div(id=Ids.ACTION_ALERT),
            html.H6("Promotions and rollbacks by people", className="mt-3 mb-2"),
            html.Div(id=Ids.PROMOTIONS),
        ],
    )


def _graph_slot(component_id: str, height: int) -> dbc.Col:
    return dbc.Col(
        dbc.Card(dbc.CardBody(loading(component_id, height)), class_name="h-100"),
        lg=6,
        class_name="mb-4",
    )


def compare_section(options: list, a: int | None, b: int | None) -> list[Any]:
    """Selectors, window note, metric table, decision, curves, segments."""
    metrics = card(
        "Metrics side by side",
        "Holdout metrics at each version's own decision threshold. Green: B is better; red: B "
        "is worse (higher is better except Brier and log loss); differences under 0.001 stay grey.",
        loading(Ids.METRICS, 330),
    )
    return [
        html.H4("Compare two versions", className="mt-2 mb-3"),
        compare_bar(options, a, b),
        html.Div(id=Ids.WINDOW),
        dbc.Row(
            [
                dbc.Col(metrics, lg=6, class_name="mb-4"),
                dbc.Col(decision_card(), lg=6, class_name="mb-4"),
            ]
        ),
        dbc.Row(
            [
                _graph_slot(Ids.ROC, 520),
                _graph_slot(Ids.PR, 520),
                _graph_slot(Ids.CALIBRATION, 520),
                _graph_slot(Ids.GAIN, 520),
                _graph_slot(Ids.CONFUSION, 380),
                dbc.Col(
                    card(
                        "Per-segment metrics",
                        "Does B help or hurt some customers more than others?",
                        loading(Ids.SEGMENTS, 300),
                    ),
                    lg=6,
                    class_name="mb-4",
                ),
            ]
        ),
    ]


def threshold_section(value: float) -> dbc.Card:
    """The threshold slider with its numbers and the profit curve."""
    slider = dcc.Slider(
        id=Ids.THRESHOLD,
        min=0.0,
        max=1.0,
        step=0.005,
        value=value,
        marks={i / 10: f"{i / 10:.1f}" for i in range(11)},
    )
    return card(
        "Decision threshold: what contacting at a threshold would give",
        "Customers whose churn probability is at or above the threshold are contacted. The "
        "slider starts at B's own threshold; numbers are on each version's evaluation window.",
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Threshold", html_for=Ids.THRESHOLD, class_name="small mb-1"),
                        html.Div(slider, className="mb-4"),
                        loading(Ids.THRESHOLD_NUMBERS, 220),
                    ],
                    lg=5,
                ),
                dbc.Col(loading(Ids.PROFIT, 420), lg=7),
            ],
            class_name="g-4",
        ),
        class_name="mb-4",
    )


def card_controls(options: list, value: int | None) -> dbc.Row:
    """Choose a version, read its model card or download it."""
    return dbc.Row(
        [
            dbc.Col(
                html.Div(
                    "Model card: intended use, data, metrics, segments, limits and lineage",
                    className="small fw-semibold",
                ),
                lg="auto",
            ),
            dbc.Col(
                dcc.Dropdown(
                    id=Ids.CARD_VERSION,
                    options=options,
                    value=value,
                    clearable=False,
                    style={"minWidth": "18rem"},
                ),
                lg=4,
            ),
            dbc.Col(
                [
                    dbc.Button(
                        "Read model card",
                        id=Ids.CARD_OPEN,
                        color="primary",
                        size="sm",
                        class_name="me-2",
                    ),
                    dbc.Button(
                        "Download (.md)",
                        id=Ids.CARD_DOWNLOAD_BUTTON,
                        color="primary",
                        outline=True,
                        size="sm",
                    ),
                    dcc.Download(id=Ids.CARD_DOWNLOAD),
                ],
                lg="auto",
            ),
        ],
        class_name="g-2 align-items-center mt-3",
    )


def modals() -> list[Any]:
    """The promotion confirmation and the model card reader."""
    confirm = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=Ids.CONFIRM_TITLE)),
            dbc.ModalBody(
                [
                    html.P(id=Ids.CONFIRM_BODY),
                    dbc.Label(
                        f"Why? (required, at least {MIN_COMMENT} characters)",
                        html_for=Ids.COMMENT,
                        class_name="fw-semibold",
                    ),
                    dbc.Textarea(
                        id=Ids.COMMENT,
                        rows=3,
                        maxLength=MAX_COMMENT,
                        placeholder="e.g. v9 catches more churners in the South region",
                    ),
                    dbc.FormFeedback(id=Ids.COMMENT_FEEDBACK, type="invalid"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=Ids.CANCEL, color="secondary", outline=True),
                    dbc.Button("Confirm", id=Ids.CONFIRM, color="primary"),
                ]
            ),
        ],
        id=Ids.CONFIRM_MODAL,
        is_open=False,
        backdrop="static",
    )
    reader = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=Ids.CARD_TITLE)),
            dbc.ModalBody(html.Div(id=Ids.CARD_BODY, className="model-card")),
            dbc.ModalFooter(
                dbc.Button(
                    "Download (.md)", id=Ids.CARD_MODAL_DOWNLOAD, color="primary", outline=True
                )
            ),
        ],
        id=Ids.CARD_MODAL,
        is_open=False,
        size="xl",
        scrollable=True,
    )
    return [confirm, reader]
