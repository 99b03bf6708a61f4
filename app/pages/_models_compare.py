"""The side-by-side comparison of two model versions: metric table, segments, gate, curves.

Pure builders over the dicts and frames of :mod:`pipeline.warehouse.reads_models`, except
:func:`segment_frames`, which only calls its named reads. Version A is always drawn in the first
colour of :func:`app.figures.models.label_colours` and B in the second, in tables and charts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.figures.formatting import format_count, format_money, format_pct, is_missing
from app.figures.models import label_colours, threshold_summary
from pipeline.warehouse import Warehouse
from pipeline.warehouse import reads_models as reads

Tone = Literal["good", "bad", "neutral"]
SMALL_DELTA = 0.001  # differences below this are noise at the precision shown
TONE_CLASS = {"good": "text-success", "bad": "text-danger", "neutral": "text-muted"}
TONE_WORD = {"good": "B is better", "bad": "B is worse", "neutral": "no meaningful difference"}


@dataclass(frozen=True)
class Metric:
    """One row of the metric table: key in the metrics dict, label, direction and format."""

    key: str
    label: str
    higher_is_better: bool | None  # None: neither (a volume, not a quality)
    kind: Literal["score", "error", "share", "ratio", "money"]


METRICS = [
    Metric("roc_auc", "ROC AUC", True, "score"),
    Metric("pr_auc", "PR AUC", True, "score"),
    Metric("brier", "Brier score (lower is better)", False, "error"),
    Metric("log_loss", "Log loss (lower is better)", False, "error"),
    Metric("precision", "Precision at the threshold", True, "share"),
    Metric("recall", "Recall at the threshold", True, "share"),
    # Flagging more customers is neither better nor worse by itself: its cost and value show in
    # precision, recall and profit, so its delta is never coloured.
    Metric("flag_rate", "Flagged share", None, "share"),
    Metric("lift_top_decile", "Lift in the top decile", True, "ratio"),
    Metric("expected_profit", "Expected profit on the window", True, "money"),
]

_VALUE_FORMAT: dict[str, Callable[[Any], str]] = {
    "score": lambda v: f"{float(v):.3f}",
    "error": lambda v: f"{float(v):.4f}",
    "share": format_pct,
    "ratio": lambda v: f"{float(v):.2f}",
    "money": format_money,
}


def format_value(metric: Metric, value: object) -> str:
    """A metric value as the table shows it; ``"—"`` when missing."""
    return "—" if is_missing(value) else _VALUE_FORMAT[metric.kind](value)


def format_delta(metric: Metric, delta: float | None) -> str:
    """A difference B − A: ``+0.012``, ``+1.5 pp`` for shares, ``+$1.2k`` for money."""
    if delta is None:
        return "—"
    if metric.kind == "share":
        return f"{_rounded(delta * 100, 1):+.1f} pp"
    if metric.kind == "money":
        return ("+" if delta >= 0 else "−") + format_money(abs(delta))
    digits = {"score": 3, "error": 4, "ratio": 2}[metric.kind]
    return f"{_rounded(delta, digits):+.{digits}f}"


def _rounded(value: float, digits: int) -> float:
    # Adding 0.0 turns -0.0 into 0.0, so a tiny negative difference reads "+0.0", not "-0.0".
    return round(value, digits) + 0.0


def delta_tone(delta: float | None, higher_is_better: bool | None, comparable: bool = True) -> Tone:
    """Whether B's difference from A is good news; small or incomparable ones are neutral."""
    if delta is None or higher_is_better is None or not comparable or abs(delta) < SMALL_DELTA:
        return "neutral"
    return "good" if (delta > 0) == higher_is_better else "bad"


def _number(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def metric_rows(
    metrics_a: Mapping[str, Any], metrics_b: Mapping[str, Any], comparable: bool = True
) -> list[dict[str, Any]]:
    """One dict per :data:`METRICS` row: ``metric, a, b, delta, tone`` (values may be None)."""
    rows = []
    for m in METRICS:
        a, b = _number(metrics_a.get(m.key)), _number(metrics_b.get(m.key))
        delta = None if a is None or b is None else b - a
        rows.append(
            {
                "metric": m,
                "a": a,
                "b": b,
                "delta": delta,
                "tone": delta_tone(delta, m.higher_is_better, comparable),
            }
        )
    return rows


def side_header(label: str, colour: str) -> html.Span:
    """A column header with the side's chart colour as a small square."""
    return html.Span(
        [
            html.Span(
                className="d-inline-block me-1 rounded-1",
                style={"width": "0.8rem", "height": "0.8rem", "background": colour},
            ),
            label,
        ],
        className="text-nowrap",
    )


def colours(label_a: str, label_b: str) -> tuple[str, str]:
    """The chart colours of A and B, as every chart on the page draws them."""
    palette = label_colours([label_a, label_b])  # labels differ: "A: v7 (…)", "B: v7 (…)"
    return palette[label_a], palette[label_b]


def metric_table(
    rows: list[dict[str, Any]], label_a: str, label_b: str, comparable: bool
) -> dbc.Table:
    """Metric | A | B | Δ B−A, the delta coloured green when B is better, red when worse."""
    colour_a, colour_b = colours(label_a, label_b)
    delta_head = "Δ B − A" if comparable else "Δ B − A (different windows)"
    head = html.Thead(
        html.Tr(
            [
                html.Th("Metric"),
                html.Th(side_header(label_a, colour_a), className="text-end"),
                html.Th(side_header(label_b, colour_b), className="text-end"),
                html.Th(delta_head, className="text-end"),
            ]
        )
    )
    body = []
    for r in rows:
        m: Metric = r["metric"]
        # The arrow says which way the number moved; the colour says whether that is good.
        arrow = "" if not r["delta"] or r["tone"] == "neutral" else "▲ " if r["delta"] > 0 else "▼ "
        body.append(
            html.Tr(
                [
                    html.Td(m.label),
                    html.Td(format_value(m, r["a"]), className="text-end"),
                    html.Td(format_value(m, r["b"]), className="text-end"),
                    html.Td(
                        arrow + format_delta(m, r["delta"]),
                        className=f"text-end fw-semibold {TONE_CLASS[r['tone']]} delta-{r['tone']}",
                        title=TONE_WORD[r["tone"]],
                    ),
                ]
            )
        )
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", hover=True, class_name="mb-0 align-middle metrics"
    )


def evaluation_metrics(evaluation: Mapping[str, Any] | None, row: Mapping[str, Any]) -> dict:
    """The evaluation's metrics, or the registry's headline columns when none was stored."""
    if evaluation is not None:
        return dict(evaluation.get("metrics") or {})
    return {k: row.get(k) for k in ("roc_auc", "pr_auc", "brier", "log_loss")}


def window_note(cmp: Mapping[str, Any], a: int, b: int) -> dbc.Alert | html.Div:
    """Which window the numbers come from; a clear warning when A and B were measured apart."""
    if a == b:
        return dbc.Alert(
            f"A and B are the same version (v{a}): choose two versions to compare.",
            color="light",
            class_name="py-2 mb-3 border",
        )
    window = cmp.get("window") or {}
    span = ""
    if window.get("from") is not None:
        span = f" ({window['from']:%b %Y}" + (
            f" to {window['to']:%b %Y})"
            if window.get("to") is not None and window["to"] != window["from"]
            else ")"
        )
    if cmp.get("same_window"):
        newer = max(a, b)
        return html.Div(
            f"Both versions measured on the same labelled window: v{newer}'s holdout{span}.",
            className="small text-muted mb-3 window-note",
        )
    missing = [f"v{v}" for v, key in ((a, "a"), (b, "b")) if cmp.get(key) is None]
    extra = f" No stored evaluation for {', '.join(missing)}." if missing else ""
    return dbc.Alert(
        [
            html.Strong("Not directly comparable. "),
            "Each version is measured on its own holdout window, so the metrics describe "
            "different months and customers; the deltas are left uncoloured." + extra,
        ],
        color="warning",
        class_name="py-2 mb-3 window-note",
    )


def gate_block(version: int, gate: Mapping[str, Any] | None) -> html.Div:
    """The promotion gate's decision about ``version`` in words, with each check."""
    if not gate:
        return html.Div(
            f"No gate decision was recorded for v{version}.", className="text-muted small"
        )
    promoted = bool(gate.get("promote"))
    checks = [
        html.Li(
            [
                html.Span(
                    "✓ " if c.get("passed") else "✗ ",
                    className="text-success fw-bold" if c.get("passed") else "text-danger fw-bold",
                ),
                str(c.get("sentence", "")),
            ],
            className="small",
        )
        for c in gate.get("checks") or []
    ]
    return html.Div(
        [
            html.Div(
                [
                    dbc.Badge(
                        "promoted by the gate" if promoted else "kept as challenger by the gate",
                        color="success" if promoted else "warning",
                        class_name="me-2",
                    ),
                    html.Span(
                        f"the gate's decision when v{version} was trained",
                        className="small text-muted",
                    ),
                ],
                className="mb-2",
            ),
            html.P(str(gate.get("summary", "")), className="mb-2 gate-summary"),
            html.Ul(checks, className="list-unstyled mb-0") if checks else None,
        ],
        className="gate-decision",
    )


def segment_frames(
    wh: Warehouse, cmp: Mapping[str, Any], a: int, b: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-segment metrics of A and B on the same window as the comparison's metrics."""
    if cmp.get("same_window"):
        newer = max(a, b)
        return reads.segment_metrics(wh, newer, a), reads.segment_metrics(wh, newer, b)
    return reads.segment_metrics(wh, a, a), reads.segment_metrics(wh, b, b)


def _cell(value: object, kind: str) -> str:
    if is_missing(value):
        return "—"
    return f"{float(value):.3f}" if kind == "score" else format_pct(value)  # type: ignore[arg-type]


def _segment_value(value: object) -> str:
    # The pipeline stores a missing segment value as the text "None".
    return "(missing)" if is_missing(value) or value == "None" else str(value)


def segment_table(
    seg_a: pd.DataFrame, seg_b: pd.DataFrame, label_a: str, label_b: str, comparable: bool
) -> Any:
    """Segment | rows | churners | ROC AUC A, B, Δ | recall A, B | flagged A, B."""
    keys = ["column_name", "value"]
    merged = seg_a.merge(seg_b, on=keys, how="outer", suffixes=("_a", "_b")).sort_values(keys)
    if merged.empty:
        return html.Div(
            "No per-segment metrics were stored for these versions.", className="text-muted"
        )
    colour_a, colour_b = colours(label_a, label_b)
    side_a, side_b = label_a.split(":")[0], label_b.split(":")[0]
    head = html.Thead(
        [
            html.Tr(
                [
                    html.Th("Segment", rowSpan=2, className="align-bottom"),
                    html.Th("Rows", rowSpan=2, className="text-end align-bottom"),
                    html.Th("Churners", rowSpan=2, className="text-end align-bottom"),
                    html.Th("ROC AUC", colSpan=3, className="text-center"),
                    html.Th("Recall", colSpan=2, className="text-center"),
                    html.Th("Flagged", colSpan=2, className="text-center"),
                ]
            ),
            html.Tr(
                [
                    html.Th(side_header(side_a, colour_a), className="text-end"),
                    html.Th(side_header(side_b, colour_b), className="text-end"),
                    html.Th("Δ", className="text-end"),
                ]
                + [
                    html.Th(side_header(s, c), className="text-end")
                    for _ in range(2)
                    for s, c in ((side_a, colour_a), (side_b, colour_b))
                ]
            ),
        ]
    )
    body = []
    for r in merged.itertuples(index=False):
        auc_a, auc_b = _number(r.roc_auc_a), _number(r.roc_auc_b)
        delta = None if auc_a is None or auc_b is None else auc_b - auc_a
        tone = delta_tone(delta, True, comparable)
        rows = format_count(r.rows_b if not is_missing(r.rows_b) else r.rows_a)
        churners = format_count(r.positives_b if not is_missing(r.positives_b) else r.positives_a)
        if not comparable:
            rows = f"{format_count(r.rows_a)} / {format_count(r.rows_b)}"
            churners = f"{format_count(r.positives_a)} / {format_count(r.positives_b)}"
        body.append(
            html.Tr(
                [
                    html.Td(f"{r.column_name} = {_segment_value(r.value)}"),
                    html.Td(rows, className="text-end"),
                    html.Td(churners, className="text-end"),
                    html.Td(_cell(auc_a, "score"), className="text-end"),
                    html.Td(_cell(auc_b, "score"), className="text-end"),
                    html.Td(
                        "—" if delta is None else f"{delta:+.3f}",
                        className=f"text-end fw-semibold {TONE_CLASS[tone]} delta-{tone}",
                        title=TONE_WORD[tone],
                    ),
                    html.Td(_cell(r.recall_a, "share"), className="text-end"),
                    html.Td(_cell(r.recall_b, "share"), className="text-end"),
                    html.Td(_cell(r.flag_rate_a, "share"), className="text-end"),
                    html.Td(_cell(r.flag_rate_b, "share"), className="text-end"),
                ]
            )
        )
    note = "Rows and churners: A / B, each on its own window." if not comparable else None
    return html.Div(
        [
            dbc.Table(
                [head, html.Tbody(body)],
                size="sm",
                hover=True,
                responsive=True,
                class_name="mb-1 align-middle segments",
            ),
            html.Div(note, className="small text-muted") if note else None,
        ]
    )


def curve_inputs(
    cmp: Mapping[str, Any], a: int, b: int, label_a: str, label_b: str
) -> tuple[dict[str, dict], dict[str, float], dict[str, float]]:
    """``(curves, base_rates, thresholds)`` keyed by label, A first; sides without a stored
    evaluation are left out, and B too when it is the same version as A."""
    sides = [(label_a, cmp.get("a"))]
    if b != a:
        sides.append((label_b, cmp.get("b")))
    curves: dict[str, dict] = {}
    base_rates: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for label, ev in sides:
        if ev is None:
            continue
        curves[label] = ev.get("curves") or {}
        metrics = ev.get("metrics") or {}
        if metrics.get("rows"):
            base_rates[label] = float(metrics.get("positives") or 0) / float(metrics["rows"])
        if not is_missing(ev.get("threshold")):
            thresholds[label] = float(ev["threshold"])
    return curves, base_rates, thresholds


THRESHOLD_ROWS = [
    ("precision", "Precision (flagged who churn)", format_pct),
    ("recall", "Recall (churners caught)", format_pct),
    ("contacts", "Customers contacted", format_count),
    ("caught", "Churners caught", format_count),
    ("expected_profit", "Expected profit", format_money),
]


def threshold_numbers(
    cmp: Mapping[str, Any],
    sides: list[tuple[str, str]],
    threshold: float,
    value_per_churner: float,
    contact_cost: float,
) -> dict[str, dict]:
    """Label -> :func:`threshold_summary` at ``threshold`` on that side's stored grid.

    ``sides`` are ``(label, key)`` pairs with key ``"a"`` or ``"b"`` in ``cmp``; a side
    without an evaluation gets all-None numbers.
    """
    out = {}
    for label, key in sides:
        ev = cmp.get(key) or {}
        grid = (ev.get("curves") or {}).get("grid") or {}
        out[label] = threshold_summary(grid, threshold, value_per_churner, contact_cost)
    return out


def threshold_table(numbers: dict[str, dict], colour_of: dict[str, str]) -> dbc.Table:
    """Precision, recall, contacts, churners caught and profit per side at the slider."""
    labels = list(numbers)
    head = html.Thead(
        html.Tr(
            [html.Th("At the slider")]
            + [html.Th(side_header(lab, colour_of[lab]), className="text-end") for lab in labels]
        )
    )
    body = [
        html.Tr(
            [html.Td(name)]
            + [html.Td(fmt(numbers[lab].get(key)), className="text-end") for lab in labels]
        )
        for key, name, fmt in THRESHOLD_ROWS
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", class_name="mb-0 align-middle")
