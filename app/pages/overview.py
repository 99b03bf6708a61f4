"""Overview: the executive page. How many customers are likely to churn, and what it costs.

Filters (month range, one segment filter and the breakdown column) live in the URL query string,
e.g. ``/?from=2024-03&to=2024-08&segment=region&value=South&by=plan``, so a pasted link restores
the view; only values that differ from the defaults are written. Before the first successful run
the page explains why it is empty and polls until data arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.empty import empty_state
from app.components.filters import filter_card, labelled_select
from app.components.freshness import freshness_line
from app.components.health import health_badge
from app.components.polling import (
    shown,
    visibility_outputs,
    waiting,
    waiting_page,
)
from app.figures.formatting import format_month
from app.figures.overview import breakdown_figure, trend_figure
from app.pages._overview_drivers import drivers_card
from app.pages._overview_state import (
    DataState,
    Filters,
    default_filters,
    load_data_state,
    month_start,
    parse_filters,
    previous_month,
    query_string,
    waiting_card,
)
from app.pages._overview_tiles import CURRENCY, kpi_tiles
from app.services import Services, services
from pipeline.warehouse import reads_monitor
from pipeline.warehouse import reads_overview as reads

dash.register_page(
    __name__,
    path="/",
    name="Overview",
    title="Plumbline · Overview",
    order=0,
    role=Role.EXECUTIVE,
    cached=True,  # its layout reads only the warehouse: app/answer_cache.py
)

ALL = "*"  # the segment select's "all customers" option; never a valid column name
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


class Ids(StrEnum):
    """Component ids of this page."""

    URL = "overview-url"
    POLL = "overview-poll"
    DATA = "overview-data"
    FRESHNESS = "overview-freshness"
    EMPTY = "overview-empty"
    BODY = "overview-body"
    FROM = "overview-from"
    TO = "overview-to"
    SEGMENT = "overview-segment"
    VALUE = "overview-value"
    BY = "overview-by"
    HEADLINE = "overview-headline"
    KPIS = "overview-kpis"
    TREND = "overview-trend"
    BREAKDOWN = "overview-breakdown"
    DRIVERS = "overview-drivers"
    HEALTH = "overview-health"


def _health(svc: Services) -> html.Div:
    """The served model's health badge, linking to the Monitor page."""
    state, reason = reads_monitor.health(svc.warehouse, svc.settings.retrain.performance_drop)
    return health_badge(state, reason)


def _threshold(svc: Services) -> float:
    """The champion's business threshold (maximum expected profit), else the setting."""
    return reads.champion_threshold(svc.warehouse) or svc.settings.dataset.decision_threshold


# -- layout ----------------------------------------------------------------------------------


def _month_options(months: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": format_month(month_start(m)), "value": m} for m in reversed(months)]


def _segment_options(segments: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": "All customers", "value": ALL}] + [
        {"label": _pretty(s), "value": s} for s in segments
    ]


def _by_options(segments: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": _pretty(s), "value": s} for s in segments]


def _value_options(values: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in values]


def _pretty(column: str) -> str:
    return column.replace("_", " ").capitalize()


def _values_of(svc: Services, column: str) -> list[str]:
    found = reads.segment_values(svc.warehouse, column, svc.settings.dataset.segments)
    return [str(v) for v in found["value"]]


def _filter_bar(state: DataState, filters: Filters, values: Sequence[str]) -> dbc.Card:
    months = _month_options(state.months)
    controls = [
        # label, id, options, value, column width (md), extra props
        ("From", Ids.FROM, months, filters.start, 2, {}),
        ("To", Ids.TO, months, filters.end, 2, {}),
        ("Segment", Ids.SEGMENT, _segment_options(state.segments), filters.segment or ALL, 3, {}),
        (
            "Value",
            Ids.VALUE,
            _value_options(values),
            filters.value,
            2,
            {"disabled": filters.segment is None, "placeholder": "all values"},
        ),
        ("Break down by", Ids.BY, _by_options(state.segments), filters.by, 3, {}),
    ]
    columns = [
        dbc.Col(
            labelled_select(label, control_id, options, value, size="sm", **extra),
            xs=6,
            md=width,
        )
        for label, control_id, options, value, width, extra in controls
    ]
    return filter_card(columns)


def layout(**kwargs: Any) -> html.Div:
    """The page; ``kwargs`` are the URL query values (``from``, ``to``, ``segment``, ``value``,
    ``by``); unknown keys and invalid values are ignored."""
    svc = services()
    state = load_data_state(svc)
    filters = parse_filters(
        kwargs, state.months, state.segments, lambda column: _values_of(svc, column)
    )
    values = _values_of(svc, filters.segment) if filters.segment else []
    return waiting_page(
        Ids,
        state.ready,
        title="Customer churn overview",
        lines=[
            freshness_line(state.freshness, Ids.FRESHNESS),
            html.Div(_health(svc), id=Ids.HEALTH, className="mt-2"),
        ],
        stores=[dcc.Store(id=Ids.DATA, data=state.as_store())],
        waiting_card=lambda: waiting_card(svc),
        body=[
            _filter_bar(state, filters, values),
            html.Div(id=Ids.HEADLINE, className="mb-2 text-muted"),
            dcc.Loading(html.Div(id=Ids.KPIS, className="mb-4"), delay_show=300, type="dot"),
            html.Div(drivers_card(svc) if state.ready else None, id=Ids.DRIVERS),
            dbc.Card(
                dbc.CardBody(dcc.Loading(html.Div(id=Ids.TREND), delay_show=300, type="dot")),
                class_name="mb-4",
            ),
            dbc.Card(
                dbc.CardBody(dcc.Loading(html.Div(id=Ids.BREAKDOWN), delay_show=300, type="dot")),
                class_name="mb-4",
            ),
        ],
        class_name="overview-page",
    )


# -- callbacks -------------------------------------------------------------------------------


def _segment_args(segment: str | None, value: str | None) -> tuple[str | None, str | None]:
    if not segment or segment == ALL or value is None:
        return None, None
    return segment, value


def _headline(end: str, segment: str | None, value: str | None) -> str:
    who = f"customers with {_pretty(segment).lower()} = {value}" if segment else "all customers"
    return f"Figures for {format_month(month_start(end))}, {who}; changes against the month before."


def _graph(figure: Any, graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG)


def _valid_range(start: str | None, end: str | None) -> tuple[str, str] | None:
    if not start or not end:
        return None
    try:
        month_start(start), month_start(end)
    except ValueError:
        return None
    return (end, start) if start > end else (start, end)


@callback(
    output={
        "headline": Output(Ids.HEADLINE, "children"),
        "kpis": Output(Ids.KPIS, "children"),
        "trend": Output(Ids.TREND, "children"),
    },
    inputs={
        "start": Input(Ids.FROM, "value"),
        "end": Input(Ids.TO, "value"),
        "segment": Input(Ids.SEGMENT, "value"),
        "value": Input(Ids.VALUE, "value"),
        "data": Input(Ids.DATA, "data"),
    },
)
@requires(Role.EXECUTIVE)
@cached_answer
def update_summary(
    start: str | None, end: str | None, segment: str | None, value: str | None, data: dict | None
) -> dict[str, Any]:
    """KPI tiles and the monthly trend, from one aggregate query over the selected months."""
    window = _valid_range(start, end)
    if window is None:
        return {"headline": None, "kpis": None, "trend": None}
    start, end = window
    svc = services()
    segment, value = _segment_args(segment, value)
    fetch_from = month_start(previous_month(start))
    threshold = _threshold(svc)
    try:
        monthly = reads.monthly_aggregates(
            svc.warehouse,
            fetch_from,
            month_start(end),
            threshold,
            svc.settings.dataset.segments,
            segment,
            value,
        )
    except reads.UnknownSegmentError:
        card = empty_state(
            "Unknown segment",
            f"“{segment}” is not a segment column here.",
            "Choose a segment from the list.",
            tone="warning",
        )
        return {"headline": None, "kpis": card, "trend": None}
    shown = monthly[monthly["period"] >= pd.Timestamp(month_start(start))]
    if shown.empty:
        card = empty_state(
            "No customers match these filters",
            f"No customers were scored between {format_month(month_start(start))} and "
            f"{format_month(month_start(end))}"
            + (f" with {_pretty(segment).lower()} = {value}." if segment else "."),
            "Widen the month range or choose another segment value.",
            tone="secondary",
        )
        return {"headline": None, "kpis": card, "trend": None}
    has_value = svc.settings.dataset.value is not None
    tiles = kpi_tiles(monthly, start, end, threshold, has_value)
    return {
        "headline": _headline(end, segment, value),
        "kpis": dbc.Row(tiles, class_name="g-3"),
        "trend": _graph(trend_figure(shown, CURRENCY), "overview-trend-graph"),
    }


@callback(
    Output(Ids.BREAKDOWN, "children"),
    Input(Ids.TO, "value"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.VALUE, "value"),
    Input(Ids.BY, "value"),
    Input(Ids.DATA, "data"),
)
@requires(Role.EXECUTIVE)
@cached_answer
def update_breakdown(
    end: str | None, segment: str | None, value: str | None, by: str | None, data: dict | None
) -> Any:
    """The segment breakdown for the last month of the range."""
    if not end or not by:
        return None
    try:
        period = month_start(end)
    except ValueError:
        return None
    svc = services()
    segment, value = _segment_args(segment, value)
    try:
        rows = reads.segment_breakdown(
            svc.warehouse,
            period,
            by,
            _threshold(svc),
            svc.settings.dataset.segments,
            segment,
            value,
        )
    except reads.UnknownSegmentError:
        return empty_state(
            "Choose a segment column", f"“{by}” is not a segment column here.", tone="warning"
        )
    if rows.empty:
        return empty_state(
            f"No breakdown for {format_month(period)}",
            "No customers were scored in this month for the chosen filter.",
            tone="secondary",
        )
    figure = breakdown_figure(rows, _pretty(by).lower(), format_month(period), CURRENCY)
    return _graph(figure, "overview-breakdown-graph")


@callback(
    Output(Ids.VALUE, "options"),
    Output(Ids.VALUE, "value"),
    Output(Ids.VALUE, "disabled"),
    Input(Ids.SEGMENT, "value"),
    prevent_initial_call=True,
)
@requires(Role.EXECUTIVE)
@cached_answer
def update_value_options(segment: str | None) -> tuple[list[dict[str, str]], str | None, bool]:
    """Values of the chosen segment column; the first is selected. "All customers" disables it."""
    if not segment or segment == ALL:
        return [], None, True
    svc = services()
    try:
        values = _values_of(svc, segment)
    except reads.UnknownSegmentError:
        return [], None, True
    return _value_options(values), (values[0] if values else None), not values


@callback(
    Output(Ids.URL, "search"),
    Input(Ids.FROM, "value"),
    Input(Ids.TO, "value"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.VALUE, "value"),
    Input(Ids.BY, "value"),
    State(Ids.DATA, "data"),
    prevent_initial_call=True,
)
@requires(Role.EXECUTIVE)
@cached_answer
def write_url(
    start: str | None,
    end: str | None,
    segment: str | None,
    value: str | None,
    by: str | None,
    data: dict | None,
) -> str:
    """The filters as a query string, pushed to the address bar without reloading the page."""
    months = (data or {}).get("months") or []
    segments = (data or {}).get("segments") or []
    seg, val = _segment_args(segment, value)
    return query_string(Filters(start, end, seg, val, by), months, segments)


def _follow(current: str | None, old: str | None, new: str | None, valid: Sequence[str]) -> Any:
    """Keep a user's choice; move a value that sat on the old default to the new default."""
    if current is None or current == old or current not in valid:
        return new if new != current else no_update
    return no_update


_POLL_OUTPUTS = {
    **visibility_outputs(Ids.EMPTY, Ids.BODY, Ids.POLL),
    "freshness": Output(Ids.FRESHNESS, "children"),
    "from_options": Output(Ids.FROM, "options"),
    "from_value": Output(Ids.FROM, "value"),
    "to_options": Output(Ids.TO, "options"),
    "to_value": Output(Ids.TO, "value"),
    "segment_options": Output(Ids.SEGMENT, "options"),
    "by_options": Output(Ids.BY, "options"),
    "by_value": Output(Ids.BY, "value"),
    "data": Output(Ids.DATA, "data"),
}


@callback(
    output=_POLL_OUTPUTS,
    inputs={
        "tick": Input(Ids.POLL, "n_intervals"),
        "known": State(Ids.DATA, "data"),
        "start": State(Ids.FROM, "value"),
        "end": State(Ids.TO, "value"),
        "by": State(Ids.BY, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.EXECUTIVE)
@cached_answer
def poll_data(
    tick: int | None, known: dict | None, start: str | None, end: str | None, by: str | None
) -> dict[str, Any]:
    """Notice new data: the first run finishing, a new month, labels arriving, a new champion."""
    svc = services()
    state = load_data_state(svc)
    unchanged = dict.fromkeys(_POLL_OUTPUTS, no_update)
    if not state.ready:
        return unchanged | waiting(waiting_card(svc)) | {"freshness": state.freshness}
    known = known or {}
    if known.get("signature") == state.signature:
        return unchanged
    old = default_filters(known.get("months") or [], known.get("segments") or state.segments)
    new = default_filters(state.months, state.segments)
    return {
        **shown(),
        "freshness": state.freshness,
        "from_options": _month_options(state.months),
        "from_value": _follow(start, old.start, new.start, state.months),
        "to_options": _month_options(state.months),
        "to_value": _follow(end, old.end, new.end, state.months),
        "segment_options": _segment_options(state.segments),
        "by_options": _by_options(state.segments),
        "by_value": _follow(by, old.by, new.by, state.segments),
        "data": state.as_store(),
    }


@callback(Output(Ids.DRIVERS, "children"), Input(Ids.DATA, "data"), prevent_initial_call=True)
@requires(Role.EXECUTIVE)
@cached_answer
def update_drivers(data: dict | None) -> Any:
    """The champion's drivers, refreshed when a run publishes new data."""
    if not data or not data.get("months"):
        return None
    return drivers_card(services())


@callback(Output(Ids.HEALTH, "children"), Input(Ids.DATA, "data"), prevent_initial_call=True)
@requires(Role.EXECUTIVE)
@cached_answer
def update_health(data: dict | None) -> Any:
    """The health badge, refreshed when a run publishes new data."""
    return _health(services())
