"""Model quality across versions: the metric trend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from app.figures.formatting import floats, is_missing
from app.figures.model_style import (
    CHALLENGER_COLOUR,
    CHAMPION_COLOUR,
    MAX_ANNOTATED_CHAMPIONS,
    MAX_MARKED_POINTS,
    MAX_VERSION_TICKS,
    METRIC_COLOURS,
    TREND_HEIGHT,
    TREND_TITLE,
)
from app.figures.spec import (
    Figure,
    figure,
    merge,
    reference_line,
    subplots,
    trace_axes,
    update_annotations,
    update_axes,
)
from app.figures.theme import (
    LEGEND_BELOW,
    MUTED,
    empty_figure,
)


def _version_ticks(versions: Sequence[int]) -> tuple[list[int], list[str]]:
    """At most about ``MAX_VERSION_TICKS`` tick positions, at round version numbers."""
    if len(versions) <= MAX_VERSION_TICKS:
        ticks = list(versions)
    else:
        span = versions[-1] - versions[0]
        step = next(
            s * 10**e for e in range(12) for s in (1, 2, 5) if s * 10**e * MAX_VERSION_TICKS >= span
        )
        first = math.ceil(versions[0] / step) * step
        ticks = list(range(first, versions[-1] + 1, step))
    return ticks, [f"v{v}" for v in ticks]


def _metric_range(values: pd.Series) -> list[float] | None:
    present = pd.to_numeric(values, errors="coerce").dropna()
    if present.empty:
        return None
    low, high = float(present.min()), float(present.max())
    pad = max((high - low) * 0.1, 0.02)
    return [max(0.0, low - pad), min(1.0, high + pad)]


def metric_trend(versions: pd.DataFrame) -> Figure:
    """ROC AUC and PR AUC (top) and Brier score (bottom) per model version.

    ``versions`` has ``version`` (int), ``created_at``, ``roc_auc``, ``pr_auc``, ``brier``
    (floats, NaN when unknown) and ``alias`` (champion|challenger|archived). The champion is
    starred in the champion colour and the challenger marked with a diamond in the challenger
    colour, matching the comparison charts; a dotted vertical line marks each champion.
    """
    if versions.empty:
        return empty_figure(
            "No model version has been trained yet: the trend appears after the first training",
            TREND_TITLE,
        )
    data = versions.sort_values("version").reset_index(drop=True)
    x = [int(v) for v in data["version"]]
    created = pd.to_datetime(data.get("created_at"), errors="coerce")
    when = [
        "—" if is_missing(c) else pd.Timestamp(c).strftime("%Y-%m-%d %H:%M")
        for c in (created if created is not None else [None] * len(data))
    ]
    alias = ["" if is_missing(a) else str(a).lower() for a in data.get("alias", [None] * len(data))]
    layout = subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.62, 0.38],
        subplot_titles=[
            "Ranking quality: ROC AUC and PR AUC (higher is better)",
            "Probability error: Brier score (lower is better)",
        ],
    )
    mode = "lines+markers" if len(data) <= MAX_MARKED_POINTS else "lines"
    traces: list[dict[str, Any]] = []
    for column, name, row in (
        ("roc_auc", "ROC AUC", 1),
        ("pr_auc", "PR AUC", 1),
        ("brier", "Brier score", 2),
    ):
        values = floats(data[column]) if column in data else [None] * len(data)
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": values,
                "mode": mode,
                "name": name,
                "line": {"color": METRIC_COLOURS[column], "width": 2.5},
                "marker": {"size": 7},
                "customdata": when,
                "hovertemplate": (
                    f"v%{{x}} · trained %{{customdata}}<br>{name} %{{y:.3f}}<extra></extra>"
                ),
                **trace_axes(row, 1),
            }
        )
    shapes: list[dict[str, Any]] = []
    for role, symbol, colour in (
        ("champion", "star", CHAMPION_COLOUR),
        ("challenger", "diamond", CHALLENGER_COLOUR),
    ):
        rows = [i for i, a in enumerate(alias) if a == role]
        if not rows:
            continue
        legend = f"{role.capitalize()} ({', '.join(f'v{x[i]}' for i in rows[:3])})"
        if len(rows) > 3:
            legend = f"{role.capitalize()} ({len(rows)} versions)"
        for k, (column, row) in enumerate((("roc_auc", 1), ("pr_auc", 1), ("brier", 2))):
            if column not in data:
                continue
            values = floats(data[column])
            traces.append(
                {
                    "type": "scatter",
                    "x": [x[i] for i in rows],
                    "y": [values[i] for i in rows],
                    "mode": "markers",
                    "name": legend,
                    "legendgroup": role,
                    "showlegend": k == 0,
                    "marker": {
                        "symbol": symbol,
                        "size": 16 if symbol == "star" else 12,
                        "color": colour,
                        "line": {"color": "white", "width": 1},
                    },
                    "hovertemplate": f"v%{{x}} is the {role}<extra></extra>",
                    **trace_axes(row, 1),
                }
            )
        if role == "champion" and len(rows) <= MAX_ANNOTATED_CHAMPIONS:
            # What add_vline draws: one line per panel, spanning the panel's full height.
            shapes.extend(
                reference_line(
                    "x", x[i], {"color": CHAMPION_COLOUR, "width": 1, "dash": "dot"}, refs
                )
                for i in rows
                for refs in (trace_axes(1, 1), trace_axes(2, 1))
            )
    ticks, labels = _version_ticks(x)
    update_axes(
        layout,
        "x",
        tickmode="array",
        tickvals=ticks,
        ticktext=labels,
        range=[x[0] - 0.6, x[-1] + 0.6],
    )
    merge(layout["xaxis2"], {"title": {"text": "Model version"}})
    auc_range = _metric_range(
        pd.concat([data[c] for c in ("roc_auc", "pr_auc") if c in data] or [pd.Series(dtype=float)])
    )
    merge(
        layout["yaxis"],
        {"title": {"text": "AUC, higher is better"}, "tickformat": ".2f", "range": auc_range},
    )
    merge(
        layout["yaxis2"],
        {"title": {"text": "Brier, lower is better"}, "tickformat": ".3f", "rangemode": "tozero"},
    )
    if shapes:
        layout["shapes"] = shapes
    update_annotations(layout, font={"size": 13, "color": MUTED}, xanchor="left", x=0.0)
    layout.update(
        title={"text": TREND_TITLE},
        height=TREND_HEIGHT,
        legend=LEGEND_BELOW,
        margin={"b": 120},
        hovermode="x",
    )
    return figure(traces, layout)
