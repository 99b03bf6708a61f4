"""fit_candidates end to end: split, search, fit, calibrate, thresholds, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline import registry
from pipeline.modeling import TrainOutcome, calibration, fit_candidates, fitted_estimator
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate
from pipeline.modeling.thresholds import f1_threshold, profit_threshold
from pipeline.train import LABEL, PERIOD, NotEnoughData, prepare_features
from tests.unit._modeling_frames import FAST, MONTHS, SPEC, churn_frame, one_thread  # noqa: F401


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return churn_frame()


@pytest.fixture(scope="module")
def outcome(frame: pd.DataFrame) -> TrainOutcome:
    return fit_candidates(frame, SPEC, FAST, holdout_periods=1)


def _fit_on(rows: pd.DataFrame, algorithm: str, params: dict, seed: int) -> Pipeline:
    pipe = build_candidate(algorithm, SPEC, params, seed)
    return pipe.fit(prepare_features(rows, SPEC), rows[LABEL].to_numpy())


def test_outcome_describes_the_split_and_every_choice(outcome: TrainOutcome) -> None:
    assert (outcome.train_rows, outcome.holdout_rows) == (3_500, 500)
    assert (outcome.train_from, outcome.train_to) == (MONTHS[0], MONTHS[6])
    assert outcome.holdout_from == outcome.holdout_to == MONTHS[7]
    assert set(outcome.holdout[PERIOD]) == {MONTHS[7]}
    assert outcome.algorithm in (HGB, LOGREG)
    assert outcome.params == next(
        t["params"] for t in outcome.search if t["algorithm"] == outcome.algorithm
        and t["params"] == outcome.params
    )  # fmt: skip
    assert len(outcome.search) == 2 * 2
    assert set(outcome.calibration_brier) == {"none", "sigmoid", "isotonic"}
    assert outcome.calibration == calibration.choose(outcome.calibration_brier, "auto")
    assert set(outcome.durations) == {"search", "fit", "calibrate", "threshold"}
    assert 0.0 < outcome.f1_threshold < 1.0 and 0.0 < outcome.threshold < 1.0
    assert outcome.notes == []


def test_holdout_probabilities_are_the_final_models(outcome: TrainOutcome) -> None:
    features = prepare_features(outcome.holdout, SPEC)
    assert np.array_equal(outcome.pipeline.predict_proba(features)[:, 1], outcome.holdout_proba)
    assert outcome.holdout_proba.shape == (500,)


def test_the_outcome_is_reportable_as_json(outcome: TrainOutcome) -> None:
    json.dumps(
        {
            "params": outcome.params,
            "search": outcome.search,
            "calibration_brier": outcome.calibration_brier,
            "durations": outcome.durations,
            "thresholds": [outcome.threshold, outcome.f1_threshold],
        }
    )
    assert isinstance(outcome.threshold, float) and isinstance(outcome.f1_threshold, float)


def test_same_data_and_seed_give_identical_predictions(
    outcome: TrainOutcome, frame: pd.DataFrame
) -> None:
    again = fit_candidates(frame.copy(), SPEC, FAST, holdout_periods=1)
    features = prepare_features(frame, SPEC)
    assert np.array_equal(
        outcome.pipeline.predict_proba(features), again.pipeline.predict_proba(features)
    )
    assert (again.algorithm, again.params, again.calibration) == (
        outcome.algorithm,
        outcome.params,
        outcome.calibration,
    )
    assert (again.threshold, again.f1_threshold) == (outcome.threshold, outcome.f1_threshold)
    assert [t["fold_auc"] for t in again.search] == [t["fold_auc"] for t in outcome.search]


def test_holdout_labels_never_reach_the_model(outcome: TrainOutcome, frame: pd.DataFrame) -> None:
    scrambled = frame.copy()
    holdout = scrambled[PERIOD] == MONTHS[7]
    scrambled.loc[holdout, LABEL] = 1 - scrambled.loc[holdout, LABEL]
    other = fit_candidates(scrambled, SPEC, FAST, holdout_periods=1)
    features = prepare_features(frame, SPEC)
    assert np.array_equal(
        outcome.pipeline.predict_proba(features), other.pipeline.predict_proba(features)
    )


def test_only_the_configured_candidates_are_tried(frame: pd.DataFrame) -> None:
    only_linear = FAST.model_copy(update={"candidates": [LOGREG], "calibration": "none"})
    out = fit_candidates(frame, SPEC, only_linear, holdout_periods=1)
    assert {t["algorithm"] for t in out.search} == {LOGREG}
    assert out.algorithm == LOGREG
    assert isinstance(out.pipeline.named_steps["model"], LogisticRegression)


def test_calibrated_model_is_fitted_before_the_calibration_period_then_calibrated_on_it(
    frame: pd.DataFrame,
) -> None:
    settings = FAST.model_copy(update={"candidates": [LOGREG], "calibration": "sigmoid"})
    out = fit_candidates(frame, SPEC, settings, holdout_periods=1)
    assert out.calibration == "sigmoid"
    assert isinstance(out.pipeline.named_steps["model"], CalibratedClassifierCV)
    before = _fit_on(frame[frame[PERIOD] < MONTHS[6]], LOGREG, out.params, FAST.seed)
    calib = prepare_features(frame[frame[PERIOD] == MONTHS[6]], SPEC)
    encoded = out.pipeline.named_steps["encode"].transform(calib)
    assert np.array_equal(
        fitted_estimator(out.pipeline).predict_proba(encoded), before.predict_proba(calib)
    )
    # Thresholds come from the final (calibrated) model's predictions on the calibration period.
    y_cal = frame.loc[frame[PERIOD] == MONTHS[6], LABEL].to_numpy()
    proba = out.pipeline.predict_proba(calib)[:, 1]
    assert out.threshold == profit_threshold(y_cal, proba, 300.0, 20.0)
    assert out.f1_threshold == f1_threshold(y_cal, proba)


def test_uncalibrated_model_is_refit_on_every_training_period(frame: pd.DataFrame) -> None:
    settings = FAST.model_copy(update={"candidates": [LOGREG], "calibration": "none"})
    out = fit_candidates(frame, SPEC, settings, holdout_periods=1)
    assert out.calibration == "none"
    everything = _fit_on(frame[frame[PERIOD] < MONTHS[7]], LOGREG, out.params, FAST.seed)
    features = prepare_features(frame, SPEC)
    assert np.array_equal(out.pipeline.predict_proba(features), everything.predict_proba(features))
    # The Brier comparison is still recorded, so the choice can be second-guessed.
    assert set(out.calibration_brier) == {"none", "sigmoid", "isotonic"}


def test_two_training_periods_search_on_one_fold_and_say_so() -> None:
    small = churn_frame(MONTHS[:3], rows=400)
    out = fit_candidates(small, SPEC, FAST.model_copy(update={"candidates": [LOGREG]}), 1)
    assert all(len(t["fold_auc"]) == 1 for t in out.search)
    assert out.notes[0] == (
        "search asked for 2 time-ordered folds but 2 training period(s) allow 1"
    )


def test_one_training_period_trains_without_search_or_calibration_and_says_why() -> None:
    small = churn_frame(MONTHS[:2], rows=400)
    out = fit_candidates(small, SPEC, FAST, holdout_periods=1)
    assert out.search == [] and out.calibration == "none" and out.calibration_brier == {}
    assert out.algorithm == FAST.candidates[0]
    assert out.params["learning_rate"] == 0.08  # today's defaults
    assert any("no hyperparameter search" in note for note in out.notes)
    assert any("only one training period" in note for note in out.notes)
    assert (out.train_rows, out.holdout_rows) == (400, 400)
    assert np.isfinite(out.holdout_proba).all()


def test_a_calibration_period_without_enough_churners_is_not_calibrated(
    frame: pd.DataFrame,
) -> None:
    quiet = frame.copy()
    quiet.loc[quiet[PERIOD] == MONTHS[6], LABEL] = 0
    settings = FAST.model_copy(update={"candidates": [LOGREG], "calibration": "isotonic"})
    out = fit_candidates(quiet, SPEC, settings, holdout_periods=1)
    assert out.calibration == "none" and out.calibration_brier == {}
    assert any(note.startswith("no calibration: the calibration period has 0 positive") for note
               in out.notes)  # fmt: skip


def test_training_periods_with_one_class_are_not_enough_data(frame: pd.DataFrame) -> None:
    one_class = frame.copy()
    one_class.loc[one_class[PERIOD] < MONTHS[7], LABEL] = 0
    with pytest.raises(NotEnoughData, match="only one class"):
        fit_candidates(one_class, SPEC, FAST, holdout_periods=1)


def test_no_period_before_the_holdout_is_not_enough_data(frame: pd.DataFrame) -> None:
    with pytest.raises(NotEnoughData, match="at least 2 periods; there are 1"):
        fit_candidates(frame[frame[PERIOD] == MONTHS[0]], SPEC, FAST, holdout_periods=1)


@pytest.mark.parametrize("method", ["none", "sigmoid", "isotonic"])
@pytest.mark.parametrize(
    ("algorithm", "estimator"),
    [(HGB, HistGradientBoostingClassifier), (LOGREG, LogisticRegression)],
)
def test_final_models_round_trip_through_the_registry(
    algorithm: str, estimator: type, method: str, tmp_path: Path
) -> None:
    small = churn_frame(MONTHS[:4], rows=400, seed=1)
    settings = FAST.model_copy(
        update={"candidates": [algorithm], "calibration": method, "search_trials": 1}
    )
    out = fit_candidates(small, SPEC, settings, holdout_periods=1)
    assert out.calibration == method
    saved = registry.save_model(out.pipeline, tmp_path, "v1")
    loaded = registry.load_model(saved.path, saved.sha256)
    features = prepare_features(small, SPEC)
    assert np.array_equal(loaded.predict_proba(features), out.pipeline.predict_proba(features))
    assert isinstance(fitted_estimator(loaded), estimator)
    assert list(loaded.named_steps) == ["encode", "model"]


def test_periods_given_as_timestamps_train_the_same(frame: pd.DataFrame) -> None:
    settings = FAST.model_copy(update={"candidates": [LOGREG], "calibration": "none"})
    as_dates = fit_candidates(frame, SPEC, settings, holdout_periods=1)
    stamped = frame.assign(**{PERIOD: pd.to_datetime(frame[PERIOD])})
    as_stamps = fit_candidates(stamped, SPEC, settings, holdout_periods=1)
    assert (as_stamps.train_from, as_stamps.holdout_to) == (MONTHS[0], MONTHS[7])
    assert np.array_equal(as_stamps.holdout_proba, as_dates.holdout_proba)
