"""Fairness of one model version by group: the Model review card and the Explain page section.

Per configured fairness column: the summary sentence (a warning when a difference is above its
limit), a table of the groups (rows, selection rate, TPR, FPR, precision, mean predicted vs
observed churn) and the two fairness figures. All of it is read from what training stored
(:func:`pipeline.warehouse.reads_explain.fairness_groups` and ``fairness_summary``).

On the Model review page the card follows version B; its charts are drawn only when asked for
("Show the charts"), because that page already draws seven charts on every visit.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, html

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.empty import empty_state
from app.figures.fairness import group_calibration_figure, group_rates_figure
from app.figures.formatting import format_count, format_pct, is_missing
from app.pages._explain_layout import graph
from app.pages._models_layout import Ids, card, loading
from app.pages._models_state import parse_version
from app.services import services
from pipeline.warehouse import Warehouse, reads_explain

SHOW, HIDE = "Show the charts", "Hide the charts"
RATES = (
    ("selection_rate", "Selection rate"),
    ("tpr", "TPR (churners flagged)"),
    ("fpr", "FPR (stayers flagged)"),
    ("precision", "Precision"),
    ("mean_predicted", "Mean predicted"),
    ("observed_rate", "Observed churn"),
)


def _pretty(column: str) -> str:
    return column.replace("_", " ")


def _group(value: object) -> str:
    return "(missing)" if is_missing(value) else str(value)


def no_fairness(version: int) -> dbc.Card:
    """Why a version has no fairness results, and what makes them appear."""
    return empty_state(
        f"No fairness results for v{version}",
        f"Fairness by group is measured on a version's holdout month when it is trained, for "
        f"the columns in the fairness.columns setting (by default the dataset's segments). "
        f"v{version} has none stored: it was trained before fairness was measured, or its "
        f"holdout had none of those columns.",
        "The next trained version will have them.",
        tone="secondary",
    )


def summary_alert(row: Any) -> dbc.Alert:
    """The column's sentence; yellow with "Above the limit" when it breaches one."""
    breach = bool(row.breach)
    head = "Above the limit. " if breach else "Within the limits. "
    return dbc.Alert(
        [html.Strong(("⚠ " if breach else "") + head), html.Span(str(row.sentence))],
        color="warning" if breach else "light",
        class_name=f"py-2 mb-2 border fairness-{'breach' if breach else 'ok'}",
    )


def group_table(groups: pd.DataFrame) -> dbc.Table:
    """One row per group: rows, churners and the rates (small groups muted, not compared)."""
    head = html.Thead(
        html.Tr(
            [html.Th("Group"), html.Th("Rows", className="text-end")]
            + [html.Th("Churners", className="text-end")]
            + [html.Th(label, className="text-end") for _, label in RATES]
        )
    )
    body = []
    for g in groups.itertuples(index=False):
        small = bool(g.small)
        name = [_group(g.value)]
        if small:
            name.append(html.Span(" (few rows, not compared)", className="small"))
        body.append(
            html.Tr(
                [
                    html.Td(name),
                    html.Td(format_count(g.rows), className="text-end"),
                    html.Td(format_count(g.positives), className="text-end"),
                ]
                + [html.Td(format_pct(getattr(g, key)), className="text-end") for key, _ in RATES],
                className="text-muted" if small else None,
            )
        )
    return dbc.Table(
        [head, html.Tbody(body)],
        size="sm",
        hover=True,
        responsive=True,
        class_name="mb-3 align-middle fairness-groups",
    )


def read(wh: Warehouse, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The version's stored groups and per-column summary (see :mod:`reads_explain`)."""
    return reads_explain.fairness_groups(wh, version), reads_explain.fairness_summary(wh, version)


def columns_of(groups: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The fairness columns, in the summary's order (then any with groups only)."""
    names = [str(c) for c in summary["column_name"]]
    return names + sorted(set(map(str, groups["column_name"])) - set(names))


def chart_row(groups: pd.DataFrame, column: str, limit: Any | None) -> html.Div:
    """Rates by group, then calibration by group, of ``column``.

    One above the other at full width: the figures' subtitles (the differences against their
    limits, the groups left out) are one long line each and would be cut off at half width.
    """
    rates = group_rates_figure(
        groups,
        column,
        None if limit is None else float(limit.dpd_limit),
        None if limit is None else float(limit.eod_limit),
    )
    return html.Div(
        [graph(rates), graph(group_calibration_figure(groups, column))],
        className="fairness-charts mb-3",
    )


def section(wh: Warehouse, version: int, with_charts: bool = True) -> list[Any]:
    """Per column: a heading, the summary sentence, the group table and (``with_charts``) the
    two figures; an empty state when nothing is stored for ``version``."""
    groups, summary = read(wh, version)
    if groups.empty and summary.empty:
        return [no_fairness(version)]
    out: list[Any] = []
    by_column = {str(r.column_name): r for r in summary.itertuples(index=False)}
    for column in columns_of(groups, summary):
        out.append(html.H6(f"By {_pretty(column)}", className="mt-3 mb-2 fw-semibold"))
        if column in by_column:
            out.append(summary_alert(by_column[column]))
        out.append(group_table(groups[groups["column_name"] == column]))
        if with_charts:
            out.append(chart_row(groups, column, by_column.get(column)))
    return out


def charts(wh: Warehouse, version: int) -> list[Any]:
    """Only the figures, column by column under a heading (the Model review card's charts)."""
    groups, summary = read(wh, version)
    by_column = {str(r.column_name): r for r in summary.itertuples(index=False)}
    out: list[Any] = []
    for column in columns_of(groups, summary) if not groups.empty else []:
        out.append(html.H6(f"By {_pretty(column)}", className="mt-2 mb-2 fw-semibold"))
        out.append(chart_row(groups, column, by_column.get(column)))
    return out


# -- the Model review card --------------------------------------------------------------------


def fairness_card() -> dbc.Card:
    """The card on the Model review page: B's fairness by group, charts on request."""
    return card(
        "Fairness of B by group",
        "Measured on B's holdout month at B's decision threshold. Yellow: a difference between "
        "groups is above its limit (settings fairness.max_*).",
        [
            loading(Ids.FAIRNESS, 120),
            dbc.Button(
                SHOW,
                id=Ids.FAIRNESS_CHARTS_BUTTON,
                color="primary",
                outline=True,
                size="sm",
                n_clicks=0,
            ),
            html.Div(id=Ids.FAIRNESS_CHARTS, className="mt-3"),
        ],
        class_name="mb-4",
    )


@callback(
    Output(Ids.FAIRNESS, "children"),
    Output(Ids.FAIRNESS_CHARTS_BUTTON, "style"),
    Input(Ids.B, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_fairness(b: object, data: dict | None) -> tuple[Any, dict | None]:
    """B's fairness tables and sentences; the chart button only when there is something."""
    version = parse_version(b, (data or {}).get("versions") or [])
    if version is None:
        return html.Div("Choose version B above.", className="text-muted"), {"display": "none"}
    found = section(services().warehouse, version, with_charts=False)
    empty = len(found) == 1 and isinstance(found[0], dbc.Card)
    return found, ({"display": "none"} if empty else None)


@callback(
    Output(Ids.FAIRNESS_CHARTS, "children"),
    Output(Ids.FAIRNESS_CHARTS_BUTTON, "children"),
    Input(Ids.FAIRNESS_CHARTS_BUTTON, "n_clicks"),
    Input(Ids.B, "value"),
    State(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def toggle_fairness_charts(n_clicks: int | None, b: object, data: dict | None) -> tuple[Any, str]:
    """Odd clicks show B's fairness charts, even clicks hide them (a new B keeps the choice)."""
    version = parse_version(b, (data or {}).get("versions") or [])
    if not (n_clicks or 0) % 2 or version is None:
        return None, SHOW
    return charts(services().warehouse, version), HIDE
