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

from pipeline.registry import load_model, save_model
from pipeline.train import (
    LABEL,
    PERIOD,
    TrainSpec,
    fit_and_evaluate,
    holdout_metrics,
    prepare_features,
)

ENTITY = "_entity"


def train_task(
    train_path: str,
    spec: dict[str, Any],
    holdout_periods: int,
    artefact_dir: str,
    version: int,
    champion: dict[str, str] | None,
) -> dict[str, Any]:
    """Fit a candidate, save it, and measure it and the champion on the same holdout."""
    frame = pd.read_parquet(train_path)
    train_spec = TrainSpec(**spec)
    started = time.perf_counter()
    result = fit_and_evaluate(frame, train_spec, holdout_periods)
    fit_seconds = time.perf_counter() - started
    saved = save_model(result.pipeline, Path(artefact_dir), f"model-v{version}")
    champion_metrics = None
    if champion is not None:
        old = load_model(Path(champion["path"]), champion["sha256"])
        proba = old.predict_proba(prepare_features(result.holdout, train_spec))[:, 1]
        champion_metrics = holdout_metrics(result.holdout[LABEL].to_numpy(), proba)
    return {
        "metrics": result.metrics,
        "champion_metrics": champion_metrics,
        "train_rows": result.train_rows,
        "holdout_rows": result.holdout_rows,
        "train_from": pd.Timestamp(result.train_from).date(),
        "train_to": pd.Timestamp(result.train_to).date(),
        "holdout_from": pd.Timestamp(result.holdout_from).date(),
        "holdout_to": pd.Timestamp(result.holdout_to).date(),
        "artefact_path": str(saved.path),
        "sha256": saved.sha256,
        "size_bytes": saved.size_bytes,
        "fit_seconds": fit_seconds,
        "params": train_spec.params,
    }


def score_task(
    artefact_path: str, sha256: str, spec: dict[str, Any], scoring_path: str, out_path: str
) -> dict[str, Any]:
    """Score every row of the hand-off file with a verified model; write Parquet results."""
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
    return {"rows": len(out), "mean_probability": float(proba.mean()) if len(out) else None}


def build_demo_task(out_dir: str, seed: int, customers: int, months: int) -> dict[str, Any]:
    """Generate the demo business's month files (slow, so it runs in a child)."""
    from pipeline.demo import build_demo_files

    started = time.perf_counter()
    paths = build_demo_files(Path(out_dir), seed=seed, customers=customers, months=months)
    return {"files": len(paths), "seconds": time.perf_counter() - started}
