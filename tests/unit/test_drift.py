"""Feature drift from counts: formulas by hand, agreement with scipy on raw data, verdicts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from pipeline.monitoring.binning import (
    DEFAULT_BINS,
    bin_counts,
    numeric_edges,
    quantile_levels,
)
from pipeline.monitoring.drift import (
    DriftSpec,
    Histogram,
    chi_square,
    compute,
    jensen_shannon,
    ks_from_binned,
    psi,
    wasserstein_from_binned,
)

RNG_SEED = 20240601


def _binned(reference: np.ndarray, current: np.ndarray, bins: int):
    """Edges on the reference quantiles, then counts of both windows, as the SQL would."""
    edges = numeric_edges(list(np.quantile(reference, quantile_levels(bins))))
    ref_counts, ref_sums, _ = bin_counts(reference, edges)
    cur_counts, cur_sums, _ = bin_counts(current, edges)
    return edges, ref_counts, cur_counts, ref_sums, cur_sums


def _samples(shift: float, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    return rng.normal(0.0, 1.0, n), rng.normal(shift, 1.0, n)


# --- binning ---------------------------------------------------------------------------------


def test_edges_are_sorted_deduplicated_and_open_ended() -> None:
    assert numeric_edges([3.0, 0.0, 0.0, 1.5]) == [-math.inf, 0.0, 1.5, 3.0, math.inf]
    assert numeric_edges([]) == [-math.inf, math.inf]
    assert len(quantile_levels()) == DEFAULT_BINS - 1


def test_non_finite_quantiles_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="must be finite.*drop NULL"):
        numeric_edges([0.0, float("nan")])


def test_bins_are_right_closed_and_missing_is_counted_apart() -> None:
    values = [0.0, 1.0, 1.5, 9.0, float("nan")]
    counts, sums, missing = bin_counts(values, [-math.inf, 1.0, math.inf])
    assert (counts, sums, missing) == ([2, 2], [1.0, 10.5], 1)


# --- formulas on tiny counts -----------------------------------------------------------------


def test_psi_matches_the_formula_by_hand() -> None:
    # proportions r = (0.5, 0.5), c = (0.25, 0.75)
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    result = psi([50, 50], [25, 75])
    assert result.statistic == pytest.approx(expected)
    assert result.p_value is None and result.drifted
    assert result.detail == "PSI 0.275 > 0.2: the distribution of the column moved"


def test_psi_floors_empty_bins_at_eps_and_counts_missing_as_a_bin() -> None:
    eps = 1e-4
    expected = (eps - 0.5) * math.log(eps / 0.5) + (1.0 - 0.5) * math.log(1.0 / 0.5)
    assert psi([5, 5], [0, 10], eps=eps).statistic == pytest.approx(expected)
    # Same present values, but the current window is half missing: that alone is drift.
    assert psi([10, 10], [10, 10], ref_missing=0, cur_missing=20).drifted


def test_jensen_shannon_is_symmetric_bounded_and_zero_for_identical_counts() -> None:
    a, b = [10, 30, 60], [40, 40, 20]
    assert jensen_shannon(a, b).statistic == pytest.approx(jensen_shannon(b, a).statistic)
    assert jensen_shannon(a, [1, 3, 6]).statistic == pytest.approx(0.0, abs=1e-7)
    assert jensen_shannon([1, 0], [0, 1]).statistic == pytest.approx(1.0)  # base 2: max is 1
    # Divergence by hand for p = (1, 0), q = (0.5, 0.5): m = (0.75, 0.25).
    divergence = (math.log2(1 / 0.75) + 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(2)) / 2
    assert jensen_shannon([4, 0], [2, 2]).statistic == pytest.approx(math.sqrt(divergence))


def test_chi_square_matches_scipy_contingency_and_drops_empty_categories() -> None:
    ref, cur = [30, 50, 0, 20], [45, 30, 0, 25]
    result = chi_square(ref, cur)
    statistic, p_value, dof, _ = chi2_contingency([[30, 50, 20], [45, 30, 25]], correction=False)
    assert dof == 2
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(p_value)
    assert result.drifted == (p_value < 0.05)


def test_chi_square_on_a_single_category_has_nothing_to_compare() -> None:
    result = chi_square([10, 0], [3, 0])
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)


# --- binned statistics against scipy on raw samples ------------------------------------------


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_binned_ks_is_a_lower_bound_within_one_bin_of_scipy(shift: float) -> None:
    reference, current = _samples(shift)
    edges, ref_counts, cur_counts, _, _ = _binned(reference, current, bins=100)
    raw = ks_2samp(reference, current, method="asymp")
    binned = ks_from_binned(edges, ref_counts, cur_counts)
    bin_share = max(
        max(ref_counts) / len(reference), max(cur_counts) / len(current)
    )  # the CDFs can move by at most this much inside one bin
    assert binned.statistic <= raw.statistic + 1e-12
    assert raw.statistic - binned.statistic <= bin_share
    assert binned.p_value == pytest.approx(raw.pvalue, rel=0.5, abs=0.05)


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
@pytest.mark.parametrize(
    ("bins", "with_sums", "tolerance"), [(20, True, 0.005), (200, False, 0.03)]
)
def test_binned_wasserstein_is_close_to_scipy(
    shift: float, bins: int, with_sums: bool, tolerance: float
) -> None:
    # With bin sums, 20 bins are enough; without, even 200 bins leave a small upward bias when
    # the current window runs past the reference range (its last bin is spread out uniformly).
    reference, current = _samples(shift)
    edges, ref_counts, cur_counts, ref_sums, cur_sums = _binned(reference, current, bins)
    std = float(reference.std(ddof=1))
    result = wasserstein_from_binned(
        edges,
        ref_counts,
        cur_counts,
        min(reference.min(), current.min()),
        max(reference.max(), current.max()),
        ref_sums=ref_sums if with_sums else None,
        cur_sums=cur_sums if with_sums else None,
        ref_std=std,
    )
    raw = wasserstein_distance(reference, current) / std
    assert result.statistic == pytest.approx(raw, abs=tolerance)
    assert result.statistic <= raw + 1e-9 or not with_sums  # with sums: a lower bound


def test_wasserstein_estimates_the_scale_from_the_bins_when_no_std_is_given() -> None:
    reference, current = _samples(0.5)
    edges, ref_counts, cur_counts, ref_sums, cur_sums = _binned(reference, current, DEFAULT_BINS)
    low = min(reference.min(), current.min())
    high = max(reference.max(), current.max())
    estimated = wasserstein_from_binned(
        edges, ref_counts, cur_counts, low, high, ref_sums=ref_sums, cur_sums=cur_sums
    )
    assert estimated.statistic == pytest.approx(0.5, abs=0.05)


def test_a_constant_reference_is_scaled_by_the_observed_range() -> None:
    edges = numeric_edges([0.0])
    result = wasserstein_from_binned(
        edges, [100, 0], [0, 100], 0.0, 5.0, ref_sums=[0, 0], cur_sums=[0, 500], ref_std=0.0
    )
    assert result.statistic == pytest.approx(1.0) and result.drifted


# --- verdicts through the dispatcher ---------------------------------------------------------


def _numeric_histograms(shift: float, bins: int = DEFAULT_BINS):
    reference, current = _samples(shift)
    edges, ref_counts, cur_counts, ref_sums, cur_sums = _binned(reference, current, bins)
    std = reference.std(ddof=1)
    ref = Histogram(ref_counts, 0, reference.min(), reference.max(), std, ref_sums)
    cur = Histogram(cur_counts, 0, current.min(), current.max(), sums=cur_sums)
    return edges, ref, cur


@pytest.mark.parametrize("method", [None, "wasserstein", "psi", "ks"])
def test_identical_numeric_windows_show_no_drift(method: str | None) -> None:
    rng = np.random.default_rng(RNG_SEED)
    values = rng.gamma(2.0, 30.0, 4000)
    edges = numeric_edges(list(np.quantile(values, quantile_levels())))
    counts, sums, _ = bin_counts(values, edges)
    same = Histogram(counts, 0, values.min(), values.max(), values.std(ddof=1), sums)
    result = compute("numeric", method, same, same, edges=edges, column="monthly_charges")
    assert not result.drifted
    assert result.statistic == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", [None, "wasserstein", "psi", "ks"])
def test_a_shifted_numeric_distribution_is_flagged(method: str | None) -> None:
    edges, ref, cur = _numeric_histograms(shift=0.5)
    result = compute("numeric", method, ref, cur, edges=edges, column="monthly_charges")
    assert result.drifted
    assert result.detail.endswith("the distribution of monthly_charges moved")


def test_numeric_default_is_wasserstein_in_reference_standard_deviations() -> None:
    edges, ref, cur = _numeric_histograms(shift=0.5)
    result = DriftSpec("monthly_charges", "numeric", tuple(edges)).compute(ref, cur)
    assert result.method == "wasserstein" and result.threshold == 0.1
    assert result.statistic == pytest.approx(0.5, abs=0.05)
    assert "reference standard deviations > 0.1" in result.detail
    assert result.detail.startswith("Wasserstein distance 0.")


@pytest.mark.parametrize("method", [None, "jensen_shannon", "psi", "chi_square"])
def test_categorical_identical_is_stable_and_a_moved_mix_is_flagged(method: str | None) -> None:
    ref = Histogram([800, 300, 200], missing=10)
    assert not compute("categorical", method, ref, ref, column="plan").drifted
    moved = Histogram([200, 300, 800], missing=10)
    result = compute("categorical", method, ref, moved, column="plan")
    assert result.drifted and "plan moved" in result.detail


def test_categorical_default_is_jensen_shannon_distance() -> None:
    result = compute("categorical", None, Histogram([600, 400]), Histogram([500, 500]))
    assert (result.method, result.threshold) == ("jensen_shannon", 0.1)


@pytest.mark.parametrize(("kind", "test"), [("numeric", "ks"), ("categorical", "chi_square")])
def test_small_windows_default_to_a_significance_test(kind: str, test: str) -> None:
    # 150 rows: sampling noise alone would push a distance past its threshold.
    edges = numeric_edges([0.0])
    reference = Histogram([80, 70], 0, -1.0, 1.0, 0.5)
    current = Histogram([75, 75], 0, -1.0, 1.0)
    result = compute(kind, None, reference, current, edges=edges)
    assert result.method == test and result.threshold == 0.05 and not result.drifted


# --- errors people can act on, and JSON ------------------------------------------------------


def test_empty_current_window_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="current window has no values to compare.*skip"):
        psi([10, 20], [0, 0])
    edges = numeric_edges([1.0])
    with pytest.raises(ValueError, match="current window has no values to compare"):
        ks_from_binned(edges, [10, 20], [0, 0])
    with pytest.raises(ValueError, match="current window has no values to compare"):
        compute("numeric", None, Histogram([10, 20], 0, 0.0, 2.0), Histogram([0, 0]), edges=edges)


def test_mismatched_bins_and_unknown_methods_are_refused() -> None:
    with pytest.raises(ValueError, match="same bins or categories, got 2 and 3"):
        jensen_shannon([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="3 strictly increasing bin edges"):
        ks_from_binned([0.0, 1.0], [1, 2], [1, 2])
    with pytest.raises(ValueError, match="'chi_square' does not apply to numeric column x"):
        compute("numeric", "chi_square", Histogram([1]), Histogram([1]), column="x")


def test_results_are_json_able() -> None:
    edges, ref, cur = _numeric_histograms(shift=0.5)
    for method in ("wasserstein", "psi", "ks"):
        record = compute("numeric", method, ref, cur, edges=edges).as_json()
        assert json.loads(json.dumps(record, allow_nan=False)) == record
    record = chi_square([5, 5], [1, 9]).as_json()
    assert set(record) == {"method", "statistic", "threshold", "drifted", "p_value", "detail"}
    assert isinstance(json.loads(json.dumps(record))["p_value"], float)
