"""Feature drift from counts: PSI, Jensen–Shannon, chi-square, binned KS and binned Wasserstein.

Every function takes per-bin (numeric) or per-category counts of one column in a reference
window and a current window, as returned by DuckDB ``GROUP BY`` queries with bin edges fixed
on the reference (see :mod:`pipeline.monitoring.binning`); raw rows are never needed. Each
returns a :class:`DriftResult` with the verdict in one sentence. :func:`compute` picks the
documented default method and threshold per column kind; :class:`DriftSpec` is the declarative
form a monitoring run stores per column. Choices are justified in ``docs/monitoring-drift.md``.

Missing values are counted apart from the bins. PSI, Jensen–Shannon and chi-square treat them
as one more bin/category, so a change in the missing share is drift. KS and Wasserstein live on
the number line and compare the distributions of present values only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import chi2

from pipeline.monitoring.binned import ks_from_binned, wasserstein_from_binned
from pipeline.monitoring.result import (
    DEFAULT_THRESHOLDS,
    METHODS,
    NAMES,
    P_VALUE_METHODS,
    DriftResult,
    paired_counts,
    verdict,
)

Kind = Literal["numeric", "categorical"]

#: Below this many counted values in either window, the default method is a test, not a distance
#: (at 200 rows per window, 20 bins of identical normals give a 95th-percentile Wasserstein of
#: 0.19 std and PSI of 0.3: past both thresholds on noise alone).
SMALL_SAMPLE = 1000
SMALL_SAMPLE_METHODS: dict[str, str] = {"numeric": "ks", "categorical": "chi_square"}
#: Floor for bin proportions in PSI, so an empty bin on one side gives a large finite term.
PSI_EPS = 1e-4


@dataclass(frozen=True)
class Histogram:
    """Counts of one column in one window, from one ``GROUP BY``.

    ``counts`` are per bin (numeric, in the order of the edges) or per category (the same
    category order on both sides). ``sums`` (per-bin ``SUM(x)``), ``minimum``, ``maximum`` and
    ``std`` are of the present values and only used by Wasserstein (``std`` of the reference:
    its unit of distance); see :func:`wasserstein_from_binned` for why sums are worth asking for.
    """

    counts: Sequence[float]
    missing: int = 0
    minimum: float | None = None
    maximum: float | None = None
    std: float | None = None
    sums: Sequence[float] | None = None


def psi(
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    *,
    ref_missing: float = 0,
    cur_missing: float = 0,
    eps: float = PSI_EPS,
    threshold: float = DEFAULT_THRESHOLDS["psi"],
    column: str = "the column",
) -> DriftResult:
    """Population stability index ``sum((c - r) * ln(c / r))`` over bin proportions ``r``, ``c``.

    Proportions below ``eps`` are raised to ``eps`` (a bin empty on one side would make the
    index infinite). Missing values are one more bin.
    """
    ref, cur = paired_counts(ref_counts, cur_counts, ref_missing, cur_missing)
    r = np.maximum(ref / ref.sum(), eps)
    c = np.maximum(cur / cur.sum(), eps)
    return verdict("psi", float(np.sum((c - r) * np.log(c / r))), threshold, None, column)


def jensen_shannon(
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    *,
    ref_missing: float = 0,
    cur_missing: float = 0,
    threshold: float = DEFAULT_THRESHOLDS["jensen_shannon"],
    column: str = "the column",
) -> DriftResult:
    """Jensen–Shannon *distance* in base 2: the square root of the divergence, in [0, 1].

    Symmetric, finite when a category is empty on one side, 0 for identical proportions.
    Missing values are one more category.
    """
    ref, cur = paired_counts(ref_counts, cur_counts, ref_missing, cur_missing)
    p, q = ref / ref.sum(), cur / cur.sum()
    m = (p + q) / 2

    def kl_to_m(x: np.ndarray) -> float:
        nz = x > 0  # 0 * log 0 = 0; m > 0 wherever x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    divergence = max(0.0, (kl_to_m(p) + kl_to_m(q)) / 2)  # rounding can dip below 0
    return verdict("jensen_shannon", math.sqrt(divergence), threshold, None, column)


def chi_square(
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    *,
    ref_missing: float = 0,
    cur_missing: float = 0,
    threshold: float = DEFAULT_THRESHOLDS["chi_square"],
    column: str = "the column",
) -> DriftResult:
    """Pearson chi-square test of homogeneity on the 2 x k table (no continuity correction).

    Categories empty in both windows are dropped; ``k - 1`` degrees of freedom; the p-value is
    ``scipy.stats.chi2.sf``. Missing values are one more category. With fewer than two
    non-empty categories there is nothing to compare: statistic 0, p-value 1.
    """
    ref, cur = paired_counts(ref_counts, cur_counts, ref_missing, cur_missing)
    table = np.vstack([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1:
        return verdict("chi_square", 0.0, threshold, 1.0, column)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return verdict("chi_square", statistic, threshold, float(chi2.sf(statistic, dof)), column)


def compute(
    kind: Kind,
    method: str | None,
    reference: Histogram,
    current: Histogram,
    *,
    edges: Sequence[float] | None = None,
    column: str = "the column",
    threshold: float | None = None,
) -> DriftResult:
    """Drift of one column between two windows with ``method`` (``None``: the kind's default).

    Defaults: Wasserstein (0.1 reference std) for numeric columns, Jensen–Shannon distance
    (0.1) for categorical ones; when either window has fewer than :data:`SMALL_SAMPLE` counted
    values, the kind's test instead (KS, chi-square at p < 0.05), because sampling noise alone
    then pushes the distances past their thresholds. Numeric methods need the reference
    ``edges`` the counts were taken with.
    """
    if kind not in METHODS:
        raise ValueError(f"Unknown column kind {kind!r}; use 'numeric' or 'categorical'.")
    if method is None:
        smallest = min(sum(reference.counts), sum(current.counts))
        method = METHODS[kind][0] if smallest >= SMALL_SAMPLE else SMALL_SAMPLE_METHODS[kind]
    if method not in METHODS[kind]:
        raise ValueError(
            f"Method {method!r} does not apply to {kind} column {column}; "
            f"choose one of {', '.join(METHODS[kind])}."
        )
    limit = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    ref, cur = reference.counts, current.counts
    if method in ("psi", "jensen_shannon", "chi_square"):
        fn = {"psi": psi, "jensen_shannon": jensen_shannon, "chi_square": chi_square}[method]
        return fn(
            ref,
            cur,
            ref_missing=reference.missing,
            cur_missing=current.missing,
            threshold=limit,
            column=column,
        )
    if edges is None:
        raise ValueError(f"{NAMES[method]} on {column} needs the reference bin edges.")
    if method == "ks":
        return ks_from_binned(edges, ref, cur, threshold=limit, column=column)
    bounds = [v for h in (reference, current) for v in (h.minimum, h.maximum) if v is not None]
    if not bounds:
        raise ValueError(
            f"Wasserstein on {column} needs the minimum and maximum of each window; "
            "add MIN and MAX to the counting query."
        )
    return wasserstein_from_binned(
        edges,
        ref,
        cur,
        min(bounds),
        max(bounds),
        ref_sums=reference.sums,
        cur_sums=current.sums,
        ref_std=reference.std,
        threshold=limit,
        column=column,
    )


@dataclass(frozen=True)
class DriftSpec:
    """What to monitor on one column: kind, reference edges, method and threshold."""

    column: str
    kind: Kind
    edges: tuple[float, ...] | None = None
    method: str | None = None
    threshold: float | None = None

    def compute(self, reference: Histogram, current: Histogram) -> DriftResult:
        """The drift of this column from ``reference`` to ``current``."""
        return compute(
            self.kind,
            self.method,
            reference,
            current,
            edges=self.edges,
            column=self.column,
            threshold=self.threshold,
        )


__all__ = [
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "P_VALUE_METHODS",
    "SMALL_SAMPLE",
    "DriftResult",
    "DriftSpec",
    "Histogram",
    "chi_square",
    "compute",
    "jensen_shannon",
    "ks_from_binned",
    "psi",
    "wasserstein_from_binned",
]
