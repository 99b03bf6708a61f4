"""Train the production model: search the candidates, fit, calibrate, choose thresholds.

``fit_candidates`` splits the frame in time. The latest ``holdout_periods`` are the holdout,
never seen by any choice. Of the training periods, the last one is the *calibration period*:
the chosen configuration is fitted on the periods before it, then the calibration method and
the decision thresholds are chosen on it. When calibration is "none" the configuration is refit
on every training period, since no period then needs to stay unseen.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipeline.modeling import calibration, thresholds
from pipeline.modeling.candidates import build_candidate
from pipeline.modeling.search import search
from pipeline.settings import TrainingSettings
from pipeline.train import LABEL, PERIOD, NotEnoughData, TrainSpec, prepare_features, split_by_time

logger = logging.getLogger(__name__)


@dataclass
class TrainOutcome:
    """The final fitted model and every choice made on the way to it.

    ``search`` has one record per trial (see :func:`pipeline.modeling.search.search`);
    ``calibration_brier`` the Brier score of each calibration option on the check half of the
    calibration period (empty when calibration was impossible); ``notes`` says, in words,
    what the run had to fall back on (fewer folds, no search, no calibration).
    """

    pipeline: Pipeline
    algorithm: str
    params: dict[str, Any]
    calibration: str
    threshold: float
    f1_threshold: float
    search: list[dict[str, Any]]
    calibration_brier: dict[str, float]
    durations: dict[str, float]
    train_rows: int
    holdout_rows: int
    train_from: date
    train_to: date
    holdout_from: date
    holdout_to: date
    holdout: pd.DataFrame
    holdout_proba: np.ndarray
    notes: list[str] = field(default_factory=list)


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def fit_candidates(
    frame: pd.DataFrame,
    spec: TrainSpec,
    training: TrainingSettings,
    holdout_periods: int,
    validate_from: Any = None,
) -> TrainOutcome:
    """Search ``training.candidates``, fit the best, calibrate it and choose its thresholds.

    Every random choice uses ``training.seed``, so the same frame and settings give a model
    with bit-identical predictions. ``validate_from`` (a retrain after the data changed) makes
    the search validate only on periods from then on. Raises :class:`NotEnoughData` when the
    frame has no training period before the holdout or its training rows hold a single class.
    """
    train, holdout = split_by_time(frame, holdout_periods)
    if train[LABEL].nunique() < 2:
        raise NotEnoughData(
            f"the training periods ({_day(train[PERIOD].min())} to {_day(train[PERIOD].max())}) "
            "have only one class of the target; a model needs churners and non-churners"
        )
    seed = training.seed
    durations: dict[str, float] = {}

    started = time.perf_counter()
    found = search(
        train,
        spec,
        list(training.candidates),
        training.search_trials,
        training.search_folds,
        training.search_sample_rows,
        training.class_weight,
        seed,
        validate_from,
    )
    durations["search"] = time.perf_counter() - started
    notes = list(found.notes)
    algorithm, params = found.algorithm, found.params

    periods = sorted(train[PERIOD].unique())
    calibration_period = periods[-1]
    fit_rows = train[train[PERIOD] < calibration_period]
    calib_rows = train[train[PERIOD] == calibration_period]
    started = time.perf_counter()
    if len(periods) == 1 or fit_rows[LABEL].nunique() < 2:
        reason = (
            "there is only one training period"
            if len(periods) == 1
            else f"the periods before {_day(calibration_period)} hold only one class"
        )
        notes.append(
            f"no calibration and thresholds chosen on the training rows themselves: {reason}, "
            "so no period is left to calibrate on"
        )
        pipe = _fit(algorithm, spec, params, seed, train)
        durations["fit"] = time.perf_counter() - started
        durations["calibrate"] = 0.0
        method, brier = "none", {}
        check_x, check_y = prepare_features(train, spec), train[LABEL].to_numpy()
    else:
        pipe = _fit(algorithm, spec, params, seed, fit_rows)
        durations["fit"] = time.perf_counter() - started
        started = time.perf_counter()
        check_x, check_y = prepare_features(calib_rows, spec), calib_rows[LABEL].to_numpy()
        impossible = calibration.can_calibrate(check_y)
        if impossible is None:
            brier = calibration.compare(pipe, check_x, check_y, seed)
            method = calibration.choose(brier, training.calibration)
        else:
            notes.append(f"no calibration: {impossible}")
            brier, method = {}, "none"
        pipe = calibration.calibrate(pipe, check_x, check_y, method)
        durations["calibrate"] = time.perf_counter() - started

    started = time.perf_counter()
    check_proba = pipe.predict_proba(check_x)[:, 1]
    threshold = thresholds.profit_threshold(
        check_y, check_proba, training.value_per_churner, training.contact_cost
    )
    f1_threshold = thresholds.f1_threshold(check_y, check_proba)
    durations["threshold"] = time.perf_counter() - started

    if method == "none" and len(periods) > 1:
        # Uncalibrated: nothing needs the calibration period unseen any more, so the final
        # model learns from it too. Thresholds above came from the model that had not seen it.
        started = time.perf_counter()
        pipe = _fit(algorithm, spec, params, seed, train)
        durations["fit"] += time.perf_counter() - started

    holdout_proba = pipe.predict_proba(prepare_features(holdout, spec))[:, 1]
    logger.info(
        "trained %s %s, calibration %s, threshold %.3f (%s)",
        algorithm,
        params,
        method,
        threshold,
        "; ".join(notes) or "no fallbacks",
    )
    return TrainOutcome(
        pipeline=pipe,
        algorithm=algorithm,
        params=params,
        calibration=method,
        threshold=threshold,
        f1_threshold=f1_threshold,
        search=found.trials,
        calibration_brier=brier,
        durations=durations,
        train_rows=len(train),
        holdout_rows=len(holdout),
        train_from=_day(train[PERIOD].min()),
        train_to=_day(train[PERIOD].max()),
        holdout_from=_day(holdout[PERIOD].min()),
        holdout_to=_day(holdout[PERIOD].max()),
        holdout=holdout,
        holdout_proba=holdout_proba,
        notes=notes,
    )


def _fit(
    algorithm: str, spec: TrainSpec, params: dict[str, Any], seed: int, rows: pd.DataFrame
) -> Pipeline:
    model = build_candidate(algorithm, spec, params, seed)
    return model.fit(prepare_features(rows, spec), rows[LABEL].to_numpy())
