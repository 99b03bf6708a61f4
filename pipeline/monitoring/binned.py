"""Kolmogorov–Smirnov and Wasserstein from binned numeric counts (edges fixed on the reference).

Bins are right-closed (see :mod:`pipeline.monitoring.binning`), so the cumulative shares at the
edges are the exact empirical CDFs there; between edges the data are unknown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import kstwo

from pipeline.monitoring.result import DEFAULT_THRESHOLDS, DriftResult, paired_counts, verdict


def _edges(edges: Sequence[float], bins: int) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if e.size != bins + 1 or np.any(np.isnan(e)) or np.any(np.diff(e) <= 0):
        raise ValueError(
            f"Expected {bins + 1} strictly increasing bin edges for {bins} bins, got {list(e)}; "
            "build them with numeric_edges() on the reference quantiles."
        )
    return e


def _cdfs(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDFs at every edge (right-closed bins: exact there), starting at 0."""
    f = np.concatenate([[0.0], np.cumsum(ref) / ref.sum()])
    g = np.concatenate([[0.0], np.cumsum(cur) / cur.sum()])
    return f, g


def ks_from_binned(
    edges: Sequence[float],
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    *,
    threshold: float = DEFAULT_THRESHOLDS["ks"],
    column: str = "the column",
) -> DriftResult:
    """Two-sample Kolmogorov–Smirnov on binned data: max |F_ref - F_cur| at the bin edges.

    The CDFs are exact at the edges and unknown between them, so this is a lower bound on the
    raw-data statistic, short of it by at most one bin's share. The p-value is the asymptotic
    one scipy's ``ks_2samp`` uses (``kstwo`` with effective n = n*m/(n+m)); being computed on
    a lower-bound statistic, it errs towards "no drift". Missing values are excluded.
    """
    ref, cur = paired_counts(ref_counts, cur_counts)
    _edges(edges, ref.size)
    f, g = _cdfs(ref, cur)
    statistic = float(np.max(np.abs(f - g)))
    n, m = ref.sum(), cur.sum()
    effective_n = max(1, round(n * m / (n + m)))
    p_value = float(np.clip(kstwo.sf(statistic, effective_n), 0.0, 1.0))
    return verdict("ks", statistic, threshold, p_value, column)


def wasserstein_from_binned(
    edges: Sequence[float],
    ref_counts: Sequence[float],
    cur_counts: Sequence[float],
    observed_min: float,
    observed_max: float,
    *,
    ref_sums: Sequence[float] | None = None,
    cur_sums: Sequence[float] | None = None,
    ref_std: float | None = None,
    threshold: float = DEFAULT_THRESHOLDS["wasserstein"],
    column: str = "the column",
) -> DriftResult:
    """1-D Wasserstein distance, the integral of |F_ref - F_cur|, in reference standard deviations.

    Two estimates, by what the counting query returns:

    * with per-bin sums of the values (``ref_sums``, ``cur_sums``: ``SUM(x)`` in the same
      ``GROUP BY``), the integral of ``F_ref - F_cur`` over each bin is exact (integration by
      parts), open outer bins included; the distance sums their absolute values, exact when
      the CDFs do not cross inside a bin and a lower bound otherwise. Preferred.
    * without them, edges are clipped to ``[observed_min, observed_max]`` (the smallest and
      largest present value of *either* window) to close the open outer bins, and values are
      taken as uniform within each bin. Fine bins are needed for this to be accurate: the
      outer bins, where a shifted window piles up, are where uniformity is worst.

    The distance is divided by ``ref_std`` (pass ``stddev_samp`` of the reference; when omitted
    it is estimated from the binned reference), so the statistic and its threshold are
    unit-free. A constant reference (std 0) is scaled by the observed range instead, and by 1
    when both windows hold a single value. Missing values are excluded.
    """
    ref, cur = paired_counts(ref_counts, cur_counts)
    raw_edges = _edges(edges, ref.size)
    if not (
        math.isfinite(observed_min) and math.isfinite(observed_max) and observed_min <= observed_max
    ):
        raise ValueError(
            f"observed_min and observed_max must be finite with min <= max, got "
            f"{observed_min} and {observed_max}; take MIN and MAX over both windows."
        )
    e = np.clip(raw_edges, observed_min, observed_max)
    f, g = _cdfs(ref, cur)
    d = f - g
    if ref_sums is not None and cur_sums is not None:
        distance = _distance_from_sums(raw_edges, d, ref, cur, ref_sums, cur_sums)
    else:
        a, b = np.abs(d[:-1]), np.abs(d[1:])
        crossing = np.divide(a**2 + b**2, 2 * (a + b), out=np.zeros_like(a), where=(a + b) > 0)
        shape = np.where(d[:-1] * d[1:] >= 0, (a + b) / 2, crossing)
        distance = float(np.sum(np.diff(e) * shape))

    scale = ref_std if ref_std is not None else _binned_std(e, ref, ref_sums)
    if not (scale > 0 and math.isfinite(scale)):
        scale = (observed_max - observed_min) or 1.0
    unit = " reference standard deviations"
    return verdict("wasserstein", distance / scale, threshold, None, column, unit)


def _binned_std(edges: np.ndarray, counts: np.ndarray, sums: Sequence[float] | None) -> float:
    """Std of the binned reference: bin means (or midpoints) plus uniform spread in inner bins.

    The outer bins' spread is left out: clipped to the observed range, it is mostly made up.
    """
    p = counts / counts.sum()
    widths = np.diff(edges)
    if sums is not None:
        centres = np.divide(
            np.asarray(sums, dtype=float), counts, out=np.zeros_like(p), where=p > 0
        )
    else:
        centres = (edges[:-1] + edges[1:]) / 2
    mean = float(np.sum(p * centres))
    spread = widths**2 / 12
    spread[[0, -1]] = 0.0
    return math.sqrt(float(np.sum(p * ((centres - mean) ** 2 + spread))))


def _distance_from_sums(
    edges: np.ndarray,
    d: np.ndarray,
    ref: np.ndarray,
    cur: np.ndarray,
    ref_sums: Sequence[float],
    cur_sums: Sequence[float],
) -> float:
    """Sum over bins of |integral of (F_ref - F_cur)|, exact per bin from the bin sums.

    Over a bin (a, b], the integral of F is ``b F(b) - a F(a) - sum(x in bin) / n``; the
    boundary term ``x * d(x)`` vanishes at an infinite edge because d = 0 beyond the data.
    """
    rs, cs = np.asarray(ref_sums, dtype=float), np.asarray(cur_sums, dtype=float)
    if rs.shape != ref.shape or cs.shape != cur.shape or not np.all(np.isfinite([*rs, *cs])):
        raise ValueError(
            f"Bin sums must be finite, one per bin ({ref.size}); got {rs.size} and {cs.size}."
        )
    boundary = np.where(np.isfinite(edges), edges, 0.0) * d
    per_bin = np.diff(boundary) - (rs / ref.sum() - cs / cur.sum())
    return float(np.sum(np.abs(per_bin)))
