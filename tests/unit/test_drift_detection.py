"""The issue's detection test: planted shifts in 1M-row windows are flagged, nothing else is.

Reference and current windows of 1,000,000 rows with 20 numeric and 5 categorical columns
(``benchmarks/_drift_data.py``: normal, lognormal, heavy tails, integers with ties, a point mass
at zero, binary, 5 % missing), shifts planted in six columns, one a mean shift of only 0.25
standard deviations. Drift runs with the default methods through DuckDB exactly as the monitor
step runs it. About 10 s and 1.3 GB of memory on two cores.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from benchmarks import _drift_data
from pipeline.monitoring.window import ALL, build_reference, drift_by_period

ROWS = 1_000_000
REFERENCE, CURRENT = date(2025, 1, 1), date(2025, 2, 1)


def _table(rows: int) -> pa.Table:
    """Both windows in one Arrow table with a ``_period`` column."""
    columns: dict[str, list[pa.Array]] = {"_period": []}
    for period, shifted in ((REFERENCE, False), (CURRENT, True)):
        window = _drift_data.window(rows, shifted)
        columns["_period"].append(pa.array(np.full(rows, np.datetime64(period, "D"))))
        for name, values in window.items():
            kind = pa.string() if values.dtype == object else pa.float64()
            columns.setdefault(name, []).append(pa.array(values, type=kind, from_pandas=True))
    return pa.table({name: pa.concat_arrays(parts) for name, parts in columns.items()})


@pytest.fixture(scope="module")
def warehouse():
    con = duckdb.connect()
    frames = _table(ROWS)
    con.register("frames", frames)
    con.execute("CREATE TABLE windows AS SELECT * FROM frames")
    con.unregister("frames")
    del frames
    yield con
    con.close()


def test_every_planted_shift_is_flagged_and_no_unchanged_column_is(warehouse) -> None:
    numeric, categorical = _drift_data.numeric_columns(), _drift_data.categorical_columns()
    reference = build_reference(warehouse, numeric, categorical, [REFERENCE], source="windows")
    cells = drift_by_period(warehouse, reference, [CURRENT])
    assert {c.segment_column for c in cells} == {ALL} and len(cells) == 25
    by_column = {c.column: c for c in cells}
    flagged = {c.column for c in cells if c.result.drifted}
    assert flagged == set(_drift_data.PLANTED), {c.column: c.sentence for c in cells}

    subtle = by_column["n00"].result  # mean + 0.25 std: Wasserstein reads the shift itself
    assert subtle.method == "wasserstein" and subtle.statistic == pytest.approx(0.25, abs=0.01)
    for name, cell in by_column.items():
        if name not in _drift_data.PLANTED:
            # Not even "watch": sampling noise at 1M rows is far below half the threshold.
            assert cell.severity == "ok" and cell.result.statistic < 0.01, cell.sentence


def test_decile_psi_misses_the_quarter_std_shift(warehouse) -> None:
    """The anchor the issue measured against: PSI on 10 reference deciles stays under 0.1."""
    reference = build_reference(
        warehouse, ["n00"], [], [REFERENCE], source="windows", bins=10, numeric_method="psi"
    )
    (cell,) = drift_by_period(warehouse, reference, [CURRENT])
    assert cell.result.method == "psi" and len(cell.histogram["labels"]) == 10
    assert 0.04 < cell.result.statistic < 0.1 and not cell.result.drifted
