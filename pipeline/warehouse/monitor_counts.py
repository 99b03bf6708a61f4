"""Counts for monitoring, computed where the data lives: one ``GROUP BY`` per column.

Drift statistics (``pipeline/monitoring``) are computed from these counts; raw rows are never
pulled into pandas. Numeric bins follow :mod:`pipeline.monitoring.binning`: cut points fixed on
the reference window, right-closed bins, so a value's bin is the number of cut points strictly
below it; missing values get bin -1. Column names come from the data contract and pass through
``quote_ident``; periods, cut points and segment values are bound parameters.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipeline.warehouse.connection import quote_ident

SOURCE = "clean_rows"  # published clean data; a run may point at its all_clean view instead
NO_SEGMENT = "(all)"


def _segment_sql(segment: str | None) -> str:
    if segment is None:
        return f"'{NO_SEGMENT}'"
    return f"coalesce(CAST({quote_ident(segment)} AS VARCHAR), '(missing)')"


def numeric_reference(
    cur: duckdb.DuckDBPyConnection,
    column: str,
    periods: list[date],
    levels: list[float],
    source: str = SOURCE,
) -> dict:
    """Quantiles at ``levels``, standard deviation, min, max and counts of ``column`` over the
    reference ``periods``: ``{"quantiles", "std", "minimum", "maximum", "rows", "missing"}``."""
    col = quote_ident(column)
    row = cur.execute(
        f"SELECT quantile_cont({col}, ?::DOUBLE[]), stddev_samp({col}), min({col}), "
        f"max({col}), count(*), count(*) - count({col}) "
        f"FROM {quote_ident(source)} WHERE list_contains(?, _period)",
        [levels, periods],
    ).fetchone()
    quantiles, std, low, high, rows, missing = row
    return {
        "quantiles": [float(q) for q in (quantiles or [])],
        "std": None if std is None else float(std),
        "minimum": None if low is None else float(low),
        "maximum": None if high is None else float(high),
        "rows": int(rows),
        "missing": int(missing),
    }


def numeric_counts(
    cur: duckdb.DuckDBPyConnection,
    column: str,
    cuts: list[float],
    periods: list[date],
    segment: str | None = None,
    source: str = SOURCE,
) -> pd.DataFrame:
    """Per period, segment value and bin: count, sum, min and max of ``column``.

    ``cuts`` are the interior edges (``numeric_edges(...)[1:-1]``). Columns: period, segment,
    bin (-1 = missing), count, sum, minimum, maximum; ordered by period, segment, bin.
    """
    col = quote_ident(column)
    return cur.execute(
        f"SELECT _period AS period, {_segment_sql(segment)} AS segment, "
        f"CASE WHEN {col} IS NULL THEN -1 "
        f"ELSE len(list_filter(?::DOUBLE[], lambda c: c < {col})) END AS bin, "
        f"count(*) AS count, sum({col}) AS sum, min({col}) AS minimum, max({col}) AS maximum "
        f"FROM {quote_ident(source)} WHERE list_contains(?, _period) "
        "GROUP BY ALL ORDER BY period, segment, bin",
        [cuts, periods],
    ).df()


def categorical_counts(
    cur: duckdb.DuckDBPyConnection,
    column: str,
    periods: list[date],
    segment: str | None = None,
    source: str = SOURCE,
) -> pd.DataFrame:
    """Per period, segment value and category: count. Columns: period, segment, value (None =
    missing), count; ordered by period, segment, value."""
    col = quote_ident(column)
    return cur.execute(
        f"SELECT _period AS period, {_segment_sql(segment)} AS segment, "
        f"CAST({col} AS VARCHAR) AS value, count(*) AS count "
        f"FROM {quote_ident(source)} WHERE list_contains(?, _period) "
        "GROUP BY ALL ORDER BY period, segment, value NULLS LAST",
        [periods],
    ).df()
