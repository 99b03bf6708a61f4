"""Reference and current windows with planted shifts, for the drift detection test and benchmark.

Twenty numeric and five categorical columns with deliberately awkward shapes: normal, lognormal,
heavy tails, small integers with ties, a point mass at zero, binary, and columns with 5 %
missing values. The current window is a fresh sample of the same distributions except for the
columns in :data:`PLANTED`, so every other column is a chance for a false alarm. Both the unit
test (``tests/unit/test_drift_detection.py``) and ``benchmarks/bench_drift.py`` use it, and the
Evidently side (``benchmarks/evidently_drift.py``, its own venv) reads the Parquet files the
benchmark writes from it; it needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Planted shifts: column -> what changed in the current window.
PLANTED: dict[str, str] = {
    "n00": "mean +0.25 standard deviations (normal)",
    "n02": "values x1.25 (lognormal)",
    "n05": "share of zeros 40% -> 25% (point mass at zero)",
    "n10": "standard deviation x1.4, 5% missing on both sides",
    "c1": "mix 50/30/20 -> 35/33/32",
    "c4": "a new category at 5% of rows",
}
SEED = 20250601
Generator = Callable[[np.random.Generator, int, bool], np.ndarray]


def _with_missing(values: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    out = values.astype(float)
    out[rng.random(values.size) < share] = np.nan
    return out


def _zero_inflated(rng: np.random.Generator, n: int, zeros: float) -> np.ndarray:
    return np.where(rng.random(n) < zeros, 0.0, rng.gamma(2.0, 20.0, n))


def _bimodal(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.3, rng.normal(20, 3, n), rng.normal(60, 8, n))


NUMERIC: dict[str, Generator] = {
    "n00": lambda r, n, s: r.normal(50.0 + (2.5 if s else 0.0), 10.0, n),
    "n01": lambda r, n, s: r.normal(0.0, 1.0, n),
    "n02": lambda r, n, s: r.lognormal(3.0, 0.8, n) * (1.25 if s else 1.0),
    "n03": lambda r, n, s: r.lognormal(1.0, 0.5, n),
    "n04": lambda r, n, s: r.poisson(3.0, n).astype(float),
    "n05": lambda r, n, s: _zero_inflated(r, n, 0.25 if s else 0.40),
    "n06": lambda r, n, s: r.uniform(0.0, 100.0, n),
    "n07": lambda r, n, s: r.exponential(5.0, n),
    "n08": lambda r, n, s: r.standard_t(3, n),
    "n09": lambda r, n, s: _with_missing(r.normal(10.0, 2.0, n), r, 0.05),
    "n10": lambda r, n, s: _with_missing(r.normal(100.0, 15.0 * (1.4 if s else 1.0), n), r, 0.05),
    "n11": lambda r, n, s: _bimodal(r, n),
    "n12": lambda r, n, s: r.integers(1, 13, n).astype(float),
    "n13": lambda r, n, s: r.beta(2.0, 5.0, n),
    "n14": lambda r, n, s: r.gamma(2.0, 30.0, n),
    "n15": lambda r, n, s: (r.random(n) < 0.3).astype(float),
    "n16": lambda r, n, s: np.round(r.normal(0.0, 1.0, n), 1),
    "n17": lambda r, n, s: r.pareto(3.0, n),
    "n18": lambda r, n, s: r.normal(1000.0, 200.0, n),
    "n19": lambda r, n, s: r.weibull(1.5, n),
}

CATEGORIES: dict[str, tuple[list[str], list[float], list[float] | None]] = {
    # column: (labels, reference shares, current shares when planted)
    "c0": (["North", "South", "East", "West"], [0.4, 0.3, 0.2, 0.1], None),
    "c1": (["basic", "plus", "premium"], [0.5, 0.3, 0.2], [0.35, 0.33, 0.32]),
    "c2": ([f"k{i:02d}" for i in range(12)], list(np.r_[1.0 / np.arange(1, 13)]), None),
    "c3": (["yes", "no"], [0.3, 0.7], None),
    "c4": (
        ["web", "store", "phone", "email", "chat", "partner"],
        [0.35, 0.25, 0.2, 0.12, 0.08, 0.0],
        [0.3325, 0.2375, 0.19, 0.114, 0.076, 0.05],
    ),
}
MISSING_CATEGORY_SHARE = {"c3": 0.02}


def window(rows: int, shifted: bool, seed: int = SEED) -> dict[str, np.ndarray]:
    """One window of ``rows`` rows: ``shifted`` plants :data:`PLANTED` in it.

    Numeric columns are float64 with NaN for missing; categorical ones are object arrays of
    str with None for missing. The reference and current windows draw from different streams
    of the same seed, so the unchanged columns differ by sampling noise only.
    """
    rng = np.random.default_rng([seed, int(shifted)])
    columns: dict[str, np.ndarray] = {}
    for name, draw in NUMERIC.items():
        columns[name] = draw(rng, rows, shifted)
    for name, (labels, shares, moved) in CATEGORIES.items():
        p = np.asarray(moved if shifted and moved is not None else shares, dtype=float)
        values = np.asarray(labels, dtype=object)[rng.choice(len(labels), rows, p=p / p.sum())]
        missing = MISSING_CATEGORY_SHARE.get(name, 0.0)
        if missing:
            values[rng.random(rows) < missing] = None
        columns[name] = values
    return columns


def numeric_columns() -> list[str]:
    """Names of the numeric columns, in order."""
    return list(NUMERIC)


def categorical_columns() -> list[str]:
    """Names of the categorical columns, in order."""
    return list(CATEGORIES)
