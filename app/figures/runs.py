"""Figures of the operator Runs page."""

from __future__ import annotations

import pandas as pd

from app.figures.formatting import format_duration, is_missing
from app.figures.spec import Figure, figure
from app.figures.theme import SECONDARY, STATUS_COLOURS, empty_figure


def _bar_text(status: str, duration: object) -> str:
    if status == "running":
        return "running"
    return "" if is_missing(duration) else format_duration(duration)


def step_durations_figure(steps: pd.DataFrame, run_id: int) -> Figure:
    """Horizontal bars of each step's duration in seconds, in execution order, coloured by status.

    ``steps`` has columns ``position``, ``step``, ``status`` and ``duration_s``. A step still
    running has no duration yet: its bar is empty and says "running" (the page's live card
    counts its seconds).
    """
    title = f"Step durations of run #{run_id} (seconds)"
    if steps.empty:
        return empty_figure("This run has not recorded any steps yet", title)
    data = steps.sort_values("position").copy()
    data["duration_s"] = pd.to_numeric(data["duration_s"], errors="coerce").fillna(0.0)
    order = list(data["step"])
    traces = [
        {
            "type": "bar",
            "y": rows["step"],
            "x": rows["duration_s"],
            "orientation": "h",
            "name": str(status),
            "marker": {"color": STATUS_COLOURS.get(str(status), SECONDARY)},
            "text": [_bar_text(str(status), v) for v in rows["duration_s"]],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{y}: running<extra></extra>"
            if status == "running"
            else "%{y}: %{x:.2f} s (" + str(status) + ")<extra></extra>",
        }
        for status, rows in data.groupby("status", sort=False)
    ]
    longest = float(data["duration_s"].max())
    layout = {
        "title": {"text": title},
        "height": max(240, 110 + 44 * len(order)),
        "barmode": "overlay",
        "bargap": 0.35,
        "xaxis": {"title": {"text": "Duration (s)"}, "range": [0, max(longest * 1.2, 1.0)]},
        # First step on top, as the pipeline reads; no title (the step names say it).
        "yaxis": {"categoryorder": "array", "categoryarray": order[::-1], "title": None},
        "legend": {"title": {"text": "Status "}},
    }
    return figure(traces, layout)
