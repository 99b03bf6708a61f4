"""Estimated performance (CBPE): close to realised on calibrated data, honest band, edge cases."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from pipeline.monitoring.estimated import METRICS, Band, estimate, realised

THRESHOLD = 0.4
SEEDS = range(100)  # enough worlds that 90 % coverage is not at the mercy of a few
TRACKED = ("roc_auc", "precision", "recall", "f1")

logger = logging.getLogger(__name__)


def _world(seed: int, n: int = 2000, logit_shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities p ~ Beta(2, 5) and labels drawn from p (shifted in logit space if asked)."""
    rng = np.random.default_rng(1000 + seed)
    p = rng.beta(2, 5, n)
    truth = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + logit_shift)))
    return p, (rng.random(n) < truth).astype(np.int64)


@pytest.fixture(scope="module")
def calibrated_runs() -> list[tuple[dict, dict]]:
    """(estimate JSON, realised) for each seed of a well-calibrated world."""
    runs = []
    for seed in SEEDS:
        p, y = _world(seed)
        runs.append((estimate(p, THRESHOLD, seed=seed).as_json(), realised(y, p, THRESHOLD)))
    return runs


@pytest.mark.parametrize("metric", TRACKED)
def test_estimate_matches_realised_on_average_when_calibrated(calibrated_runs, metric):
    errors = np.array([est[metric] - real[metric] for est, real in calibrated_runs])
    assert abs(errors.mean()) < 0.01
    assert np.abs(errors).mean() < 0.03


def test_expected_positive_rate_matches_realised_rate_when_calibrated(calibrated_runs):
    errors = [
        est["expected_positive_rate"] - real["positive_rate"] for est, real in calibrated_runs
    ]
    assert abs(np.mean(errors)) < 0.005


@pytest.mark.parametrize("metric", TRACKED)
def test_realised_metric_falls_inside_90_percent_band_in_most_seeds(calibrated_runs, metric):
    # The realised labels are one more Bernoulli(p) draw, so a 90 % band should hold it about
    # 90 % of the time: not much less (band too narrow) and not nearly always (too wide).
    inside = np.mean(
        [
            est["bands"][metric]["low"] <= real[metric] <= est["bands"][metric]["high"]
            for est, real in calibrated_runs
        ]
    )
    assert 0.8 <= inside <= 0.98


def test_band_contains_the_estimate_and_narrows_with_more_rows():
    small, large = (estimate(_world(0, n)[0], THRESHOLD) for n in (1000, 16000))
    for metric in TRACKED:
        band = small.band(metric)
        assert band.low <= getattr(small, metric) <= band.high
        narrow = large.band(metric)
        assert narrow.high - narrow.low < (band.high - band.low) / 2


@pytest.mark.parametrize(("logit_shift", "direction"), [(1.0, -1), (-1.0, 1)])
def test_miscalibration_biases_the_estimate_in_the_expected_direction(logit_shift, direction):
    # CBPE assumes calibration: a model that under-estimates risk (true logit one higher)
    # expects too few churners, so positive rate and precision are estimated too low, and
    # the realised values fall outside the band; over-estimated risk errs the other way.
    for seed in range(5):
        p, y = _world(seed, logit_shift=logit_shift)
        est, real = estimate(p, THRESHOLD, seed=seed), realised(y, p, THRESHOLD)
        for name, real_name in [("expected_positive_rate", "positive_rate"), ("precision",) * 2]:
            gap = getattr(est, name) - real[real_name]
            assert np.sign(gap) == direction
            band = est.band(name)
            assert not band.low <= real[real_name] <= band.high


def test_estimated_roc_auc_is_the_area_under_the_expected_roc_curve():
    # Each row counts as a churner with weight p and as a stayer with weight 1 - p: the
    # weighted ROC curve sklearn draws is exactly the CBPE expected curve, ties included.
    p = np.round(np.random.default_rng(7).beta(2, 5, 3000), 2)
    weighted = roc_auc_score(
        np.r_[np.ones(p.size), np.zeros(p.size)], np.r_[p, p], sample_weight=np.r_[p, 1 - p]
    )
    assert estimate(p, THRESHOLD, n_bootstrap=0).roc_auc == pytest.approx(weighted, abs=1e-12)


def test_a_single_draw_band_is_the_realised_metric_of_that_draw():
    # Pins the vectorised simulation (rank-sum AUC with tied scores, chunked draws) to the
    # plain realised definitions: one draw with the same seeded generator.
    p = np.round(np.random.default_rng(3).beta(2, 5, 2500), 2)
    y = (np.random.default_rng(11).random((1, p.size)) < p).astype(np.int64).ravel()
    est, real = estimate(p, THRESHOLD, n_bootstrap=1, seed=11), realised(y, p, THRESHOLD)
    for metric in TRACKED:
        assert est.band(metric).low == pytest.approx(real[metric], abs=1e-12)
        assert est.band(metric).high == pytest.approx(real[metric], abs=1e-12)
    assert est.band("expected_positive_rate").low == pytest.approx(real["positive_rate"])


def test_ratio_of_expectations_on_a_hand_sized_example():
    p = np.array([0.9, 0.6, 0.3, 0.1])
    est = estimate(p, 0.5, n_bootstrap=0)
    # E[TP] = 1.5, E[FP] = 0.5, E[FN] = 0.4, E[TN] = 1.6
    assert est.precision == pytest.approx(1.5 / 2.0)
    assert est.recall == pytest.approx(1.5 / 1.9)
    assert est.f1 == pytest.approx(3.0 / 3.9)
    assert est.expected_positive_rate == pytest.approx(1.9 / 4)
    assert est.band("precision") == Band(None, None)


def test_nobody_flagged_leaves_precision_and_f1_undefined():
    p, y = _world(0, n=500)
    est, real = estimate(p, 1.01), realised(y, p, 1.01)
    assert est.precision is None and est.f1 is None
    assert est.band("precision") == Band(None, None) and est.band("f1") == Band(None, None)
    assert est.recall == 0.0 and est.roc_auc is not None
    assert real["precision"] is None and real["f1"] is None and real["recall"] == 0.0


def test_certain_probabilities_estimate_exactly_what_will_be_realised():
    p = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    est, real = estimate(p, 0.5), realised(p.astype(np.int64), p, 0.5)
    for metric in TRACKED:
        assert getattr(est, metric) == real[metric] == 1.0
        assert est.band(metric) == Band(1.0, 1.0)
    assert est.expected_positive_rate == real["positive_rate"] == 0.5


def test_no_expected_churners_leaves_recall_and_roc_auc_undefined():
    est = estimate(np.zeros(10), 0.5)
    assert est.roc_auc is None and est.recall is None and est.precision is None
    assert est.expected_positive_rate == 0.0
    assert est.band("expected_positive_rate") == Band(0.0, 0.0)


def test_non_finite_probabilities_are_counted_and_left_out():
    p = np.array([0.9, np.nan, 0.2, np.inf, 0.7])
    est, real = estimate(p, 0.5), realised(np.array([1, 0, 0, 1, 1]), p, 0.5)
    assert (est.rows, est.nan_predictions) == (5, 2) == (real["rows"], real["nan_predictions"])
    assert est.as_json() == estimate(p[np.isfinite(p)], 0.5).as_json() | {
        "rows": 5,
        "nan_predictions": 2,
    }


@pytest.mark.parametrize(
    ("proba", "message"),
    [
        (np.array([]), "proba is empty"),
        (np.array([np.nan, np.nan]), "none of the 2 probabilities is finite"),
        (np.array([0.2, 1.7]), r"1 of 2 probabilities are outside \[0, 1\]"),
    ],
)
def test_unusable_probabilities_are_refused_with_a_clear_message(proba, message):
    with pytest.raises(ValueError, match=message):
        estimate(proba, 0.5)
    with pytest.raises(ValueError, match=message):
        realised(np.zeros(proba.size, dtype=np.int64), proba, 0.5)


def test_invalid_arguments_are_refused():
    p = np.array([0.2, 0.8])
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        estimate(p, float("nan"))
    with pytest.raises(ValueError, match="n_bootstrap must be 0 or more"):
        estimate(p, 0.5, n_bootstrap=-1)
    with pytest.raises(ValueError, match="coverage must be strictly between 0 and 1"):
        estimate(p, 0.5, coverage=1.0)
    with pytest.raises(ValueError, match="3 labels but 2 probabilities"):
        realised(np.array([0, 1, 1]), p, 0.5)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        realised(np.array([0, 2]), p, 0.5)


def test_estimate_is_deterministic_for_a_seed_and_leaves_its_input_alone():
    p = _world(4)[0]
    before = p.copy()
    assert estimate(p, THRESHOLD, seed=5) == estimate(p, THRESHOLD, seed=5)
    assert estimate(p, THRESHOLD, seed=5) != estimate(p, THRESHOLD, seed=6)
    np.testing.assert_array_equal(p, before)


def test_estimate_and_realised_are_json_with_shared_metric_names():
    p, y = _world(2, n=300)
    est = json.loads(json.dumps(estimate(p, THRESHOLD).as_json()))
    real = json.loads(json.dumps(realised(y, p, THRESHOLD)))
    assert set(METRICS) <= est.keys() & real.keys()
    assert set(est["bands"]) == {"expected_positive_rate", *METRICS}
    assert all(type(est[m]) is float and type(real[m]) is float for m in METRICS)


@pytest.mark.slow
def test_forty_thousand_rows_and_200_draws_take_well_under_a_second_and_a_half():
    p = _world(0, n=40_000)[0]
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        estimate(p, THRESHOLD, n_bootstrap=200)
        timings.append(time.perf_counter() - start)
    logger.info("estimate(40k rows, 200 draws): %s s", ", ".join(f"{t:.3f}" for t in timings))
    assert min(timings) < 1.5
