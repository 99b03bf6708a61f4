"""Monitoring counts come from DuckDB GROUP BY queries and match the binning rule exactly."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.monitoring.binning import bin_counts, numeric_edges, quantile_levels
from pipeline.monitoring.drift import Histogram, compute
from pipeline.warehouse import monitor_counts

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


@pytest.fixture
def db():
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame(
        {
            "_period": [JAN] * n + [FEB] * n,
            "charges": np.concatenate([rng.normal(50, 10, n), rng.normal(58, 10, n)]),
            "region": rng.choice(["North", "South"], 2 * n),
            "plan": np.concatenate(
                [
                    rng.choice(["basic", "plus"], n, p=[0.7, 0.3]),
                    rng.choice(["basic", "plus"], n, p=[0.4, 0.6]),
                ]
            ),
        }
    )
    frame.loc[rng.random(2 * n) < 0.05, "charges"] = np.nan
    frame.loc[:10, "charges"] = 50.0  # a value equal to nothing special, and ties
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE clean_rows AS SELECT * FROM frame")
    yield con, frame
    con.close()


def test_numeric_counts_follow_the_right_closed_binning_rule(db) -> None:
    cur, frame = db
    ref = monitor_counts.numeric_reference(cur, "charges", [JAN], quantile_levels(10))
    edges = numeric_edges(ref["quantiles"])
    counts = monitor_counts.numeric_counts(cur, "charges", edges[1:-1], [JAN, FEB])
    for period in (JAN, FEB):
        values = frame.loc[frame["_period"] == period, "charges"]
        expected, sums, missing = bin_counts(values.to_numpy(), edges)
        got = counts[counts["period"] == pd.Timestamp(period)]
        present = got[got["bin"] >= 0].set_index("bin")
        assert [int(present["count"].get(i, 0)) for i in range(len(expected))] == expected
        assert np.allclose([present["sum"].get(i, 0.0) for i in range(len(sums))], sums)
        assert int(got.loc[got["bin"] == -1, "count"].sum()) == missing


def test_counts_by_segment_add_up_to_the_whole(db) -> None:
    cur, frame = db
    cuts = numeric_edges(
        monitor_counts.numeric_reference(cur, "charges", [JAN], quantile_levels())["quantiles"]
    )[1:-1]
    whole = monitor_counts.numeric_counts(cur, "charges", cuts, [FEB])
    parts = monitor_counts.numeric_counts(cur, "charges", cuts, [FEB], segment="region")
    assert set(parts["segment"]) == {"North", "South"}
    assert (
        parts.groupby("bin")["count"].sum().to_dict() == whole.set_index("bin")["count"].to_dict()
    )


def test_a_shifted_month_is_flagged_from_counts_alone(db) -> None:
    cur, frame = db
    ref = monitor_counts.numeric_reference(cur, "charges", [JAN], quantile_levels())
    edges = numeric_edges(ref["quantiles"])
    counts = monitor_counts.numeric_counts(cur, "charges", edges[1:-1], [JAN, FEB])

    def histogram(period: date, std: float | None = None) -> Histogram:
        rows = counts[counts["period"] == pd.Timestamp(period)]
        present = rows[rows["bin"] >= 0].set_index("bin").reindex(range(len(edges) - 1))
        return Histogram(
            counts=present["count"].fillna(0).tolist(),
            sums=present["sum"].fillna(0.0).tolist(),
            missing=int(rows.loc[rows["bin"] == -1, "count"].sum()),
            minimum=float(rows["minimum"].min()),
            maximum=float(rows["maximum"].max()),
            std=std,
        )

    same = compute(
        "numeric", None, histogram(JAN, ref["std"]), histogram(JAN), edges=edges, column="charges"
    )
    moved = compute(
        "numeric", None, histogram(JAN, ref["std"]), histogram(FEB), edges=edges, column="charges"
    )
    assert not same.drifted and moved.drifted
    assert 0.6 < moved.statistic < 1.0  # the mean moved by 0.8 reference standard deviations


def test_categorical_counts_keep_missing_apart(db) -> None:
    cur, frame = db
    cur.execute("UPDATE clean_rows SET plan = NULL WHERE rowid < 5")
    counts = monitor_counts.categorical_counts(cur, "plan", [JAN])
    assert counts["value"].isna().sum() == 1
    assert counts.loc[counts["value"].isna(), "count"].item() == 5
    assert counts["count"].sum() == (frame["_period"] == JAN).sum()
