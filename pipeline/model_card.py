"""A model card per version, in markdown: intended use, data, metrics, segments, limits, lineage.

Pure: built from the registry record the Model review page already reads, so the card always
matches the registry and needs no storage of its own.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

ALGORITHMS = {
    "hist_gradient_boosting": "histogram gradient-boosted trees (scikit-learn)",
    "logistic_regression": "regularised logistic regression (scikit-learn)",
}


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _metrics(metrics: dict[str, Any]) -> list[str]:
    rows = [
        ("ROC AUC", "roc_auc", _num),
        ("PR AUC", "pr_auc", _num),
        ("Brier score (lower is better)", "brier", lambda v: _num(v, 4)),
        ("Log loss (lower is better)", "log_loss", lambda v: _num(v, 4)),
        ("Precision at the threshold", "precision", _pct),
        ("Recall at the threshold", "recall", _pct),
        ("Customers flagged", "flag_rate", _pct),
        ("Lift in the top decile", "lift_top_decile", lambda v: _num(v, 2)),
        ("Expected profit on the window", "expected_profit", lambda v: f"${_num(v, 0)}"),
    ]
    out = ["| Metric | Value |", "|---|---|"]
    out += [f"| {label} | {fmt(metrics.get(key))} |" for label, key, fmt in rows if key in metrics]
    return out


def _segments(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return ["No segment metrics were recorded for this version."]
    out = [
        "| Segment | Rows | Churners | ROC AUC | Recall | Flagged |",
        "|---|---|---|---|---|---|",
    ]
    for r in frame.itertuples(index=False):
        out.append(
            f"| {r.column_name} = {r.value} | {int(r.rows):,} | {int(r.positives):,} | "
            f"{_num(r.roc_auc)} | {_pct(r.recall)} | {_pct(r.flag_rate)} |"
        )
    return out


def render(
    record: dict[str, Any], segments: pd.DataFrame, history: pd.DataFrame, target: str
) -> str:
    """The markdown model card of one version.

    ``record`` is :func:`pipeline.warehouse.reads_models.model_detail`; ``segments`` its
    per-segment metrics on its own holdout; ``history`` the alias history rows of this version.
    """
    v = record["version"]
    lineage = record.get("lineage") or {}
    data = lineage.get("data") or {}
    metrics = record.get("metrics") or {
        k: record.get(k) for k in ("roc_auc", "pr_auc", "brier", "log_loss")
    }
    gate = record.get("gate") or {}
    features = record.get("features") or {}
    algorithm = ALGORITHMS.get(record.get("algorithm"), record.get("algorithm"))
    lines = [
        f"# Model card: churn model v{v}",
        "",
        f"**Status:** {record.get('alias', 'archived')} · **Created:** "
        f"{record['created_at']:%Y-%m-%d %H:%M} UTC · **Run:** #{record.get('run_id')}",
        "",
        "## Intended use",
        f"Ranks current customers by their probability of `{target}` in the next month, so the "
        "retention team can decide whom to contact. The decision threshold "
        f"{_num(record.get('threshold'))} maximises expected profit under the cost settings; "
        f"the F1-optimal threshold is {_num(record.get('f1_threshold'))}. Not for decisions "
        "about individuals without a person in the loop, and not for populations unlike the "
        "training data.",
        "",
        "## Model",
        f"- Algorithm: {algorithm}; probability calibration: {record.get('calibration') or 'none'}",
        f"- Hyperparameters: `{record.get('params')}`",
        f"- Features: {', '.join(features.get('categorical', []) + features.get('numeric', []))}",
        f"- Random seed: {record.get('seed')}",
        "",
        "## Data",
        f"- Trained on {_num(record.get('train_rows'))} rows from {record.get('train_from')} to "
        f"{record.get('train_to')}; evaluated on {_num(record.get('holdout_rows'))} rows from "
        f"{record.get('holdout_from')} to {record.get('holdout_to')} (the most recent labelled "
        "window, never seen in training).",
        f"- Batches: {len(data.get('batches', []))} accepted raw batches (ids and SHA-256 in "
        "the lineage below).",
        "",
        "## Metrics on the holdout",
        *_metrics(metrics),
        "",
        "## Segments",
        *_segments(segments),
        "",
        "## Promotion",
        gate.get("summary", "No gate decision was recorded for this version."),
        "",
    ]
    if not history.empty:
        lines += ["| When (UTC) | Alias | By | Why |", "|---|---|---|---|"]
        for h in history.itertuples(index=False):
            who = h.actor if isinstance(h.actor, str) else "pipeline"
            lines.append(f"| {h.set_at:%Y-%m-%d %H:%M} | {h.alias} | {who} | {h.reason} |")
        lines.append("")
    lines += [
        "## Limits",
        "- Metrics describe one recent month; a change in the business (prices, products, "
        "regions) can degrade the model before labels show it.",
        "- Segments with few churners have wide uncertainty; read their metrics with care.",
        "- Probabilities are calibrated on the last training month; recheck after large shifts.",
        "",
        "## Lineage",
        f"- Code: {lineage.get('code_version', 'n/a')}",
        f"- Settings hash: `{lineage.get('settings_hash', 'n/a')}`",
        f"- Artefact: SHA-256 `{record.get('sha256')}`, {_num(record.get('size_bytes'))} bytes",
        "- Libraries: "
        + ", ".join(f"{k} {val}" for k, val in (lineage.get("libraries") or {}).items()),
        "- Durations (s): "
        + ", ".join(f"{k} {val:.1f}" for k, val in (lineage.get("durations") or {}).items()),
    ]
    for b in data.get("batches", []):
        lines.append(f"  - batch {b['batch_id']}: {b['file']} `{b['sha256'][:16]}`")
    return "\n".join(lines) + "\n"
