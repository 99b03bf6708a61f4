"""A stored window reference gives the very drift the freshly counted one gives."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipeline.monitoring import reference_store
from pipeline.monitoring.window import build_reference, drift_by_period

JAN, FEB, MAR = (date(2025, m, 1) for m in range(1, 4))


def _con() -> duckdb.DuckDBPyConnection:
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame(
        {
            "_period": [JAN] * n + [FEB] * n + [MAR] * n,
            "charges": np.concatenate([rng.normal(50, 10, 2 * n), rng.normal(55, 10, n)]),
            "plan": rng.choice(["basic", "plus"], 3 * n),
            "region": rng.choice(["North", "South"], 3 * n),
        }
    )
    frame.loc[rng.random(3 * n) < 0.03, "charges"] = np.nan
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE clean_rows AS SELECT * FROM frame")
    return con


def test_a_reference_survives_json_and_gives_the_same_drift() -> None:
    con = _con()
    fresh = build_reference(con, ["charges"], ["plan"], [JAN, FEB], ["region"])
    stored = reference_store.from_json(reference_store.to_json(fresh))
    assert stored == fresh  # -inf/+inf edges and every histogram come back
    before = [c.as_row() for c in drift_by_period(con, fresh, [MAR], min_rows=100)]
    after = [c.as_row() for c in drift_by_period(con, stored, [MAR], min_rows=100)]
    assert before == after and len(before) == 6  # 2 columns x (whole, North, South)


def test_the_key_changes_with_anything_the_counts_depend_on() -> None:
    base = {"version": 3, "periods": [JAN, FEB], "rows": 6000, "bins": 20}
    key = reference_store.cache_key(**base)
    assert key == reference_store.cache_key(**dict(reversed(base.items())))
    for change in ({"version": 4}, {"rows": 6001}, {"periods": [JAN]}, {"bins": 10}):
        assert reference_store.cache_key(**{**base, **change}) != key
