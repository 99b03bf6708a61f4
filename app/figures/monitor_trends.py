"""Monitor figures over time: prediction drift and performance (estimated, realised, events).
Months are on a date axis; promotions and retrains are dotted lines across it.

Each figure is written as trace and layout dicts and built once by ``spec.figure``: plotly
validates the layout on every ``add_trace(row=...)``, ``add_shape`` or ``make_subplots``, which
made two years of events cost a quarter of a second per chart, and validates a ``go.Scatter``
once when it is built and again inside the figure.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from app.figures.formatting import floats, format_count, is_missing
from app.figures.monitor_style import (
    ALERT_COLOURS,
    BAND_FILL,
    ESTIMATE_COLOUR,
    GRAPH_MARGIN,
    METRIC_NAMES,
    PROMOTION_COLOUR,
    REALISED_COLOUR,
    REFERENCE_COLOUR,
    RETRAIN_COLOUR,
    SEVERITIES,
    SEVERITY_MARKER,
    by_month,
    event_hover,
    event_marks,
    legend_key,
    month_axis,
    placed,
    title,
)
from app.figures.spec import Figure, figure
from app.figures.theme import DANGER, LEGEND_BELOW, MUTED, PRIMARY, WARNING, empty_figure
from pipeline.monitoring.result import NAMES, P_VALUE_METHODS

PREDICTION_TITLE = "Prediction drift: has the score distribution moved?"
PERFORMANCE_TITLE = "Performance: estimated against realised"
PREDICTION_HEIGHT = 600  # as tall as the cell detail beside it
PREDICTION_LABELS = 8  # months of events labelled on the half-width chart; more are lines only


def _periods(frame: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted({pd.Timestamp(p) for p in frame["period"].unique()})


# -- prediction drift ------------------------------------------------------------------------


def _drift_axis(
    data: pd.DataFrame,
) -> tuple[list[float | None], list[float | None], str, bool, str]:
    """The plotted values, the threshold per point, the axis title, whether it is a log axis
    and the threshold's legend entry.

    One method: its statistic (or p-value for a test, on a log axis) against its threshold.
    Mixed methods (a small month tested, the others measured): each as a multiple of its
    threshold, so 1 is the line for all of them.
    """
    methods = set(data["method"])
    if len(methods) == 1:
        method = next(iter(methods))
        if method in P_VALUE_METHODS:
            return (
                floats(data["p_value"]),
                floats(data["threshold"]),
                f"{NAMES.get(method, method)} p-value",
                True,
                "threshold: drift below it",
            )
        return (
            floats(data["statistic"]),
            floats(data["threshold"]),
            NAMES.get(method, method),
            False,
            "threshold: drift above it",
        )
    ratios: list[float | None] = []
    for row in data.itertuples(index=False):
        if row.method in P_VALUE_METHODS:
            p = row.p_value
            ratios.append(None if is_missing(p) else row.threshold / max(float(p), 1e-12))
        else:
            ratios.append(None if is_missing(row.statistic) else row.statistic / row.threshold)
    return (
        ratios,
        [1.0] * len(data),
        "statistic ÷ its threshold",
        False,
        "threshold: drift above it",
    )


def prediction_drift_figure(
    frame: pd.DataFrame,
    events: pd.DataFrame | None = None,
    segment_label: str = "Whole batch",
) -> Figure:
    """The score distribution's drift statistic per month against its threshold, points
    coloured by severity; promotions and retrains as dotted lines.

    ``frame`` is :func:`pipeline.warehouse.reads_monitor.prediction_drift`; ``events`` is
    :func:`pipeline.warehouse.reads_monitor.events`.
    """
    if frame.empty:
        return empty_figure(
            f"No prediction drift measured for {segment_label.lower()} yet", PREDICTION_TITLE
        )
    data = frame.sort_values("period").reset_index(drop=True)
    x = [pd.Timestamp(p) for p in data["period"]]
    y, thresholds, axis_title, log, threshold_name = _drift_axis(data)
    colours = [SEVERITY_MARKER.get(s, MUTED) for s in data["severity"]]
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": thresholds,
            "mode": "lines",
            "name": threshold_name,
            "line": {"color": DANGER, "width": 1.5, "dash": "dash", "shape": "hv"},
            "hovertemplate": "threshold %{y:.3g}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": y,
            "mode": "lines+markers",
            "name": "score drift",
            "line": {"color": PRIMARY, "width": 2},
            "marker": {"color": colours, "size": 10, "line": {"color": "white", "width": 1}},
            "customdata": list(data["sentence"]),
            "hovertemplate": "%{x|%b %Y}<br>%{customdata}<extra></extra>",
        },
    ]
    traces += [  # legend keys for the coloured points
        legend_key(severity, marker={"color": SEVERITY_MARKER[severity], "size": 10})
        for severity in SEVERITIES[1:]
    ]
    shown = placed(events, x)
    shapes, notes = event_marks(shown, max_labels=PREDICTION_LABELS)
    traces += [  # legend keys for the dotted lines
        legend_key(name, line={"color": colour, "width": 1.5, "dash": "dot"})
        for kind, name, colour in (
            ("promotion", "new champion", PROMOTION_COLOUR),
            ("retrain", "retrain", RETRAIN_COLOUR),
        )
        if shapes and kind in set(shown["kind"])
    ]
    layout = {
        "title": title(PREDICTION_TITLE, f"{segment_label} · each month against the reference"),
        "height": PREDICTION_HEIGHT,
        "margin": GRAPH_MARGIN | {"t": 150 if notes else 110},
        "legend": LEGEND_BELOW,
        "xaxis": month_axis(x),
        "yaxis": {
            "title": {"text": axis_title},
            "type": "log" if log else "linear",
            "rangemode": "normal" if log else "tozero",
        },
        "shapes": shapes,
        "annotations": notes,
        "hovermode": "closest",
    }
    return figure(traces, layout)


# -- performance -----------------------------------------------------------------------------

LANES = (
    # kind, lane label, marker, colour
    ("promotion", "New champion", "star", PROMOTION_COLOUR),
    ("retrain", "Retrain", "diamond", RETRAIN_COLOUR),
    ("alert", "Alerts", "triangle-up", WARNING),
)
_LOUDNESS = {"info": 0, "warning": 1, "critical": 2}


def _lanes(events: pd.DataFrame) -> list[dict[str, Any]]:
    """The bottom panel (axes x2, y2): one lane each for promotions, retrains and alerts, a
    marker per month with what happened in the hover."""
    traces = []
    for kind, name, symbol, colour in LANES:
        months = by_month(events, (kind,))
        if not months:
            continue
        colours = [colour] * len(months)
        if kind == "alert":  # the loudest alert of the month sets its colour
            colours = [
                ALERT_COLOURS.get(
                    max((str(e["severity"]) for e in g), key=lambda s: _LOUDNESS.get(s, 0)),
                    WARNING,
                )
                for _, g in months
            ]
        traces.append(
            {
                "type": "scatter",
                "x": [p for p, _ in months],
                "y": [name] * len(months),
                "xaxis": "x2",
                "yaxis": "y2",
                "mode": "markers",
                "name": name,
                "showlegend": False,
                "marker": {"symbol": symbol, "size": 13, "color": colours},
                "customdata": [event_hover(p, g) for p, g in months],
                "hovertemplate": "%{customdata}<extra></extra>",
            }
        )
    return traces


def _band(estimated: pd.DataFrame) -> list[dict[str, Any]]:
    x = [pd.Timestamp(p) for p in estimated["period"]]
    return [
        {
            "type": "scatter",
            "x": x,
            "y": floats(estimated["high"]),
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": floats(estimated["low"]),
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": BAND_FILL,
            "name": "estimate's band",
            "hoverinfo": "skip",
        },
    ]


def _estimate(estimated: pd.DataFrame, name: str) -> dict[str, Any]:
    details = []
    for low, high, version, rows in zip(
        estimated["low"], estimated["high"], estimated["model_version"], estimated["rows"],
        strict=True,
    ):  # fmt: skip
        band = "" if is_missing(low) or is_missing(high) else f"band {low:.3f}–{high:.3f} · "
        details.append(f"{band}v{int(version)} · {format_count(rows)} rows")
    return {
        "type": "scatter",
        "x": [pd.Timestamp(p) for p in estimated["period"]],
        "y": floats(estimated["value"]),
        "mode": "lines+markers",
        "name": f"Estimated {name} (no labels needed)",
        "line": {"color": ESTIMATE_COLOUR, "width": 2.5},
        "marker": {"size": 6},
        "customdata": details,
        "hovertemplate": (
            f"%{{x|%b %Y}}<br>Estimated {name} %{{y:.3f}}<br>%{{customdata}}<extra></extra>"
        ),
    }


def _realised(realised: pd.DataFrame, name: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "x": [pd.Timestamp(p) for p in realised["period"]],
        "y": floats(realised["value"]),
        "mode": "markers",
        "name": f"Realised {name} (labels arrived)",
        "marker": {
            "symbol": "diamond",
            "size": 11,
            "color": REALISED_COLOUR,
            "line": {"color": "white", "width": 1},
        },
        "customdata": [
            f"v{int(v)} · {format_count(r)} labelled rows"
            for v, r in zip(realised["model_version"], realised["rows"], strict=True)
        ],
        "hovertemplate": f"%{{x|%b %Y}}<br>Realised {name} %{{y:.3f}}<br>%{{customdata}}"
        "<extra></extra>",
    }


def performance_figure(
    frame: pd.DataFrame,
    metric: str = "roc_auc",
    reference: tuple[int, float] | None = None,
    events: pd.DataFrame | None = None,
    segment_label: str = "Whole batch",
) -> Figure:
    """Estimated ``metric`` per month (line and band), realised (markers, once labels
    arrived), the champion's holdout value as a reference line, and below a time axis of
    promotions, retrains and alerts (dotted lines mark promotions and retrains above).

    ``frame`` is :func:`pipeline.warehouse.reads_monitor.performance`, ``reference``
    ``(version, value)`` from :func:`~pipeline.warehouse.reads_monitor.champion_reference`.
    """
    name = METRIC_NAMES.get(metric, metric)
    if frame.empty:
        return empty_figure(
            f"No {name} measured for {segment_label.lower()} yet: the estimate appears after "
            "a month is scored, the realised value once its labels arrive",
            PERFORMANCE_TITLE,
        )
    estimated = frame[frame["kind"] == "estimated"].sort_values("period")
    realised = frame[frame["kind"] == "realised"].sort_values("period")
    x_all = _periods(frame)
    shown = placed(events, x_all)
    traces: list[dict[str, Any]] = []
    if not estimated.empty:
        traces += [*_band(estimated), _estimate(estimated, name)]
    if not realised.empty:
        traces.append(_realised(realised, name))
    if reference is not None:
        version, value = reference
        traces.append(
            {
                "type": "scatter",
                "x": [x_all[0] - pd.Timedelta(days=16), x_all[-1] + pd.Timedelta(days=16)],
                "y": [value, value],
                "mode": "lines",
                "name": f"v{version} (champion) on its holdout: {value:.3f}",
                "line": {"color": REFERENCE_COLOUR, "width": 1.5, "dash": "dot"},
                "hovertemplate": f"champion v{version} holdout {name} {value:.3f}<extra></extra>",
            }
        )
    traces += _lanes(shown)
    shapes, notes = event_marks(shown)
    axis = month_axis(x_all)
    layout = {
        "title": title(
            f"{PERFORMANCE_TITLE} · {segment_label}",
            "Estimated from the model's confidence each month; realised once labels arrive",
        ),
        "height": 560,
        "margin": GRAPH_MARGIN | {"t": 112, "b": 110},
        "legend": LEGEND_BELOW,
        "hovermode": "closest",
        # the metric on top, the lanes of events below, one month axis for both
        "xaxis": axis | {"anchor": "y", "showticklabels": False},
        "yaxis": {
            "domain": [0.3, 1.0],
            "title": {"text": f"{name}, higher is better"},
            "tickformat": ".2f",
        },
        "xaxis2": axis | {"anchor": "y2", "matches": "x"},
        "yaxis2": {
            "domain": [0.0, 0.24],
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [lane for _, lane, _, _ in reversed(LANES)],
            "range": [-0.7, 2.7],
            "showgrid": True,
        },
        "shapes": shapes,
        "annotations": notes,
    }
    return figure(traces, layout)
