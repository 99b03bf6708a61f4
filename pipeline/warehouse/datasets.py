"""Views over published and staged data, and Parquet hand-offs to compute processes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipeline.contract import Contract
from pipeline.warehouse.connection import quote_ident


def _temp_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [name]
        ).fetchone()[0]
    )


def _table_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = ?", [name]
        ).fetchone()[0]
    )


def create_work_views(cur: duckdb.DuckDBPyConnection) -> bool:
    """TEMP views ``all_clean`` and ``all_labels``: published data plus this run's staging.

    Returns False when there is no clean data at all yet.
    """
    parts = []
    if _table_exists(cur, "clean_rows"):
        parts.append("SELECT * FROM clean_rows")
    if _temp_exists(cur, "stage_clean"):
        parts.append("SELECT * FROM stage_clean")
    if not parts:
        return False
    cur.execute("CREATE OR REPLACE TEMP VIEW all_clean AS " + " UNION ALL BY NAME ".join(parts))
    cur.execute(
        "CREATE OR REPLACE TEMP VIEW all_labels AS "
        "WITH staged AS (SELECT entity_id, event_time, period, label, batch_id FROM stage_labels "
        "  QUALIFY row_number() OVER (PARTITION BY entity_id, event_time "
        "                             ORDER BY batch_id DESC, row_number DESC) = 1) "
        "SELECT * FROM staged UNION ALL "
        "SELECT l.entity_id, l.event_time, l.period, l.label, l.batch_id FROM labels l "
        "WHERE NOT EXISTS (SELECT 1 FROM staged s "
        "                  WHERE s.entity_id = l.entity_id AND s.event_time = l.event_time)"
    )
    return True


def labelled_periods(cur: duckdb.DuckDBPyConnection, contract: Contract) -> list[date]:
    """Periods with at least one clean row that has a label, oldest first."""
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    rows = cur.execute(
        "SELECT DISTINCT c._period FROM all_clean c JOIN all_labels l "
        f"ON l.entity_id = c.{e} AND l.event_time = c.{t} ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _path_literal(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise ValueError(f"work path {text!r} must not contain a quote")
    return "'" + text + "'"


def export_training(
    cur: duckdb.DuckDBPyConnection, contract: Contract, since: date, path: Path
) -> int:
    """Write labelled rows from ``since`` on (features, _period, _label) to Parquet."""
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    features = ", ".join(f"c.{quote_ident(f)}" for f in contract.features)
    cur.execute(
        f"COPY (SELECT {features}, c._period, l.label AS _label FROM all_clean c "
        f"JOIN all_labels l ON l.entity_id = c.{e} AND l.event_time = c.{t} "
        f"WHERE c._period >= ? ORDER BY c._period, c.{e}) TO {_path_literal(path)} "
        "(FORMAT parquet)",
        [since],
    )
    return cur.execute(f"SELECT count(*) FROM read_parquet({_path_literal(path)})").fetchone()[0]


def periods_to_score(cur: duckdb.DuckDBPyConnection, since: date | None) -> list[date]:
    """Clean periods from ``since`` on that have no predictions yet, oldest first."""
    rows = cur.execute(
        "SELECT DISTINCT _period FROM all_clean WHERE _period >= coalesce(?, DATE '1900-01-01') "
        "AND _period NOT IN (SELECT DISTINCT period FROM predictions) ORDER BY 1",
        [since],
    ).fetchall()
    return [r[0] for r in rows]


def export_scoring(
    cur: duckdb.DuckDBPyConnection, contract: Contract, periods: list[date], path: Path
) -> int:
    """Write one row per entity per period (the latest event in the period) to Parquet."""
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    features = ", ".join(quote_ident(f) for f in contract.features)
    cur.execute(
        f"COPY (SELECT {features}, _period, CAST({e} AS VARCHAR) AS _entity FROM all_clean "
        "WHERE list_contains(?, _period) "
        f"QUALIFY row_number() OVER (PARTITION BY {e}, _period ORDER BY {t} DESC) = 1) "
        f"TO {_path_literal(path)} (FORMAT parquet)",
        [periods],
    )
    return cur.execute(f"SELECT count(*) FROM read_parquet({_path_literal(path)})").fetchone()[0]


def latest_served(cur: duckdb.DuckDBPyConnection) -> tuple[date, set[int]] | None:
    """The latest period with published predictions and the model versions that scored it."""
    row = cur.execute("SELECT max(period) FROM predictions").fetchone()
    if row is None or row[0] is None:
        return None
    versions = cur.execute(
        "SELECT DISTINCT model_version FROM predictions WHERE period = ?", [row[0]]
    ).fetchall()
    return row[0], {int(v[0]) for v in versions}
