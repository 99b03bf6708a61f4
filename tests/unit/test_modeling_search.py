"""Hyperparameter search: time-ordered folds, a budget in trials, seeded samples, ranking."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline.modeling import search as search_module
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.modeling.search import (
    Fold,
    SearchResult,
    best_trial,
    search,
    stratified_sample,
    time_folds,
    trial_params,
)
from pipeline.train import LABEL, PERIOD
from tests.unit._modeling_frames import MONTHS, SPEC, churn_frame, one_thread  # noqa: F401


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return churn_frame(MONTHS[:6], rows=400)


class _Spy:
    """Wraps a candidate pipeline and logs which rows it was fitted on and asked to score."""

    def __init__(self, pipe: Any, log: list[dict[str, Any]]):
        self.pipe, self.log = pipe, log

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> _Spy:
        self.log.append({"fit": x.index.to_numpy()})
        self.pipe.fit(x, y)
        return self

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        self.log[-1]["validate"] = x.index.to_numpy()
        return self.pipe.predict_proba(x)


@pytest.fixture(scope="module")
def spied(frame: pd.DataFrame) -> tuple[SearchResult, list[dict[str, Any]]]:
    """A search over both candidates with every fit and validation recorded."""
    log: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            search_module, "build_candidate", lambda *a, **k: _Spy(build_candidate(*a, **k), log)
        )
        result = search(frame, SPEC, [HGB, LOGREG], 2, 3, 1_400, "search", seed=4)
    return result, log


# -- folds -------------------------------------------------------------------------------------
def test_folds_are_the_last_periods_each_trained_on_everything_before_it() -> None:
    folds, note = time_folds(MONTHS[:5], 2)
    assert folds == [Fold(tuple(MONTHS[:3]), MONTHS[3]), Fold(tuple(MONTHS[:4]), MONTHS[4])]
    assert note is None


def test_too_few_periods_fall_back_to_fewer_folds_and_say_so() -> None:
    folds, note = time_folds(MONTHS[:2], 3)
    assert folds == [Fold((MONTHS[0],), MONTHS[1])]
    assert note == "search asked for 3 time-ordered folds but 2 training period(s) allow 1"
    assert time_folds(MONTHS[:1], 2)[0] == []


def test_search_never_validates_on_a_period_it_trained_on(spied, frame: pd.DataFrame) -> None:
    result, log = spied
    assert [f.validation_period for f in result.folds] == MONTHS[3:6]
    assert len(log) == 4 * 3  # 2 trials x 2 candidates x 3 folds
    for call in log:
        fit_periods = set(frame.loc[call["fit"], PERIOD])
        validated = set(frame.loc[call["validate"], PERIOD])
        assert len(validated) == 1
        assert max(fit_periods) < min(validated)
    # Validation uses every row of its period; the holdout-free frame's last period is used.
    for call, fold in zip(log[:3], result.folds, strict=True):
        assert len(call["validate"]) == (frame[PERIOD] == fold.validation_period).sum()


def test_search_fits_use_at_most_the_configured_sample_rows(spied) -> None:
    _, log = spied
    sizes = [len(call["fit"]) for call in log[:3]]
    assert sizes == [1200, 1400, 1400]  # 3 periods x 400 rows fit whole; larger ones sampled


# -- budget ------------------------------------------------------------------------------------
def test_budget_is_counted_in_trials(spied) -> None:
    result, _ = spied
    assert [t["trial"] for t in result.trials] == [0, 1, 2, 3]
    assert [t["algorithm"] for t in result.trials] == [HGB, HGB, LOGREG, LOGREG]
    for trial in result.trials:
        assert len(trial["fold_auc"]) == len(trial["fold_log_loss"]) == 3
        assert trial["mean_auc"] == pytest.approx(np.mean(trial["fold_auc"]))
        assert trial["seconds"] > 0


def test_first_trial_is_the_default_and_the_rest_are_seeded_draws() -> None:
    trials = trial_params(HGB, 4, "search", seed=0)
    assert trials[0] == default_params(HGB, "search")
    assert len({json.dumps(t, sort_keys=True) for t in trials}) == 4
    assert trial_params(HGB, 4, "search", seed=0) == trials
    assert trial_params(HGB, 4, "search", seed=1) != trials


def test_a_space_smaller_than_the_budget_is_tried_whole_without_warning() -> None:
    # ParameterSampler warns when asked for more draws than the space has; warnings are errors.
    trials = trial_params(LOGREG, 50, "search", seed=0)
    assert len(trials) == 7 * 2  # every C with and without class weights
    assert len({json.dumps(t, sort_keys=True) for t in trials}) == len(trials)
    balanced = trial_params(LOGREG, 50, "balanced", seed=0)
    assert {t["class_weight"] for t in balanced} == {"balanced"}


def test_trials_are_recorded_as_json(spied) -> None:
    result, _ = spied
    assert json.loads(json.dumps(result.trials))[1]["params"] == result.trials[1]["params"]
    assert set(result.trials[0]) >= {"algorithm", "params", "fold_auc", "mean_auc", "seconds"}


# -- ranking -----------------------------------------------------------------------------------
def test_best_trial_has_the_highest_mean_auc_then_lowest_log_loss_then_comes_first() -> None:
    def record(trial: int, auc: float, loss: float) -> dict[str, Any]:
        return {"trial": trial, "mean_auc": auc, "mean_log_loss": loss}

    assert best_trial([record(0, 0.70, 0.3), record(1, 0.72, 0.9)])["trial"] == 1
    assert best_trial([record(0, 0.72, 0.4), record(1, 0.72, 0.3)])["trial"] == 1
    assert best_trial([record(0, 0.72, 0.3), record(1, 0.72, 0.3)])["trial"] == 0


def test_auc_gaps_below_the_tie_tolerance_are_decided_by_log_loss() -> None:
    def record(trial: int, auc: float, loss: float) -> dict[str, Any]:
        return {"trial": trial, "mean_auc": auc, "mean_log_loss": loss}

    assert search_module.AUC_TIE == 0.001
    near = [record(0, 0.7830, 0.13), record(1, 0.7835, 0.47)]
    assert best_trial(near)["trial"] == 0
    clear = [record(0, 0.7820, 0.13), record(1, 0.7835, 0.47)]
    assert best_trial(clear)["trial"] == 1


def test_search_returns_the_best_recorded_trial(spied) -> None:
    result, _ = spied
    best = best_trial(result.trials)
    assert (result.algorithm, result.params) == (best["algorithm"], best["params"])


# -- samples -----------------------------------------------------------------------------------
def test_sample_is_stratified_by_period_and_label_and_seeded(frame: pd.DataFrame) -> None:
    chosen = stratified_sample(frame, 1_000, seed=9)
    assert len(chosen) == 1_000 and np.all(np.diff(chosen) > 0)
    share = 1_000 / len(frame)
    expected = frame.groupby([PERIOD, LABEL]).size() * share
    got = frame.iloc[chosen].groupby([PERIOD, LABEL]).size()
    assert (got - expected).abs().max() < 1.0
    assert np.array_equal(stratified_sample(frame, 1_000, seed=9), chosen)
    assert not np.array_equal(stratified_sample(frame, 1_000, seed=10), chosen)
    assert np.array_equal(stratified_sample(frame, 10_000, seed=9), np.arange(len(frame)))


# -- fallbacks ---------------------------------------------------------------------------------
def test_one_period_means_no_search_defaults_and_a_note(frame: pd.DataFrame) -> None:
    one = frame[frame[PERIOD] == MONTHS[0]]
    result = search(one, SPEC, [LOGREG, HGB], 4, 2, 1_000, "none", seed=0)
    assert (result.algorithm, result.params, result.trials) == (
        LOGREG,
        default_params(LOGREG, "none"),
        [],
    )
    assert "allow 0" in result.notes[0]
    assert "no hyperparameter search" in result.notes[1]


def test_a_fold_whose_validation_period_has_one_class_is_skipped_and_said(
    frame: pd.DataFrame,
) -> None:
    quiet = frame.copy()
    quiet.loc[quiet[PERIOD] == MONTHS[5], LABEL] = 0
    result = search(quiet, SPEC, [LOGREG], 1, 2, 1_000, "none", seed=0)
    assert [f.validation_period for f in result.folds] == [MONTHS[4]]
    assert any(str(MONTHS[5]) in note and "one class" in note for note in result.notes)
    assert len(result.trials[0]["fold_auc"]) == 1


def test_after_a_change_folds_validate_only_on_the_months_since() -> None:
    months = [f"2025-0{m}-01" for m in range(1, 8)]
    folds, note = time_folds(months, 2, validate_from="2025-07-01")
    assert [f.validation_period for f in folds] == ["2025-07-01"] and note is None
    assert folds[0].train_periods == tuple(months[:6])
    folds, note = time_folds(months, 2, validate_from="2025-09-01")
    assert folds == [] and note == "no training period from 2025-09 to validate on"
