"""Evaluation: headline metrics, segment metrics and curves as small, JSON-able values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from pipeline.modeling.evaluation import curves, evaluate, segment_metrics

KEYS = {
    "rows",
    "positives",
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "precision",
    "recall",
    "f1",
    "flag_rate",
    "lift_top_decile",
    "expected_profit",
    "threshold",
    "nan_predictions",
}


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    proba = rng.beta(1, 6, size=5_000)
    y = (rng.random(5_000) < proba).astype(int)
    return y, proba


def _types(value) -> set[type]:
    if isinstance(value, dict):
        return set().union(*(_types(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_types(v) for v in value)) if value else set()
    return {type(value)}


def test_evaluate_matches_sklearn(scored) -> None:
    y, proba = scored
    out = evaluate(y, proba, 0.25, 300.0, 20.0)
    assert set(out) == KEYS
    flags = (proba >= 0.25).astype(int)
    expected = {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "log_loss": log_loss(y, proba),
        "precision": precision_score(y, flags),
        "recall": recall_score(y, flags),
        "f1": f1_score(y, flags),
        "flag_rate": flags.mean(),
    }
    for name, value in expected.items():
        assert out[name] == pytest.approx(value, rel=1e-9), name
    assert (out["rows"], out["positives"], out["nan_predictions"]) == (5_000, y.sum(), 0)
    assert out["threshold"] == 0.25


def test_evaluate_is_json_with_plain_python_numbers(scored) -> None:
    out = evaluate(*scored, 0.25, 300.0, 20.0)
    assert _types(out) <= {int, float}
    assert json.loads(json.dumps(out)) == out


def test_lift_and_expected_profit_by_hand() -> None:
    # 20 rows, 4 churners; the top decile (2 rows) holds 2 of them: rate 1.0 vs 0.2 -> lift 5.
    proba = np.linspace(0.99, 0.0, 20)
    y = np.zeros(20, dtype=int)
    y[[0, 1, 10, 19]] = 1
    out = evaluate(y, proba, proba[4], value_per_churner=300.0, contact_cost=20.0)
    assert out["lift_top_decile"] == pytest.approx(5.0)
    # Flagged: the top 5 rows, 2 churners: 300 * 2 - 20 * 5.
    assert out["expected_profit"] == 500.0
    assert out["flag_rate"] == 0.25


def test_one_class_leaves_undefined_metrics_as_none() -> None:
    out = evaluate(np.zeros(50), np.linspace(0.01, 0.5, 50), 0.3, 300.0, 20.0)
    assert out["roc_auc"] is None and out["pr_auc"] is None
    assert out["recall"] is None and out["f1"] is None and out["lift_top_decile"] is None
    assert out["precision"] == 0.0 and out["positives"] == 0
    assert isinstance(out["brier"], float) and isinstance(out["log_loss"], float)
    nobody = evaluate(np.r_[0, 1], np.r_[0.1, 0.2], 0.9, 300.0, 20.0)
    assert nobody["precision"] is None and nobody["f1"] is None and nobody["flag_rate"] == 0.0
    json.dumps(out)


def test_nan_predictions_are_counted_and_left_out(scored) -> None:
    y, proba = scored
    broken = proba.copy()
    broken[:7] = np.nan
    broken[7] = np.inf
    out = evaluate(y, broken, 0.25, 300.0, 20.0)
    clean = evaluate(y[8:], proba[8:], 0.25, 300.0, 20.0)
    assert out["nan_predictions"] == 8
    assert out["rows"] == 5_000
    assert out["roc_auc"] == clean["roc_auc"] and out["brier"] == clean["brier"]


def test_empty_input_gives_none_not_an_error() -> None:
    out = evaluate(np.array([]), np.array([]), 0.5, 300.0, 20.0)
    assert out["rows"] == 0 and out["roc_auc"] is None and out["brier"] is None
    assert out["log_loss"] is None and out["flag_rate"] is None


def test_segment_metrics_handle_one_class_groups() -> None:
    segments = pd.DataFrame(
        {
            "plan": ["a", "a", "b", "b", "b", None],
            "region": ["x", "x", "x", "y", "y", "y"],
        },
        index=[10, 11, 12, 13, 14, 15],  # alignment is by position, not index
    )
    y = np.array([0, 1, 0, 0, 0, 1])
    proba = np.array([0.2, 0.8, 0.1, 0.6, 0.3, 0.9])
    rows = segment_metrics(segments, y, proba, threshold=0.5)
    by_key = {(r["column"], r["value"]): r for r in rows}
    assert list(by_key) == [("plan", "a"), ("plan", "b"), ("plan", None), ("region", "x"),
                            ("region", "y")]  # fmt: skip
    plan_a, plan_b, plan_none = by_key["plan", "a"], by_key["plan", "b"], by_key["plan", None]
    assert (plan_a["rows"], plan_a["positives"], plan_a["roc_auc"]) == (2, 1, 1.0)
    assert plan_b["positives"] == 0 and plan_b["roc_auc"] is None and plan_b["recall"] is None
    assert plan_b["precision"] == 0.0 and plan_b["flag_rate"] == pytest.approx(1 / 3)
    assert plan_none["roc_auc"] is None and plan_none["pr_auc"] == 1.0
    assert set(plan_a) == {
        "column", "value", "rows", "positives", "roc_auc", "pr_auc", "brier", "precision",
        "recall", "flag_rate",
    }  # fmt: skip
    assert by_key["region", "y"]["brier"] == pytest.approx(np.mean((proba[3:] - y[3:]) ** 2))
    assert json.loads(json.dumps(rows)) == rows


def test_curves_payload_is_json_and_small(scored) -> None:
    y, proba = scored
    out = curves(y, proba)
    text = json.dumps(out)
    assert len(text) < 60_000
    assert _types(out) <= {int, float}
    roc, pr = out["roc"], out["pr"]
    assert 2 < len(roc["fpr"]) <= 201 and len(roc["fpr"]) == len(roc["tpr"])
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(roc["fpr"]) >= 0)
    assert 2 < len(pr["recall"]) <= 201 and np.all(np.diff(pr["recall"]) >= 0)
    assert pr["recall"][-1] == 1.0
    calibration = out["calibration"]
    assert len(calibration["count"]) == 10 and sum(calibration["count"]) == 5_000
    assert np.all(np.diff(calibration["mean_predicted"]) >= 0)
    gain = out["gain"]
    assert gain["population"] == pytest.approx(np.linspace(0.05, 1.0, 20))
    assert gain["captured"][-1] == 1.0 and np.all(np.diff(gain["captured"]) >= 0)
    assert len(out["grid"]["threshold"]) == 201
    assert out["grid"]["threshold"][:3] == [0.0, 0.005, 0.01] and out["grid"]["threshold"][-1] == 1


def test_grid_counts_match_flags_at_each_threshold(scored) -> None:
    y, proba = scored
    grid = curves(y, proba)["grid"]
    for i in (0, 17, 40, 100, 200):
        flagged = proba >= grid["threshold"][i]
        assert grid["tp"][i] == int((flagged & (y == 1)).sum())
        assert grid["fp"][i] == int((flagged & (y == 0)).sum())
        assert grid["fn"][i] == int((~flagged & (y == 1)).sum())
        assert grid["tn"][i] == int((~flagged & (y == 0)).sum())


def test_gain_counts_the_top_share_of_scores() -> None:
    proba = np.linspace(1.0, 0.0, 100)
    y = np.zeros(100, dtype=int)
    y[[0, 3, 50, 99]] = 1
    gain = curves(y, proba)["gain"]
    assert gain["captured"][0] == 0.5  # top 5 rows hold 2 of 4 churners
    assert gain["captured"][9] == 0.5 and gain["captured"][10] == 0.75


def test_curves_of_one_class_are_empty_where_undefined() -> None:
    out = curves(np.zeros(30), np.linspace(0, 1, 30))
    assert out["roc"] == {"fpr": [], "tpr": []}
    assert out["pr"] == {"recall": [], "precision": []}
    assert out["gain"] == {"population": [], "captured": []}
    assert sum(out["calibration"]["count"]) == 30
    assert out["grid"]["tp"][0] == 0 and out["grid"]["fp"][0] == 30
    json.dumps(curves(np.array([]), np.array([])))
