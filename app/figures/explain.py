"""Figures of the Explain page: global importance, the summary, dependence and the waterfall.

Every effect is in probability points: SHAP contributions mapped onto the churn probability
(:func:`pipeline.explain.shap_values.probability_points`), so "+12" means the feature moved the
predicted churn probability up by 12 percentage points. Inputs are the frames of
:mod:`pipeline.warehouse.reads_explain` and the numbers of one local explanation; text from the
data goes through :func:`app.figures.data.plain` so it is never read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.figures.data import plain
from app.figures.formatting import format_pct, is_missing
from app.figures.spec import Figure, figure, reference_line
from app.figures.theme import (
    DANGER,
    INFO,
    MUTED,
    PRIMARY,
    SECONDARY,
    SUCCESS,
    empty_figure,
)
from pipeline.explain import language

# Low feature values blue, high red, through purple: no light middle, so every dot stays visible.
VALUE_SCALE = [[0.0, INFO], [0.5, "#9b59b6"], [1.0, DANGER]]
RAISES, LOWERS, TOTAL = DANGER, SUCCESS, PRIMARY
MISSING_COLOUR = SECONDARY

SUMMARY_FEATURES = 10  # the strongest features the summary draws
SUMMARY_POINTS = 400  # dots per feature in the summary: enough for its shape, light to send
WATERFALL_BARS = 8  # contributions drawn one by one; the rest are summed as "other features"
SEED = 7  # jitter is seeded so the same data always draws the same picture

IMPORTANCE_TITLE = "What the model relies on: average effect on churn probability"
SUMMARY_TITLE = "How each feature's values push the prediction"
POINTS_AXIS = "Effect on churn probability (percentage points)"
NO_EXPLANATION = "No explanation stored for this model version"


# Figures are written as dicts and built once (:mod:`app.figures.spec`): plotly's
# update_layout and add_trace re-validate the whole figure at every call.


def _layout(title: str, subtitle: str | None, height: int, **extra: Any) -> dict[str, Any]:
    text = title if not subtitle else f"{title}<br><sup>{plain(subtitle)}</sup>"
    return {"title": {"text": text}, "height": height, "hovermode": "closest", **extra}


def _zero_line(axis: str) -> dict[str, Any]:
    """A thin line at 0 across the whole plot (``add_vline(x=0)``/``add_hline(y=0)``)."""
    return reference_line(axis, 0, {"color": MUTED, "width": 1})


def format_points(value: float) -> str:
    """A contribution with its sign and unit, e.g. ``"+12 pts"``, ``"−0.4 pts"``; the size is
    written as the sentences write it (:func:`pipeline.explain.language.format_points`)."""
    size = language.format_points(value)
    if size in ("0", "0.0"):
        return "0 pts"
    return f"{'+' if value > 0 else '−'}{size} pts"


# -- global importance -----------------------------------------------------------------------


def feature_order(importance: pd.DataFrame) -> list[str]:
    """Features by mean |effect| in probability points, largest first (ties by stored rank).

    The stored ``rank`` orders by the raw (log-odds) scale; the page draws points, so it orders
    by points too and the longest bar is always on top.
    """
    frame = importance.sort_values(["mean_abs_points", "rank"], ascending=[False, True])
    return [str(f) for f in frame["feature"]]


def importance_figure(importance: pd.DataFrame, subtitle: str | None = None) -> Figure:
    """Mean |SHAP| in probability points per feature as horizontal bars, strongest on top.

    ``importance`` has columns feature, mean_abs_points, share, rank and direction (as
    :func:`pipeline.warehouse.reads_explain.importance` returns them); the hover gives each
    feature's share of the model's attention and the direction of its effect.
    """
    if importance.empty:
        return empty_figure(NO_EXPLANATION, IMPORTANCE_TITLE)
    frame = importance.set_index("feature").loc[feature_order(importance)].reset_index()
    names = [plain(f) for f in frame["feature"]]
    points = [float(p) for p in frame["mean_abs_points"]]
    directions = ["" if is_missing(d) else plain(d) for d in frame["direction"]]
    shares = [format_pct(s) for s in frame["share"]]
    bar = {
        "type": "bar",
        "x": points,
        "y": names,
        "orientation": "h",
        "marker": {"color": INFO},
        "text": [f"{p:.1f}" for p in points],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": np.column_stack([shares, directions]).tolist(),
        "hovertemplate": (
            "<b>%{y}</b><br>moves churn probability by %{x:.2f} points on average"
            "<br>%{customdata[0]} of the model's attention<br>%{customdata[1]}<extra></extra>"
        ),
        "name": "mean |effect|",
    }
    layout = _layout(
        IMPORTANCE_TITLE,
        subtitle,
        150 + 30 * len(names),
        showlegend=False,
        xaxis={
            "title": {"text": "Mean absolute effect (percentage points)"},
            "range": [0, max(points) * 1.15 or 1.0],
        },
        yaxis={"autorange": "reversed", "title": {"text": None}},
    )
    return figure([bar], layout)


# -- summary (beeswarm) -------------------------------------------------------------------------


def swarm_offsets(x: np.ndarray, bins: int = 60, width: float = 0.4) -> np.ndarray:
    """Vertical offsets that spread dots with similar x into a swarm (as shap's summary does).

    Dots are binned by x; within a bin they take alternate sides, further out the more there
    are, scaled so the fullest bin spans ``±width``. Deterministic: the same x give the same
    offsets.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(x, kind="stable")
    low, high = float(np.min(x)), float(np.max(x))
    span = high - low or 1.0
    bin_of = np.minimum(((x[order] - low) / span * bins).astype(int), bins - 1)
    # the position of each dot within its bin: 0, 1, 2, ... in x order
    starts = np.r_[0, np.flatnonzero(np.diff(bin_of)) + 1]
    position = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    layer = (position + 1) // 2
    side = np.where(position % 2 == 1, 1.0, -1.0)
    peak = max(int(layer.max()), 1)
    offsets = np.empty(n)
    offsets[order] = side * layer * (width / peak)
    return offsets


def _thin(frame: pd.DataFrame, per_feature: int) -> pd.DataFrame:
    """At most ``per_feature`` rows per feature, a seeded sample (all rows when fewer)."""
    parts = []
    for _, part in frame.groupby("feature", sort=False):
        parts.append(
            part.sample(per_feature, random_state=SEED) if len(part) > per_feature else part
        )
    return pd.concat(parts) if parts else frame


def summary_figure(
    points: pd.DataFrame,
    importance: pd.DataFrame,
    subtitle: str | None = None,
    top: int = SUMMARY_FEATURES,
    per_feature: int = SUMMARY_POINTS,
) -> Figure:
    """One row of dots per feature (the ``top`` strongest, strongest on top).

    Each dot is one explained customer: x its effect in probability points (``points``), colour
    its value of that feature from low (blue) to high (red) (``colour`` 0..1); grey when the
    value is missing. Dots are spread vertically where they crowd (:func:`swarm_offsets`).
    """
    if points.empty or importance.empty:
        return empty_figure(NO_EXPLANATION, SUMMARY_TITLE)
    drawn = set(points["feature"].unique())  # not the column itself: slow to iterate
    features = [f for f in feature_order(importance) if f in drawn]
    features = features[:top]
    shown = _thin(points[points["feature"].isin(features)], per_feature)
    row_of = {f: i for i, f in enumerate(features)}
    xs, ys, colours, texts = [], [], [], []
    for feature, part in shown.groupby("feature", sort=False):
        x = part["points"].to_numpy(dtype=float)
        xs.append(x)
        ys.append(row_of[feature] + swarm_offsets(x))
        colours.append(part["colour"].to_numpy(dtype=float))
        label = plain(feature)
        # tolist(): iterating a column of pandas strings item by item is ~10x slower
        texts += [f"{label} = {plain(v)}" for v in part["value_text"].tolist()]
    x, y, colour = np.concatenate(xs), np.concatenate(ys), np.concatenate(colours)
    # An object array, not a list: plotly validates and copies it whole, a list item by item.
    text = np.asarray(texts, dtype=object)
    known = ~np.isnan(colour)
    hover = "%{text}<br>effect %{x:+.1f} points<extra></extra>"
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": np.round(x[known], 2),
            "y": np.round(y[known], 3),
            "mode": "markers",
            "text": text[known],
            "marker": {
                "size": 5,
                "opacity": 0.75,
                "color": np.round(colour[known], 3),
                "colorscale": VALUE_SCALE,
                "cmin": 0.0,
                "cmax": 1.0,
                "colorbar": {
                    "title": {"text": "feature value<br>(low to high)", "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": ["low", "high"],
                    "thickness": 12,
                    "len": 0.6,
                },
            },
            "hovertemplate": hover,
            "name": "customers",
            "showlegend": False,
        }
    ]
    if (~known).any():
        traces.append(
            {
                "type": "scatter",
                "x": np.round(x[~known], 2),
                "y": np.round(y[~known], 3),
                "mode": "markers",
                "text": text[~known],
                "marker": {"size": 5, "opacity": 0.75, "color": MISSING_COLOUR},
                "hovertemplate": hover,
                "name": "missing value",
            }
        )
    layout = _layout(
        SUMMARY_TITLE,
        subtitle,
        170 + 44 * len(features),
        legend={"orientation": "h", "y": 1.02, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
        shapes=[_zero_line("x")],
        xaxis={"title": {"text": POINTS_AXIS}, "zeroline": False},
        yaxis={
            "tickvals": list(range(len(features))),
            "ticktext": [plain(f) for f in features],
            "range": [len(features) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
        },
    )
    return figure(traces, layout)


# -- dependence -------------------------------------------------------------------------------


def is_categorical(points: pd.DataFrame) -> bool:
    """True when the feature's values are categories (no number stored for any value)."""
    return bool(points["value_num"].isna().all()) and bool(points["value_text"].notna().any())


def dependence_figure(points: pd.DataFrame, feature: str, subtitle: str | None = None) -> Figure:
    """Effect of ``feature`` (y, probability points) against its value (x), one dot per customer.

    Numeric features use ``value_num`` on a numeric axis; categories (``value_text``) sit on a
    categorical axis with a little seeded jitter. Dots are coloured by the feature that
    interacts most with this one (``interaction_feature``, named in the colour bar), grey where
    that value is missing.
    """
    title = f"Dependence: how {plain(feature)} moves the prediction"
    if points.empty:
        return empty_figure(NO_EXPLANATION, title)
    partner = points["interaction_feature"].dropna()
    partner_name = plain(partner.mode().iloc[0]) if len(partner) else None
    categorical = is_categorical(points)
    frame = points.reset_index(drop=True)
    notes = []
    if categorical:
        categories = sorted(frame["value_text"].dropna().astype(str).unique())
        position = {c: i for i, c in enumerate(categories)}
        frame = frame[frame["value_text"].notna()].reset_index(drop=True)
        jitter = np.random.default_rng(SEED).uniform(-0.28, 0.28, size=len(frame))
        x = frame["value_text"].astype(str).map(position).to_numpy(dtype=float) + jitter
    else:
        missing = int(frame["value_num"].isna().sum())
        if missing == 1:
            notes.append("1 customer with no value is not drawn")
        elif missing:
            notes.append(f"{missing:,} customers with no value are not drawn")
        frame = frame[frame["value_num"].notna()].reset_index(drop=True)
        x = frame["value_num"].to_numpy(dtype=float)
    y = frame["points"].to_numpy(dtype=float)
    colour = frame["interaction_colour"].to_numpy(dtype=float)
    partner_values = [plain(v) for v in frame["interaction_value_text"].tolist()]
    label = plain(feature)
    text = [
        f"{label} = {plain(v)}" + (f"<br>{partner_name} = {p}" if partner_name else "")
        for v, p in zip(frame["value_text"].tolist(), partner_values, strict=True)
    ]
    text_arr = np.asarray(text, dtype=object)  # as in summary_figure: cheaper than a list
    known = ~np.isnan(colour)
    hover = "%{text}<br>effect %{y:+.1f} points<extra></extra>"
    colour_title = f"coloured by<br>{partner_name}<br>(low to high)" if partner_name else "value"
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": np.round(x[known], 4),
            "y": np.round(y[known], 2),
            "mode": "markers",
            "text": text_arr[known],
            "marker": {
                "size": 6,
                "opacity": 0.7,
                "color": np.round(colour[known], 3),
                "colorscale": VALUE_SCALE,
                "cmin": 0.0,
                "cmax": 1.0,
                "colorbar": {
                    "title": {"text": colour_title, "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": ["low", "high"],
                    "thickness": 12,
                    "len": 0.7,
                },
            },
            "hovertemplate": hover,
            "name": f"coloured by {partner_name}" if partner_name else "customers",
            "showlegend": False,
        }
    ]
    if (~known).any():
        traces.append(
            {
                "type": "scatter",
                "x": np.round(x[~known], 4),
                "y": np.round(y[~known], 2),
                "mode": "markers",
                "text": text_arr[~known],
                "marker": {"size": 6, "opacity": 0.7, "color": MISSING_COLOUR},
                "hovertemplate": hover,
                "name": f"{partner_name} missing" if partner_name else "missing",
            }
        )
    x_axis: dict[str, Any] = {"title": {"text": plain(feature)}, "zeroline": False}
    if categorical:
        x_axis |= {
            "tickvals": list(range(len(categories))),
            "ticktext": [plain(c) for c in categories],
            "range": [-0.6, len(categories) - 0.4],
            "showgrid": False,
        }
    sub = " · ".join([s for s in [subtitle, *notes] if s])
    layout = _layout(
        title,
        sub or None,
        460,
        legend={"orientation": "h", "y": 1.02, "x": 1.0, "xanchor": "right", "yanchor": "bottom"},
        shapes=[_zero_line("y")],
        xaxis=x_axis,
        yaxis={"title": {"text": POINTS_AXIS}, "zeroline": False},
    )
    return figure(traces, layout)


# -- one customer -----------------------------------------------------------------------------


def waterfall_parts(
    features: Sequence[str],
    shown: Sequence[str],
    points: Sequence[float],
    bars: int = WATERFALL_BARS,
) -> list[tuple[str, float]]:
    """(label, points) per bar between the base rate and the prediction, biggest first.

    The ``bars`` largest contributions by size get a bar each, labelled ``"feature = value"``;
    the rest are summed into one ``"other N features"`` bar, so the bars always add up to the
    whole difference between the base rate and the prediction.
    """
    order = sorted(range(len(features)), key=lambda i: -abs(float(points[i])))
    parts = [(f"{features[i]} = {shown[i]}", float(points[i])) for i in order[:bars]]
    rest = order[bars:]
    if rest:
        label = f"other {len(rest)} feature{'s' if len(rest) != 1 else ''}"
        parts.append((label, float(sum(float(points[i]) for i in rest))))
    return parts


def waterfall_figure(
    features: Sequence[str],
    shown: Sequence[str],
    points: Sequence[float],
    base_proba: float,
    proba: float,
    title: str,
    x_range: Sequence[float] | None = None,
    bars: int = WATERFALL_BARS,
) -> Figure:
    """From the base rate (``base_proba``) through each feature's points to the prediction.

    A horizontal waterfall in percent: the base rate on top, one bar per contribution (red
    raises churn risk, green lowers it; :func:`waterfall_parts`), the prediction at the bottom.
    ``points`` sum to ``100 * (proba - base_proba)``, so the bars end at the prediction.
    """
    parts = waterfall_parts(features, shown, points, bars)
    base, final = 100 * float(base_proba), 100 * float(proba)
    labels = ["Base rate (average customer)"] + [plain(label) for label, _ in parts]
    labels.append("Prediction for this customer")
    values = [base] + [p for _, p in parts] + [final]
    measure = ["absolute"] + ["relative"] * len(parts) + ["total"]
    text = [f"{base:.1f}%"] + [format_points(p) for _, p in parts] + [f"{final:.1f}%"]
    waterfall = {
        "type": "waterfall",
        "orientation": "h",
        "y": labels,
        "x": values,
        "measure": measure,
        "base": 0,
        "text": text,
        "textposition": "none",  # written beside each bar's right end instead (below)
        "increasing": {"marker": {"color": RAISES}},
        "decreasing": {"marker": {"color": LOWERS}},
        "totals": {"marker": {"color": TOTAL}},
        "connector": {"line": {"color": SECONDARY, "width": 1, "dash": "dot"}},
        "hovertemplate": "<b>%{y}</b><br>%{text}<extra></extra>",
        "name": "contributions",
    }
    # Each label sits right of its bar, whichever way the bar goes: a label left of a falling
    # bar would run into the feature names.
    running = running_totals(points, base_proba, bars)
    starts = [0.0, *running[:-1], 0.0]
    ends = [*running, final]
    annotations = [
        {
            "x": max(start, end),
            "y": label,
            "text": words,
            "showarrow": False,
            "xanchor": "left",
            "xshift": 4,
            "font": {"size": 12, "color": PRIMARY},
        }
        for label, start, end, words in zip(labels, starts, ends, text, strict=True)
    ]
    if x_range is None:
        x_range = common_range(running)
    layout = _layout(
        title,
        f"from the base rate {base:.1f}% to {final:.1f}%: red raises risk, green lowers it",
        110 + 34 * len(labels),
        showlegend=False,
        margin={"l": 24, "r": 24, "t": 72, "b": 48},
        annotations=annotations,
        xaxis={
            "title": {"text": "Churn probability (%)"},
            "range": list(x_range),
            "ticksuffix": "%",
        },
        yaxis={"autorange": "reversed"},
    )
    return figure([waterfall], layout)


def running_totals(points: Sequence[float], base_proba: float, bars: int = WATERFALL_BARS) -> list:
    """The waterfall's running totals in percent: base, after each bar, the prediction."""
    names = [str(i) for i in range(len(points))]
    parts = waterfall_parts(names, names, points, bars)
    return np.cumsum([100 * float(base_proba)] + [p for _, p in parts]).tolist()


def common_range(*totals: Sequence[float]) -> list[float]:
    """One x range (percent) that fits several waterfalls, so they can be read side by side.

    Each of ``totals`` is one waterfall's :func:`running_totals`.
    """
    values = [float(v) for part in totals for v in part]
    low, high = min(0.0, *values), max(values)
    # room right of the longest bar for its label
    return [low, high + max(8.0, 0.22 * (high - low))]
