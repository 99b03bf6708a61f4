"""Shared style of the Model review figures: colours per label, sizes, titles and axes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.figures.formatting import floats
from app.figures.spec import Figure, figure
from app.figures.theme import (
    DANGER,
    INFO,
    LEGEND_BELOW,
    MUTED,
    PRIMARY,
    SECONDARY,
    SUCCESS,
    WARNING,
)

CHAMPION_COLOUR = INFO
CHALLENGER_COLOUR = WARNING
PURPLE = "#9b59b6"
# Labels after the first two; none of them is the champion or the challenger colour.
OTHER_COLOURS = [SUCCESS, PRIMARY, PURPLE, DANGER, SECONDARY]
REFERENCE_COLOUR = SECONDARY
METRIC_COLOURS = {"roc_auc": PRIMARY, "pr_auc": SUCCESS, "brier": PURPLE}
MARK_COLOURS = [DANGER, SUCCESS, PURPLE, PRIMARY, MUTED]

CURVE_HEIGHT = 440
TREND_HEIGHT = 520
CONFUSION_HEIGHT = 380
PROFIT_HEIGHT = 420

MAX_MARKED_POINTS = 40  # versions before the trend lines drop their per-point markers
MAX_VERSION_TICKS = 16
MAX_ANNOTATED_CHAMPIONS = 3

UNIT_RANGE = [-0.01, 1.01]  # 0-100 % with room for the line width at the edges

TREND_TITLE = "Model quality per version"
ROC_TITLE = "ROC curve: churners caught vs stayers flagged"
PR_TITLE = "Precision–recall: how many of the flagged customers churn"
CALIBRATION_TITLE = "Calibration: predicted probability vs observed churn rate"
GAIN_TITLE = "Cumulative gain: churners reached by contacting the highest scores first"
CONFUSION_TITLE = "Confusion matrix at the decision threshold (rows, % of all rows)"
PROFIT_TITLE = "Expected profit by decision threshold"

NO_CURVES = "No evaluated model version to show yet: curves appear after a training run"


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    """Colour per label, by order: champion colour, challenger colour, then the others."""
    palette = [CHAMPION_COLOUR, CHALLENGER_COLOUR, *OTHER_COLOURS]
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _section(payload: Mapping[str, Any] | None, name: str, *keys: str) -> list[list] | None:
    """The lists ``keys`` of ``payload[name]`` as floats, or None when absent or empty."""
    part = (payload or {}).get(name) or {}
    columns = [floats(part.get(key)) for key in keys]
    if not columns or not columns[0] or any(len(c) != len(columns[0]) for c in columns):
        return None
    return columns


def _reference_line(
    name: str, x: Sequence[float], y: Sequence[float], hover: str
) -> dict[str, Any]:
    """A grey dashed reference drawn under the curves and listed after them in the legend."""
    return {
        "type": "scatter",
        "x": list(x),
        "y": list(y),
        "mode": "lines",
        "name": name,
        "line": {"color": REFERENCE_COLOUR, "width": 1.5, "dash": "dash"},
        "hovertemplate": f"{hover}<extra></extra>",
        "legendrank": 2000,
    }


def _unit_axis(title: str) -> dict[str, Any]:
    """An axis of rates from 0 to 100 %, ticks every 20 %."""
    return {
        "title": {"text": title},
        "range": list(UNIT_RANGE),
        "tickformat": ".0%",
        "dtick": 0.2,
        "zeroline": False,
    }


def _curve_figure(
    traces: list[dict[str, Any]], title: str, xaxis: dict[str, Any], yaxis: dict[str, Any]
) -> Figure:
    """The curve overlays' common frame: ``traces`` on ``xaxis``/``yaxis``, legend below."""
    return figure(
        traces,
        {
            "xaxis": xaxis,
            "yaxis": yaxis,
            "title": {"text": title},
            "height": CURVE_HEIGHT,
            "legend": LEGEND_BELOW,
            "margin": {"b": 120},
            "hovermode": "closest",
        },
    )
