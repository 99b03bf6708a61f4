"""Drift of whole windows from DuckDB counts equals drift computed on the same rows by hand."""

from __future__ import annotations

import json
import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.monitoring.binning import bin_counts, numeric_edges, quantile_levels
from pipeline.monitoring.drift import Histogram, compute
from pipeline.monitoring.result import DriftResult
from pipeline.monitoring.window import (
    ALL,
    build_reference,
    drift_by_period,
    numeric_labels,
    severity_of,
)
from pipeline.warehouse import monitor_counts

JAN, FEB, MAR, APR, MAY = (date(2025, m, 1) for m in range(1, 6))
REFERENCE = [JAN, FEB]
N = 1500  # rows per region and period


@pytest.fixture(scope="module")
def world():
    """Jan-Feb reference; March shifted in South only, with a new plan; April without charges."""
    rng = np.random.default_rng(11)
    parts = []
    for period in (JAN, FEB, MAR, APR):
        for region, rows in (("North", N), ("South", N), ("Tiny", 40)):
            moved = period == MAR and region == "South"
            plans = ["basic", "plus", "enterprise"] if period == MAR else ["basic", "plus"]
            shares = [0.5, 0.3, 0.2] if period == MAR else [0.6, 0.4]
            charges = rng.normal(58.0 if moved else 50.0, 10.0, rows)
            charges[rng.random(rows) < 0.05] = np.nan
            if period == APR:
                charges[:] = np.nan
            parts.append(
                pd.DataFrame(
                    {
                        "_period": [period] * rows,
                        "charges": charges,
                        "tenure": rng.integers(0, 6, rows).astype(float),
                        "plan": rng.choice(plans, rows, p=shares),
                        "region": [region] * rows,
                    }
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(
        "CREATE TABLE clean_rows AS SELECT CAST(_period AS DATE) AS _period, "
        "* EXCLUDE (_period) FROM frame"
    )
    con.unregister("frame")
    reference = build_reference(con, ["charges", "tenure"], ["plan"], REFERENCE, ["region"])
    yield con, frame, reference
    con.close()


def _rows(frame: pd.DataFrame, periods: list[date], region: str | None = None) -> pd.DataFrame:
    part = frame[frame["_period"].isin(periods)]
    return part if region is None else part[part["region"] == region]


def _by_hand(values: np.ndarray, edges, std: float | None = None) -> Histogram:
    counts, sums, missing = bin_counts(values, edges)
    present = values[~np.isnan(values)]
    return Histogram(counts, missing, float(present.min()), float(present.max()), std, sums)


def _cell(cells, column: str, period: date, segment: str = ALL, value: str = ALL):
    found = [
        c
        for c in cells
        if (c.column, c.period, c.segment_column, c.segment_value)
        == (column, period, segment, value)
    ]
    assert len(found) == 1, f"expected one cell for {column} {period} {segment}={value}"
    return found[0]


# --- numeric ---------------------------------------------------------------------------------


def test_edges_are_reference_quantiles_of_the_whole_window(world) -> None:
    con, frame, reference = world
    values = _rows(frame, REFERENCE)["charges"].dropna().to_numpy()
    expected = numeric_edges(list(np.quantile(values, quantile_levels(), method="inverted_cdf")))
    assert list(reference.columns["charges"].spec.edges) == pytest.approx(expected, rel=1e-12)
    assert reference.rows == len(_rows(frame, REFERENCE)) and reference.sampled_every == 1
    # The whole window's std, the Wasserstein unit, is shared by every segment.
    std = values.std(ddof=1)
    for histogram in reference.columns["charges"].histograms.values():
        assert histogram.std == pytest.approx(std, rel=1e-12)
    # Integers 0-5: repeated quantiles collapse into one cut per value.
    assert reference.columns["tenure"].spec.edges[1:-1] == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)


@pytest.mark.parametrize(("region", "drifted"), [(None, True), ("South", True), ("North", False)])
def test_drift_equals_compute_on_counts_binned_by_hand(world, region, drifted) -> None:
    con, frame, reference = world
    cells = drift_by_period(con, reference, [MAR])
    col = reference.columns["charges"]
    std = float(_rows(frame, REFERENCE)["charges"].std(ddof=1))  # whole window, all segments
    ref = _by_hand(_rows(frame, REFERENCE, region)["charges"].to_numpy(), col.spec.edges, std)
    cur = _by_hand(_rows(frame, [MAR], region)["charges"].to_numpy(), col.spec.edges)
    expected = compute("numeric", None, ref, cur, edges=col.spec.edges, column="charges")

    cell = _cell(cells, "charges", MAR, "region" if region else ALL, region or ALL)
    assert cell.result.method == expected.method == "wasserstein"
    assert cell.result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert cell.result.drifted is expected.drifted is drifted
    assert (cell.rows_reference, cell.rows_current) == (
        sum(ref.counts) + ref.missing,
        sum(cur.counts) + cur.missing,
    )
    shares = [c / cell.rows_current for c in [*cur.counts, cur.missing]]
    assert cell.histogram["current"] == pytest.approx(shares, abs=1e-6)


def test_missing_values_are_the_last_histogram_entry(world) -> None:
    con, frame, reference = world
    cell = _cell(drift_by_period(con, reference, [MAR]), "charges", MAR)
    histogram = cell.histogram
    assert histogram["labels"][-1] == "missing"
    assert len(histogram["labels"]) == len(histogram["reference"]) == len(histogram["current"])
    assert sum(histogram["reference"]) == pytest.approx(1.0, abs=1e-5)
    assert sum(histogram["current"]) == pytest.approx(1.0, abs=1e-5)
    march = _rows(frame, [MAR])["charges"]
    assert histogram["current"][-1] == pytest.approx(march.isna().mean(), abs=1e-6)
    assert histogram["labels"][0].startswith("≤ ") and histogram["labels"][-2].startswith("> ")


def test_a_column_missing_in_a_whole_period_is_compared_on_its_missing_share(world) -> None:
    con, _, reference = world
    cell = _cell(drift_by_period(con, reference, [APR]), "charges", APR)
    assert cell.result.method == "psi" and cell.severity == "drift"
    assert cell.histogram["current"][-1] == 1.0
    assert cell.sentence.endswith(
        "(every value is missing in the current window, so PSI compares shares)"
    )


# --- categorical -----------------------------------------------------------------------------


def test_a_category_seen_only_in_current_periods_is_appended_and_counted(world) -> None:
    con, frame, reference = world
    assert reference.columns["plan"].categories == ["basic", "plus"]  # most frequent first
    cell = _cell(drift_by_period(con, reference, [MAR]), "plan", MAR)
    assert cell.histogram["labels"] == ["basic", "plus", "enterprise"]
    assert cell.histogram["reference"][2] == 0.0 and cell.histogram["current"][2] > 0.15
    ref = _rows(frame, REFERENCE)["plan"].value_counts()
    cur = _rows(frame, [MAR])["plan"].value_counts()
    labels = cell.histogram["labels"]
    expected = compute(
        "categorical",
        None,
        Histogram([int(ref.get(c, 0)) for c in labels]),
        Histogram([int(cur.get(c, 0)) for c in labels]),
        column="plan",
    )
    assert cell.result.method == "jensen_shannon"
    assert cell.result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert cell.result.drifted


# --- segments, empty windows, rows -----------------------------------------------------------


def test_small_segment_values_are_skipped_unless_min_rows_allows_them(world) -> None:
    con, _, reference = world
    cells = drift_by_period(con, reference, [MAR])
    values = {(c.segment_column, c.segment_value) for c in cells}
    assert values == {(ALL, ALL), ("region", "North"), ("region", "South")}
    tiny = _cell(
        drift_by_period(con, reference, [MAR], min_rows=10), "charges", MAR, "region", "Tiny"
    )
    # 40 rows a period: the small-sample test, not the distance.
    assert tiny.result.method == "ks" and tiny.rows_current == 40


def test_a_segment_sentence_names_the_segment(world) -> None:
    con, _, reference = world
    cell = _cell(drift_by_period(con, reference, [MAR]), "charges", MAR, "region", "South")
    assert cell.sentence.startswith("Wasserstein distance 0.")
    assert cell.sentence.endswith("the distribution of charges moved in region South")


def test_empty_windows(world) -> None:
    con, _, reference = world
    with pytest.raises(
        ValueError, match=r"reference window \(2024-01-01\) has no rows in clean_rows"
    ):
        build_reference(con, ["charges"], ["plan"], [date(2024, 1, 1)])
    assert drift_by_period(con, reference, [MAY]) == []  # a period without rows: no cells
    assert drift_by_period(con, reference, []) == []


def test_cells_are_ordered_and_fill_drift_results_rows(world) -> None:
    con, _, reference = world
    cells = drift_by_period(con, reference, [APR, MAR])
    keys = [(c.period, c.column, c.segment_column, c.segment_value) for c in cells]
    assert keys[0] == (MAR, "charges", ALL, ALL)
    assert keys == sorted(
        keys, key=lambda k: (k[0], ["charges", "tenure", "plan"].index(k[1]), k[2] != ALL, k[3])
    )
    assert len(set(keys)) == len(keys)  # the drift_results primary key
    row = cells[0].as_row()
    assert set(row) == {
        "period", "column_name", "kind", "segment_column", "segment_value", "method",
        "statistic", "threshold", "p_value", "drifted", "severity", "rows_reference",
        "rows_current", "histogram", "sentence",
    }  # fmt: skip
    for cell in cells:
        json.dumps(cell.as_row()["histogram"], allow_nan=False)
        assert cell.severity in {"ok", "watch", "drift"}


def test_configured_method_and_threshold_apply_to_every_cell(world) -> None:
    con, _, _ = world
    reference = build_reference(
        con, ["charges"], ["plan"], REFERENCE, numeric_method="psi", thresholds={"psi": 0.05}
    )
    cell = _cell(drift_by_period(con, reference, [MAR]), "charges", MAR)
    assert (cell.result.method, cell.result.threshold) == ("psi", 0.05)
    with pytest.raises(ValueError, match="'ks' is not a categorical drift method"):
        build_reference(con, [], ["plan"], REFERENCE, categorical_method="ks")


def test_any_view_with_a_period_column_is_a_source(world) -> None:
    con, _, reference = world
    con.execute("CREATE OR REPLACE TEMP VIEW recent AS SELECT * FROM clean_rows WHERE charges > 0")
    on_view = build_reference(con, ["charges"], [], REFERENCE, source="recent")
    cells = drift_by_period(con, on_view, [MAR])
    assert on_view.source == "recent" and [c.column for c in cells] == ["charges"]
    with pytest.raises(ValueError, match="unsafe SQL identifier"):
        build_reference(con, ["charges"], [], REFERENCE, source="clean_rows; DROP TABLE x")


# --- the counting SQL ------------------------------------------------------------------------


@pytest.mark.parametrize("cuts", [[], [0.0], [0.0, 1.0], [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0]])
def test_binary_search_bins_follow_the_right_closed_rule(cuts) -> None:
    values = np.array([-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 4.0, 9.0, np.nan])
    con = duckdb.connect()
    con.execute("CREATE TABLE t (_period DATE, x DOUBLE)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?)", [[JAN, None if np.isnan(v) else v] for v in values]
    )
    rows = monitor_counts.numeric_bins(con, "x", cuts, [JAN], source="t")
    got = {b: n for _, b, n, *_ in rows}
    counts, _, missing = bin_counts(values, [-math.inf, *cuts, math.inf])
    assert [got.get(i, 0) for i in range(len(counts))] == counts and got[-1] == missing


def test_reference_quantiles_use_every_kth_row_of_a_large_window() -> None:
    values = np.random.default_rng(3).lognormal(0.0, 1.0, 1000)
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"_period": [JAN] * values.size, "x": values}))
    con.execute("CREATE TABLE t AS SELECT CAST(_period AS DATE) AS _period, x FROM frame")
    levels = quantile_levels()
    stats = monitor_counts.reference_quantiles(con, ["x"], [JAN], levels, "t", sample_rows=300)
    assert stats["rows"] == 1000 and stats["every"] == 4
    expected = np.quantile(values[3::4], levels, method="inverted_cdf")  # rows 4, 8, ...
    assert stats["quantiles"]["x"] == pytest.approx(list(expected), rel=1e-12)


def test_reference_std_from_bins_survives_a_large_offset() -> None:
    values = 1.7e9 + np.random.default_rng(5).normal(0.0, 100.0, 5000)  # e.g. epoch seconds
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"_period": [JAN] * values.size, "x": values}))
    con.execute("CREATE TABLE t AS SELECT CAST(_period AS DATE) AS _period, x FROM frame")
    reference = build_reference(con, ["x"], [], [JAN], source="t")
    std = reference.columns["x"].histograms[(ALL, ALL)].std
    assert std == pytest.approx(values.std(ddof=1), rel=1e-9)


# --- words -----------------------------------------------------------------------------------


def test_bin_labels_read_as_ranges_and_stay_distinct() -> None:
    assert numeric_labels([29.53, 31.2, 118.0]) == ["≤ 29.5", "29.5 – 31.2", "31.2 – 118", "> 118"]
    assert numeric_labels([1000.1, 1000.4]) == ["≤ 1,000.1", "1,000.1 – 1,000.4", "> 1,000.4"]
    assert numeric_labels([0.0, 0.00012]) == ["≤ 0", "0 – 0.00012", "> 0.00012"]
    assert numeric_labels([]) == ["all values"]


@pytest.mark.parametrize(
    ("method", "statistic", "p_value", "drifted", "expected"),
    [
        ("wasserstein", 0.2, None, True, "drift"),
        ("wasserstein", 0.06, None, False, "watch"),
        ("wasserstein", 0.05, None, False, "ok"),
        ("ks", 0.1, 0.07, False, "watch"),
        ("ks", 0.1, 0.3, False, "ok"),
    ],
)
def test_severity_is_drift_watch_or_ok(method, statistic, p_value, drifted, expected) -> None:
    threshold = 0.05 if p_value is not None else 0.1
    result = DriftResult(method, statistic, threshold, drifted, p_value, "")
    assert severity_of(result) == expected
