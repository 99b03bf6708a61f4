"""Alert rules: from one run's monitoring results to alerts to raise and alerts that cleared.

Pure functions over plain rows, so every rule is tested without a warehouse. A rule looks at
the newest period it has data for in this run (the newest batch for drift, quality and
estimates; the newest labelled period for realised performance). An alert's subject names
what it is about (a column, "ROC AUC", "the score distribution"), so the same condition in the
next month keeps the one alert instead of raising another, and a drift seen in seven segments is
one alert naming the worst of them; a subject that no longer fires is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from pipeline.monitor_settings import AlertRule
from pipeline.monitoring import ALL, SCORE, month, where
from pipeline.warehouse.alerts import AlertDraft

RULE_KINDS = (
    "feature_drift", "prediction_drift", "estimated_drop", "realised_drop", "missing_rate",
    "new_category_rate", "out_of_range_rate", "duplicate_rate",
)  # fmt: skip


@dataclass
class Evidence:
    """What one run measured, for the rules (and the retrain policy)."""

    drift: list[dict[str, Any]] = field(default_factory=list)  # drift_results rows
    estimated: list[dict[str, Any]] = field(default_factory=list)  # performance rows
    realised: pd.DataFrame | None = None  # performance rows (realised)
    quality: pd.DataFrame | None = None  # data_quality rows
    baseline_auc: float | None = None  # the serving model's holdout ROC AUC
    baseline_version: int | None = None
    top_features: list[str] = field(default_factory=list)  # most important first


def _latest(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = list(rows)
    if not rows:
        return []
    newest = max(r["period"] for r in rows)
    return [r for r in rows if r["period"] == newest]


def _drift(rule: AlertRule, ev: Evidence) -> list[AlertDraft]:
    """One alert per drifted column (not per segment), naming the worst cell and the others."""
    score = rule.kind == "prediction_drift"
    rows = [r for r in ev.drift if (r["column_name"] == SCORE) == score]
    if not score and rule.top_features:
        top = set(ev.top_features[: rule.top_features]) or {r["column_name"] for r in rows}
        rows = [r for r in rows if r["column_name"] in top]
    if not rule.segments:
        rows = [r for r in rows if r["segment_column"] == ALL]
    fired: dict[str, list[dict[str, Any]]] = {}
    for r in _latest(rows):
        stat = r["statistic"]
        hit = r["drifted"] if rule.threshold is None else stat is not None and stat > rule.threshold
        if hit:
            fired.setdefault(r["column_name"], []).append(r)
    out = []
    for column, cells in fired.items():
        cells.sort(key=lambda r: -(r["statistic"] or 0.0) / (r["threshold"] or 1.0))
        worst, others = cells[0], cells[1:]
        also = ""
        if others:
            names = [where(r["segment_column"], r["segment_value"]).strip() or "the whole batch"
                     for r in others[:4]]  # fmt: skip
            more = f" and {len(others) - 4} more" if len(others) > 4 else ""
            also = f"; also {', '.join(names)}{more}"
        subject = "the score distribution" if score else column
        message = f"{month(worst['period'])}: {worst['sentence']}{also} ({rule.name})"
        out.append(AlertDraft(rule.severity, rule.kind, subject, message, worst["period"]))
    return out


def _drop(rule: AlertRule, ev: Evidence) -> list[AlertDraft]:
    if ev.baseline_auc is None:
        return []
    if rule.kind == "estimated_drop":
        rows, word = ev.estimated, "Estimated"
    else:
        rows = [] if ev.realised is None else ev.realised.to_dict("records")
        word = "Realised"
    rows = [r for r in rows if r["metric"] == "roc_auc" and r["value"] is not None]
    if not rule.segments:
        rows = [r for r in rows if r["segment_column"] == ALL]
    out = []
    for r in _latest(rows):
        gap = ev.baseline_auc - float(r["value"])
        if pd.isna(gap) or gap <= rule.threshold:
            continue
        band = ""
        if r.get("low") is not None and r.get("high") is not None and not pd.isna(r["low"]):
            band = f" (band {r['low']:.3f}–{r['high']:.3f})"
        at = where(r["segment_column"], r["segment_value"])
        message = (
            f"{word} ROC AUC{at} in {month(r['period'])} is {float(r['value']):.3f}{band}, "
            f"{gap:.3f} below v{ev.baseline_version}'s holdout ROC AUC {ev.baseline_auc:.3f} "
            f"(> {rule.threshold:g}; {rule.name})"
        )
        out.append(AlertDraft(rule.severity, rule.kind, f"ROC AUC{at}", message, r["period"]))
    return out


_QUALITY_WORDS = {
    "missing_rate": "missing",
    "new_category_rate": "outside the contract's categories",
    "out_of_range_rate": "outside the contract's range",
    "duplicate_rate": "duplicates",
}


def _quality(rule: AlertRule, ev: Evidence) -> list[AlertDraft]:
    if ev.quality is None or ev.quality.empty:
        return []
    rows = [r for r in ev.quality.to_dict("records") if r["metric"] == rule.kind]
    out = []
    for r in _latest(rows):
        value = r["value"]
        if value is None or pd.isna(value) or value <= rule.threshold:
            continue
        column = "" if r["column_name"] == ALL else r["column_name"]
        subject = column or "rows"
        share = f"{value:.1%} of {'values of ' + column if column else 'rows'}"
        message = (
            f"{month(r['period'])}: {share} {_QUALITY_WORDS[rule.kind]} "
            f"(> {rule.threshold:.0%}; {rule.name})"
        )
        out.append(AlertDraft(rule.severity, rule.kind, subject, message, r["period"]))
    return out


def evaluate(
    rules: list[AlertRule], ev: Evidence, active: set[tuple[str, str]]
) -> tuple[list[AlertDraft], list[tuple[str, str, str]]]:
    """Alerts to raise, and active (kind, subject) alerts to resolve because they cleared.

    A kind is only cleared when this run had data for it, so a month without labels does not
    clear a realised-performance alert.
    """
    drafts: list[AlertDraft] = []
    checked: dict[str, date] = {}
    for rule in rules:
        if rule.kind in ("feature_drift", "prediction_drift"):
            found = _drift(rule, ev)
            rows = [
                r
                for r in ev.drift
                if (r["column_name"] == SCORE) == (rule.kind == "prediction_drift")
            ]
        elif rule.kind in ("estimated_drop", "realised_drop"):
            found = _drop(rule, ev)
            rows = (
                ev.estimated
                if rule.kind == "estimated_drop"
                else ([] if ev.realised is None else ev.realised.to_dict("records"))
            )
        else:
            found = _quality(rule, ev)
            rows = [] if ev.quality is None else ev.quality.to_dict("records")
            rows = [r for r in rows if r["metric"] == rule.kind]
        drafts += found
        if rows:
            checked[rule.kind] = max(r["period"] for r in rows)
    fired = {(d.kind, d.subject) for d in drafts}
    clears = [
        (kind, subject, f"cleared: not seen in {month(checked[kind])}")
        for kind, subject in sorted(active)
        if kind in checked and (kind, subject) not in fired
    ]
    unique = {(d.kind, d.subject): d for d in drafts}
    return list(unique.values()), clears
