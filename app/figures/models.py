"""Figures of the Models page: quality per version, and a champion against a challenger.

The comparison builders take ``curves`` payloads (``pipeline.modeling.evaluation.curves``) keyed
by a label that names the version, e.g. ``{"v7 (champion)": {...}, "v9 (challenger)": {...}}``.
Every chart colours a label the same way (:func:`label_colours`): the first label gets the
champion colour, the second the challenger colour, so an analyst can read any chart on the page
without looking the legend up again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.data import plain
from app.figures.formatting import format_count, format_money, format_pct, is_missing
from app.figures.theme import (
    DANGER,
    INFO,
    MUTED,
    PRIMARY,
    SECONDARY,
    SUCCESS,
    TEMPLATE,
    WARNING,
    empty_figure,
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
# The legend sits at the bottom of the figure (container coordinates, so its place does not
# depend on the plot area), under the x axis title: long version labels never hit the title.
LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "y": 0.01,
    "yanchor": "bottom",
    "x": 0.0,
    "xanchor": "left",
    "bgcolor": "rgba(255,255,255,0)",
}

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


def _floats(values: Sequence[Any] | None) -> list[float | None]:
    """Plain floats, with None where a value is missing or not finite."""
    out: list[float | None] = []
    for value in values if values is not None else []:
        if is_missing(value):
            out.append(None)
            continue
        number = float(value)
        out.append(number if math.isfinite(number) else None)
    return out


def _section(payload: Mapping[str, Any] | None, name: str, *keys: str) -> list[list] | None:
    """The lists ``keys`` of ``payload[name]`` as floats, or None when absent or empty."""
    part = (payload or {}).get(name) or {}
    columns = [_floats(part.get(key)) for key in keys]
    if not columns or not columns[0] or any(len(c) != len(columns[0]) for c in columns):
        return None
    return columns


def _reference_line(name: str, x: Sequence[float], y: Sequence[float], hover: str) -> go.Scatter:
    """A grey dashed reference drawn under the curves and listed after them in the legend."""
    return go.Scatter(
        x=list(x),
        y=list(y),
        mode="lines",
        name=name,
        line={"color": REFERENCE_COLOUR, "width": 1.5, "dash": "dash"},
        hovertemplate=f"{hover}<extra></extra>",
        legendrank=2000,
    )


def _unit_axes(fig: go.Figure, x_title: str, y_title: str) -> None:
    common = {"range": UNIT_RANGE, "tickformat": ".0%", "dtick": 0.2, "zeroline": False}
    fig.update_xaxes(title_text=x_title, **common)
    fig.update_yaxes(title_text=y_title, **common)


def _curve_layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title},
        height=CURVE_HEIGHT,
        legend=LEGEND_BELOW,
        margin={"b": 120},
        hovermode="closest",
    )
    return fig


def roc_overlay(curves: dict[str, dict]) -> go.Figure:
    """ROC curve per label (true vs false positive rate), with the random-classifier diagonal."""
    colours = label_colours(curves)
    fig = go.Figure()
    fig.add_trace(
        _reference_line("Random classifier", [0, 1], [0, 1], "Random classifier: TPR = FPR")
    )
    for label, payload in curves.items():
        section = _section(payload, "roc", "fpr", "tpr")
        if section is None:
            continue
        fpr, tpr = section
        name = plain(label)
        fig.add_trace(
            go.Scatter(
                x=fpr,
                y=tpr,
                mode="lines",
                name=name,
                line={"color": colours[label], "width": 3},
                hovertemplate=(
                    f"<b>{name}</b><br>stayers flagged (FPR) %{{x:.1%}}"
                    "<br>churners caught (TPR) %{y:.1%}<extra></extra>"
                ),
            )
        )
    if len(fig.data) == 1:
        return empty_figure(NO_CURVES, ROC_TITLE)
    _unit_axes(
        fig,
        "False positive rate (% of stayers flagged)",
        "True positive rate (% of churners caught)",
    )
    return _curve_layout(fig, ROC_TITLE)


def pr_overlay(curves: dict[str, dict], base_rates: dict[str, float]) -> go.Figure:
    """Precision against recall per label, with each label's churn base rate as a dotted line.

    The base rate is the precision of flagging customers at random, so a curve above its
    dotted line beats random targeting.
    """
    colours = label_colours(curves)
    fig = go.Figure()
    for label, payload in curves.items():
        section = _section(payload, "pr", "recall", "precision")
        if section is None:
            continue
        recall, precision = section
        name = plain(label)
        fig.add_trace(
            go.Scatter(
                x=recall,
                y=precision,
                mode="lines",
                name=name,
                legendgroup=name,
                line={"color": colours[label], "width": 3},
                hovertemplate=(
                    f"<b>{name}</b><br>churners caught (recall) %{{x:.1%}}"
                    "<br>flagged who churn (precision) %{y:.1%}<extra></extra>"
                ),
            )
        )
        base = base_rates.get(label)
        if is_missing(base):
            continue
        fig.add_trace(
            go.Scatter(
                x=[0.0, 1.0],
                y=[float(base), float(base)],
                mode="lines",
                name=f"{name} base rate ({format_pct(base)})",
                legendgroup=name,
                legendrank=2000,
                line={"color": colours[label], "width": 1.5, "dash": "dot"},
                hovertemplate=(
                    f"<b>{name}</b><br>base rate %{{y:.1%}}: precision of random targeting"
                    "<extra></extra>"
                ),
            )
        )
    if not fig.data:
        return empty_figure(NO_CURVES, PR_TITLE)
    _unit_axes(
        fig,
        "Recall (% of churners caught)",
        "Precision (% of flagged customers who churn)",
    )
    return _curve_layout(fig, PR_TITLE)


def _nice_upper(value: float) -> float:
    """The smallest of 0.1, 0.2, ..., 1.0 at or above ``value``."""
    return min(1.0, max(0.1, math.ceil(value * 10 - 1e-9) / 10))


def calibration_overlay(curves: dict[str, dict]) -> go.Figure:
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
    fig = go.Figure()
    fig.add_trace(
        _reference_line(
            "Perfect calibration",
            [0, upper],
            [0, upper],
            "Perfect calibration: observed = predicted",
        )
    )
    for label, (predicted, observed, count) in sections.items():
        name = plain(label)
        fig.add_trace(
            go.Scatter(
                x=predicted,
                y=observed,
                mode="lines+markers",
                name=name,
                line={"color": colours[label], "width": 2.5},
                marker={"size": 8},
                customdata=[0 if c is None else c for c in count],
                hovertemplate=(
                    f"<b>{name}</b><br>predicted %{{x:.1%}} · observed %{{y:.1%}}"
                    "<br>%{customdata:,.0f} rows in this bin<extra></extra>"
                ),
            )
        )
    pad = upper * 0.01
    common = {"range": [-pad, upper + pad], "tickformat": ".0%", "zeroline": False}
    fig.update_xaxes(title_text="Mean predicted churn probability (%)", **common)
    fig.update_yaxes(title_text="Observed churn rate (% of rows in the bin)", **common)
    return _curve_layout(fig, CALIBRATION_TITLE)


def gain_overlay(curves: dict[str, dict]) -> go.Figure:
    """Share of all churners among the top x % of scores, per label, against random targeting."""
    colours = label_colours(curves)
    fig = go.Figure()
    fig.add_trace(
        _reference_line(
            "Random targeting",
            [0, 1],
            [0, 1],
            "Random targeting: contacting x% reaches x% of churners",
        )
    )
    for label, payload in curves.items():
        section = _section(payload, "gain", "population", "captured")
        if section is None:
            continue
        population, captured = section
        if population[0] != 0.0:
            # The curve starts at the origin: contacting no one reaches no churner.
            population, captured = [0.0, *population], [0.0, *captured]
        name = plain(label)
        fig.add_trace(
            go.Scatter(
                x=population,
                y=captured,
                mode="lines+markers" if len(population) <= 30 else "lines",
                name=name,
                line={"color": colours[label], "width": 3},
                marker={"size": 6},
                hovertemplate=(
                    f"<b>{name}</b><br>top %{{x:.0%}} of scores"
                    "<br>reaches %{y:.1%} of all churners<extra></extra>"
                ),
            )
        )
    if len(fig.data) == 1:
        return empty_figure(NO_CURVES, GAIN_TITLE)
    _unit_axes(
        fig,
        "Customers contacted, highest scores first (% of all)",
        "Churners reached (% of all churners)",
    )
    return _curve_layout(fig, GAIN_TITLE)


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


def confusion_matrices(curves: dict[str, dict], thresholds: dict[str, float]) -> go.Figure:
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
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        horizontal_spacing=0.14 if len(panels) > 1 else 0.0,
        subplot_titles=[f"{plain(label)} · threshold {t}" for label, t, _, _ in panels],
    )
    top = max(max(map(max, shares)) for _, _, _, shares in panels) or 1.0
    classes = ["churn", "stay"]
    cell_names = [
        ["churners flagged (true positives)", "churners missed (false negatives)"],
        ["stayers flagged (false positives)", "stayers not flagged (true negatives)"],
    ]
    for col, (label, _, counts, shares) in enumerate(panels, start=1):
        name = plain(label)
        fig.add_trace(
            go.Heatmap(
                z=shares,
                x=classes,
                y=classes,
                zmin=0.0,
                zmax=top,
                colorscale=[[0.0, "#ffffff"], [1.0, colours[label]]],
                showscale=False,
                xgap=2,
                ygap=2,
                name=name,
                text=[
                    [f"{format_count(c)}<br>{format_pct(s)}" for c, s in zip(cr, sr, strict=True)]
                    for cr, sr in zip(counts, shares, strict=True)
                ],
                texttemplate="%{text}",
                textfont={"size": 15},
                customdata=[
                    [[n, c] for n, c in zip(nr, cr, strict=True)]
                    for nr, cr in zip(cell_names, counts, strict=True)
                ],
                hovertemplate=(
                    f"<b>{name}</b><br>%{{customdata[0]}}"
                    "<br>%{customdata[1]:,} rows · %{z:.1%} of all rows<extra></extra>"
                ),
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="Predicted", showgrid=False, row=1, col=col)
        fig.update_yaxes(
            title_text="Actual" if col == 1 else None,
            autorange="reversed",  # "churn" on top, as confusion matrices are read
            showgrid=False,
            row=1,
            col=col,
        )
    fig.update_layout(template=TEMPLATE, title={"text": CONFUSION_TITLE}, height=CONFUSION_HEIGHT)
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig


def _mark_levels(positions: Sequence[float], gap: float = 0.08) -> list[int]:
    """Vertical level per sorted mark so that labels of close thresholds do not overlap."""
    levels: list[int] = []
    for i, x in enumerate(positions):
        close = i > 0 and x - positions[i - 1] < gap
        levels.append((levels[-1] + 1) % 3 if close else 0)
    return levels


def profit_curve(
    grid: dict, value_per_churner: float, contact_cost: float, marks: dict[str, float]
) -> go.Figure:
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
    fig = go.Figure(
        go.Scatter(
            x=thresholds,
            y=profit.tolist(),
            mode="lines" if len(thresholds) > 1 else "markers",
            name="Expected profit",
            line={"color": PRIMARY, "width": 3},
            customdata=np.column_stack([contacts, tp]).tolist(),
            hovertemplate=(
                "threshold %{x:.3f}: <b>%{y:$,.0f}</b> expected profit"
                "<br>%{customdata[0]:,.0f} contacted · %{customdata[1]:,.0f} churners caught"
                "<extra></extra>"
            ),
        )
    )
    shown = sorted(
        ((float(t), str(name)) for name, t in marks.items() if not is_missing(t)),
        key=lambda mark: mark[0],
    )
    low, high = min(0.0, float(profit.min())), max(0.0, float(profit.max()))
    pad = (high - low) * 0.08 or max(abs(high), 1.0) * 0.1
    # Headroom above the curve for the mark labels, which sit at the top of the plot.
    y_range = [low - pad, high + (pad * 3 if shown else pad)]
    levels = _mark_levels([t for t, _ in shown])
    for k, ((t, name), level) in enumerate(zip(shown, levels, strict=True)):
        colour = MARK_COLOURS[k % len(MARK_COLOURS)]
        at = threshold_summary(columns, t, value_per_churner, contact_cost)
        label = plain(name)
        fig.add_trace(
            go.Scatter(
                x=[t, t],
                y=y_range,
                mode="lines",
                name=(
                    f"{label}: threshold {format_threshold(t)}, "
                    f"{format_money(at['expected_profit'])}"
                ),
                line={"color": colour, "width": 1.5, "dash": "dash"},
                hovertemplate=(
                    f"<b>{label}</b> threshold {format_threshold(t)}"
                    f"<br>expected profit {format_money(at['expected_profit'])}<extra></extra>"
                ),
            )
        )
        fig.add_annotation(
            x=t,
            y=1.0 - 0.07 * level,
            xref="x",
            yref="paper",
            text=label,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            xshift=3,
            font={"size": 12, "color": colour},
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.add_hline(y=0, line={"color": MUTED, "width": 1})
    fig.update_layout(
        template=TEMPLATE,
        title={"text": f"{PROFIT_TITLE}<br><sup>{plain(subtitle)}</sup>"},
        height=PROFIT_HEIGHT,
        margin={"t": 92, "b": 120},
        legend=LEGEND_BELOW,
        hovermode="closest",
        xaxis={
            "title": {"text": "Decision threshold (churn probability, contact at or above)"},
            "range": [0.0, 1.0],
            "tickformat": ".1f",
            "dtick": 0.1,
        },
        yaxis={"title": {"text": "Expected profit ($)"}, "range": y_range, "tickformat": "$~s"},
    )
    return fig


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


def metric_trend(versions: pd.DataFrame) -> go.Figure:
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
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.62, 0.38],
        subplot_titles=(
            "Ranking quality: ROC AUC and PR AUC (higher is better)",
            "Probability error: Brier score (lower is better)",
        ),
    )
    mode = "lines+markers" if len(data) <= MAX_MARKED_POINTS else "lines"
    for column, name, row in (
        ("roc_auc", "ROC AUC", 1),
        ("pr_auc", "PR AUC", 1),
        ("brier", "Brier score", 2),
    ):
        values = _floats(data[column]) if column in data else [None] * len(data)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                mode=mode,
                name=name,
                line={"color": METRIC_COLOURS[column], "width": 2.5},
                marker={"size": 7},
                customdata=when,
                hovertemplate=(
                    f"v%{{x}} · trained %{{customdata}}<br>{name} %{{y:.3f}}<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
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
            values = _floats(data[column])
            fig.add_trace(
                go.Scatter(
                    x=[x[i] for i in rows],
                    y=[values[i] for i in rows],
                    mode="markers",
                    name=legend,
                    legendgroup=role,
                    showlegend=k == 0,
                    marker={
                        "symbol": symbol,
                        "size": 16 if symbol == "star" else 12,
                        "color": colour,
                        "line": {"color": "white", "width": 1},
                    },
                    hovertemplate=f"v%{{x}} is the {role}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        if role == "champion" and len(rows) <= MAX_ANNOTATED_CHAMPIONS:
            for i in rows:
                fig.add_vline(x=x[i], line={"color": CHAMPION_COLOUR, "width": 1, "dash": "dot"})
    ticks, labels = _version_ticks(x)
    fig.update_xaxes(
        tickmode="array",
        tickvals=ticks,
        ticktext=labels,
        range=[x[0] - 0.6, x[-1] + 0.6],
    )
    fig.update_xaxes(title_text="Model version", row=2, col=1)
    auc_range = _metric_range(
        pd.concat([data[c] for c in ("roc_auc", "pr_auc") if c in data] or [pd.Series(dtype=float)])
    )
    fig.update_yaxes(
        title_text="AUC, higher is better", tickformat=".2f", range=auc_range, row=1, col=1
    )
    fig.update_yaxes(
        title_text="Brier, lower is better", tickformat=".3f", rangemode="tozero", row=2, col=1
    )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": TREND_TITLE},
        height=TREND_HEIGHT,
        legend=LEGEND_BELOW,
        margin={"b": 120},
        hovermode="x",
    )
    fig.update_annotations(font={"size": 13, "color": MUTED}, xanchor="left", x=0.0)
    return fig
