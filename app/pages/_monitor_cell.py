"""One drift cell in detail: the verdict in words, how it was measured, and the distributions.

Kept apart from the page module so the facts shown beside the chart can be read (and tested)
on their own; the leading underscore keeps it out of the page list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import html

from app.components.empty import empty_state
from app.figures.formatting import format_count, format_month, is_missing
from app.figures.monitor import SEVERITY_FILL, SEVERITY_LABEL, distribution_figure
from app.pages._explain_layout import graph
from pipeline.monitoring.result import NAMES, P_VALUE_METHODS


def _reference(cell: Mapping[str, Any]) -> str:
    start, end = cell.get("reference_from"), cell.get("reference_to")
    window = (
        "unknown window"
        if is_missing(start) or is_missing(end)
        else f"{format_month(start)}–{format_month(end)}"
    )
    version = cell.get("reference_version")
    if is_missing(version):
        return f"the months before it (rolling): {window}"
    return f"v{int(version)}'s training window, {window}"


def _measured(cell: Mapping[str, Any]) -> str:
    method = str(cell.get("method"))
    name = NAMES.get(method, method)
    statistic, threshold = cell.get("statistic"), cell.get("threshold")
    value = "—" if is_missing(statistic) else f"{float(statistic):.3g}"
    if method in P_VALUE_METHODS and not is_missing(cell.get("p_value")):
        return (
            f"{name} {value}, p-value {float(cell['p_value']):.3g} "
            f"(drift when below {float(threshold):g})"
        )
    return f"{name} {value} (drift above {float(threshold):g}; watch above half of it)"


def severity_badge(severity: str) -> html.Span:
    """The severity as a coloured word, in the heatmap's colours."""
    dark = severity == "drift"
    return html.Span(
        SEVERITY_LABEL.get(severity, severity),
        className="badge rounded-pill",
        style={
            "backgroundColor": SEVERITY_FILL.get(severity, "#e3e9ee"),
            "color": "white" if dark else "#212529",
            "fontSize": "0.8rem",
        },
    )


def cell_facts(cell: Mapping[str, Any]) -> html.Div:
    """The verdict sentence and a short list: method and statistic, reference, current."""
    rows = [
        ("Measured", _measured(cell)),
        (
            "Reference",
            f"{_reference(cell)} ({format_count(cell.get('rows_reference'))} rows)",
        ),
        (
            "Current",
            f"{format_month(cell['period'])} ({format_count(cell.get('rows_current'))} rows)",
        ),
    ]
    return html.Div(
        [
            html.Div(
                [severity_badge(str(cell.get("severity"))), html.Span(" ")]
                + [html.Span(str(cell.get("sentence")), className="fw-semibold monitor-sentence")]
            ),
            html.Dl(
                [
                    part
                    for label, text in rows
                    for part in (
                        html.Dt(label, className="col-sm-3 small text-muted"),
                        html.Dd(text, className="col-sm-9 small mb-1"),
                    )
                ],
                className="row mt-2 mb-0",
            ),
        ],
        className="mb-2",
    )


def cell_detail(
    cell: Mapping[str, Any] | None, period: str | None, feature: str | None, segment_label: str
) -> Any:
    """The facts and the distribution chart of one cell, or why there is none."""
    if period is None or feature is None:
        return html.Div("Click a cell of the heatmap.", className="text-muted")
    if cell is None:
        return empty_state(
            f"No drift result for {feature} in {format_month(period + '-01')}",
            f"Nothing was measured for {segment_label.lower()}: the feature was not monitored "
            "that month, or the segment had too few rows (settings monitoring.segment_min_rows).",
            "Choose another cell in the heatmap.",
            tone="secondary",
        )
    return html.Div([cell_facts(cell), graph(distribution_figure(cell))])
