"""Calibration: chosen by Brier score on a held-out half, and still one top-level Pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from pipeline.modeling import calibration
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.train import LABEL, PERIOD, prepare_features
from tests.unit._modeling_frames import MONTHS, SPEC, churn_frame, one_thread  # noqa: F401


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    """Features and labels of earlier periods (to fit) and of the last one (to calibrate on)."""
    frame = churn_frame(MONTHS[:4], rows=600)
    fit, calib = frame[frame[PERIOD] < MONTHS[3]], frame[frame[PERIOD] == MONTHS[3]]
    return (
        prepare_features(fit, SPEC),
        fit[LABEL].to_numpy(),
        prepare_features(calib, SPEC),
        calib[LABEL].to_numpy(),
    )


@pytest.fixture(scope="module")
def overconfident(data) -> Pipeline:
    """Balanced class weights push probabilities far above the ~10% base rate."""
    x, y, _, _ = data
    params = {**default_params(HGB, "balanced"), "max_iter": 60}
    return build_candidate(HGB, SPEC, params, seed=0).fit(x, y)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_model_is_a_pipeline_with_the_fitted_encoder_and_its_tree_model(
    data, overconfident: Pipeline, method: str
) -> None:
    _, _, x_cal, y_cal = data
    calibrated = calibration.calibrate(overconfident, x_cal, y_cal, method)
    assert isinstance(calibrated, Pipeline)
    assert [name for name, _ in calibrated.steps] == ["encode", "model"]
    assert calibrated.named_steps["encode"] is overconfident.named_steps["encode"]
    assert isinstance(calibrated.named_steps["model"], CalibratedClassifierCV)
    tree = calibration.fitted_estimator(calibrated)
    assert tree is overconfident.named_steps["model"]
    assert isinstance(tree, HistGradientBoostingClassifier)
    assert calibration.calibration_method(calibrated) == method
    # The frozen model is not refitted: its raw scores are unchanged by calibrating.
    encoded = calibrated.named_steps["encode"].transform(x_cal)
    assert np.array_equal(tree.predict_proba(encoded), overconfident.predict_proba(x_cal))


def test_no_calibration_returns_the_model_itself(data, overconfident: Pipeline) -> None:
    _, _, x_cal, y_cal = data
    assert calibration.calibrate(overconfident, x_cal, y_cal, "none") is overconfident
    assert calibration.fitted_estimator(overconfident) is overconfident.named_steps["model"]
    assert calibration.calibration_method(overconfident) == "none"


def test_calibration_is_chosen_by_brier_on_held_out_half(data, overconfident: Pipeline) -> None:
    _, _, x_cal, y_cal = data
    scores = calibration.compare(overconfident, x_cal, y_cal, seed=5)
    fit_idx, check_idx = train_test_split(
        np.arange(len(y_cal)), test_size=0.5, stratify=y_cal, random_state=5
    )
    for method in ("none", "sigmoid", "isotonic"):
        model = calibration.calibrate(overconfident, x_cal.iloc[fit_idx], y_cal[fit_idx], method)
        expected = brier_score_loss(y_cal[check_idx], model.predict_proba(x_cal.iloc[check_idx]))
        assert scores[method] == pytest.approx(expected, rel=1e-12), method
    chosen = calibration.choose(scores, "auto")
    assert scores[chosen] == min(scores.values())
    assert chosen != "none"  # balanced weights are badly calibrated; the check half shows it


def test_a_configured_calibration_overrides_the_brier_choice() -> None:
    scores = {"none": 0.05, "sigmoid": 0.04, "isotonic": 0.03}
    assert calibration.choose(scores, "auto") == "isotonic"
    assert calibration.choose(scores, "sigmoid") == "sigmoid"
    assert calibration.choose(scores, "none") == "none"


def test_equal_brier_scores_prefer_the_simpler_method() -> None:
    assert calibration.choose({"none": 0.04, "sigmoid": 0.04, "isotonic": 0.04}, "auto") == "none"
    assert calibration.choose({"none": 0.05, "sigmoid": 0.04, "isotonic": 0.04}, "auto") == (
        "sigmoid"
    )


def test_auto_calibrates_only_when_brier_drops_by_at_least_one_percent() -> None:
    # Calibrating keeps the calibration period from the model, so a hair's gain is not worth it.
    assert calibration.choose({"none": 0.0400, "sigmoid": 0.0398, "isotonic": 0.0399}, "auto") == (
        "none"
    )
    assert calibration.choose({"none": 0.0400, "sigmoid": 0.0395, "isotonic": 0.0399}, "auto") == (
        "sigmoid"
    )


def test_a_calibration_period_with_too_few_positives_cannot_be_calibrated() -> None:
    assert calibration.can_calibrate(np.r_[np.zeros(100), np.ones(10)]) is None
    reason = calibration.can_calibrate(np.r_[np.zeros(100), np.ones(9)])
    assert reason == (
        "the calibration period has 9 positive and 100 negative rows; calibration needs at "
        "least 10 of each"
    )


def test_a_linear_candidate_is_calibrated_the_same_way(data) -> None:
    x, y, x_cal, y_cal = data
    pipe = build_candidate(LOGREG, SPEC, default_params(LOGREG, "none"), seed=0).fit(x, y)
    calibrated = calibration.calibrate(pipe, x_cal, y_cal, "sigmoid")
    assert calibration.fitted_estimator(calibrated) is pipe.named_steps["model"]
    assert calibrated.predict_proba(x_cal).shape == (len(y_cal), 2)
