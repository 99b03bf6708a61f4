"""The typed result every drift method returns, and the method names and thresholds.

Shared by :mod:`pipeline.monitoring.drift` and :mod:`pipeline.monitoring.binned`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Methods allowed per column kind, the default first.
METHODS: dict[str, tuple[str, ...]] = {
    "numeric": ("wasserstein", "psi", "ks"),
    "categorical": ("jensen_shannon", "psi", "chi_square"),
}
#: Drift thresholds: distances drift when the statistic is above; tests when ``p_value`` is below.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.1,  # in reference standard deviations
    "psi": 0.2,
    "jensen_shannon": 0.1,  # distance, base 2
    "ks": 0.05,  # p-value
    "chi_square": 0.05,  # p-value
}
#: Methods whose verdict is a hypothesis test: ``drifted`` means ``p_value < threshold``.
P_VALUE_METHODS = frozenset({"ks", "chi_square"})

NAMES = {
    "wasserstein": "Wasserstein distance",
    "psi": "PSI",
    "jensen_shannon": "Jensen–Shannon distance",
    "ks": "KS",
    "chi_square": "Chi-square",
}


@dataclass(frozen=True)
class DriftResult:
    """The verdict of one drift method on one column, batch and segment."""

    method: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        """A JSON-able record for the warehouse."""
        return asdict(self)


def verdict(
    method: str,
    statistic: float,
    threshold: float,
    p_value: float | None,
    column: str,
    unit: str = "",
) -> DriftResult:
    """Return the result with its verdict and one sentence naming the column and the margin."""
    name = NAMES[method]
    if p_value is not None:
        drifted = p_value < threshold
        sign = "<" if drifted else ">="
        measured = f"{name} {statistic:.3g}, p = {p_value:.3g} {sign} {threshold:g}"
    else:
        drifted = statistic > threshold
        sign = ">" if drifted else "<="
        measured = f"{name} {statistic:.3g}{unit} {sign} {threshold:g}"
    outcome = "moved" if drifted else "is stable"
    detail = f"{measured}: the distribution of {column} {outcome}"
    return DriftResult(
        method,
        float(statistic),
        float(threshold),
        bool(drifted),
        None if p_value is None else float(p_value),
        detail,
    )


def paired_counts(
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    ref_missing: float = 0,
    cur_missing: float = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two count vectors (missing appended as a last bin when either side has any)."""
    ref = np.asarray(ref_counts, dtype=float).ravel()
    cur = np.asarray(cur_counts, dtype=float).ravel()
    if ref.shape != cur.shape:
        raise ValueError(
            f"Reference and current counts must cover the same bins or categories, got "
            f"{ref.size} and {cur.size}; count both windows with the same edges/category list."
        )
    if ref_missing or cur_missing:
        ref, cur = np.append(ref, ref_missing), np.append(cur, cur_missing)
    for side, counts in (("reference", ref), ("current", cur)):
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"The {side} counts must be finite and non-negative, got {counts}.")
        if counts.sum() == 0:
            raise ValueError(
                f"The {side} window has no values to compare (all {counts.size} counts are "
                "zero): skip this batch or segment, or widen it, before computing drift."
            )
    return ref, cur
