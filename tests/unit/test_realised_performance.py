"""Realised performance in DuckDB equals scikit-learn on the same served predictions."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from pipeline.contract import Contract
from pipeline.warehouse.monitor_perf import realised

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


@pytest.fixture
def served():
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)] * 2,
            "_period": [JAN] * n + [FEB] * n,
            "snapshot_month": [pd.Timestamp(JAN)] * n + [pd.Timestamp(FEB)] * n,
            "region": rng.choice(["North", "South"], 2 * n),
        }
    )
    # Rounded scores make ties, which the rank formula must average like scikit-learn.
    proba = np.round(rng.beta(1, 12, 2 * n), 2)
    label = (rng.random(2 * n) < proba * 1.3).astype(int)
    con = duckdb.connect()
    con.register("f", frame)
    con.execute("CREATE TEMP TABLE all_clean AS SELECT * FROM f")
    preds = pd.DataFrame(
        {
            "period": frame["_period"],
            "entity_id": frame["customer_id"],
            "probability": proba,
            "model_version": 3,
        }
    )
    con.register("p", preds)
    con.execute("CREATE TABLE predictions AS SELECT * FROM p")
    labels = pd.DataFrame(
        {"entity_id": frame["customer_id"], "period": frame["_period"], "label": label}
    )
    con.register("l", labels)
    con.execute("CREATE TEMP TABLE all_labels AS SELECT * FROM l")
    contract = Contract(
        entity_id="customer_id", event_time="snapshot_month", target="churned",
        categorical=["region"],
    )  # fmt: skip
    return con, contract, frame, proba, label


def test_realised_metrics_equal_scikit_learn_per_period_and_segment(served) -> None:
    con, contract, frame, proba, label = served
    out = realised(con, contract, ["region"], [JAN, FEB], threshold=0.1)
    for (period, column, value), part in out.groupby(["period", "segment_column", "segment_value"]):
        mask = (frame["_period"] == period).to_numpy()
        if column == "region":
            mask = mask & (frame["region"] == value).to_numpy()
        y, p = label[mask], proba[mask]
        got = dict(zip(part["metric"], part["value"], strict=True))
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        flagged = (p >= 0.1).astype(int)
        assert got["precision"] == pytest.approx(precision_score(y, flagged), abs=1e-12)
        assert got["recall"] == pytest.approx(recall_score(y, flagged), abs=1e-12)
        assert got["f1"] == pytest.approx(f1_score(y, flagged), abs=1e-12)
        assert got["positive_rate"] == pytest.approx(y.mean())
        assert got["mean_probability"] == pytest.approx(p.mean())
        assert 0 <= got["calibration_error"] <= 1
        assert set(part["model_version"]) == {3}
    assert set(out["segment_value"]) == {"(all)", "North", "South"}


def test_calibration_error_is_the_binned_gap_between_predicted_and_observed(served) -> None:
    con, contract, frame, proba, label = served
    out = realised(con, contract, [], [JAN], threshold=0.1)
    mask = (frame["_period"] == JAN).to_numpy()
    y, p = label[mask], proba[mask]
    bins = np.minimum(np.floor(p * 10), 9)
    ece = sum(abs(p[bins == b].sum() - y[bins == b].sum()) for b in np.unique(bins)) / len(p)
    got = out.set_index("metric").loc["calibration_error", "value"]
    assert got == pytest.approx(ece, abs=1e-12)


def test_a_period_without_labels_has_no_realised_rows(served) -> None:
    con, contract, *_ = served
    con.execute("DELETE FROM all_labels WHERE period = ?", [FEB])
    out = realised(con, contract, [], [JAN, FEB], threshold=0.1)
    assert set(out["period"]) == {JAN}
    assert realised(con, contract, [], [], threshold=0.1).empty
