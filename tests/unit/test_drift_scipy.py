"""Every drift statistic equals a direct scipy or numpy computation within 1e-9 for the same bins.

The shared data take a dozen values only, and the cut points are those values, so every value
sits on the right edge of its bin: the binned data *are* the raw data, and KS and Wasserstein
from counts must equal scipy's on the raw values exactly, not within a bin. The counts are the
ones DuckDB returns (checked against the numpy reference binning first). "Within 1e-9" is
absolute, or relative for statistics above 1 (chi-square).
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon as scipy_jensenshannon
from scipy.special import rel_entr
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from pipeline.monitoring.binned import ks_from_binned, wasserstein_from_binned
from pipeline.monitoring.binning import bin_counts
from pipeline.monitoring.drift import chi_square, jensen_shannon, psi
from pipeline.warehouse import monitor_counts

SUPPORT = np.array([0.0, 1.5, 2.0, 3.25, 4.0, 5.5, 7.0, 8.0, 10.0, 12.5, 15.0, 20.0])
EDGES = [-math.inf, *SUPPORT[:-1], math.inf]  # value i sits on the right edge of bin i
REF, CUR = date(2025, 1, 1), date(2025, 2, 1)


def _approx(expected: float):
    return pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.fixture(scope="module", params=["shifted", "same distribution"])
def data(request):
    """Reference and current samples on SUPPORT (5 % missing), their DuckDB counts and sums."""
    rng = np.random.default_rng(2024)
    p_ref = np.linspace(1.0, 2.0, SUPPORT.size)
    p_cur = p_ref[::-1] if request.param == "shifted" else p_ref
    reference = rng.choice(SUPPORT, 6000, p=p_ref / p_ref.sum())
    current = rng.choice(SUPPORT, 4000, p=p_cur / p_cur.sum())
    for values in (reference, current):
        values[rng.random(values.size) < 0.05] = np.nan
    frame = pd.DataFrame(
        {"_period": [REF] * reference.size + [CUR] * current.size, "x": np.r_[reference, current]}
    )
    con = duckdb.connect()
    con.register("frame", frame)  # NaN arrives as NULL
    con.execute("CREATE TABLE t AS SELECT CAST(_period AS DATE) AS _period, x FROM frame")
    rows = monitor_counts.numeric_bins(con, "x", list(SUPPORT[:-1]), [REF, CUR], source="t")
    con.close()
    counts = {}
    for period, values in ((REF, reference), (CUR, current)):
        expected, sums, missing = bin_counts(values, EDGES)
        got = {b: (n, s) for p, b, n, s, _, _ in rows if p == period}
        assert [got.get(i, (0, 0))[0] for i in range(len(expected))] == expected
        assert got[-1][0] == missing
        counts[period] = (
            np.array(expected),
            [got.get(i, (0, 0.0))[1] for i in range(len(expected))],
            missing,
        )
    return reference, current, counts


def _present(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def test_psi_equals_the_symmetrised_kl_divergence_from_scipy(data) -> None:
    _, _, counts = data
    (ref, _, ref_missing), (cur, _, cur_missing) = counts[REF], counts[CUR]
    r = np.append(ref, ref_missing) / (ref.sum() + ref_missing)
    c = np.append(cur, cur_missing) / (cur.sum() + cur_missing)
    expected = float(np.sum(rel_entr(c, r) + rel_entr(r, c)))  # = sum((c - r) ln(c / r))
    assert expected == _approx(float(np.sum((c - r) * np.log(c / r))))
    got = psi(ref, cur, ref_missing=ref_missing, cur_missing=cur_missing)
    assert got.statistic == _approx(expected)


def test_jensen_shannon_equals_scipy_in_base_2(data) -> None:
    _, _, counts = data
    (ref, _, ref_missing), (cur, _, cur_missing) = counts[REF], counts[CUR]
    expected = scipy_jensenshannon(np.append(ref, ref_missing), np.append(cur, cur_missing), base=2)
    got = jensen_shannon(ref, cur, ref_missing=ref_missing, cur_missing=cur_missing)
    assert got.statistic == _approx(float(expected))


def test_chi_square_equals_scipy_contingency_without_correction(data) -> None:
    _, _, counts = data
    (ref, _, ref_missing), (cur, _, cur_missing) = counts[REF], counts[CUR]
    table = np.array([np.append(ref, ref_missing), np.append(cur, cur_missing)])
    statistic, p_value, _, _ = chi2_contingency(table, correction=False)
    got = chi_square(ref, cur, ref_missing=ref_missing, cur_missing=cur_missing)
    assert got.statistic == _approx(float(statistic))
    assert got.p_value == _approx(float(p_value))


def test_ks_statistic_and_p_value_equal_scipy_on_the_raw_values(data) -> None:
    reference, current, counts = data
    expected = ks_2samp(_present(reference), _present(current), method="asymp")
    got = ks_from_binned(EDGES, counts[REF][0], counts[CUR][0])
    assert got.statistic == _approx(float(expected.statistic))
    assert got.p_value == _approx(float(expected.pvalue))


def test_wasserstein_equals_scipy_on_the_raw_values_in_the_same_std(data) -> None:
    reference, current, counts = data
    ref, cur = _present(reference), _present(current)
    std = float(np.std(ref, ddof=1))
    expected = wasserstein_distance(ref, cur) / std
    got = wasserstein_from_binned(
        EDGES,
        counts[REF][0],
        counts[CUR][0],
        min(ref.min(), cur.min()),
        max(ref.max(), cur.max()),
        ref_sums=counts[REF][1],
        cur_sums=counts[CUR][1],
        ref_std=std,
    )
    assert got.statistic == _approx(float(expected))
