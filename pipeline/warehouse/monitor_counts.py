"""Counts for monitoring, computed where the data lives: one ``GROUP BY`` per column.

Drift statistics (``pipeline/monitoring``) are computed from these counts; raw rows are never
pulled into pandas. Numeric bins follow :mod:`pipeline.monitoring.binning`: cut points fixed on
the reference window, right-closed bins, so a value's bin is the number of cut points strictly
below it; missing values get bin -1. Column names come from the data contract and pass through
``quote_ident``; periods, cut points and segment values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from pipeline.monitoring import ALL
from pipeline.warehouse.connection import quote_ident

SOURCE = "clean_rows"  # published clean data; a run may point at its all_clean view instead


def _segment_sql(segment: str | None) -> str:
    if segment is None:
        return f"'{ALL}'"
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


# -- whole windows: every period and segment column of one column in one query ---------------
#: Reference quantiles (the bin edges) are taken on an evenly spaced sample of about this many
#: reference rows: every k-th row in storage order. Edges only have to split the reference into
#: roughly equal shares, and a sample of 20,000 puts each of 20 bins at 5 % ± 0.3 %; exact
#: quantiles over a million rows cost DuckDB 0.25-0.3 s per column, the sample about 6 ms.
#: Every count, sum and standard deviation is still over all rows.
QUANTILE_SAMPLE_ROWS = 20_000


def _in_periods(periods: list[date]) -> str:
    """``_period IN (?, ...)``: unlike ``list_contains`` it lets DuckDB skip row groups."""
    if not periods:
        raise ValueError("No periods given: pass at least one period to count.")
    return f"_period IN ({', '.join('?' * len(periods))})"


def _segment_columns(segments: Sequence[str]) -> str:
    return "".join(
        f", coalesce(CAST({quote_ident(s)} AS VARCHAR), '(missing)') AS _s{i}"
        for i, s in enumerate(segments)
    )


def _grouping_sets(segments: Sequence[str], key: str, by_period: bool) -> str:
    period = "_period, " if by_period else ""
    sets = [f"({period}{key})", *(f"({period}_s{i}, {key})" for i in range(len(segments)))]
    return f"GROUPING SETS ({', '.join(sets)})"


def _bin_sql(col: str, cuts: list[float]) -> tuple[str, list[float]]:
    """The bin index of ``col`` as a binary search of nested CASEs, and its parameters in order.

    Bin ``i`` holds ``cuts[i-1] < x <= cuts[i]``, i.e. the index is the number of cuts strictly
    below ``x``; NULL is -1. A binary search costs log2(bins) comparisons per row where a flat
    ``CASE`` (or ``list_filter``) costs up to one per cut.
    """
    params: list[float] = []

    def node(low: int, high: int) -> str:
        if low == high:
            return str(low)
        mid = (low + high) // 2
        params.append(float(cuts[mid]))
        left = node(low, mid)
        return f"CASE WHEN {col} <= ? THEN {left} ELSE {node(mid + 1, high)} END"

    return f"CASE WHEN {col} IS NULL THEN -1 ELSE {node(0, len(cuts))} END", params


def reference_quantiles(
    cur: duckdb.DuckDBPyConnection,
    columns: list[str],
    periods: list[date],
    levels: list[float],
    source: str = SOURCE,
    sample_rows: int = QUANTILE_SAMPLE_ROWS,
) -> dict:
    """Rows of the reference ``periods`` and each numeric column's quantiles at ``levels``.

    Returns ``{"rows": n, "every": k, "quantiles": {column: [...]}}``: quantiles of every
    ``k``-th row in storage order, ``k = ceil(rows / sample_rows)``, so of all rows when there
    are at most ``sample_rows`` (see :data:`QUANTILE_SAMPLE_ROWS`). They are ``quantile_disc``
    (numpy's ``inverted_cdf``): actual values, so cuts on integer or rounded data read as those
    values, and cheaper than ``quantile_cont``. One query for all columns (after a count).
    """
    table, where = quote_ident(source), _in_periods(periods)
    cols = [quote_ident(c) for c in columns]
    rows = int(cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", periods).fetchone()[0])
    every = max(1, -(-rows // sample_rows))
    found: tuple = ([],) * len(cols)
    if cols and rows:
        found = cur.execute(
            f"SELECT {', '.join(f'quantile_disc({c}, ?::DOUBLE[])' for c in cols)} FROM ("
            f"SELECT {', '.join(cols)}, row_number() OVER () AS _row FROM {table} "
            f"WHERE {where}) WHERE _row % ? = 0",
            [*([list(levels)] * len(cols)), *periods, every],
        ).fetchone()
    return {
        "rows": rows,
        "every": every,
        "quantiles": {name: [float(q) for q in (found[i] or [])] for i, name in enumerate(columns)},
    }


def numeric_bins(
    cur: duckdb.DuckDBPyConnection,
    column: str,
    cuts: list[float],
    periods: list[date],
    segments: Sequence[str] = (),
    source: str = SOURCE,
    by_period: bool = True,
    center: float | None = None,
) -> list[tuple]:
    """Count, sum, min and max of ``column`` per bin, for the whole window and each segment.

    One ``GROUP BY GROUPING SETS`` over ``periods``: per period (or, ``by_period=False``, the
    periods together, period None) and bin, then the same per value of each segment column.
    Rows are ``(period, s_0, ..., s_n, bin, count, sum, minimum, maximum)``: ``s_i`` is the
    value of ``segments[i]`` (``'(missing)'`` for NULL) in that segment column's rows and None
    elsewhere, all None for the whole window; bin -1 counts missing values. With ``center``,
    each row ends with ``sum((x - center)^2)`` too: the window's variance follows from these
    without a second scan, and centring on a typical value keeps the subtraction exact enough.
    """
    col = quote_ident(column)
    bin_sql, bin_params = _bin_sql(col, list(cuts))
    period = "_period" if by_period else "NULL::DATE"
    seg = "".join(f", _s{i}" for i in range(len(segments)))
    square = ", sum((_x - ?) * (_x - ?))" if center is not None else ""
    centre = [float(center)] * 2 if center is not None else []
    return cur.execute(
        f"SELECT {period}{seg}, _bin, count(*), sum(_x), min(_x), max(_x){square} FROM ("
        f"SELECT _period, {col} AS _x, {bin_sql} AS _bin{_segment_columns(list(segments))} "
        f"FROM {quote_ident(source)} WHERE {_in_periods(periods)}) "
        f"GROUP BY {_grouping_sets(list(segments), '_bin', by_period)}",
        [*centre, *bin_params, *periods],
    ).fetchall()


def category_counts(
    cur: duckdb.DuckDBPyConnection,
    column: str,
    periods: list[date],
    segments: Sequence[str] = (),
    source: str = SOURCE,
    by_period: bool = True,
) -> list[tuple]:
    """Count of each value of ``column``, for the whole window and each segment value.

    Same grouping as :func:`numeric_bins`; rows are ``(period, s_0, ..., s_n, value, count)``
    with the value as VARCHAR, None for missing.
    """
    col = quote_ident(column)
    period = "_period" if by_period else "NULL::DATE"
    seg = "".join(f", _s{i}" for i in range(len(segments)))
    return cur.execute(
        f"SELECT {period}{seg}, _v, count(*) FROM ("
        f"SELECT _period, CAST({col} AS VARCHAR) AS _v{_segment_columns(list(segments))} "
        f"FROM {quote_ident(source)} WHERE {_in_periods(periods)}) "
        f"GROUP BY {_grouping_sets(list(segments), '_v', by_period)}",
        list(periods),
    ).fetchall()
