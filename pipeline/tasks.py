"""Entry points that run inside compute child processes.

They read Parquet hand-off files, call the pure steps, write artefacts and Parquet results,
and return small dicts. They never open the warehouse: only the owner process does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.explain_tasks import explain_to_parquet, fairness_of
from pipeline.modeling.evaluation import curves, evaluate, segment_metrics
from pipeline.modeling.fit import fit_candidates
from pipeline.monitoring.estimates import estimates_by_segment, score_reference
from pipeline.registry import ArtefactRefused, load_model, save_model
from pipeline.settings import ExplainSettings, FairnessSettings, TrainingSettings
from pipeline.train import LABEL, PERIOD, TrainSpec, prepare_features

ENTITY = "_entity"


def _evaluation(
    holdout: pd.DataFrame,
    proba: np.ndarray,
    threshold: float,
    segments: list[str],
    training: TrainingSettings,
) -> dict[str, Any]:
    y = holdout[LABEL].to_numpy()
    return {
        "threshold": threshold,
        "metrics": evaluate(y, proba, threshold, training.value_per_churner, training.contact_cost),
        "segments": segment_metrics(holdout[segments], y, proba, threshold),
        "curves": curves(y, proba),
    }


def train_task(
    train_path: str,
    spec: dict[str, Any],
    training: dict[str, Any],
    holdout_periods: int,
    segments: list[str],
    artefact_dir: str,
    version: int,
    champion: dict[str, Any] | None,
    out_dir: str,
    explain: dict[str, Any],
    fairness: dict[str, Any],
    validate_from: str | None = None,
) -> dict[str, Any]:
    """Search, fit and calibrate the candidates, save the winner, and measure it and the
    champion on the same holdout (the most recent labelled window).

    A champion whose artefact fails verification is reported in ``champion_error`` rather
    than failing the training: the gate then treats it as absent.
    """
    frame = pd.read_parquet(train_path)
    train_spec = TrainSpec(**spec)
    settings = TrainingSettings(**training)
    started = time.perf_counter()
    outcome = fit_candidates(frame, train_spec, settings, holdout_periods, validate_from)
    fit_seconds = time.perf_counter() - started
    saved = save_model(outcome.pipeline, Path(artefact_dir), f"model-v{version}")
    present = [s for s in segments if s in outcome.holdout.columns]
    own = _evaluation(outcome.holdout, outcome.holdout_proba, outcome.threshold, present, settings)
    champion_eval, champion_error = None, None
    if champion is not None:
        evaluate_started = time.perf_counter()
        try:
            old = load_model(Path(champion["path"]), champion["sha256"])
        except ArtefactRefused as error:
            champion_error = str(error)
        else:
            proba = old.predict_proba(prepare_features(outcome.holdout, train_spec))[:, 1]
            champion_eval = _evaluation(
                outcome.holdout, proba, champion["threshold"], present, settings
            )
            champion_eval["seconds"] = time.perf_counter() - evaluate_started
    explain_settings = ExplainSettings(**explain)
    fairness_settings = FairnessSettings(**{k: v for k, v in fairness.items() if k != "columns"})
    explained = explain_to_parquet(
        outcome.pipeline,
        train_spec,
        outcome.holdout,
        explain_settings,
        settings.seed,
        Path(out_dir),
        f"v{version}-holdout",
        "holdout",
    )
    fair = fairness_of(
        outcome.holdout,
        outcome.holdout_proba,
        outcome.threshold,
        fairness_settings,
        fairness.get("columns") or present,
    )
    return {
        "score_reference": score_reference(outcome.holdout_proba),
        "explanations": [explained],
        "fairness": fair,
        "notes": list(getattr(outcome, "notes", [])),
        "algorithm": outcome.algorithm,
        "params": outcome.params,
        "calibration": outcome.calibration,
        "calibration_brier": outcome.calibration_brier,
        "threshold": outcome.threshold,
        "f1_threshold": outcome.f1_threshold,
        "search": outcome.search,
        "durations": {**outcome.durations, "total": fit_seconds},
        "evaluation": own,
        "champion_evaluation": champion_eval,
        "champion_error": champion_error,
        "metrics": own["metrics"],
        "train_rows": outcome.train_rows,
        "holdout_rows": outcome.holdout_rows,
        "train_from": pd.Timestamp(outcome.train_from).date(),
        "train_to": pd.Timestamp(outcome.train_to).date(),
        "holdout_from": pd.Timestamp(outcome.holdout_from).date(),
        "holdout_to": pd.Timestamp(outcome.holdout_to).date(),
        "artefact_path": str(saved.path),
        "sha256": saved.sha256,
        "size_bytes": saved.size_bytes,
        "fit_seconds": fit_seconds,
        "seed": settings.seed,
    }


def score_task(
    artefact_path: str,
    sha256: str,
    spec: dict[str, Any],
    scoring_path: str,
    out_path: str,
    version: int,
    explain: dict[str, Any] | None = None,
    seed: int = 42,
    estimate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every row of the hand-off file with a verified model; write Parquet results.

    With ``explain``, also explain the model on the latest period scored (the Overview's
    "what drives churn this month"). With ``estimate`` (threshold, segments, bootstrap), also
    estimate its performance per period and segment from its own confidence, before labels.
    """
    frame = pd.read_parquet(scoring_path)
    model = load_model(Path(artefact_path), sha256)
    train_spec = TrainSpec(**spec)
    proba = model.predict_proba(prepare_features(frame, train_spec))[:, 1]
    if not np.isfinite(proba).all():
        raise ValueError("the model produced non-finite probabilities; scoring stopped")
    out = pd.DataFrame(
        {"period": frame[PERIOD], "entity_id": frame[ENTITY].astype(str), "probability": proba}
    )
    out.to_parquet(out_path, index=False)
    explanations = []
    if explain is not None and len(frame):
        latest = frame[PERIOD].max()
        month = pd.Timestamp(latest).strftime("%Y-%m")
        explanations.append(
            explain_to_parquet(
                model,
                train_spec,
                frame[frame[PERIOD] == latest],
                ExplainSettings(**explain),
                seed,
                Path(out_path).parent,
                f"v{version}-{month}",
                f"period:{month}",
            )
        )
    estimated = []
    if estimate is not None and len(frame):
        estimated = estimates_by_segment(
            frame,
            proba,
            PERIOD,
            estimate["segments"],
            estimate["threshold"],
            estimate["bootstrap"],
            seed,
            estimate.get("min_rows", 1),
        )
    return {
        "estimates": estimated,
        "rows": len(out),
        "mean_probability": float(proba.mean()) if len(out) else None,
        "explanations": explanations,
    }


def build_demo_task(out_dir: str, seed: int, customers: int, months: int) -> dict[str, Any]:
    """Generate the demo business's month files (slow, so it runs in a child)."""
    from pipeline.demo import build_demo_files

    started = time.perf_counter()
    paths = build_demo_files(Path(out_dir), seed=seed, customers=customers, months=months)
    return {"files": len(paths), "seconds": time.perf_counter() - started}
