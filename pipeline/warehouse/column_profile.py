"""Profile one staged file: per column, how many values, how many are numbers, their quantiles,
and the categories it spells (what :func:`pipeline.contract.infer_contract` needs)."""

from __future__ import annotations

import duckdb

from pipeline.contract import ColumnProfile
from pipeline.warehouse.clean_common import NULL_TOKENS, clean_text, loaded_columns


def profile(
    cur: duckdb.DuckDBPyConnection, columns: list[str], table: str = "stage_raw", file: int = 0
) -> list[ColumnProfile]:
    """Measure each column of one staged file: non-null count, numeric share, quantiles,
    categories. A column that was not loaded (see :class:`Staged`) gets an empty profile."""
    loaded = set(loaded_columns(cur, table))
    measured = [c for c in columns if c in loaded]
    found: dict[str, ColumnProfile] = {}
    if measured:
        texts = ", ".join(f"{clean_text(c)} AS t{i}" for i, c in enumerate(measured))
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE clean_profile AS SELECT rowid AS _pos, {texts} "
            f"FROM {table} WHERE _staged_file = {int(file)}",
            {"tokens": NULL_TOKENS},
        )
        # A value starting with a letter (but for inf and nan) is never a number: it skips
        # the casts, which are slow when they fail.
        numbers = [
            f"CASE WHEN (ascii(t{i}) | 32) BETWEEN 97 AND 122 AND (ascii(t{i}) | 32) NOT IN "
            f"(105, 110) THEN NULL ELSE coalesce(TRY_CAST(t{i} AS DOUBLE), "
            f"TRY_CAST(replace(t{i}, ',', '') AS DOUBLE)) END"
            for i in range(len(measured))
        ]
        values = cur.execute(
            "SELECT "
            + ", ".join(
                f"count(t{i}), count({n}), quantile_cont({n}, [0.01, 0.99, 0.5])"
                for i, n in enumerate(numbers)
            )
            + " FROM clean_profile"
        ).fetchone()
        # One spelling per case-insensitive category: the most frequent one; ties go to the
        # spelling seen first, so the same file always gives the same contract.
        spelt = " UNION ALL ".join(
            f"SELECT {i} AS c, t{i} AS v, count(*) AS n, min(_pos) AS first FROM clean_profile "
            "GROUP BY ALL"
            for i in range(len(measured))
        )
        categories: dict[int, list[str]] = {}
        for c, v in cur.execute(
            f"WITH spelt AS ({spelt}), keys AS (SELECT c, "
            "arg_max(v, {'n': n, 'first': -first}) AS v, sum(n) AS total, min(first) AS first "
            "FROM spelt WHERE v IS NOT NULL GROUP BY c, lower(v)) SELECT c, v FROM keys "
            "QUALIFY row_number() OVER (PARTITION BY c ORDER BY total DESC, first) <= 201 "
            "ORDER BY c, total DESC, first"
        ).fetchall():
            categories.setdefault(c, []).append(v)
        cur.execute("DROP TABLE clean_profile")
        for i, col in enumerate(measured):
            non_null, numeric_ok, quantiles = values[3 * i : 3 * i + 3]
            q_low, q_high, median = quantiles if quantiles is not None else (None, None, None)
            found[col] = ColumnProfile(
                col, non_null, numeric_ok, q_low, q_high, categories.get(i, []), median
            )
    return [found.get(c, ColumnProfile(c, 0, 0, None, None, [], None)) for c in columns]
