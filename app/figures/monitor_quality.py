"""The data-quality figure: missing values per column, duplicates, quarantined rows, new
categories and out-of-range values per month, with the alert rules' thresholds.

Written as trace and layout dicts, built once by ``spec.figure`` (see
:mod:`app.figures.monitor_trends` for why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from app.figures.formatting import floats, format_month
from app.figures.monitor_style import GRAPH_MARGIN, month_axis, title
from app.figures.spec import Figure, figure
from app.figures.theme import DANGER, MUTED, PRIMARY, empty_figure
from pipeline.monitoring import ALL

QUALITY_TITLE = "Data quality per month"
# Missing-value lines (top panel) and row-level series (bottom) have their own legends.
QUALITY_COLOURS = [PRIMARY, "#3498db", "#18bc9c", "#9b59b6", "#e67e22", "#7f8c8d"]
ROW_SERIES = {
    "duplicate_rate": ("duplicates", "#1f78b4", "solid"),
    "quarantine_rate": ("quarantined", "#e08e0b", "solid"),
    "new_category_rate": ("new categories (worst column)", "#8e44ad", "dot"),
    "out_of_range_rate": ("out of range (worst column)", "#16a085", "dot"),
}

# -- data quality ----------------------------------------------------------------------------

BOTTOM_TOP = 0.43  # the panels of the quality figure: bottom [0, 0.43], top [0.57, 1]
TOP_BOTTOM = 0.57


def _worst(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per month, the column with the highest ``metric``: period, value, column_name."""
    rows = frame[(frame["metric"] == metric) & (frame["column_name"] != ALL)]
    rows = rows.dropna(subset=["value"])
    if rows.empty:
        return rows
    return rows.loc[rows.groupby("period")["value"].idxmax()].sort_values("period")


def _rule_line(
    x: Sequence[pd.Timestamp], value: float | None, label: str, top: bool
) -> list[dict[str, Any]]:
    """A dashed line at an alert rule's threshold, in the legend of its panel."""
    if value is None or not x:
        return []
    return [
        {
            "type": "scatter",
            "x": [x[0] - pd.Timedelta(days=16), x[-1] + pd.Timedelta(days=16)],
            "y": [value, value],
            "xaxis": "x" if top else "x2",
            "yaxis": "y" if top else "y2",
            "mode": "lines",
            "name": f"rule: {label} above {value:.0%}",
            "line": {"color": DANGER, "width": 1.5, "dash": "dash"},
            "hovertemplate": f"alert rule: {label} above {value:.1%}<extra></extra>",
            "legend": "legend" if top else "legend2",
        }
    ]


def _side_legend(top: float, heading: str) -> dict:
    return {
        "orientation": "v",
        "x": 1.02,
        "xanchor": "left",
        "y": top,
        "yanchor": "top",
        "title": {"text": heading, "font": {"size": 12, "color": MUTED}},
        "bgcolor": "rgba(255,255,255,0)",
    }


def _panel_title(text: str, top: float) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": top,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 13, "color": MUTED},
    }


def _missing_lines(frame: pd.DataFrame, max_columns: int) -> tuple[list[dict[str, Any]], str]:
    """The top panel's lines (the columns that ever miss most) and its title."""
    missing = frame[(frame["metric"] == "missing_rate") & (frame["column_name"] != ALL)]
    peak = missing.groupby("column_name")["value"].max().fillna(0.0)
    worst = [c for c in peak.sort_values(ascending=False).index if peak[c] > 0][:max_columns]
    quiet = len(peak) - len(worst)
    heading = "Share of missing values per column" + (
        f" (the {len(worst)} worst; {quiet} others lower)" if quiet and worst else ""
    )
    traces = []
    for i, column in enumerate(worst):
        rows = missing[missing["column_name"] == column].sort_values("period")
        traces.append(
            {
                "type": "scatter",
                "x": [pd.Timestamp(p) for p in rows["period"]],
                "y": floats(rows["value"]),
                "mode": "lines+markers",
                "name": column,
                "legend": "legend",
                "line": {"color": QUALITY_COLOURS[i % len(QUALITY_COLOURS)], "width": 2},
                "marker": {"size": 5},
                "hovertemplate": f"{column}<br>%{{x|%b %Y}}: %{{y:.2%}} missing<extra></extra>",
            }
        )
    return traces, heading if worst else heading + ": no column had missing values"


def _row_lines(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The bottom panel: duplicates and quarantined rows, the worst column's new categories
    and out-of-range values."""
    traces = []
    for metric, (label, colour, dash) in ROW_SERIES.items():
        if metric in ("duplicate_rate", "quarantine_rate"):
            rows = frame[(frame["metric"] == metric) & (frame["column_name"] == ALL)]
            rows = rows.sort_values("period")
            where = ["" for _ in range(len(rows))]
        else:
            rows = _worst(frame, metric)
            where = [f" in {c}" for c in rows["column_name"]]
        if rows.empty:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": [pd.Timestamp(p) for p in rows["period"]],
                "y": floats(rows["value"]),
                "xaxis": "x2",
                "yaxis": "y2",
                "mode": "lines+markers",
                "name": label,
                "legend": "legend2",
                "line": {"color": colour, "width": 2, "dash": dash},
                "marker": {"size": 5},
                "customdata": where,
                "hovertemplate": (
                    f"%{{x|%b %Y}}: %{{y:.2%}} {label.split(' (')[0]}%{{customdata}}<extra></extra>"
                ),
            }
        )
    return traces


def quality_figure(
    frame: pd.DataFrame,
    thresholds: Mapping[str, float] | None = None,
    max_columns: int = 6,
) -> Figure:
    """Top: the share of missing values per month in the ``max_columns`` columns that ever
    miss most. Bottom: duplicate and quarantined rows, and the worst column's new-category
    and out-of-range shares. Dashed lines are the alert rules in ``thresholds`` (metric ->
    share, from ``settings.monitoring.rules``).

    ``frame`` is :func:`pipeline.warehouse.reads_monitor.quality`.
    """
    if frame.empty:
        return empty_figure(
            "No data quality measured yet: it is recorded for every batch a run takes in",
            QUALITY_TITLE,
        )
    thresholds = thresholds or {}
    # the distinct months, not a Timestamp per row (a row per column and metric each month)
    x_all = sorted({pd.Timestamp(p) for p in frame["period"].unique()})
    top, heading = _missing_lines(frame, max_columns)
    traces = [
        *top,
        *_rule_line(x_all, thresholds.get("missing_rate"), "missing rate", True),
        *_row_lines(frame),
        *_rule_line(x_all, thresholds.get("duplicate_rate"), "duplicate rate", False),
    ]
    axis = month_axis(x_all)
    share = {"tickformat": ".1~%", "rangemode": "tozero", "title": {"text": "share of rows"}}
    layout = {
        "title": title(QUALITY_TITLE, f"{format_month(x_all[0])}–{format_month(x_all[-1])}"),
        "height": 600,
        "margin": GRAPH_MARGIN | {"t": 110, "b": 64, "r": 250},
        "legend": _side_legend(1.0, "Missing values in"),
        "legend2": _side_legend(BOTTOM_TOP, "Rows and values"),
        "hovermode": "closest",
        "xaxis": axis | {"anchor": "y", "showticklabels": False},
        "yaxis": share | {"domain": [TOP_BOTTOM, 1.0]},
        "xaxis2": axis | {"anchor": "y2", "matches": "x"},
        "yaxis2": share | {"domain": [0.0, BOTTOM_TOP]},
        "annotations": [
            _panel_title(heading, 1.0),
            _panel_title(
                "Rows removed as duplicates or quarantined; the worst column's new "
                "categories and out-of-range values",
                BOTTOM_TOP,
            ),
        ],
    }
    return figure(traces, layout)
