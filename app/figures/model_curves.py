"""Curve overlays comparing model versions: ROC, precision-recall, calibration, gain."""

from __future__ import annotations

import math
from typing import Any

from app.figures.data import plain
from app.figures.formatting import format_pct, is_missing
from app.figures.model_style import (
    CALIBRATION_TITLE,
    GAIN_TITLE,
    NO_CURVES,
    PR_TITLE,
    ROC_TITLE,
    _curve_figure,
    _reference_line,
    _section,
    _unit_axis,
    label_colours,
)
from app.figures.spec import Figure
from app.figures.theme import (
    empty_figure,
)


def roc_overlay(curves: dict[str, dict]) -> Figure:
    """ROC curve per label (true vs false positive rate), with the random-classifier diagonal."""
    colours = label_colours(curves)
    traces: list[dict[str, Any]] = [
        _reference_line("Random classifier", [0, 1], [0, 1], "Random classifier: TPR = FPR")
    ]
    for label, payload in curves.items():
        section = _section(payload, "roc", "fpr", "tpr")
        if section is None:
            continue
        fpr, tpr = section
        name = plain(label)
        traces.append(
            {
                "type": "scatter",
                "x": fpr,
                "y": tpr,
                "mode": "lines",
                "name": name,
                "line": {"color": colours[label], "width": 3},
                "hovertemplate": (
                    f"<b>{name}</b><br>stayers flagged (FPR) %{{x:.1%}}"
                    "<br>churners caught (TPR) %{y:.1%}<extra></extra>"
                ),
            }
        )
    if len(traces) == 1:
        return empty_figure(NO_CURVES, ROC_TITLE)
    return _curve_figure(
        traces,
        ROC_TITLE,
        _unit_axis("False positive rate (% of stayers flagged)"),
        _unit_axis("True positive rate (% of churners caught)"),
    )


def pr_overlay(curves: dict[str, dict], base_rates: dict[str, float]) -> Figure:
    """Precision against recall per label, with each label's churn base rate as a dotted line.

    The base rate is the precision of flagging customers at random, so a curve above its
    dotted line beats random targeting.
    """
    colours = label_colours(curves)
    traces: list[dict[str, Any]] = []
    for label, payload in curves.items():
        section = _section(payload, "pr", "recall", "precision")
        if section is None:
            continue
        recall, precision = section
        name = plain(label)
        traces.append(
            {
                "type": "scatter",
                "x": recall,
                "y": precision,
                "mode": "lines",
                "name": name,
                "legendgroup": name,
                "line": {"color": colours[label], "width": 3},
                "hovertemplate": (
                    f"<b>{name}</b><br>churners caught (recall) %{{x:.1%}}"
                    "<br>flagged who churn (precision) %{y:.1%}<extra></extra>"
                ),
            }
        )
        base = base_rates.get(label)
        if is_missing(base):
            continue
        traces.append(
            {
                "type": "scatter",
                "x": [0.0, 1.0],
                "y": [float(base), float(base)],
                "mode": "lines",
                "name": f"{name} base rate ({format_pct(base)})",
                "legendgroup": name,
                "legendrank": 2000,
                "line": {"color": colours[label], "width": 1.5, "dash": "dot"},
                "hovertemplate": (
                    f"<b>{name}</b><br>base rate %{{y:.1%}}: precision of random targeting"
                    "<extra></extra>"
                ),
            }
        )
    if not traces:
        return empty_figure(NO_CURVES, PR_TITLE)
    return _curve_figure(
        traces,
        PR_TITLE,
        _unit_axis("Recall (% of churners caught)"),
        _unit_axis("Precision (% of flagged customers who churn)"),
    )


def _nice_upper(value: float) -> float:
    """The smallest of 0.1, 0.2, ..., 1.0 at or above ``value``."""
    return min(1.0, max(0.1, math.ceil(value * 10 - 1e-9) / 10))


def calibration_overlay(curves: dict[str, dict]) -> Figure:
    """Observed churn rate against mean predicted probability per bin, per label.

    Both axes share one range zoomed to the data, so the perfect-calibration diagonal stays at
    45 degrees; points below it mean the model over-predicts churn.
    """
    colours = label_colours(curves)
    sections = {
        label: section
        for label, payload in curves.items()
        if (section := _section(payload, "calibration", "mean_predicted", "observed", "count"))
    }
    if not sections:
        return empty_figure(NO_CURVES, CALIBRATION_TITLE)
    top = max(
        (v for predicted, observed, _ in sections.values() for v in predicted + observed if v),
        default=0.0,
    )
    upper = _nice_upper(top * 1.05)
    traces: list[dict[str, Any]] = [
        _reference_line(
            "Perfect calibration",
            [0, upper],
            [0, upper],
            "Perfect calibration: observed = predicted",
        )
    ]
    for label, (predicted, observed, count) in sections.items():
        name = plain(label)
        traces.append(
            {
                "type": "scatter",
                "x": predicted,
                "y": observed,
                "mode": "lines+markers",
                "name": name,
                "line": {"color": colours[label], "width": 2.5},
                "marker": {"size": 8},
                "customdata": [0 if c is None else c for c in count],
                "hovertemplate": (
                    f"<b>{name}</b><br>predicted %{{x:.1%}} · observed %{{y:.1%}}"
                    "<br>%{customdata:,.0f} rows in this bin<extra></extra>"
                ),
            }
        )
    pad = upper * 0.01

    def axis(title: str) -> dict[str, Any]:
        return {
            "title": {"text": title},
            "range": [-pad, upper + pad],
            "tickformat": ".0%",
            "zeroline": False,
        }

    return _curve_figure(
        traces,
        CALIBRATION_TITLE,
        axis("Mean predicted churn probability (%)"),
        axis("Observed churn rate (% of rows in the bin)"),
    )


def gain_overlay(curves: dict[str, dict]) -> Figure:
    """Share of all churners among the top x % of scores, per label, against random targeting."""
    colours = label_colours(curves)
    traces: list[dict[str, Any]] = [
        _reference_line(
            "Random targeting",
            [0, 1],
            [0, 1],
            "Random targeting: contacting x% reaches x% of churners",
        )
    ]
    for label, payload in curves.items():
        section = _section(payload, "gain", "population", "captured")
        if section is None:
            continue
        population, captured = section
        if population[0] != 0.0:
            # The curve starts at the origin: contacting no one reaches no churner.
            population, captured = [0.0, *population], [0.0, *captured]
        name = plain(label)
        traces.append(
            {
                "type": "scatter",
                "x": population,
                "y": captured,
                "mode": "lines+markers" if len(population) <= 30 else "lines",
                "name": name,
                "line": {"color": colours[label], "width": 3},
                "marker": {"size": 6},
                "hovertemplate": (
                    f"<b>{name}</b><br>top %{{x:.0%}} of scores"
                    "<br>reaches %{y:.1%} of all churners<extra></extra>"
                ),
            }
        )
    if len(traces) == 1:
        return empty_figure(NO_CURVES, GAIN_TITLE)
    return _curve_figure(
        traces,
        GAIN_TITLE,
        _unit_axis("Customers contacted, highest scores first (% of all)"),
        _unit_axis("Churners reached (% of all churners)"),
    )
