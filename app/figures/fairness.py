"""Fairness figures: decision rates and calibration per group of one sensitive or segment column.

Both builders take the per-group rows of ``pipeline.modeling.fairness.group_metrics`` as a
DataFrame: ``column`` (or ``column_name``, as the warehouse read names it), ``value``, ``rows``,
``positives``, ``selection_rate``, ``tpr``, ``fpr``, ``precision``, ``mean_predicted``,
``observed_rate`` (fractions, missing when undefined) and ``small`` (bool). Groups marked small
are drawn hatched and pale and named in the subtitle: they are reported, not compared. An
undefined rate is left as a gap, never drawn as 0 %, and the subtitle says why it is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from app.figures.data import plain
from app.figures.formatting import format_count, is_missing
from app.figures.models import LEGEND_BELOW
from app.figures.spec import Figure, figure
from app.figures.theme import INFO, SECONDARY, SUCCESS, WARNING, empty_figure

RATE_COLOURS = {"selection_rate": INFO, "tpr": SUCCESS, "fpr": WARNING}
RATE_NAMES = {
    "selection_rate": "Selection rate (share flagged)",
    "tpr": "True positive rate (churners flagged)",
    "fpr": "False positive rate (stayers flagged)",
}
# Why each rate can be undefined for a group, for the subtitle.
UNDEFINED_BECAUSE = {
    "selection_rate": "no scored rows",
    "tpr": "no churners",
    "fpr": "no stayers",
}
PREDICTED_COLOUR = INFO
OBSERVED_COLOUR = WARNING
CONNECTOR_COLOUR = SECONDARY
SMALL_OPACITY = 0.45
SMALL_PATTERN = "/"

HEIGHT = 440
MAX_FLAT_TICKS = 6  # group labels before they are drawn at an angle
# Groups up to which each bar carries its value: a 0 % bar is then told apart from a gap.
MAX_LABELLED_GROUPS = 8


def _pretty(column: str) -> str:
    return column.replace("_", " ")


def rates_title(column: str) -> str:
    """Title of :func:`group_rates_figure` for ``column``."""
    return f"Selection, true positive and false positive rates by {_pretty(column)} (%)"


def calibration_title(column: str) -> str:
    """Title of :func:`group_calibration_figure` for ``column``."""
    return f"Calibration by {_pretty(column)}: mean predicted vs observed churn rate (%)"


def _rows_of(groups: pd.DataFrame, column: str) -> pd.DataFrame | None:
    """The groups of ``column`` (input order), or None when there are none."""
    key = "column" if "column" in groups.columns else "column_name"
    if groups.empty or key not in groups.columns:
        return None
    rows = groups[groups[key].astype(str) == column].reset_index(drop=True)
    return None if rows.empty else rows


def _empty_message(groups: pd.DataFrame, column: str) -> str:
    if groups.empty:
        return (
            "No fairness results for this model version yet.<br>They are computed at training "
            "for fairness.columns (by default the dataset's segments)."
        )
    return (
        f"No fairness results for {plain(_pretty(column))} in this model version:<br>"
        "it is not among the fairness columns it was measured on."
    )


def _rate(value: Any) -> float | None:
    if is_missing(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _rates(rows: pd.DataFrame, key: str) -> list[float | None]:
    if key not in rows.columns:
        return [None] * len(rows)
    return [_rate(v) for v in rows[key]]


def _small(rows: pd.DataFrame) -> list[bool]:
    if "small" not in rows.columns:
        return [False] * len(rows)
    return [not is_missing(s) and bool(s) for s in rows["small"]]


def _counts(rows: pd.DataFrame, key: str) -> list[int | None]:
    if key not in rows.columns:
        return [None] * len(rows)
    return [None if is_missing(v) else int(v) for v in rows[key]]


def _tick_labels(labels: Sequence[str], counts: Sequence[int | None], small: Sequence[bool]):
    out = []
    for label, count, is_small in zip(labels, counts, small, strict=True):
        size = "" if count is None else f"{format_count(count)} rows"
        if is_small:
            size = f"{size}, not compared" if size else "not compared"
        out.append(f"{label}<br><span style='font-size:11px'>{size}</span>" if size else label)
    return out


def _spread(values: Sequence[float | None], small: Sequence[bool]) -> float | None:
    """Max minus min of the defined values of the compared (not small) groups."""
    kept = [v for v, s in zip(values, small, strict=True) if v is not None and not s]
    return max(kept) - min(kept) if len(kept) >= 2 else None


def _against(name: str, value: float | None, limit: float | None) -> str:
    if value is None:
        return f"{name}: not comparable"
    text = f"{name} {value:.3f}"
    if limit is None or is_missing(limit):
        return text
    side = "above" if value > float(limit) + 1e-9 else "within"
    return f"{text} ({side} the limit {float(limit):.3f})"


def _notes(how: str, labels: Sequence[str], small: Sequence[bool], gaps: Sequence[str]) -> str:
    """One subtitle line: which groups are drawn ``how`` for being small, and undefined rates."""
    notes = []
    small_names = [label for label, s in zip(labels, small, strict=True) if s]
    if small_names:
        notes.append(f"{how}: too few rows, shown but not compared ({', '.join(small_names)})")
    notes.extend(gaps)
    return " · ".join(notes)


def _title(title: str, *lines: str) -> dict:
    text = title + "".join(f"<br><sup>{line}</sup>" for line in lines if line)
    return {"text": text}


def _x_axis(column: str, labels: Sequence[str], ticks: Sequence[str]) -> dict:
    return {
        "title": {"text": f"{plain(_pretty(column)).capitalize()} (group)"},
        "tickmode": "array",
        "tickvals": list(range(len(labels))),
        "ticktext": list(ticks),
        "tickangle": -30 if len(labels) > MAX_FLAT_TICKS else 0,
        "range": [-0.6, len(labels) - 0.4],
    }


def _percent_axis(title: str, values: Sequence[float | None]) -> dict:
    top = max((v for v in values if v is not None), default=0.0)
    upper = min(1.0, max(0.1, math.ceil(top * 1.1 * 10 - 1e-9) / 10))
    return {
        "title": {"text": title},
        "tickformat": ".0%",
        "range": [0.0, upper * 1.02],
        "zeroline": True,
    }


def group_rates_figure(
    groups: pd.DataFrame,
    column: str,
    dpd_limit: float | None = None,
    eod_limit: float | None = None,
) -> Figure:
    """Selection rate, true positive rate and false positive rate per group of ``column``.

    Grouped bars, one colour per rate, on a percent axis. The subtitle gives the demographic
    parity difference (spread of the selection rates) and the equalised odds difference (the
    larger spread of TPR and FPR) over the compared groups, against ``dpd_limit`` and
    ``eod_limit`` when given. Small groups are hatched and pale and left out of the spreads;
    undefined rates are gaps, explained in the subtitle.
    """
    title = rates_title(column)
    rows = _rows_of(groups, column)
    if rows is None:
        return empty_figure(_empty_message(groups, column), title)
    labels = [plain(v) for v in rows["value"]]
    small = _small(rows)
    x = list(range(len(rows)))
    counts = _counts(rows, "rows")
    # Traces and layout are written as dicts and built once (app.figures.spec).
    traces: list[dict[str, Any]] = []
    all_values: list[float | None] = []
    gaps = []
    for key, name in RATE_NAMES.items():
        values = _rates(rows, key)
        all_values += values
        missing = [label for label, v in zip(labels, values, strict=True) if v is None]
        if missing:
            short = name.split(" (")[0].lower()
            gaps.append(f"no {short} for {', '.join(missing)} ({UNDEFINED_BECAUSE[key]})")
        bar: dict[str, Any] = {
            "type": "bar",
            "x": x,
            "y": values,
            "name": name,
            "textposition": "outside",
            "textfont": {"size": 11},
            "cliponaxis": False,
            "marker": {
                "color": RATE_COLOURS[key],
                "opacity": [SMALL_OPACITY if s else 1.0 for s in small],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small]},
            },
            "customdata": [
                [label, "—" if c is None else format_count(c)]
                for label, c in zip(labels, counts, strict=True)
            ],
            "hovertemplate": (
                f"<b>%{{customdata[0]}}</b> (%{{customdata[1]}} rows)<br>{name}: "
                "%{y:.1%}<extra></extra>"
            ),
        }
        if len(rows) <= MAX_LABELLED_GROUPS:
            bar["texttemplate"] = "%{y:.0%}"
        traces.append(bar)
    selection, tpr, fpr = (_rates(rows, k) for k in RATE_NAMES)
    dpd = _spread(selection, small)
    odds = [r for r in (_spread(tpr, small), _spread(fpr, small)) if r is not None]
    eod = max(odds) if odds else None
    differences = (
        f"{_against('Demographic parity difference', dpd, dpd_limit)} · "
        f"{_against('equalised odds difference', eod, eod_limit)}"
    )
    notes = _notes("Hatched and pale", labels, small, gaps)
    layout = {
        "title": _title(title, differences, notes),
        "height": HEIGHT,
        "margin": {"t": 112 if notes else 92, "b": 130},
        "legend": LEGEND_BELOW,
        "barmode": "group",
        "bargap": 0.25,
        "bargroupgap": 0.05,
        "hovermode": "closest",
        "xaxis": _x_axis(column, labels, _tick_labels(labels, counts, small)),
        "yaxis": _percent_axis("Share of the group (%)", all_values),
    }
    return figure(traces, layout)


def group_calibration_figure(groups: pd.DataFrame, column: str) -> Figure:
    """Mean predicted probability and observed churn rate per group of ``column``: a dumbbell.

    Each group has a circle at its mean predicted probability and a diamond at its observed
    churn rate, joined by a grey line whose length is the calibration gap; an observed rate
    above the prediction means the model under-predicts churn for that group. Percent axis;
    small groups are drawn pale with open markers and named in the subtitle.
    """
    title = calibration_title(column)
    rows = _rows_of(groups, column)
    if rows is None:
        return empty_figure(_empty_message(groups, column), title)
    labels = [plain(v) for v in rows["value"]]
    small = _small(rows)
    counts = _counts(rows, "rows")
    predicted = _rates(rows, "mean_predicted")
    observed = _rates(rows, "observed_rate")
    x = list(range(len(rows)))
    connector_x: list[float | None] = []
    connector_y: list[float | None] = []
    for i, (p, o) in enumerate(zip(predicted, observed, strict=True)):
        if p is not None and o is not None:
            connector_x += [i, i, None]
            connector_y += [p, o, None]
    # Traces and layout are written as dicts and built once (app.figures.spec).
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": connector_x,
            "y": connector_y,
            "mode": "lines",
            "name": "Calibration gap",
            "line": {"color": CONNECTOR_COLOUR, "width": 3},
            "hoverinfo": "skip",
        }
    ]
    gaps = [
        None if p is None or o is None else (o - p) * 100
        for p, o in zip(predicted, observed, strict=True)
    ]
    custom = [
        [
            label,
            "—" if c is None else format_count(c),
            "—" if g is None else f"{g:+.1f}",
        ]
        for label, c, g in zip(labels, counts, gaps, strict=True)
    ]
    for values, name, colour, symbol in (
        (predicted, "Mean predicted probability", PREDICTED_COLOUR, "circle"),
        (observed, "Observed churn rate", OBSERVED_COLOUR, "diamond"),
    ):
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": values,
                "mode": "markers",
                "name": name,
                "marker": {
                    "color": colour,
                    "size": 13,
                    "symbol": [f"{symbol}-open" if s else symbol for s in small],
                    "opacity": [SMALL_OPACITY if s else 1.0 for s in small],
                    "line": {"color": colour, "width": 2},
                },
                "customdata": custom,
                "hovertemplate": (
                    f"<b>%{{customdata[0]}}</b> (%{{customdata[1]}} rows)<br>{name}: %{{y:.1%}}"
                    "<br>observed minus predicted: %{customdata[2]} points<extra></extra>"
                ),
            }
        )
    missing = [label for label, p in zip(labels, predicted, strict=True) if p is None]
    gap_notes = [f"no scored rows for {', '.join(missing)}"] if missing else []
    notes = _notes("Open and pale", labels, small, gap_notes)
    explain = "Observed above predicted: the model under-predicts churn for that group"
    layout = {
        "title": _title(title, explain, notes),
        "height": HEIGHT,
        "margin": {"t": 112 if notes else 92, "b": 130},
        "legend": LEGEND_BELOW,
        "hovermode": "closest",
        "xaxis": _x_axis(column, labels, _tick_labels(labels, counts, small)),
        "yaxis": _percent_axis("Churn probability / rate (%)", predicted + observed),
    }
    return figure(traces, layout)
