"""Fairness by group: rates per group by hand, the differences, their sentences and the gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.modeling.fairness import fairness_check, fairness_summary, group_metrics
from pipeline.settings import FairnessSettings

THRESHOLD = 0.5

# Group A: churners [1, 1, 0, 0] scored [.9, .2, .6, .1] -> flagged [1, 0, 1, 0]:
#   selection 2/4, TPR 1/2, FPR 1/2, precision 1/2, mean predicted 0.45, observed 2/4.
# Group B: churners [1, 0, 0, 0, 0] scored [.7, .8, .1, .1, .1] -> flagged [1, 1, 0, 0, 0]:
#   selection 2/5, TPR 1/1, FPR 1/4, precision 1/2, mean predicted 0.36, observed 1/5.
REGION = ["A"] * 4 + ["B"] * 5
Y = [1, 1, 0, 0, 1, 0, 0, 0, 0]
PROBA = [0.9, 0.2, 0.6, 0.1, 0.7, 0.8, 0.1, 0.1, 0.1]


def settings(dpd: float = 0.1, eod: float = 0.1, min_rows: int = 1) -> FairnessSettings:
    return FairnessSettings(
        max_demographic_parity_difference=dpd,
        max_equalised_odds_difference=eod,
        min_group_rows=min_rows,
    )


def two_groups(min_rows: int = 1) -> list[dict]:
    return group_metrics(pd.DataFrame({"region": REGION}), Y, PROBA, THRESHOLD, min_rows)


def by_value(rows: list[dict]) -> dict:
    return {row["value"]: row for row in rows}


def summary_row(group_rows: list[dict], fairness: FairnessSettings) -> dict:
    (row,) = fairness_summary(group_rows, fairness)
    return row


def test_selection_rates_and_parity_difference_by_hand():
    groups = by_value(two_groups())
    assert groups["A"] == {
        "column": "region",
        "value": "A",
        "rows": 4,
        "positives": 2,
        "selection_rate": 0.5,
        "tpr": 0.5,
        "fpr": 0.5,
        "precision": 0.5,
        "mean_predicted": pytest.approx(0.45),
        "observed_rate": 0.5,
        "small": False,
    }
    b = groups["B"]
    assert (b["selection_rate"], b["tpr"], b["fpr"], b["precision"]) == (0.4, 1.0, 0.25, 0.5)
    assert b["mean_predicted"] == pytest.approx(0.36) and b["observed_rate"] == 0.2
    summary = summary_row(two_groups(), settings(dpd=0.05))
    assert summary["demographic_parity_difference"] == pytest.approx(0.5 - 0.4)
    assert summary["dpd_limit"] == 0.05 and summary["breach"] is True


def test_equalised_odds_takes_the_worse_of_tpr_and_fpr_ranges():
    # TPR range 1.0 - 0.5 = 0.5 beats FPR range 0.5 - 0.25 = 0.25.
    summary = summary_row(two_groups(), settings(eod=0.6))
    assert summary["tpr_difference"] == 0.5
    assert summary["fpr_difference"] == 0.25
    assert summary["equalised_odds_difference"] == 0.5
    assert "driven by the true positive rate," in summary["sentence"]
    assert summary["breach"] is False  # 0.5 is within 0.6, DPD 0.1 within 0.1

    # Same TPRs (1/1 each), stayers flagged 0/3 in A and 3/3 in B: the FPR range drives it.
    rows = group_metrics(
        pd.DataFrame({"plan": ["A"] * 4 + ["B"] * 4}),
        [1, 0, 0, 0, 1, 0, 0, 0],
        [0.9, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9],
        THRESHOLD,
        1,
    )
    summary = summary_row(rows, settings())
    assert (summary["tpr_difference"], summary["fpr_difference"]) == (0.0, 1.0)
    assert summary["equalised_odds_difference"] == 1.0
    assert "driven by the false positive rate," in summary["sentence"]
    assert "true positive rate by plan (churners flagged) is 100.0% in every" in (
        summary["sentence"].lower()
    )


def test_small_groups_are_reported_but_not_compared():
    # C: 2 rows, both flagged, one churner: selection 100% would dominate every range.
    frame = pd.DataFrame({"region": [*REGION, "C", "C"]})
    rows = group_metrics(frame, [*Y, 1, 0], [*PROBA, 0.9, 0.9], THRESHOLD, min_group_rows=3)
    groups = by_value(rows)
    assert [groups[v]["small"] for v in "ABC"] == [False, False, True]
    assert groups["C"]["selection_rate"] == 1.0  # reported all the same
    summary = summary_row(rows, settings(min_rows=3))
    assert summary["demographic_parity_difference"] == pytest.approx(0.1)
    assert summary["equalised_odds_difference"] == 0.5
    assert summary["small_groups"] == ["C"]
    assert "(C)" not in summary["sentence"]  # never named as an extreme
    assert summary["sentence"].endswith(
        "Left out of the comparison for having fewer than 3 rows: C (2 rows)."
    )


def test_undefined_rates_are_none_not_zero():
    # A: two stayers, nobody flagged; B: churner and stayer, both flagged; C: one churner flagged.
    rows = group_metrics(
        pd.DataFrame({"segment": ["A", "A", "B", "B", "C"]}),
        [0, 0, 1, 0, 1],
        [0.1, 0.2, 0.9, 0.8, 0.7],
        THRESHOLD,
        1,
    )
    a, b, c = (by_value(rows)[v] for v in "ABC")
    assert a["tpr"] is None and a["precision"] is None  # no churners, nobody flagged
    assert a["selection_rate"] == 0.0 and a["fpr"] == 0.0  # defined, and truly zero
    assert c["fpr"] is None  # no stayers
    summary = summary_row(rows, settings())
    # TPR over B and C only (both 1.0); FPR over A (0.0) and B (1.0).
    assert summary["tpr_difference"] == 0.0
    assert summary["fpr_difference"] == 1.0
    assert summary["equalised_odds_difference"] == 1.0


def test_rates_without_two_defined_groups_leave_their_range_out():
    # Only A has churners: no TPR range, the FPR range alone gives the equalised odds.
    rows = group_metrics(
        pd.DataFrame({"region": ["A", "A", "B", "B"]}), [1, 0, 0, 0], [0.9, 0.6, 0.1, 0.1], 0.5, 1
    )
    summary = summary_row(rows, settings())
    assert summary["tpr_difference"] is None
    assert summary["equalised_odds_difference"] == summary["fpr_difference"] == 1.0
    assert "driven by the false positive rate alone" in summary["sentence"]


def test_a_column_with_fewer_than_two_comparable_groups_has_no_differences_and_says_why():
    rows = two_groups(min_rows=5)  # A has 4 rows: only B is left to compare
    summary = summary_row(rows, settings(dpd=0.0, eod=0.0, min_rows=5))
    assert summary["demographic_parity_difference"] is None
    assert summary["equalised_odds_difference"] is None
    assert summary["breach"] is False
    assert summary["sentence"] == (
        "Fairness by region not compared: fewer than two groups have at least 5 rows "
        "(A: 4 rows, B: 5 rows)."
    )
    one = group_metrics(pd.DataFrame({"plan": ["X"] * 3}), [1, 0, 0], [0.9, 0.1, 0.1], 0.5, 1)
    assert "it has fewer than two groups (X: 3 rows)" in summary_row(one, settings())["sentence"]


def test_breach_sentence_names_the_extreme_groups_and_the_limit():
    # 1000 rows per region, one churner each (flagged in South only), and stayers flagged:
    # North 81 (selection 8.1%), Mid 150, South 213 (+ its churner: selection 21.4%).
    region, y, proba = [], [], []
    for name, flagged in (("North", 81), ("Mid", 150), ("South", 213)):
        region += [name] * 1000
        y += [1] + [0] * 999
        proba += [0.9 if name == "South" else 0.1] + [0.9] * flagged + [0.1] * (999 - flagged)
    rows = group_metrics(pd.DataFrame({"home_region": region}), y, proba, THRESHOLD, 200)
    summary = summary_row(rows, settings(min_rows=200))
    dpd_sentence, odds_sentence = summary["sentence"].split(". ", 1)
    assert dpd_sentence + "." == (
        "Selection rate by home region ranges from 8.1% (North) to 21.4% (South): "
        "a demographic parity difference of 0.133, above the limit 0.100."
    )
    assert odds_sentence.startswith(
        "True positive rate by home region (churners flagged) ranges from 0.0% (Mid) "
        "to 100.0% (South), false positive rate (stayers flagged) from 8.1% (North) "
    )
    assert odds_sentence.endswith(
        "an equalised odds difference of 1.000, driven by the true positive rate, "
        "above the limit 0.100."
    )
    assert summary["breach"] is True


def test_a_difference_equal_to_its_limit_is_not_a_breach():
    # 0.5 - 0.4 is 0.09999999999999998 in floating point: at the limit, not above it.
    summary = summary_row(two_groups(), settings(dpd=0.1, eod=0.5))
    assert summary["breach"] is False
    assert (
        "a demographic parity difference of 0.100, within the limit 0.100." in (summary["sentence"])
    )


BREACHED = [
    {
        "column": "home_region",
        "demographic_parity_difference": 0.133,
        "equalised_odds_difference": 0.05,
        "dpd_limit": 0.1,
        "eod_limit": 0.1,
        "breach": True,
    },
    {
        "column": "plan",
        "demographic_parity_difference": 0.02,
        "equalised_odds_difference": 0.03,
        "dpd_limit": 0.1,
        "eod_limit": 0.1,
        "breach": False,
    },
]


@pytest.mark.parametrize(("block", "passes"), [(True, False), (False, True)])
def test_fairness_check_blocks_only_when_settings_say_so(block, passes):
    ok, sentence = fairness_check(BREACHED, block)
    assert ok is passes
    assert sentence.startswith(
        "fairness limit exceeded for home region "
        "(demographic parity difference 0.133 above the limit 0.100)"
    )
    assert "plan" not in sentence
    if block:
        assert sentence.endswith("blocked by fairness.block_promotion")
    else:
        assert sentence.endswith("a warning only, as fairness.block_promotion is off")


@pytest.mark.parametrize("block", [True, False])
def test_fairness_check_without_breach_passes_and_lists_the_columns(block):
    not_compared = {
        "column": "tenure_band",
        "demographic_parity_difference": None,
        "equalised_odds_difference": None,
        "dpd_limit": 0.1,
        "eod_limit": 0.1,
        "breach": False,
    }
    assert fairness_check([BREACHED[1], not_compared], block) == (
        True,
        "no fairness limit exceeded (plan; not compared: tenure band)",
    )
    assert fairness_check([], block) == (
        True,
        "no fairness limit exceeded (no fairness column to check)",
    )


def test_missing_values_form_a_group_and_unscored_rows_count_in_rows_only():
    frame = pd.DataFrame({"plan": ["x", None, "x", np.nan, "x"]})
    rows = group_metrics(frame, [1, 0, 0, 1, 0], [0.9, 0.9, np.nan, 0.1, 0.1], 0.5, 1)
    assert [row["value"] for row in rows] == ["x", None]
    x, missing = rows
    assert (x["rows"], x["positives"]) == (3, 1)
    assert x["selection_rate"] == 0.5  # 1 flagged of the 2 scored rows
    assert (missing["rows"], missing["selection_rate"], missing["tpr"]) == (2, 0.5, 0.0)
    summary = summary_row(rows, settings())
    assert "(missing)" in summary["sentence"]


def test_columns_are_summarised_in_their_order_and_results_are_plain_json():
    frame = pd.DataFrame({"region": REGION, "tier": np.array([1, 2] * 4 + [1], dtype=np.int64)})
    rows = group_metrics(frame, Y, PROBA, THRESHOLD, 1)
    summary = fairness_summary(rows, settings())
    assert [s["column"] for s in summary] == ["region", "tier"]
    assert [r["value"] for r in rows if r["column"] == "tier"] == [1, 2]
    for record in rows + summary:
        for value in record.values():
            assert value is None or type(value) in (str, int, float, bool, list), value
    json.dumps(rows + summary, allow_nan=False)


def test_differences_match_an_independent_groupby_computation():
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame({"region": rng.choice(list("PQRST"), n, p=[0.3, 0.3, 0.2, 0.17, 0.03])})
    y = (rng.random(n) < 0.2).astype(int)
    proba = np.clip(0.3 * y + 0.6 * rng.random(n) + 0.1 * (frame["region"] == "Q"), 0, 1)
    rows = group_metrics(frame, y, proba, 0.4, min_group_rows=200)
    summary = summary_row(rows, settings(min_rows=200))

    data = frame.assign(y=y, flagged=proba >= 0.4)
    counts = data["region"].value_counts()
    data = data[data["region"].map(counts) >= 200]
    selection = data.groupby("region")["flagged"].mean()
    tpr = data[data["y"] == 1].groupby("region")["flagged"].mean()
    fpr = data[data["y"] == 0].groupby("region")["flagged"].mean()
    assert summary["small_groups"] == ["T"]
    assert summary["demographic_parity_difference"] == pytest.approx(np.ptp(selection))
    assert summary["equalised_odds_difference"] == pytest.approx(max(np.ptp(tpr), np.ptp(fpr)))


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 rows, labels 2"):
        group_metrics(pd.DataFrame({"region": ["A", "B", "C"]}), [0, 1], [0.1, 0.2], 0.5, 1)
