"""Shared style of the Monitor figures: severity colours, the time axis and its events.

Severity colours step down in lightness (pale grey-blue, amber, dark red) as well as in hue, so
ok, watch and drift stay apart for readers with any kind of colour blindness and in greyscale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from app.figures.formatting import format_month, is_missing
from app.figures.theme import DANGER, INFO, MUTED, PRIMARY, SUCCESS, WARNING

SEVERITIES = ("ok", "watch", "drift")
SEVERITY_FILL = {"ok": "#e3e9ee", "watch": "#f0a830", "drift": "#a3162b"}
# Markers on white need a visible "ok": the theme's muted grey.
SEVERITY_MARKER = {"ok": MUTED, "watch": "#e08e0b", "drift": "#a3162b"}
SEVERITY_LABEL = {
    "ok": "ok",
    "watch": "watch: past half the threshold",
    "drift": "drift: past the threshold",
}
ALERT_COLOURS = {"info": INFO, "warning": WARNING, "critical": DANGER}

REFERENCE_COLOUR = "#7f8c8d"
CURRENT_COLOUR = "#2c7fb8"
ESTIMATE_COLOUR = INFO
BAND_FILL = "rgba(52, 152, 219, 0.18)"
REALISED_COLOUR = PRIMARY
PROMOTION_COLOUR = SUCCESS
RETRAIN_COLOUR = "#8e44ad"

GRAPH_MARGIN = {"l": 72, "r": 24, "t": 84, "b": 96}

METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
}
EVENT_COLUMNS = ["happened_at", "kind", "period", "version", "severity", "text"]


def legend_key(
    name: str, *, marker: dict[str, Any] | None = None, line: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A legend entry that draws nothing, as a trace dict: a marker key when ``marker`` is
    given, else a line key. For what a chart shows without a trace of its own (coloured
    points, heatmap cells, event lines)."""
    trace: dict[str, Any] = {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers" if marker else "lines",
        "name": name,
        "hoverinfo": "skip",
    }
    if marker is not None:
        trace["marker"] = marker
    if line is not None:
        trace["line"] = line
    return trace


def title(text: str, subtitle: str | None = None) -> dict[str, Any]:
    """A figure title with an optional muted second line."""
    if subtitle:
        text = f"{text}<br><span style='font-size:12px;color:{MUTED}'>{subtitle}</span>"
    return {"text": text}


def month_axis(periods: Sequence[pd.Timestamp]) -> dict[str, Any]:
    """A date x axis labelled by month; every month up to a year, then every third."""
    dtick = "M1" if len(periods) <= 12 else "M3"
    axis: dict[str, Any] = {"type": "date", "tickformat": "%b %Y", "dtick": dtick}
    if len(periods):
        start, end = min(periods), max(periods)
        # half a month either side, so the first and last points are not on the frame
        axis["range"] = [start - pd.Timedelta(days=16), end + pd.Timedelta(days=16)]
    return axis


def event_label(kind: str, version: object, short: bool = False) -> str:
    """``"v8 became champion"`` / ``"retrain → v8"``; short: ``"★ v8"`` / ``"↻ v8"``."""
    v = "" if is_missing(version) else f"v{int(version)}"  # type: ignore[call-overload]
    if kind == "promotion":
        return f"★ {v}" if short else f"{v} became champion".strip()
    if short:
        return f"↻ {v}".strip()
    return f"retrain → {v}" if v else "retrain"


def placed(events: pd.DataFrame | None, periods: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """The events that fall inside the months shown (others cannot be placed on the axis)."""
    if events is None or events.empty or not len(periods):
        return pd.DataFrame(columns=EVENT_COLUMNS)
    data = events.dropna(subset=["period"]).copy()
    data["period"] = pd.to_datetime(data["period"])
    return data[(data["period"] >= min(periods)) & (data["period"] <= max(periods))]


def by_month(events: pd.DataFrame, kinds: Sequence[str]) -> list[tuple[pd.Timestamp, list]]:
    """Events of ``kinds`` grouped by month, oldest first, each as plain records (pandas
    grouping costs a millisecond per group, which adds up over two years of events)."""
    months: dict[pd.Timestamp, list[dict[str, Any]]] = {}
    for record in events.to_dict("records"):
        if record["kind"] in kinds:
            months.setdefault(pd.Timestamp(record["period"]), []).append(record)
    return sorted(months.items(), key=lambda item: item[0])


def event_marks(
    events: pd.DataFrame, max_labels: int | None = None
) -> tuple[list[dict], list[dict]]:
    """Layout shapes and annotations: a dotted vertical line per month with a promotion or
    retrain, labelled at the top ("★ v8": v8 became champion; "↻ v8": retrained, giving v8).
    Several events in one month share a line and a label. With more than ``max_labels``
    months, the lines stay and the labels are left out (a narrow chart cannot hold them)."""
    shapes, notes = [], []
    months = by_month(events, ("promotion", "retrain"))
    labelled = max_labels is None or len(months) <= max_labels
    for n, (period, group) in enumerate(months):
        labels = dict.fromkeys(event_label(e["kind"], e["version"], short=True) for e in group)
        kinds = {e["kind"] for e in group}
        colour = PROMOTION_COLOUR if "promotion" in kinds else RETRAIN_COLOUR
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": period,
                "x1": period,
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 1.5, "dash": "dot"},
                "layer": "below",
            }
        )
        if not labelled:
            continue
        notes.append(
            {
                "x": period,
                "xref": "x",
                # every other label a line higher, so labels of adjacent months do not overlap
                "y": 1.0 if n % 2 == 0 else 1.06,
                "yref": "paper",
                "yanchor": "bottom",
                "text": " ".join(labels),
                "showarrow": False,
                "font": {"size": 11, "color": colour},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
        )
    return shapes, notes


def event_hover(period: pd.Timestamp, group: Sequence[dict[str, Any]]) -> str:
    """Hover text of one month's events: what happened and why, one line each."""
    lines = []
    for e in group:
        what = event_label(e["kind"], e["version"]) if e["kind"] != "alert" else str(e["severity"])
        text = "" if is_missing(e["text"]) else " ".join(str(e["text"]).split())
        if len(text) > 120:
            text = text[:119] + "…"
        lines.append(f"<b>{what}</b>: {text}" if text else f"<b>{what}</b>")
    return f"{format_month(period)}<br>" + "<br>".join(lines)
