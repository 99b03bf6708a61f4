"""The self-healing retrain policy: whether this run trains, and why, in words.

Triggers (``settings.retrain.on``): *schedule* (the champion's newest labelled data is
``schedule_periods`` labelled periods old), *drift* (at least ``drift_features`` of its top
features drifted after its training window, in the batch or in a segment), *performance*
(estimated or realised ROC AUC after its window below its holdout ROC AUC by more than
``performance_drop``). When one fires, the new model must learn from the period that fired it,
so the policy waits until that period has labels; and after an automatic retrain no trigger
fires again for ``cooldown_periods`` periods of data, so a lasting drift that the gate keeps
refusing cannot retrain every run. A person's Retrain press, or having no champion at all,
always trains. Pure: the train step gathers the evidence and stores the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from pipeline.monitor_settings import RetrainSettings
from pipeline.monitoring import month, where
from pipeline.warehouse.monitor_store import Decision

MANUAL_TRIGGERS = ("manual",)  # the Retrain button, `plumbline run --retrain`


@dataclass
class PolicyInput:
    """What the policy looks at: published monitoring after the champion's training window."""

    trigger: str  # what started the run: schedule, demo-clock, manual, cli, ...
    user: str | None
    champion_version: int | None
    champion_holdout_to: date | None
    champion_auc: float | None
    labelled: list[date]  # labelled periods, oldest first
    periods: list[date]  # every clean period, oldest first
    drift: list[dict[str, Any]] = field(default_factory=list)  # drifted cells after the window
    performance: list[dict[str, Any]] = field(default_factory=list)  # roc_auc rows after it
    top_features: list[str] = field(default_factory=list)
    last_auto: date | None = None  # the newest data period when an automatic retrain last ran
    holdout_periods: int = 1


def _material(row: dict[str, Any], margin: float) -> bool:
    """Drift clear enough to retrain for: a distance past ``margin`` times its threshold.

    Significance tests (used on windows under 1,000 values) only alert: at that size a few
    false positives a month are expected, and a retrain is not a cheap way to find out.
    """
    if not row["drifted"] or row.get("p_value") is not None and not pd.isna(row["p_value"]):
        return False
    return (row["statistic"] or 0.0) > margin * (row["threshold"] or 0.0)


def _after(x: PolicyInput) -> date | None:
    """Evidence counts from after the champion's window and after the last automatic retrain:
    a retrain already tried on some evidence is not tried again on the same evidence."""
    marks = [d for d in (x.champion_holdout_to, x.last_auto) if d is not None]
    return max(marks) if marks else None


def _drift_reason(s: RetrainSettings, x: PolicyInput) -> tuple[date, str] | None:
    top = set(x.top_features[: s.top_features]) if x.top_features else None
    after = _after(x)
    cells = [
        r for r in x.drift
        if _material(r, s.drift_margin)
        and (top is None or r["column_name"] in top)
        and (after is None or r["period"] > after)
    ]  # fmt: skip
    if len({r["column_name"] for r in cells}) < s.drift_features or not cells:
        return None
    first = min(r["period"] for r in cells)
    worst = max(
        (r for r in cells if r["period"] == first),
        key=lambda r: (r["statistic"] or 0.0) / (r["threshold"] or 1.0),
    )
    return first, f"{worst['sentence']} ({month(first)})"


def _performance_reason(s: RetrainSettings, x: PolicyInput) -> tuple[date, str] | None:
    if x.champion_auc is None:
        return None
    after = _after(x)
    low = [
        r for r in x.performance
        if r["value"] is not None and x.champion_auc - r["value"] > s.performance_drop
        and (after is None or r["period"] > after)
    ]  # fmt: skip
    if not low:
        return None
    first = min(r["period"] for r in low)
    worst = min((r for r in low if r["period"] == first), key=lambda r: r["value"])
    at = where(worst["segment_column"], worst["segment_value"])
    return first, (
        f"{worst['kind']} ROC AUC{at} {worst['value']:.3f} in {month(first)} is "
        f"{x.champion_auc - worst['value']:.3f} below v{x.champion_version}'s holdout "
        f"{x.champion_auc:.3f} (> {s.performance_drop:g})"
    )


def _schedule_reason(s: RetrainSettings, x: PolicyInput) -> tuple[date, str] | None:
    if x.champion_holdout_to is None:
        return None
    newer = [p for p in x.labelled if p > x.champion_holdout_to]
    if len(newer) < s.schedule_periods:
        return None
    return newer[-1], (
        f"schedule: {len(newer)} labelled months since v{x.champion_version}'s newest "
        f"labels ({month(x.champion_holdout_to)}); retrain every {s.schedule_periods}"
    )


def _labels_needed(x: PolicyInput, period: date) -> date | None:
    """The labelled month still missing before a model can learn from ``period``, or None.

    Training holds out the newest ``holdout_periods`` labelled months and calibrates on the
    month before them, so ``period`` is fitted on only once ``holdout_periods + 1`` labelled
    months follow it.
    """
    months = sorted({*x.periods, *x.labelled})
    after = [p for p in months if p > period][: x.holdout_periods + 1]
    if len(after) < x.holdout_periods + 1:
        return after[-1] if after else period
    want = after[x.holdout_periods]
    return None if x.labelled and x.labelled[-1] >= want else want


def decide(s: RetrainSettings, x: PolicyInput) -> Decision:
    """Whether this run trains: action "retrain", "wait", "cooldown" or "none", with a reason."""
    latest = x.periods[-1] if x.periods else None
    if x.champion_version is None:
        return Decision("first", "retrain", "no champion yet: train the first model", latest)
    if x.trigger in MANUAL_TRIGGERS:
        who = f" by {x.user}" if x.user else ""
        return Decision("manual", "retrain", f"retrain asked{who}", latest)
    fired = []
    for name, reason in (
        ("drift", _drift_reason),
        ("performance", _performance_reason),
        ("schedule", _schedule_reason),
    ):
        if name in s.on:
            found = reason(s, x)
            if found is not None:
                fired.append((name, *found))
    if not fired:
        return Decision("none", "none", "no trigger fired", latest)
    trigger, period, reason = min(fired, key=lambda f: f[1])  # the earliest evidence leads
    if x.last_auto is not None and latest is not None and s.cooldown_periods:
        since = len([p for p in x.periods if x.last_auto < p <= latest])
        if since < s.cooldown_periods:
            return Decision(
                trigger, "cooldown",
                f"{reason}; not retrained: the last automatic retrain was {since} period(s) "
                f"ago, inside the {s.cooldown_periods}-period cool-down",
                latest,
            )  # fmt: skip
    needed = None if trigger == "schedule" else _labels_needed(x, period)
    if needed is not None:
        return Decision(
            trigger, "wait",
            f"{reason}; waiting for the labels of {month(needed)}, so that the new model "
            f"learns from {month(period)} and is checked on a later month",
            latest,
        )  # fmt: skip
    return Decision(trigger, "retrain", reason, latest, evidence=period)
