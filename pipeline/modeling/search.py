"""Hyperparameter search over time-ordered folds, with a budget counted in trials.

Validation periods are the last ``folds`` training periods; each fold trains on the periods
strictly before its validation period (an expanding window), so no fold ever sees its future.
Fits use a stratified (period x label) sample of the fold's training rows; validation always
uses every row of the validation period. Trials are ranked by mean fold ROC AUC (gaps under
``AUC_TIE`` are ties), ties broken by mean log loss, then by trial order.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import ParameterGrid, ParameterSampler

from pipeline.modeling.candidates import build_candidate, default_params, search_space
from pipeline.train import LABEL, PERIOD, TrainSpec, prepare_features

logger = logging.getLogger(__name__)

# Mean fold AUCs closer than this are a tie. A validation month of the demo (~42k rows, ~1.5k
# churners) measures AUC with a standard error near 0.006, so smaller gaps are noise: picking the
# top one would pick the luckiest trial. Among tied trials the lower log loss (a proper scoring
# rule, which also sees calibration) decides, then the earlier trial (the default comes first).
AUC_TIE = 0.001


@dataclass(frozen=True)
class Fold:
    """Train on ``train_periods``, validate on ``validation_period``."""

    train_periods: tuple[Any, ...]
    validation_period: Any


@dataclass
class SearchResult:
    """The chosen configuration, every trial, and what the search had to give up."""

    algorithm: str
    params: dict[str, Any]
    trials: list[dict[str, Any]]
    folds: list[Fold]
    notes: list[str] = field(default_factory=list)


def time_folds(
    periods: list[Any], folds: int, validate_from: Any = None
) -> tuple[list[Fold], str | None]:
    """Up to ``folds`` expanding-window folds over sorted ``periods``, and a note if fewer.

    Each fold needs at least one period before its validation period, so ``n`` periods give at
    most ``n - 1`` folds; zero folds means there is nothing to search on. With
    ``validate_from``, folds only validate on periods from it on: after the data changed, a
    fold that trains on the old world only and validates on the new one measures robustness
    to a change the final model has already seen, not how well it learns the new world.
    """
    periods = sorted(periods)
    if validate_from is not None:
        later = [p for p in periods if pd.Timestamp(p) >= pd.Timestamp(validate_from)]
        folds = min(folds, len(later))
        if folds == 0:
            return [], f"no training period from {pd.Timestamp(validate_from):%Y-%m} to validate on"
    usable = min(folds, max(len(periods) - 1, 0))
    note = None
    if usable < folds:
        note = (
            f"search asked for {folds} time-ordered folds but {len(periods)} training "
            f"period(s) allow {usable}"
        )
    out = [Fold(tuple(periods[:i]), periods[i]) for i in range(len(periods) - usable, len(periods))]
    return out, note


def stratified_sample(frame: pd.DataFrame, max_rows: int, seed: int) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` rows of ``frame``, stratified by period and label.

    Each (period, label) stratum keeps its share: quotas are floored and the rows left over go
    to the strata with the largest remainders, so the sample has exactly
    ``min(max_rows, len(frame))`` rows and is the same for the same seed.
    """
    n = len(frame)
    if n <= max_rows:
        return np.arange(n)
    period_codes, _ = pd.factorize(frame[PERIOD], sort=True)
    codes = period_codes * 2 + frame[LABEL].to_numpy(dtype=np.int64)
    counts = np.bincount(codes)
    exact = counts * (max_rows / n)
    quota = np.floor(exact).astype(np.int64)
    leftover = max_rows - int(quota.sum())
    # Stable sort: equal remainders go to the earlier stratum, so the draw is reproducible.
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[:leftover]] += 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(codes == code), size=int(k), replace=False)
        for code, k in enumerate(quota)
        if k > 0
    ]
    return np.sort(np.concatenate(chosen))


def trial_params(algorithm: str, trials: int, class_weight: str, seed: int) -> list[dict]:
    """The ``trials`` configurations tried for ``algorithm``, in order.

    The first is the algorithm's default configuration, so the search never ranks below the
    untuned model on its own folds; the rest are drawn without replacement by
    ``ParameterSampler(random_state=seed)``. A space smaller than the budget is tried whole.
    """
    default = _plain_params(default_params(algorithm, class_weight))
    space = search_space(algorithm, class_weight)
    size = len(ParameterGrid(space))
    drawn = list(ParameterSampler(space, n_iter=min(trials, size), random_state=seed))
    others = [_plain_params(p) for p in drawn if p != default]
    return [default, *others][: min(trials, size)]


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-able Python values, in a fixed key order."""
    out: dict[str, Any] = {}
    for key in sorted(params):
        value = params[key]
        out[key] = value.item() if isinstance(value, np.generic) else value
    return out


def search(
    train: pd.DataFrame,
    spec: TrainSpec,
    candidates: list[str],
    trials: int,
    folds: int,
    sample_rows: int,
    class_weight: str,
    seed: int,
    validate_from: Any = None,
) -> SearchResult:
    """Try ``trials`` configurations per candidate on time-ordered folds of ``train``
    (validating only on periods from ``validate_from`` on, when given).

    Returns the best configuration and one record per trial:
    ``{"trial", "algorithm", "params", "fold_auc", "fold_log_loss", "mean_auc",
    "mean_log_loss", "seconds"}``. With no usable fold the first candidate's defaults are
    returned, ``trials`` is empty and ``notes`` says why.
    """
    periods = sorted(train[PERIOD].unique())
    fold_list, note = time_folds(periods, folds, validate_from)
    notes = [note] if note else []
    prepared = _prepare_folds(train, spec, fold_list, sample_rows, seed, notes)
    if not prepared:
        notes.append(
            f"no hyperparameter search: no usable time-ordered fold; "
            f"{candidates[0]} trained with its default parameters"
        )
        default = _plain_params(default_params(candidates[0], class_weight))
        return SearchResult(candidates[0], default, [], [], notes)
    records: list[dict[str, Any]] = []
    for algorithm in candidates:
        for params in trial_params(algorithm, trials, class_weight, seed):
            started = time.perf_counter()
            aucs, losses = [], []
            for x_fit, y_fit, x_val, y_val in prepared.values():
                model = build_candidate(algorithm, spec, params, seed).fit(x_fit, y_fit)
                proba = model.predict_proba(x_val)[:, 1]
                aucs.append(float(roc_auc_score(y_val, proba)))
                losses.append(float(log_loss(y_val, np.clip(proba, 1e-15, 1 - 1e-15))))
            records.append(
                {
                    "trial": len(records),
                    "algorithm": algorithm,
                    "params": params,
                    "fold_auc": aucs,
                    "fold_log_loss": losses,
                    "mean_auc": float(np.mean(aucs)),
                    "mean_log_loss": float(np.mean(losses)),
                    "seconds": time.perf_counter() - started,
                }
            )
            logger.info("trial %d %s %s: fold AUC %s", len(records) - 1, algorithm, params, aucs)
    best = best_trial(records)
    return SearchResult(best["algorithm"], dict(best["params"]), records, list(prepared), notes)


def best_trial(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The trial with the highest mean ROC AUC; ties go to lower log loss, then the earlier.

    Mean AUCs within ``AUC_TIE`` of the best count as tied.
    """
    top = max(r["mean_auc"] for r in records)
    tied = [r for r in records if r["mean_auc"] >= top - AUC_TIE]
    return min(tied, key=lambda r: (r["mean_log_loss"], r["trial"]))


def _day(period: Any) -> str:
    return pd.Timestamp(period).date().isoformat()


def _prepare_folds(
    train: pd.DataFrame,
    spec: TrainSpec,
    fold_list: list[Fold],
    sample_rows: int,
    seed: int,
    notes: list[str],
) -> dict[Fold, tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]]:
    """Features and labels of each usable fold: a sampled fit part and the full validation."""
    prepared = {}
    for fold in fold_list:
        fit = train[train[PERIOD] < fold.validation_period]
        val = train[train[PERIOD] == fold.validation_period]
        if fit[LABEL].nunique() < 2 or val[LABEL].nunique() < 2:
            notes.append(
                f"fold validating on {_day(fold.validation_period)} skipped: its training or "
                "validation rows hold only one class"
            )
            continue
        fit = fit.iloc[stratified_sample(fit, sample_rows, seed)]
        prepared[fold] = (
            prepare_features(fit, spec),
            fit[LABEL].to_numpy(),
            prepare_features(val, spec),
            val[LABEL].to_numpy(),
        )
    return prepared
