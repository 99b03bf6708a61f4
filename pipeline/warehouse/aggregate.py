"""Aggregation: event rows to one row per entity per month, as the last cleaning step."""

from __future__ import annotations

import duckdb

from pipeline.contract import Contract
from pipeline.settings import AggregateSettings
from pipeline.warehouse.connection import quote_ident

SQL_FUNCTIONS = {
    "sum": "sum({c})",
    "mean": "avg({c})",
    "min": "min({c})",
    "max": "max({c})",
    "last": "arg_max({c}, {t})",
    "count": "count({c})",
}


def _temp_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in cur.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'temp' "
            "AND table_name = ?",
            [table],
        ).fetchall()
    ]


def aggregate_monthly(
    cur: duckdb.DuckDBPyConnection, contract: Contract, spec: AggregateSettings
) -> tuple[int, int]:
    """Replace TEMP ``stage_clean`` (and ``stage_labels``) by monthly rows per entity.

    Returns (rows before, rows after). The event time becomes the first day of the month.
    """
    present = set(_temp_columns(cur, "stage_clean"))
    if not present:
        return 0, 0
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    parts = [f"{e}", f"CAST(_period AS TIMESTAMP) AS {t}", "_period", "max(_batch_id) AS _batch_id"]
    for col in contract.numeric:
        if col in present:
            how = SQL_FUNCTIONS[spec.functions.get(col, "sum")]
            parts.append(f"{how.format(c=quote_ident(col), t=t)} AS {quote_ident(col)}")
    for col in contract.categorical:
        if col in present:
            parts.append(f"arg_max({quote_ident(col)}, {t}) AS {quote_ident(col)}")
    before = cur.execute("SELECT count(*) FROM stage_clean").fetchone()[0]
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage_clean AS SELECT {', '.join(parts)} "
        f"FROM stage_clean GROUP BY {e}, _period"
    )
    after = cur.execute("SELECT count(*) FROM stage_clean").fetchone()[0]
    if _temp_columns(cur, "stage_labels"):
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE stage_labels AS SELECT entity_id, "
            "CAST(period AS TIMESTAMP) AS event_time, period, max(label) AS label, "
            "max(batch_id) AS batch_id, max(row_number) AS row_number "
            "FROM stage_labels GROUP BY entity_id, period"
        )
    return before, after
