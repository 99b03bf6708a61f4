"""Figures of the analyst's Data page: batches, missing values, distributions, target rates.

Text that comes from the data (file names, categories, messages) is passed through
:func:`plain` first: plotly interprets a few HTML-like tags in labels and hover text, and the
data must never be read as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from app.figures.formatting import format_count, format_pct, is_missing
from app.figures.spec import (
    Figure,
    figure,
    merge,
    reference_line,
    subplots,
    trace_axes,
    update_annotations,
)
from app.figures.theme import (
    DANGER,
    INFO,
    MUTED,
    PRIMARY,
    SECONDARY,
    SUCCESS,
    WARNING,
    empty_figure,
)

MAX_TICKS = 40  # batch labels on one axis before every k-th is shown
MISSING_LABEL = "(missing)"
MISSING_SCALE = [[0.0, "#ffffff"], [0.02, "#fdf2e2"], [0.35, WARNING], [1.0, DANGER]]
CORR_SCALE = [[0.0, INFO], [0.5, "#ffffff"], [1.0, DANGER]]

# Figures are written as dicts (app.figures.spec): plotly's make_subplots, add_trace and
# update_layout re-validate the whole figure at every call.


def _untitled(fig: Figure, *axes: str) -> Figure:
    """``fig`` with an empty title object on each of ``axes`` (``"xaxis"``, ``"yaxis"``).

    What ``update_layout(xaxis={"title": None})`` always sent: no title drawn. ``spec.figure``
    drops empty objects, so it is set here, on the built figure.
    """
    for axis in axes:
        fig["layout"].setdefault(axis, {})["title"] = {}
    return fig


def _reference_line(axis: str, at: float) -> dict[str, Any]:
    """A dashed grey line at ``at`` across the whole plot (``add_hline``/``add_vline``)."""
    return reference_line(axis, at, {"color": SECONDARY, "dash": "dash"})


def plain(text: object) -> str:
    """``text`` as plotly label text that shows literally: ``&``, ``<`` and ``>`` escaped."""
    if is_missing(text):
        return MISSING_LABEL
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def batch_label(file_name: object, batch_id: object) -> str:
    """A short axis label for a batch: the file name without its extension, or ``#id``."""
    if is_missing(file_name) or not str(file_name).strip():
        return f"#{batch_id}"
    return PurePosixPath(str(file_name)).stem or f"#{batch_id}"


def _batch_axis(labels: Sequence[str]) -> dict:
    """Category-like x axis at positions 0..n-1 with at most ``MAX_TICKS`` labels."""
    step = max(1, math.ceil(len(labels) / MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    return {
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [plain(labels[i]) for i in ticks],
        "tickangle": -45 if len(labels) > 6 else 0,
        "range": [-0.6, len(labels) - 0.4],
    }


def batch_rows_figure(batches: pd.DataFrame) -> Figure:
    """Rows accepted (top) and rows quarantined (bottom) per batch, in arrival order.

    ``batches`` has ``batch_id``, ``file_name``, ``status``, ``rows_accepted`` and
    ``rows_quarantined`` (NA for batches without statistics, e.g. rejected files).
    """
    title = "Rows accepted and quarantined per batch"
    if batches.empty:
        return empty_figure("No batches have arrived yet", title)
    data = batches.sort_values("batch_id").reset_index(drop=True)
    labels = [batch_label(f, b) for f, b in zip(data["file_name"], data["batch_id"], strict=True)]
    x = list(range(len(data)))
    names = [plain(f) for f in data["file_name"]]
    status = [plain(s) for s in data["status"]]
    layout = subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.6, 0.4],
        subplot_titles=["Rows accepted", "Rows quarantined (rejected by a cleaning rule)"],
    )
    traces: list[dict[str, Any]] = []
    for row, column, colour, what in (
        (1, "rows_accepted", SUCCESS, "accepted"),
        (2, "rows_quarantined", DANGER, "quarantined"),
    ):
        values = pd.to_numeric(data[column], errors="coerce").fillna(0)
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": values,
                "name": f"Rows {what}",
                "marker": {"color": colour},
                "customdata": list(zip(names, status, strict=True)),
                "hovertemplate": (
                    f"%{{customdata[0]}} (%{{customdata[1]}}): %{{y:,}} rows {what}<extra></extra>"
                ),
                **trace_axes(row, 1),
            }
        )
        merge(
            layout["yaxis" if row == 1 else "yaxis2"],
            {"title": {"text": "rows"}, "rangemode": "tozero", "tickformat": "~s"},
        )
    rejected = [i for i, s in enumerate(data["status"]) if s == "rejected"]
    if rejected:
        traces.append(
            {
                "type": "scatter",
                "x": rejected,
                "y": [0] * len(rejected),
                "mode": "markers",
                "name": "Batch rejected",
                "marker": {"symbol": "x", "size": 11, "color": DANGER},
                "customdata": [names[i] for i in rejected],
                "hovertemplate": "%{customdata}: whole file rejected<extra></extra>",
                **trace_axes(1, 1),
            }
        )
    merge(layout["xaxis2"], _batch_axis(labels))
    merge(layout["xaxis"], {"range": [-0.6, len(labels) - 0.4]})
    layout.update(title={"text": title}, height=430, bargap=0.25, showlegend=bool(rejected))
    update_annotations(layout, font={"size": 13, "color": MUTED}, xanchor="left", x=0.0)
    return figure(traces, layout)


def missing_heatmap(missing: pd.DataFrame) -> Figure:
    """Share of missing values, one row per column and one cell per batch (arrival order).

    ``missing`` has ``batch_id``, ``file_name``, ``column_name``, ``rows``, ``missing`` and
    ``share`` (fraction), one row per batch and column.
    """
    title = "Missing values per column and batch (% of the batch's rows)"
    if missing.empty:
        return empty_figure("No per-column statistics recorded yet", title)
    batch_ids = sorted(missing["batch_id"].unique())
    files = missing.drop_duplicates("batch_id").set_index("batch_id")["file_name"]
    labels = [batch_label(files.get(b), b) for b in batch_ids]
    columns = sorted(missing["column_name"].astype(str).unique(), reverse=True)
    position = {b: i for i, b in enumerate(batch_ids)}
    share = missing.pivot_table(
        index="column_name", columns="batch_id", values="share", aggfunc="first"
    ).reindex(index=columns, columns=batch_ids)
    counts = missing.assign(
        text=[
            f"{format_count(m)} of {format_count(r)} rows"
            for m, r in zip(missing["missing"], missing["rows"], strict=True)
        ]
    ).pivot_table(index="column_name", columns="batch_id", values="text", aggfunc="first")
    counts = counts.reindex(index=columns, columns=batch_ids)
    names = [[plain(files.get(b)) for b in batch_ids] for _ in columns]
    detail = [
        [[names[r][c], "" if is_missing(v) else v] for c, v in enumerate(row)]
        for r, row in enumerate(counts.to_numpy().tolist())
    ]
    top = float(pd.to_numeric(missing["share"], errors="coerce").max() or 0.0)
    few = len(batch_ids) <= 24 and len(columns) <= 24
    heatmap: dict[str, Any] = {
        "type": "heatmap",
        "z": share.to_numpy(),
        "x": [position[b] for b in batch_ids],
        "y": [plain(c) for c in columns],
        "zmin": 0.0,
        "zmax": max(top, 0.05),
        "colorscale": MISSING_SCALE,
        "xgap": 1,
        "ygap": 1,
        "customdata": detail,
        "textfont": {"size": 10},
        "colorbar": {"title": {"text": "missing"}, "tickformat": ".0%", "thickness": 12},
        "hovertemplate": (
            "%{y} in %{customdata[0]}: %{z:.1%} missing (%{customdata[1]})<extra></extra>"
        ),
    }
    if few:
        heatmap["texttemplate"] = "%{z:.1%}"
    layout = {
        "title": {"text": title},
        "height": max(260, 150 + 26 * len(columns)),
        "xaxis": {**_batch_axis(labels), "showgrid": False},
        "yaxis": {"showgrid": False},
    }
    return _untitled(figure([heatmap], layout), "yaxis")


def _number(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bins between consecutive ``edges``: ``"10 – 20"``.

    The end bins also hold the values beyond the edges, so they read ``"≤ 20"`` and ``"> 90"``.
    """
    inner = [f"{_number(a)} – {_number(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    if len(inner) >= 2:
        inner[0] = f"≤ {_number(edges[1])}"
        inner[-1] = f"> {_number(edges[-2])}"
    return inner


def decile_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bins cut at ``edges`` (values up to each edge): ``≤ a``, ``a – b``, ``> z``."""
    if not edges:
        return ["all values"]
    inner = [f"{_number(a)} – {_number(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return [f"≤ {_number(edges[0])}", *inner, f"> {_number(edges[-1])}"]


def _legend(name: str, period: str, frame: pd.DataFrame) -> str:
    missing = frame[frame["bin"].isna()] if "bin" in frame else frame[frame["category"].isna()]
    share = float(missing["share"].sum()) if len(missing) else 0.0
    return f"{name} · {period} ({format_pct(share)} missing)"


def numeric_distribution_figure(
    histogram: pd.DataFrame,
    edges: Sequence[float],
    feature: str,
    reference_period: str,
    latest_period: str,
) -> Figure:
    """Overlaid histograms of a numeric feature, as shares of each window's non-missing rows.

    ``histogram`` has ``window`` ("reference"/"latest"), ``bin`` (NA for missing), ``rows``
    and ``share``; ``edges`` are the bin edges fixed from the reference.
    """
    title = f"Distribution of {plain(feature)}: reference vs latest period"
    if histogram.empty or histogram["bin"].notna().sum() == 0:
        return empty_figure(f"No values of {plain(feature)} in these periods", title)
    labels = bin_labels(edges)
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    width = float(edges[1]) - float(edges[0])
    traces: list[dict[str, Any]] = []
    for window, period in (("reference", reference_period), ("latest", latest_period)):
        part = histogram[histogram["window"] == window]
        binned = part[part["bin"].notna()]
        shares = dict(zip((int(b) for b in binned["bin"]), binned["share"], strict=True))
        rows = dict(zip((int(b) for b in binned["bin"]), binned["rows"], strict=True))
        common = {
            "x": centres,
            "y": [shares.get(i, 0.0) for i in range(len(centres))],
            "name": _legend(window.capitalize(), period, part),
            "customdata": [[labels[i], rows.get(i, 0)] for i in range(len(centres))],
            "hovertemplate": (
                f"{window}: %{{customdata[0]}}: %{{y:.1%}} (%{{customdata[1]:,}} rows)"
                "<extra></extra>"
            ),
        }
        if window == "reference":
            # The reference as filled bars and the latest period as an outline on top, so
            # both stay readable where they overlap.
            traces.append(
                {
                    "type": "bar",
                    "width": width,
                    "marker": {"color": INFO, "line": {"width": 0}},
                    "opacity": 0.45,
                    **common,
                }
            )
        else:
            # Extend the outline to the outer edges, so the end bins are drawn in full.
            common |= {
                "x": [edges[0], *centres, edges[-1]],
                "y": [common["y"][0], *common["y"], common["y"][-1]],
                "customdata": [
                    common["customdata"][0],
                    *common["customdata"],
                    common["customdata"][-1],
                ],
            }
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "line": {"color": WARNING, "width": 3, "shape": "hvh"},
                    **common,
                }
            )
    layout = {
        "title": {"text": title},
        "bargap": 0,
        "height": 380,
        "xaxis": {"title": {"text": plain(feature)}},
        "yaxis": {"title": {"text": "share of rows"}, "tickformat": ".0%", "rangemode": "tozero"},
        "legend": {"y": -0.28, "yanchor": "top", "x": 0.0, "xanchor": "left"},
        "margin": {"b": 96},
    }
    return figure(traces, layout)


def category_distribution_figure(
    shares: pd.DataFrame, feature: str, reference_period: str, latest_period: str, top: int = 25
) -> Figure:
    """Share of rows per category, reference against latest period, side by side.

    ``shares`` has ``window``, ``category`` (None for missing), ``rows`` and ``share``, largest
    reference categories first; only the first ``top`` categories are drawn.
    """
    title = f"Distribution of {plain(feature)}: reference vs latest period"
    if shares.empty:
        return empty_figure(f"No values of {plain(feature)} in these periods", title)
    order = list(dict.fromkeys(plain(c) for c in shares["category"]))
    if len(order) > top:
        title += f" (largest {top} of {len(order)} categories)"
        order = order[:top]
    traces: list[dict[str, Any]] = []
    for window, period, colour in (
        ("reference", reference_period, INFO),
        ("latest", latest_period, WARNING),
    ):
        part = shares[shares["window"] == window]
        cats = [plain(c) for c in part["category"]]
        keep = [i for i, c in enumerate(cats) if c in order]
        traces.append(
            {
                "type": "bar",
                "x": [cats[i] for i in keep],
                "y": part["share"].iloc[keep],
                "name": _legend(window.capitalize(), period, part),
                "marker": {"color": colour},
                "customdata": part["rows"].iloc[keep],
                "hovertemplate": f"{window}: %{{x}}: %{{y:.1%}} (%{{customdata:,}} rows)"
                "<extra></extra>",
            }
        )
    layout = {
        "title": {"text": title},
        "barmode": "group",
        "bargap": 0.25,
        "height": 380,
        "xaxis": {"categoryorder": "array", "categoryarray": order},
        "yaxis": {"title": {"text": "share of rows"}, "tickformat": ".0%", "rangemode": "tozero"},
        "legend": {"y": -0.22, "yanchor": "top", "x": 0.0, "xanchor": "left"},
        "margin": {"b": 96},
    }
    return _untitled(figure(traces, layout), "xaxis")


def target_rate_figure(
    rates: pd.DataFrame, labels: Sequence[str], feature: str, target: str, period: str
) -> Figure:
    """Target rate per bin or category of one feature, with the rows behind each bar.

    ``rates`` has ``rows``, ``labelled`` and ``target_rate``; ``labels`` names its rows in
    order (bins, categories, "(missing)").
    """
    title = f"Rate of {plain(target)} = 1 by {plain(feature)}"
    if rates.empty or rates["labelled"].sum() == 0:
        return empty_figure("No labels have arrived for the reference period yet", title)
    overall = _overall_rate(rates)
    title += _subtitle(period, overall)
    text = [format_pct(r) if not is_missing(r) else "" for r in rates["target_rate"]]
    bar = {
        "type": "bar",
        "x": [plain(label) for label in labels],
        "y": rates["target_rate"],
        "marker": {"color": PRIMARY},
        "text": text,
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": rates[["labelled", "rows"]].to_numpy(),
        "hovertemplate": (
            "%{x}: %{y:.1%} of %{customdata[0]:,} labelled rows (%{customdata[1]:,} rows)"
            "<extra></extra>"
        ),
    }
    top = float(pd.to_numeric(rates["target_rate"], errors="coerce").max() or 0)
    layout: dict[str, Any] = {
        "title": {"text": title},
        "height": 360,
        "bargap": 0.3,
        "xaxis": {"type": "category"},
        "margin": {"t": 92},
        "yaxis": {"tickformat": ".0%", "range": [0, max(top * 1.25, 0.01)]},
    }
    if overall is not None:
        layout["shapes"] = [_reference_line("y", overall)]
    return _untitled(figure([bar], layout), "xaxis", "yaxis")


def _subtitle(period: str, overall: float | None) -> str:
    line = f"{period}, labelled rows"
    if overall is not None:
        line += f"; dashed line: all of them, {format_pct(overall)}"
    return f"<br><sup>{plain(line)}</sup>"


def _overall_rate(rates: pd.DataFrame) -> float | None:
    labelled = pd.to_numeric(rates["labelled"], errors="coerce").fillna(0)
    if labelled.sum() == 0:
        return None
    hits = (pd.to_numeric(rates["target_rate"], errors="coerce").fillna(0) * labelled).sum()
    return float(hits / labelled.sum())


def segment_rate_figure(rates: pd.DataFrame, target: str, period: str) -> Figure:
    """Target rate per value of each segment column, values grouped under their segment.

    ``rates`` has ``segment``, ``value``, ``rows``, ``labelled`` and ``target_rate``.
    """
    title = f"Rate of {plain(target)} = 1 by segment"
    if rates.empty or rates["labelled"].sum() == 0:
        return empty_figure("No labels have arrived for the reference period yet", title)
    segments = list(dict.fromkeys(rates["segment"]))
    overall = _overall_rate(rates[rates["segment"] == segments[0]])
    title += _subtitle(period, overall)
    # One horizontal bar per "segment: value", grouped by segment from the top: as readable as
    # a chart per segment, and far cheaper to build than subplots.
    labels = [
        f"{plain(s)}: {plain(v)}" for s, v in zip(rates["segment"], rates["value"], strict=True)
    ]
    bar = {
        "type": "bar",
        "y": labels,
        "x": rates["target_rate"],
        "orientation": "h",
        "marker": {"color": PRIMARY},
        "text": [format_pct(r) if not is_missing(r) else "" for r in rates["target_rate"]],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": rates[["labelled", "rows"]].to_numpy(),
        "hovertemplate": "%{y}: %{x:.1%} of %{customdata[0]:,} labelled rows<extra></extra>",
    }
    top = float(pd.to_numeric(rates["target_rate"], errors="coerce").max() or 0)
    layout: dict[str, Any] = {
        "title": {"text": title},
        "height": max(320, 130 + 24 * len(rates)),
        "showlegend": False,
        "bargap": 0.25,
        "yaxis": {"categoryorder": "array", "categoryarray": labels[::-1]},
        "margin": {"t": 92},
        "xaxis": {"tickformat": ".0%", "range": [0, max(top * 1.2, 0.01)]},
    }
    if overall is not None:
        layout["shapes"] = [_reference_line("x", overall)]
    return _untitled(figure([bar], layout), "xaxis", "yaxis")


def correlation_figure(corr: pd.DataFrame, period: str) -> Figure:
    """Heatmap of Pearson correlations between numeric features (-1 blue, +1 red).

    ``corr`` has ``column_a``, ``column_b`` and ``corr`` for every ordered pair.
    """
    title = f"Correlation between numeric features<br><sup>Pearson r, {plain(period)}</sup>"
    names = list(dict.fromkeys(corr["column_a"])) if len(corr) else []
    if len(names) < 2:
        return empty_figure("Correlations need at least two numeric features", title)
    matrix = corr.pivot_table(index="column_a", columns="column_b", values="corr", dropna=False)
    matrix = matrix.reindex(index=names, columns=names)
    labels = [plain(n) for n in names]
    heatmap: dict[str, Any] = {
        "type": "heatmap",
        "z": matrix.to_numpy(),
        "x": labels,
        "y": labels,
        "zmin": -1,
        "zmax": 1,
        "colorscale": CORR_SCALE,
        "xgap": 1,
        "ygap": 1,
        "colorbar": {"title": {"text": "r"}, "thickness": 12},
        "hovertemplate": "%{y} and %{x}: r = %{z:.2f}<extra></extra>",
    }
    if len(names) <= 12:
        heatmap["texttemplate"] = "%{z:.2f}"
    layout = {
        "title": {"text": title},
        "height": max(340, 160 + 36 * len(names)),
        "xaxis": {"showgrid": False, "tickangle": -30},
        "margin": {"t": 92},
        "yaxis": {"showgrid": False, "autorange": "reversed"},
    }
    return figure([heatmap], layout)
