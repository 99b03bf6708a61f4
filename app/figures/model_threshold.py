"""The decision threshold: confusion matrices, the threshold summary and the profit curve."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.figures.data import plain
from app.figures.formatting import format_count, format_money, format_pct, is_missing
from app.figures.model_style import (
    CONFUSION_HEIGHT,
    CONFUSION_TITLE,
    MARK_COLOURS,
    NO_CURVES,
    PROFIT_HEIGHT,
    PROFIT_TITLE,
    label_colours,
)
from app.figures.spec import (
    Figure,
    axis_name,
    figure,
    merge,
    reference_line,
    subplots,
    trace_axes,
    update_annotations,
)
from app.figures.theme import (
    LEGEND_BELOW,
    MUTED,
    PRIMARY,
    empty_figure,
)


def _grid(grid: Mapping[str, Any] | None) -> dict[str, list] | None:
    """The grid's columns as lists of equal length, or None when there is nothing usable."""
    keys = ("threshold", "tp", "fp", "fn", "tn")
    found = {key: (grid or {}).get(key) for key in keys}
    columns = {key: [] if value is None else list(value) for key, value in found.items()}
    size = len(columns["threshold"])
    if size == 0 or any(len(columns[key]) != size for key in keys):
        return None
    return columns


def _nearest(thresholds: Sequence[float], threshold: float) -> int:
    """Index of the grid threshold nearest to ``threshold`` (the lower one on a tie)."""
    return int(np.argmin(np.abs(np.asarray(thresholds, dtype=float) - float(threshold))))


def threshold_summary(
    grid: dict, threshold: float, value_per_churner: float, contact_cost: float
) -> dict:
    """What contacting everyone at or above the grid threshold nearest to ``threshold`` gives.

    Returns ``{"threshold", "precision", "recall", "contacts", "caught", "expected_profit"}``
    as plain floats and ints: ``contacts`` = TP + FP, ``caught`` = TP, ``expected_profit`` =
    value per churner x TP - contact cost x contacts. ``precision`` is None when nobody is
    contacted and ``recall`` None without churners; every value is None for an empty grid or a
    threshold that is not a number.
    """
    columns = _grid(grid)
    if columns is None or is_missing(threshold) or not math.isfinite(float(threshold)):
        return dict.fromkeys(
            ("threshold", "precision", "recall", "contacts", "caught", "expected_profit")
        )
    i = _nearest(columns["threshold"], threshold)
    tp, fp, fn = (int(columns[key][i]) for key in ("tp", "fp", "fn"))
    contacts = tp + fp
    return {
        "threshold": float(columns["threshold"][i]),
        "precision": tp / contacts if contacts else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "contacts": contacts,
        "caught": tp,
        "expected_profit": float(value_per_churner) * tp - float(contact_cost) * contacts,
    }


def format_threshold(value: float) -> str:
    """A grid threshold with 2 or 3 decimals: ``0.21``, ``0.215``, ``0.20``."""
    text = f"{float(value):.3f}"
    return text[:-1] if text.endswith("0") else text


def confusion_matrices(curves: dict[str, dict], thresholds: dict[str, float]) -> Figure:
    """One confusion-matrix heatmap per label, side by side, at the label's decision threshold.

    Each cell shows its row count and its share of all rows; the grid threshold nearest to
    ``thresholds[label]`` is used (0.5 when the label has none) and named in the subplot title.
    Colour encodes the share of all rows on one scale for every panel.
    """
    colours = label_colours(curves)
    panels = []
    for label, payload in curves.items():
        columns = _grid((payload or {}).get("grid"))
        if columns is None:
            continue
        wanted = thresholds.get(label)
        given = not is_missing(wanted)
        i = _nearest(columns["threshold"], float(wanted) if given else 0.5)
        counts = [[int(columns[k][i]) for k in row] for row in (("tp", "fn"), ("fp", "tn"))]
        total = sum(map(sum, counts))
        shares = [[c / total if total else 0.0 for c in row] for row in counts]
        note = "" if given else " (none given)"
        panels.append((label, format_threshold(columns["threshold"][i]) + note, counts, shares))
    if not panels:
        return empty_figure(NO_CURVES, CONFUSION_TITLE)
    cols = len(panels)
    # The grid is made with placeholder titles so that its memo depends on the panel count
    # only, not on the labels and thresholds; the titles' texts are filled in below.
    layout = subplots(
        rows=1,
        cols=cols,
        horizontal_spacing=0.14 if cols > 1 else 0.0,
        subplot_titles=[str(col) for col in range(1, cols + 1)],
    )
    for annotation, (label, t, _, _) in zip(layout["annotations"], panels, strict=True):
        annotation["text"] = f"{plain(label)} · threshold {t}"
    top = max(max(map(max, shares)) for _, _, _, shares in panels) or 1.0
    classes = ["churn", "stay"]
    cell_names = [
        ["churners flagged (true positives)", "churners missed (false negatives)"],
        ["stayers flagged (false positives)", "stayers not flagged (true negatives)"],
    ]
    traces: list[dict[str, Any]] = []
    for col, (label, _, counts, shares) in enumerate(panels, start=1):
        name = plain(label)
        traces.append(
            {
                "type": "heatmap",
                "z": shares,
                "x": classes,
                "y": classes,
                "zmin": 0.0,
                "zmax": top,
                "colorscale": [[0.0, "#ffffff"], [1.0, colours[label]]],
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "name": name,
                "text": [
                    [f"{format_count(c)}<br>{format_pct(s)}" for c, s in zip(cr, sr, strict=True)]
                    for cr, sr in zip(counts, shares, strict=True)
                ],
                "texttemplate": "%{text}",
                "textfont": {"size": 15},
                "customdata": [
                    [[n, c] for n, c in zip(nr, cr, strict=True)]
                    for nr, cr in zip(cell_names, counts, strict=True)
                ],
                "hovertemplate": (
                    f"<b>{name}</b><br>%{{customdata[0]}}"
                    "<br>%{customdata[1]:,} rows · %{z:.1%} of all rows<extra></extra>"
                ),
                **trace_axes(1, col, cols),
            }
        )
        merge(
            layout[axis_name("x", 1, col, cols)],
            {"title": {"text": "Predicted"}, "showgrid": False},
        )
        merge(
            layout[axis_name("y", 1, col, cols)],
            {
                **({"title": {"text": "Actual"}} if col == 1 else {}),
                "autorange": "reversed",  # "churn" on top, as confusion matrices are read
                "showgrid": False,
            },
        )
    update_annotations(layout, font={"size": 13, "color": MUTED})
    layout.update(title={"text": CONFUSION_TITLE}, height=CONFUSION_HEIGHT)
    return figure(traces, layout)


def _mark_levels(positions: Sequence[float], gap: float = 0.08) -> list[int]:
    """Vertical level per sorted mark so that labels of close thresholds do not overlap."""
    levels: list[int] = []
    for i, x in enumerate(positions):
        close = i > 0 and x - positions[i - 1] < gap
        levels.append((levels[-1] + 1) % 3 if close else 0)
    return levels


def profit_curve(
    grid: dict, value_per_churner: float, contact_cost: float, marks: dict[str, float]
) -> Figure:
    """Expected profit ($) of contacting everyone at or above each threshold, with marks.

    Profit is ``value_per_churner`` x churners caught - ``contact_cost`` x customers contacted,
    on the rows the grid was computed on. ``marks`` (name -> threshold, e.g. ``{"business":
    0.21, "F1": 0.33}``) are drawn as dashed vertical lines labelled with their name; the legend
    also gives their profit. Marks that are not numbers are left out.
    """
    columns = _grid(grid)
    if columns is None:
        return empty_figure("No threshold grid stored for this model version", PROFIT_TITLE)
    thresholds = [float(t) for t in columns["threshold"]]
    tp = np.asarray(columns["tp"], dtype=float)
    contacts = tp + np.asarray(columns["fp"], dtype=float)
    profit = float(value_per_churner) * tp - float(contact_cost) * contacts
    subtitle = (
        f"{format_money(value_per_churner)} per churner caught − "
        f"{format_money(contact_cost)} per customer contacted"
    )
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": thresholds,
            "y": profit.tolist(),
            "mode": "lines" if len(thresholds) > 1 else "markers",
            "name": "Expected profit",
            "line": {"color": PRIMARY, "width": 3},
            "customdata": np.column_stack([contacts, tp]).tolist(),
            "hovertemplate": (
                "threshold %{x:.3f}: <b>%{y:$,.0f}</b> expected profit"
                "<br>%{customdata[0]:,.0f} contacted · %{customdata[1]:,.0f} churners caught"
                "<extra></extra>"
            ),
        }
    ]
    shown = sorted(
        ((float(t), str(name)) for name, t in marks.items() if not is_missing(t)),
        key=lambda mark: mark[0],
    )
    low, high = min(0.0, float(profit.min())), max(0.0, float(profit.max()))
    pad = (high - low) * 0.08 or max(abs(high), 1.0) * 0.1
    # Headroom above the curve for the mark labels, which sit at the top of the plot.
    y_range = [low - pad, high + (pad * 3 if shown else pad)]
    levels = _mark_levels([t for t, _ in shown])
    annotations: list[dict[str, Any]] = []
    for k, ((t, name), level) in enumerate(zip(shown, levels, strict=True)):
        colour = MARK_COLOURS[k % len(MARK_COLOURS)]
        at = threshold_summary(columns, t, value_per_churner, contact_cost)
        label = plain(name)
        traces.append(
            {
                "type": "scatter",
                "x": [t, t],
                "y": y_range,
                "mode": "lines",
                "name": (
                    f"{label}: threshold {format_threshold(t)}, "
                    f"{format_money(at['expected_profit'])}"
                ),
                "line": {"color": colour, "width": 1.5, "dash": "dash"},
                "hovertemplate": (
                    f"<b>{label}</b> threshold {format_threshold(t)}"
                    f"<br>expected profit {format_money(at['expected_profit'])}<extra></extra>"
                ),
            }
        )
        annotations.append(
            {
                "x": t,
                "y": 1.0 - 0.07 * level,
                "xref": "x",
                "yref": "paper",
                "text": label,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "xshift": 3,
                "font": {"size": 12, "color": colour},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    layout: dict[str, Any] = {
        # What add_hline(y=0) draws: a zero line across the plot's full width.
        "shapes": [reference_line("y", 0, {"color": MUTED, "width": 1})],
        "title": {"text": f"{PROFIT_TITLE}<br><sup>{plain(subtitle)}</sup>"},
        "height": PROFIT_HEIGHT,
        "margin": {"t": 92, "b": 120},
        "legend": LEGEND_BELOW,
        "hovermode": "closest",
        "xaxis": {
            "title": {"text": "Decision threshold (churn probability, contact at or above)"},
            "range": [0.0, 1.0],
            "tickformat": ".1f",
            "dtick": 0.1,
        },
        "yaxis": {"title": {"text": "Expected profit ($)"}, "range": y_range, "tickformat": "$~s"},
    }
    if annotations:
        layout["annotations"] = annotations
    return figure(traces, layout)
