"""The Explain page's component ids and the static parts of its layout.

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
from app.figures import spec


class Ids(StrEnum):
    """Component ids of the Explain page."""

    URL = "explain-url"
    POLL = "explain-poll"
    STORE = "explain-store"
    SUMMARY = "explain-summary"
    EMPTY = "explain-empty"
    BODY = "explain-body"
    VERSION = "explain-version"
    SCOPE = "explain-scope"
    SCOPE_COL = "explain-scope-col"
    GLOBAL = "explain-global"
    FEATURE = "explain-feature"
    DIRECTION = "explain-direction"
    DEPENDENCE = "explain-dependence"
    SEARCH = "explain-search"
    SUGGESTIONS = "explain-suggestions"
    SEARCH_BUTTON = "explain-search-button"
    RISKIEST = "explain-riskiest"
    ENTITY = "explain-entity"
    LOCAL = "explain-local"
    WHATIF_FORM = "explain-whatif-form"
    WHATIF_BUTTON = "explain-whatif-button"
    WHATIF_RESULT = "explain-whatif-result"
    FAIRNESS = "explain-fairness"


# One input of the what-if form per model feature: {"type": WHATIF_FIELD, "feature": name}.
WHATIF_FIELD = "explain-whatif-field"

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def graph(figure: spec.Figure, graph_id: str | None = None) -> dcc.Graph:
    """A chart whose height comes from its figure, so the page does not jump as it loads."""
    height = spec.height(figure) or 440
    kwargs = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, style={"height": f"{height}px"}, **kwargs)


def card(title: str, subtitle: str | None, body: Any, class_name: str = "mb-4") -> dbc.Card:
    """A section card: a title and one line saying what it shows, then the body."""
    header = [html.Div(title, className="fw-semibold")]
    if subtitle:
        header.append(html.Div(subtitle, className="small text-muted"))
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], class_name=class_name)


def loading(component_id: str, min_height: int | None = None) -> dcc.Loading:
    """A placeholder filled by a callback; ``min_height`` keeps the page from jumping."""
    style = {"minHeight": f"{min_height}px"} if min_height else None
    return dcc.Loading(html.Div(id=component_id, style=style), delay_show=300, type="dot")


def controls(
    version_options: list, version: int | None, scope_options: list, scope: str | None
) -> dbc.Card:
    """The version and scope pickers."""
    return filter_card(
        [
            dbc.Col(
                labelled_select("Model version", Ids.VERSION, version_options, version),
                xs=12,
                md=6,
                lg=4,
            ),
            dbc.Col(
                labelled_select("Explained customers", Ids.SCOPE, scope_options, scope),
                id=Ids.SCOPE_COL,
                xs=12,
                md=6,
                lg=4,
                style=None if len(scope_options) > 1 else {"display": "none"},
            ),
            dbc.Col(
                html.Div(
                    "Default: the champion. Effects are in percentage points of churn "
                    "probability. The choices are kept in the address, so a link restores them.",
                    className="small text-muted",
                ),
                lg=4,
                class_name="align-self-end",
            ),
        ]
    )


def dependence_card(feature_options: list, feature: str | None) -> dbc.Card:
    """The feature picker and the dependence plot of the chosen feature."""
    picker = dbc.Row(
        [
            dbc.Col(labelled_select("Feature", Ids.FEATURE, feature_options, feature), xs=12, md=4),
            dbc.Col(html.Div(id=Ids.DIRECTION, className="small"), class_name="align-self-end"),
        ],
        class_name="g-3 mb-2",
    )
    return card(
        "Dependence: one feature's effect across its values",
        "Each dot is one explained customer: the feature's value across, its effect on the "
        "churn probability up. Colour shows the feature it interacts with most.",
        [picker, loading(Ids.DEPENDENCE, 460)],
    )


RISKIEST_COLUMNS: list[dict[str, Any]] = [
    {"field": "entity_id", "headerName": "Customer", "flex": 1, "minWidth": 110},
    {
        "field": "probability",
        "headerName": "Churn risk",
        "width": 120,
        "type": "rightAligned",
        "sort": "desc",
        "valueFormatter": {
            "function": "params.value == null ? '—' : (100 * params.value).toFixed(1) + '%'"
        },
    },
    {"field": "month", "headerName": "Month", "width": 100},
    {"field": "scored_by", "headerName": "Scored by", "width": 105},
]


def local_card(entity: str | None = None) -> dbc.Card:
    """Choose a customer (search or the riskiest list) and see their explanation; ``entity``
    (from the address) starts in the search box."""
    search = html.Div(
        [
            dbc.Label("Customer id", html_for=Ids.SEARCH, class_name="small text-muted mb-1"),
            dbc.InputGroup(
                [
                    dcc.Input(
                        id=Ids.SEARCH,
                        value=entity,
                        type="text",
                        list=Ids.SUGGESTIONS,
                        placeholder="Type an id, e.g. C00042",
                        autoComplete="off",
                        debounce=False,
                        className="form-control",
                        maxLength=64,
                    ),
                    dbc.Button("Explain", id=Ids.SEARCH_BUTTON, color="primary"),
                ]
            ),
            html.Datalist(id=Ids.SUGGESTIONS),
        ],
        className="mb-3",
    )
    riskiest = html.Div(
        [
            html.Div(
                "Riskiest customers of the latest scored month (click one)",
                className="small fw-semibold mb-1",
            ),
            dag.AgGrid(
                id=Ids.RISKIEST,
                columnDefs=RISKIEST_COLUMNS,
                rowData=[],
                defaultColDef={"sortable": True, "resizable": True},
                getRowId="params.data.entity_id",
                dashGridOptions={"enableCellTextSelection": True},
                style={"height": "420px", "width": "100%"},
            ),
        ]
    )
    return card(
        "One customer: why this prediction",
        "From the base rate of an average customer, each feature moves the predicted churn "
        "probability up or down. Computed on demand with the chosen model version.",
        dbc.Row(
            [
                dbc.Col([search, riskiest], lg=4),
                dbc.Col(loading(Ids.LOCAL, 420), lg=8),
            ],
            class_name="g-4",
        ),
    )


def whatif_card() -> dbc.Card:
    """The what-if form (filled when a customer is chosen) and its result."""
    return card(
        "What if? Change this customer's values and recompute",
        "The form starts from the customer's own values. Categories offer the values the data "
        "contract allows; numbers show the contract's range. Only changed values are sent.",
        [
            html.Div(
                html.Div("Choose a customer above to fill in the form.", className="text-muted"),
                id=Ids.WHATIF_FORM,
            ),
            dbc.Button(
                "Recompute", id=Ids.WHATIF_BUTTON, color="primary", disabled=True, class_name="mt-3"
            ),
            loading(Ids.WHATIF_RESULT),
        ],
    )


def fairness_card() -> dbc.Card:
    """The chosen version's fairness by group (filled by a callback)."""
    return card(
        "Fairness by group",
        "Measured on the version's holdout month at its decision threshold: who is flagged, "
        "who is caught, and how well the predictions match what happened, group by group.",
        loading(Ids.FAIRNESS, 200),
    )
