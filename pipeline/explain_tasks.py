"""Child-side helpers: a model's global explanation and fairness, as files and small dicts.

Called from :mod:`pipeline.tasks` inside compute children (shap holds the GIL for seconds).
Bulk results go to Parquet in the run's work dir; the owner publishes them in the run's
transaction.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipeline.explain.global_summary import global_explanation
from pipeline.modeling.fairness import fairness_summary, group_metrics
from pipeline.settings import ExplainSettings, FairnessSettings
from pipeline.train import LABEL, TrainSpec


def explain_to_parquet(
    pipe: Pipeline,
    spec: TrainSpec,
    frame: pd.DataFrame,
    settings: ExplainSettings,
    seed: int,
    out_dir: Path,
    tag: str,
    scope: str,
) -> dict[str, Any]:
    """Explain ``frame`` (a stratified sample of it) and write importance and points files.

    Returns ``{"scope", "importance", "points", "base_value", "base_proba", "rows", "seconds"}``.
    """
    started = time.perf_counter()
    result = global_explanation(
        pipe, spec, frame, settings.sample_rows, settings.dependence_points, seed
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    importance = out_dir / f"explain-{tag}-importance.parquet"
    points = out_dir / f"explain-{tag}-points.parquet"
    result["importance"].to_parquet(importance, index=False)
    result["points"].to_parquet(points, index=False)
    return {
        "scope": scope,
        "importance": str(importance),
        "points": str(points),
        "base_value": result["base_value"],
        "base_proba": result["base_proba"],
        "rows": result["rows"],
        "seconds": time.perf_counter() - started,
    }


def fairness_of(
    holdout: pd.DataFrame,
    proba: np.ndarray,
    threshold: float,
    settings: FairnessSettings,
    columns: list[str],
) -> dict[str, Any]:
    """Group metrics and the per-column summary on the holdout, as JSON-able lists."""
    present = [c for c in columns if c in holdout.columns]
    groups = group_metrics(
        holdout[present], holdout[LABEL].to_numpy(), proba, threshold, settings.min_group_rows
    )
    return {"groups": groups, "summary": fairness_summary(groups, settings)}
