"""Data quality over time, per period: computed from batch statistics, never from raw rows.

Per column: the missing rate and the out-of-range rate (values outside the contract's range),
both as measured before cleaning repaired anything; per categorical column, the share of kept
values outside the contract's categories (unseen categories a ``warn`` rule let through). Per
period (column ``(all)``): the duplicate rate and the quarantine rate among the rows that
arrived. A batch counts towards the last period it holds.

The monitor step calls :func:`quality` on work views that add this run's staged batches to the
published ones, so alert rules see the new month before it is published, and the publication
stores exactly what the rules saw.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.contract import Contract
from pipeline.monitoring import ALL
from pipeline.warehouse.connection import quote_ident
from pipeline.warehouse.datasets import _temp_exists

COLUMNS = ["period", "column_name", "metric", "value", "rows"]


def create_quality_views(
    cur: duckdb.DuckDBPyConnection, reports: list[tuple[int, int, int, int]]
) -> None:
    """TEMP views ``work_batch_stats`` and ``work_column_stats``: published plus this run's.

    ``reports`` are this run's accepted data batches: (batch_id, rows_in, rows_quarantined,
    duplicates_removed); their periods come from the staged clean rows.
    """
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE work_reports (batch_id BIGINT, rows_in BIGINT, "
        "rows_quarantined BIGINT, duplicates_removed BIGINT)"
    )
    if reports:
        cur.executemany("INSERT INTO work_reports VALUES (?, ?, ?, ?)", reports)
    staged_periods = (
        "SELECT _batch_id AS batch_id, max(_period) AS period_max FROM stage_clean GROUP BY 1"
        if _temp_exists(cur, "stage_clean")
        else "SELECT NULL::BIGINT AS batch_id, NULL::DATE AS period_max WHERE false"
    )
    cur.execute(
        "CREATE OR REPLACE TEMP VIEW work_batch_stats AS "
        "SELECT batch_id, period_max, rows_in, rows_quarantined, duplicates_removed "
        "FROM batch_stats WHERE batch_id NOT IN (SELECT batch_id FROM work_reports) "
        "UNION ALL SELECT r.batch_id, p.period_max, r.rows_in, r.rows_quarantined, "
        f"r.duplicates_removed FROM work_reports r JOIN ({staged_periods}) p USING (batch_id)"
    )
    staged_columns = (
        "UNION ALL SELECT batch_id, column_name, rows, missing, outliers FROM stage_column_stats"
        if _temp_exists(cur, "stage_column_stats")
        else ""
    )
    cur.execute(
        "CREATE OR REPLACE TEMP VIEW work_column_stats AS "
        "SELECT batch_id, column_name, rows, missing, outliers FROM batch_column_stats "
        "WHERE batch_id NOT IN (SELECT batch_id FROM work_reports) " + staged_columns
    )


def quality(
    cur: duckdb.DuckDBPyConnection, contract: Contract, clean_source: str = "all_clean"
) -> pd.DataFrame:
    """Every period's data-quality metrics (columns: period, column_name, metric, value, rows).

    Reads ``work_batch_stats`` and ``work_column_stats`` (:func:`create_quality_views`).
    """
    parts = [
        cur.execute(
            "SELECT s.period_max AS period, c.column_name, m.metric, "
            "  CASE m.metric WHEN 'missing_rate' THEN sum(c.missing) ELSE sum(c.outliers) END "
            "  / nullif(sum(c.rows), 0) AS value, sum(c.rows) AS rows "
            "FROM work_column_stats c JOIN work_batch_stats s USING (batch_id) "
            "CROSS JOIN (VALUES ('missing_rate'), ('out_of_range_rate')) m(metric) "
            "WHERE s.period_max IS NOT NULL "
            "  AND (m.metric = 'missing_rate' OR list_contains(?, c.column_name)) "
            "GROUP BY s.period_max, c.column_name, m.metric",
            [contract.numeric],
        ).df(),
        cur.execute(
            f"SELECT period_max AS period, '{ALL}' AS column_name, m.metric, "
            "  CASE m.metric WHEN 'duplicate_rate' THEN sum(duplicates_removed) "
            "  ELSE sum(rows_quarantined) END / nullif(sum(rows_in), 0) AS value, "
            "  sum(rows_in) AS rows "
            "FROM work_batch_stats "
            "CROSS JOIN (VALUES ('duplicate_rate'), ('quarantine_rate')) m(metric) "
            "WHERE period_max IS NOT NULL AND rows_in > 0 GROUP BY period_max, m.metric"
        ).df(),
    ]
    for column in contract.categorical:
        known = contract.categories.get(column) or []
        if not known:
            continue
        col = quote_ident(column)
        parts.append(
            cur.execute(
                "SELECT _period AS period, ? AS column_name, 'new_category_rate' AS metric, "
                f"  count(*) FILTER (WHERE NOT list_contains(?, CAST({col} AS VARCHAR))) "
                f"  / nullif(count({col}), 0) AS value, count(*) AS rows "
                f"FROM {quote_ident(clean_source)} GROUP BY _period",
                [column, known],
            ).df()
        )
    frame = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=COLUMNS)
    )
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    return frame.loc[:, COLUMNS].sort_values(["period", "column_name", "metric"], ignore_index=True)
