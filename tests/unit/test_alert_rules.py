"""Alert rules turn one run's monitoring into alerts, keep subjects stable and clear them."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pipeline.monitor_settings import DEFAULT_RULES, AlertRule
from pipeline.monitoring.rules import Evidence, evaluate

JUN, JUL = date(2025, 6, 1), date(2025, 7, 1)


def _cell(column: str, drifted: bool, seg: str = "(all)", value: str = "(all)", **kw) -> dict:
    return {
        "period": kw.get("period", JUL), "column_name": column, "segment_column": seg,
        "segment_value": value, "statistic": 0.31 if drifted else 0.02, "threshold": 0.1,
        "drifted": drifted, "sentence": f"{column} {'moved' if drifted else 'is stable'}",
    }  # fmt: skip


def _ev(**kw) -> Evidence:
    base = {"baseline_auc": 0.79, "baseline_version": 6, "top_features": ["tenure", "charges"]}
    return Evidence(**{**base, **kw})


def test_drift_on_a_top_feature_in_a_segment_raises_one_warning() -> None:
    ev = _ev(drift=[_cell("charges", True, "region", "South"), _cell("usage", True)])
    drafts, clears = evaluate(DEFAULT_RULES, ev, set())
    assert [(d.severity, d.kind, d.subject) for d in drafts] == [
        ("warning", "feature_drift", "charges")
    ]  # usage is not a top-5 feature of this model
    assert drafts[0].message == "2025-07: charges moved (Drift on a top-5 feature)"
    assert drafts[0].period == JUL and clears == []


def test_a_column_drifting_in_many_segments_is_one_alert_led_by_the_worst() -> None:
    cells = [_cell("charges", True, "region", r) for r in ("North", "East", "West")]
    cells.append({**_cell("charges", True, "region", "South"), "statistic": 0.9,
                  "sentence": "charges moved a lot in region South"})  # fmt: skip
    [draft] = evaluate(DEFAULT_RULES, _ev(drift=cells), set())[0]
    assert draft.subject == "charges"
    assert draft.message == (
        "2025-07: charges moved a lot in region South; also in region North, in region East, "
        "in region West (Drift on a top-5 feature)"
    )


def test_only_the_newest_period_counts() -> None:
    ev = _ev(drift=[_cell("charges", True, period=JUN), _cell("charges", False)])
    assert evaluate(DEFAULT_RULES, ev, set())[0] == []


def test_a_subject_that_stopped_firing_is_cleared_and_unchecked_kinds_are_kept() -> None:
    active = {("feature_drift", "charges"), ("realised_drop", "ROC AUC")}
    drafts, clears = evaluate(DEFAULT_RULES, _ev(drift=[_cell("charges", False)]), active)
    assert drafts == []
    assert clears == [("feature_drift", "charges", "cleared: not seen in 2025-07")]


def test_estimated_and_realised_drops_compare_with_the_champion_holdout() -> None:
    est = [{"period": JUL, "segment_column": "(all)", "segment_value": "(all)",
            "metric": "roc_auc", "value": 0.75, "low": 0.74, "high": 0.76}]  # fmt: skip
    real = pd.DataFrame([{**est[0], "period": JUN, "value": 0.70, "low": None, "high": None}])
    drafts, _ = evaluate(DEFAULT_RULES, _ev(estimated=est, realised=real), set())
    by_kind = {d.kind: d for d in drafts}
    assert by_kind["estimated_drop"].severity == "warning"
    assert by_kind["estimated_drop"].message.startswith(
        "Estimated ROC AUC in 2025-07 is 0.750 (band 0.740–0.760), 0.040 below v6's holdout"
    )
    assert by_kind["realised_drop"].severity == "critical"
    assert "0.090 below" in by_kind["realised_drop"].message


def test_quality_rules_fire_above_their_threshold_only() -> None:
    quality = pd.DataFrame(
        [
            {"period": JUL, "column_name": "usage", "metric": "missing_rate", "value": 0.12},
            {"period": JUL, "column_name": "plan", "metric": "missing_rate", "value": 0.02},
            {"period": JUL, "column_name": "(all)", "metric": "duplicate_rate", "value": 0.06},
        ]
    )
    drafts, _ = evaluate(DEFAULT_RULES, _ev(quality=quality), set())
    assert {(d.kind, d.subject, d.severity) for d in drafts} == {
        ("missing_rate", "usage", "warning"),
        ("duplicate_rate", "rows", "info"),
    }
    assert "12.0% of values of usage missing" in next(
        d.message for d in drafts if d.subject == "usage"
    )


def test_a_rule_with_its_own_threshold_overrides_the_methods() -> None:
    rule = AlertRule(name="PSI above 0.5", kind="feature_drift", threshold=0.5)
    assert evaluate([rule], _ev(drift=[_cell("charges", True)]), set())[0] == []
