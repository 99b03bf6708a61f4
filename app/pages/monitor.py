"""Monitor: is the served model still fit for the customers it scores? For analysts and operators.

Sections: the model's health in one word; a drift heatmap (feature x month, coloured by
severity) whose cells open the reference and current distributions; prediction drift; estimated
against realised performance with promotions, retrains and alerts on the time axis; data
quality; the alert list, where a person acknowledges or mutes an alert with a comment; and the
retrain policy's decisions in words. Everything is read from what the monitor step stored.
``/monitor?period=2024-05&segment=region%3DSouth&feature=tenure_months&metric=f1`` restores a
view.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.health import health_badge
from app.components.polling import (
    shown,
    visibility_outputs,
    waiting,
    waiting_page,
)
from app.figures import monitor as figures
from app.figures import spec
from app.pages import _monitor_alerts  # noqa: F401  (registers the alert and decision callbacks)
from app.pages._explain_layout import card, graph, loading
from app.pages._monitor_cell import cell_detail
from app.pages._monitor_layout import (
    Ids,
    alerts_card,
    cell_card,
    decisions_card,
    filter_bar,
    heatmap_card,
    performance_card,
)
from app.pages._monitor_state import (
    WHOLE,
    choose_metric,
    feature_of,
    feature_options,
    load_state,
    metric_options,
    month_date,
    period_of,
    period_options,
    query_string,
    segment_of,
    segment_options,
    summary_text,
    waiting_card,
)
from app.services import Services, services
from pipeline.warehouse import reads_monitor as reads

dash.register_page(
    __name__,
    path="/monitor",
    name="Monitor",
    title="Plumbline · Monitor",
    order=9,
    role=Role.ANALYST,
    cached=True,  # its layout reads only the warehouse: app/answer_cache.py
)

QUALITY_KINDS = ("missing_rate", "new_category_rate", "out_of_range_rate", "duplicate_rate")


def _health(svc: Services) -> html.Div:
    state, reason = reads.health(svc.warehouse, svc.settings.retrain.performance_drop)
    return health_badge(state, reason, href=None)


def rule_thresholds(svc: Services) -> dict[str, float]:
    """The data-quality alert rules' thresholds by metric (the strictest when several)."""
    found: dict[str, float] = {}
    for rule in svc.settings.monitoring.rules:
        if rule.kind in QUALITY_KINDS and rule.threshold is not None:
            found[rule.kind] = min(rule.threshold, found.get(rule.kind, rule.threshold))
    return found


def layout(
    period: object = None,
    segment: object = None,
    feature: object = None,
    metric: object = None,
    **kwargs: Any,
) -> html.Div:
    """The page; ``?period=2024-05&segment=region=South&feature=...&metric=f1`` restore a
    view; unknown keys and values are ignored."""
    svc = services()
    state = load_state(svc)
    store = state.as_store()
    return waiting_page(
        Ids,
        state.ready,
        title="Monitoring",
        lines=[
            html.Div(summary_text(svc), id=Ids.SUMMARY, className="freshness small text-muted"),
            html.Div(_health(svc), id=Ids.HEALTH, className="mt-2"),
        ],
        stores=[dcc.Store(id=Ids.STORE, data=store), dcc.Store(id=Ids.REFRESH)],
        waiting_card=lambda: waiting_card(svc),
        body=[
            filter_bar(segment_options(state.segments), segment_of(segment, store).key),
            heatmap_card(),
            dbc.Row(
                [
                    dbc.Col(
                        cell_card(
                            period_options(state.periods),
                            period_of(period, store),
                            feature_options(state.features),
                            feature_of(feature, store),
                        ),
                        lg=6,
                        class_name="mb-4",
                    ),
                    dbc.Col(
                        card(
                            "Prediction drift",
                            "The distribution of churn scores each month against the "
                            "reference: a moved score means the model sees different "
                            "customers, before any label says so.",
                            loading(Ids.PREDICTION, 400),
                            class_name="h-100",
                        ),
                        lg=6,
                        class_name="mb-4",
                    ),
                ]
            ),
            performance_card(metric_options(), choose_metric(metric)),
            card(
                "Data quality over time",
                "What arrived in each month's batches before cleaning: missing values, "
                "duplicates, quarantined rows, new categories and out-of-range values.",
                loading(Ids.QUALITY, 620),
            ),
            alerts_card(),
            decisions_card(),
        ],
        class_name="monitor-page",
    )


# -- drift -----------------------------------------------------------------------------------


@callback(
    Output(Ids.HEATMAP, "figure"),
    Output(Ids.HEATMAP, "style"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.PERIOD, "value"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_heatmap(
    segment: object, period: object, feature: object, data: dict | None
) -> tuple[Any, dict[str, str]]:
    """The segment's feature x month heatmap, the chosen cell outlined."""
    seg = segment_of(segment, data)
    frame = reads.heatmap(services().warehouse, seg)
    selected = (period_of(period, data), feature_of(feature, data))
    figure = figures.drift_heatmap(
        frame,
        seg.label,
        selected if None not in selected else None,  # type: ignore[arg-type]
        order=(data or {}).get("features") or None,
    )
    return figure, {"height": f"{spec.height(figure)}px"}


@callback(
    Output(Ids.PERIOD, "value"),
    Output(Ids.FEATURE, "value"),
    Input(Ids.HEATMAP, "clickData"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def select_cell(click: dict | None, data: dict | None) -> tuple[Any, Any]:
    """A click on a heatmap cell chooses its month and feature."""
    points = (click or {}).get("points") or [{}]
    x, y = points[0].get("x"), points[0].get("y")
    data = data or {}
    if x not in (data.get("periods") or []) or y not in (data.get("features") or []):
        return no_update, no_update
    return x, y


@callback(
    Output(Ids.CELL, "children"),
    Input(Ids.PERIOD, "value"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_cell(period: object, feature: object, segment: object, data: dict | None) -> Any:
    """The chosen cell's verdict, how it was measured, and its distributions."""
    period_, feature_ = period_of(period, data), feature_of(feature, data)
    seg = segment_of(segment, data)
    cell = None
    if period_ is not None and feature_ is not None:
        cell = reads.cell(services().warehouse, month_date(period_).date(), feature_, seg)
    return cell_detail(cell, period_, feature_, seg.label)


@callback(
    Output(Ids.PREDICTION, "children"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_prediction(segment: object, data: dict | None) -> Any:
    """Score drift per month for the segment (the whole batch when the segment has none)."""
    wh = services().warehouse
    seg = segment_of(segment, data)
    frame = reads.prediction_drift(wh, seg)
    label = seg.label
    if frame.empty and not seg.whole:
        frame = reads.prediction_drift(wh, WHOLE)
        label = "Whole batch (score drift is not stored per segment)"
    return graph(figures.prediction_drift_figure(frame, reads.events(wh), label))


# -- performance and quality -----------------------------------------------------------------


@callback(
    Output(Ids.PERFORMANCE, "children"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.METRIC, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_performance(segment: object, metric: object, data: dict | None) -> Any:
    """Estimated (with band) and realised ``metric`` per month, the champion's holdout value,
    and promotions, retrains and alerts on the time axis."""
    wh = services().warehouse
    seg, metric_ = segment_of(segment, data), choose_metric(metric)
    figure = figures.performance_figure(
        reads.performance(wh, metric_, seg),
        metric_,
        reads.champion_reference(wh, metric_),
        reads.events(wh),
        seg.label,
    )
    return graph(figure)


@callback(Output(Ids.QUALITY, "children"), Input(Ids.STORE, "data"))
@requires(Role.ANALYST)
@cached_answer
def update_quality(data: dict | None) -> Any:
    """Missing values per column, duplicates, quarantined rows, new categories and
    out-of-range values per month, with the alert rules' thresholds."""
    svc = services()
    return graph(figures.quality_figure(reads.quality(svc.warehouse), rule_thresholds(svc)))


@callback(
    Output(Ids.HEALTH, "children"),
    Input(Ids.STORE, "data"),
    Input(Ids.REFRESH, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def update_health(data: dict | None, refresh: object) -> Any:
    """The health badge, again after new results or an alert was handled."""
    return _health(services())


# -- address and polling ---------------------------------------------------------------------


@callback(
    Output(Ids.URL, "search"),
    Input(Ids.PERIOD, "value"),
    Input(Ids.SEGMENT, "value"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.METRIC, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def write_url(
    period: object, segment: object, feature: object, metric: object, data: dict | None
) -> str:
    """The view as ``?period=2024-05&segment=region%3DSouth`` (defaults left out)."""
    return query_string(period, segment, feature, metric, data or {})


def _follow(current: object, old: object, new: object, valid: list) -> Any:
    """Keep a user's choice; move a value that sat on the old default to the new default."""
    if current is None or current == old or current not in valid:
        return new if new != current else no_update
    return no_update


_POLL_OUTPUTS = {
    **visibility_outputs(Ids.EMPTY, Ids.BODY, Ids.POLL),
    "summary": Output(Ids.SUMMARY, "children"),
    "segment_options": Output(Ids.SEGMENT, "options"),
    "period_options": Output(Ids.PERIOD, "options"),
    "period": Output(Ids.PERIOD, "value", allow_duplicate=True),
    "feature_options": Output(Ids.FEATURE, "options"),
    "feature": Output(Ids.FEATURE, "value", allow_duplicate=True),
    "data": Output(Ids.STORE, "data"),
}


@callback(
    output=_POLL_OUTPUTS,
    inputs={
        "tick": Input(Ids.POLL, "n_intervals"),
        "known": State(Ids.STORE, "data"),
        "period": State(Ids.PERIOD, "value"),
        "feature": State(Ids.FEATURE, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def poll_data(
    tick: int | None, known: dict | None, period: object, feature: object
) -> dict[str, Any]:
    """Notice the first monitored month, a new month, a handled alert or a new champion."""
    svc = services()
    state = load_state(svc)
    unchanged = dict.fromkeys(_POLL_OUTPUTS, no_update)
    if not state.ready:
        return unchanged | waiting(waiting_card(svc)) | {"summary": summary_text(svc)}
    known = known or {}
    if known.get("signature") == state.signature:
        return unchanged
    old = known.get("defaults") or {}
    new = state.defaults()
    return {
        **shown(),
        "summary": summary_text(svc),
        "segment_options": segment_options(state.segments),
        "period_options": period_options(state.periods),
        "period": _follow(period, old.get("period"), new["period"], state.periods),
        "feature_options": feature_options(state.features),
        "feature": _follow(feature, old.get("feature"), new["feature"], state.features),
        "data": state.as_store(),
    }
