"""The Data page's component ids and the static parts of its layout.

Kept apart from the page module (``layout`` and the callbacks) so each stays short; the leading
underscore keeps it out of the page list.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from app.components.filters import labelled_select
from app.pages import _data_quarantine as quarantine
from app.pages._data_state import ALL, Choices, DataState
from pipeline.contract import Contract
from pipeline.warehouse import reads_data as reads


class Ids(StrEnum):
    """Component ids of the Data page."""

    URL = "data-url"
    POLL = "data-poll"
    STORE = "data-store"
    FRESHNESS = "data-freshness"
    EMPTY = "data-empty"
    BODY = "data-body"
    BATCH_CHART = "data-batch-chart"
    BATCH_TABLE = "data-batch-table"
    MISSING = "data-missing"
    PII = "data-pii"
    SCHEMA = "data-schema"
    CONTRACT = "data-contract"
    FEATURE = "data-feature"
    WINDOWS = "data-windows"
    DISTRIBUTION = "data-distribution"
    FEATURE_RATE = "data-feature-rate"
    SEGMENT_RATE = "data-segment-rate"
    CORRELATION = "data-correlation"
    Q_BATCH = "data-quarantine-batch"
    Q_RULE = "data-quarantine-rule"
    Q_SEARCH = "data-quarantine-search"
    Q_NOTE = "data-quarantine-note"
    Q_GRID = "data-quarantine-grid"
    Q_DOWNLOAD_BUTTON = "data-quarantine-download-button"
    Q_DOWNLOAD = "data-quarantine-download"


def options(pairs: list[tuple[str, str]], everything: str) -> list[dict[str, str]]:
    """Select options: ``everything`` (value :data:`ALL`) first, then ``(value, label)`` pairs."""
    return [{"label": everything, "value": ALL}] + [{"label": lab, "value": v} for v, lab in pairs]


def feature_options(features: list[str], contract: Contract | None) -> list[dict[str, str]]:
    """The feature select's options, each labelled with its kind (numeric or categorical)."""
    kinds = {c: reads.feature_kind(contract, c) for c in features} if contract else {}
    return [{"label": f"{f} ({kinds.get(f, 'feature')})", "value": f} for f in features]


def card(title: str, subtitle: str | None, body: Any, class_name: str = "mb-4") -> dbc.Card:
    """A section card: a title and one line saying what it shows, then the body."""
    header = [html.Div(title, className="fw-semibold")]
    if subtitle:
        header.append(html.Div(subtitle, className="small text-muted"))
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], class_name=class_name)


def _loading(component_id: str) -> dcc.Loading:
    return dcc.Loading(html.Div(id=component_id), delay_show=300, type="dot")


def _sections_top() -> list:
    return [
        card(
            "Batches",
            "Every file received and what cleaning did to its rows; the table lists the newest "
            "first.",
            [_loading(Ids.BATCH_CHART), html.Div(id=Ids.BATCH_TABLE, className="mt-3")],
        ),
        card(
            "Missing values",
            "Share of missing values per column in each batch, in arrival order.",
            _loading(Ids.MISSING),
        ),
        html.Div(id=Ids.PII),
        dbc.Row(
            [
                dbc.Col(
                    card(
                        "Schema changes",
                        "Differences between a batch and the data contract, newest first.",
                        html.Div(id=Ids.SCHEMA),
                        "h-100",
                    ),
                    lg=7,
                ),
                dbc.Col(
                    card(
                        "Data contract",
                        "What each column is for and which values are allowed.",
                        html.Div(id=Ids.CONTRACT),
                        "h-100",
                    ),
                    lg=5,
                ),
            ],
            class_name="g-4 mb-4",
        ),
    ]


def _exploration(state: DataState, choices: Choices, contract: Contract | None) -> dbc.Card:
    control = dbc.Row(
        [
            dbc.Col(
                labelled_select(
                    "Feature",
                    Ids.FEATURE,
                    feature_options(state.features, contract),
                    choices.feature,
                    size="sm",
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(html.Div(id=Ids.WINDOWS, className="small text-muted"), class_name="pt-md-4"),
        ],
        class_name="g-3 mb-3",
    )
    return card(
        "Exploration",
        "How one feature is distributed now against the model's training data, and how it "
        "relates to the target.",
        [
            control,
            dbc.Row(
                [
                    dbc.Col(_loading(Ids.DISTRIBUTION), lg=7),
                    dbc.Col(_loading(Ids.FEATURE_RATE), lg=5),
                ],
                class_name="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(_loading(Ids.SEGMENT_RATE), lg=7),
                    dbc.Col(_loading(Ids.CORRELATION), lg=5),
                ],
                class_name="g-3",
            ),
        ],
    )


def _quarantine(state: DataState, choices: Choices) -> dbc.Card:
    search = [
        dbc.Label("Search reason and values", html_for=Ids.Q_SEARCH, class_name="small mb-1"),
        dbc.Input(
            id=Ids.Q_SEARCH,
            type="search",
            placeholder="e.g. a customer id",
            debounce=True,
            size="sm",
        ),
    ]
    download = dbc.Button(
        "Download CSV",
        id=Ids.Q_DOWNLOAD_BUTTON,
        color="primary",
        outline=True,
        size="sm",
        class_name="w-100",
    )
    controls = dbc.Row(
        [
            dbc.Col(
                labelled_select(
                    "Batch",
                    Ids.Q_BATCH,
                    options(state.quarantine_batches, "All batches"),
                    choices.batch,
                    size="sm",
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(
                labelled_select(
                    "Rule", Ids.Q_RULE, options(state.rules, "All rules"), choices.rule, size="sm"
                ),
                xs=12,
                md=3,
            ),
            dbc.Col(search, xs=12, md=3),
            dbc.Col(download, xs=12, md=2, class_name="align-self-end"),
        ],
        class_name="g-3 mb-2",
    )
    grid = dag.AgGrid(
        id=Ids.Q_GRID,
        columnDefs=[],
        rowData=[],
        defaultColDef={
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "minWidth": 90,
        },
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 100,
            "enableCellTextSelection": True,
            "tooltipShowDelay": 300,
        },
        style={"height": "520px", "width": "100%"},
    )
    return card(
        "Quarantine",
        "Rows the cleaning rules rejected, with the reason. The download holds every row "
        f"matching the filters above (up to {quarantine.DOWNLOAD_LIMIT:,}); the grid's own "
        "column filters only narrow the view.",
        [
            controls,
            html.Div(id=Ids.Q_NOTE, className="small text-muted mb-2"),
            grid,
            dcc.Download(id=Ids.Q_DOWNLOAD),
        ],
    )


def body(state: DataState, choices: Choices, contract: Contract | None) -> list:
    """The page's sections, empty until their callbacks fill them."""
    return [
        *_sections_top(),
        _exploration(state, choices, contract),
        _quarantine(state, choices),
    ]
