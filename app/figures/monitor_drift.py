"""Drift figures: the feature x month heatmap and one cell's reference against current shares.

Written as trace and layout dicts, built once by ``spec.figure`` (see
:mod:`app.figures.monitor_trends` for why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.figures.formatting import format_count, format_month, is_missing
from app.figures.monitor_style import (
    CURRENT_COLOUR,
    REFERENCE_COLOUR,
    SEVERITIES,
    SEVERITY_FILL,
    SEVERITY_LABEL,
    legend_key,
    title,
)
from app.figures.spec import Figure, figure
from app.figures.theme import LEGEND_BELOW, PRIMARY, empty_figure
from pipeline.monitoring import ALL, SCORE
from pipeline.monitoring.result import NAMES

HEATMAP_TITLE = "Feature drift by month"
DISTRIBUTION_TITLE = "Reference against current"
ROW_HEIGHT = 24  # px per feature row: 25 features give a 700 px chart
MAX_LABEL = 22  # characters of a bin label before it is shortened on the axis

# Codes 0, 1, 2 each fill a third of the scale, so the colours are discrete, not a gradient.
_SCALE = [
    [0.0, SEVERITY_FILL["ok"]],
    [1 / 3, SEVERITY_FILL["ok"]],
    [1 / 3, SEVERITY_FILL["watch"]],
    [2 / 3, SEVERITY_FILL["watch"]],
    [2 / 3, SEVERITY_FILL["drift"]],
    [1.0, SEVERITY_FILL["drift"]],
]
_CODE = {s: i for i, s in enumerate(SEVERITIES)}


def period_key(value: object) -> str:
    """A period as the ``"YYYY-MM"`` column label of the heatmap (and the URL)."""
    return pd.Timestamp(value).strftime("%Y-%m")  # type: ignore[arg-type]


def month_ticks(keys: Sequence[str]) -> list[str]:
    """Tick labels of ``"YYYY-MM"`` columns: the month, with the year under January and under
    the first column."""
    labels = []
    for i, key in enumerate(keys):
        month = pd.Timestamp(f"{key}-01")
        year = i == 0 or month.month == 1
        labels.append(f"{month:%b}<br>{month:%Y}" if year else f"{month:%b}")
    return labels


def feature_order(frame: pd.DataFrame) -> list[str]:
    """Features by the champion's importance rank (``rank``), unranked ones alphabetically."""
    if frame.empty:
        return []
    ranks = frame.groupby("column_name")["rank"].min()
    return sorted(ranks.index, key=lambda f: (is_missing(ranks[f]), ranks[f], f))


def _hover(row: Any) -> str:
    name = NAMES.get(row.method, row.method)
    measured = f"{name} {row.statistic:.3g} (threshold {row.threshold:g})"
    if not is_missing(row.p_value):
        measured += f", p = {row.p_value:.3g}"
    return f"{row.sentence}<br><span style='font-size:11px'>{measured}</span>"


def drift_heatmap(
    frame: pd.DataFrame,
    segment_label: str = "Whole batch",
    selected: tuple[str, str] | None = None,
    order: Sequence[str] | None = None,
) -> Figure:
    """One row per feature (most important on top), one column per month, coloured by
    severity; hover gives the drift sentence. Click targets are ``(x="YYYY-MM", y=feature)``.

    ``frame`` is :func:`pipeline.warehouse.reads_monitor.heatmap`; ``selected`` is the
    ``(period key, feature)`` outlined; ``order`` overrides the row order.
    """
    if frame.empty:
        return empty_figure(
            f"No feature drift measured for {segment_label.lower()} yet",
            HEATMAP_TITLE,
        )
    # One key per month, not per row, and no period column in the rows walked below: pandas
    # makes a Timestamp per row of a date column, which adds up over two years of features.
    codes, months = pd.factorize(frame["period"])  # period is never missing (NOT NULL)
    data = frame.drop(columns=["period"]).assign(
        key=np.array([period_key(m) for m in months], dtype=object)[codes]
    )
    periods = sorted(set(data["key"]))
    features = list(order) if order else feature_order(frame)
    measured = set(data["column_name"])
    features = [f for f in features if f in measured]
    x_at = {p: i for i, p in enumerate(periods)}
    y_at = {f: i for i, f in enumerate(features)}
    z = np.full((len(features), len(periods)), np.nan)
    text = np.full((len(features), len(periods)), "not measured for this month", dtype=object)
    for row in data.itertuples(index=False):
        i, j = y_at.get(row.column_name), x_at[row.key]
        if i is None:
            continue
        z[i, j] = _CODE.get(row.severity, np.nan)
        text[i, j] = _hover(row)
    traces = [
        {
            "type": "heatmap",
            "z": z,
            "x": periods,
            "y": features,
            "customdata": text,
            "colorscale": _SCALE,
            "zmin": -0.5,
            "zmax": 2.5,
            "showscale": False,
            "xgap": 2,
            "ygap": 2,
            "hovertemplate": "<b>%{y}</b> · %{x}<br>%{customdata}<extra></extra>",
            "hoverongaps": False,
            "hoverlabel": {"align": "left"},
            "name": "drift",
        }
    ]
    # The legend: one square per severity (no data; the heatmap itself has no legend entry).
    traces += [
        legend_key(
            SEVERITY_LABEL[severity],
            marker={
                "symbol": "square",
                "size": 14,
                "color": SEVERITY_FILL[severity],
                "line": {"color": "#b8c2c8", "width": 1},
            },
        )
        for severity in SEVERITIES
    ]
    shapes = []
    if selected is not None and selected[0] in x_at and selected[1] in y_at:
        j, i = x_at[selected[0]], y_at[selected[1]]
        shapes.append(
            {
                "type": "rect",
                "x0": j - 0.5,
                "x1": j + 0.5,
                "y0": i - 0.5,
                "y1": i + 0.5,
                "line": {"color": PRIMARY, "width": 3},
            }
        )
    layout = {
        "title": title(
            f"{HEATMAP_TITLE} · {segment_label}",
            "Rows: features, the champion's most important first. Click a cell to compare "
            "its distribution with the reference.",
        ),
        "height": max(360, 190 + ROW_HEIGHT * len(features)),
        "margin": {"l": 150, "r": 24, "t": 96, "b": 64},
        "legend": {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
        "xaxis": {
            "type": "category",
            "title": None,
            "showgrid": False,
            "ticks": "",
            # "Jan<br>2024", "Feb", ...: short enough to stay horizontal over two years
            "tickmode": "array",
            "tickvals": periods,
            "ticktext": month_ticks(periods),
            "tickangle": 0,
        },
        "yaxis": {
            "type": "category",
            "autorange": "reversed",
            "showgrid": False,
            "ticks": "",
            "title": None,
        },
        "shapes": shapes,
        "plot_bgcolor": "white",
        "hovermode": "closest",
    }
    return figure(traces, layout)


def _short(label: str) -> str:
    label = str(label)
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _window(cell: Mapping[str, Any]) -> str:
    start, end = cell.get("reference_from"), cell.get("reference_to")
    if is_missing(start) or is_missing(end):
        return "the reference window"
    return f"{format_month(start)}–{format_month(end)}"


def distribution_figure(cell: Mapping[str, Any] | None) -> Figure:
    """Grouped bars of the share of rows per bin (or category) in the reference window and in
    the current month, from the stored histogram of one drift result
    (:func:`pipeline.warehouse.reads_monitor.cell`)."""
    histogram = (cell or {}).get("histogram") or {}
    labels = [str(x) for x in histogram.get("labels") or []]
    if not cell or not labels:
        return empty_figure("Click a cell of the heatmap to see its distributions", None)
    reference = [float(x) for x in histogram.get("reference") or [0.0] * len(labels)]
    current = [float(x) for x in histogram.get("current") or [0.0] * len(labels)]
    # Long bin labels are shortened on the axis; the hover keeps them whole.
    shown = []
    for label in labels:
        short = _short(label)
        while short in shown:  # categories must stay distinct after shortening
            short += " "
        shown.append(short)
    column = "the score" if cell.get("column_name") == SCORE else cell.get("column_name")
    month = format_month(cell["period"])
    ref_rows = format_count(cell.get("rows_reference"))
    cur_rows = format_count(cell.get("rows_current"))
    traces = [
        {
            "type": "bar",
            "x": shown,
            "y": values,
            "name": name,
            "marker": {"color": colour},
            "customdata": labels,
            "hovertemplate": f"%{{customdata}}<br>{name.split(':')[0]} %{{y:.1%}}<extra></extra>",
        }
        for name, values, colour in (
            (f"Reference: {_window(cell)} ({ref_rows} rows)", reference, REFERENCE_COLOUR),
            (f"Current: {month} ({cur_rows} rows)", current, CURRENT_COLOUR),
        )
    ]
    segment = (
        ""
        if cell.get("segment_column") in (None, ALL)
        else f" · {cell['segment_column']} = {cell['segment_value']}"
    )
    many = len(labels) > 8
    layout = {
        "title": title(
            f"{DISTRIBUTION_TITLE}: {column}, {month}{segment}", "Share of rows per bin"
        ),
        "barmode": "group",
        "bargap": 0.2,
        "bargroupgap": 0.05,
        "height": 420,
        "margin": {"l": 64, "r": 16, "t": 84, "b": 130 if many else 96},
        "legend": LEGEND_BELOW,
        "yaxis": {"title": {"text": "share of rows"}, "tickformat": ".0%", "rangemode": "tozero"},
        "xaxis": {
            "type": "category",
            "title": None,
            "tickangle": -40 if many else 0,
            "tickfont": {"size": 11},
        },
        "hovermode": "x unified" if not many else "closest",
    }
    return figure(traces, layout)
