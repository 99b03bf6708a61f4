"""TEMP work views and period lists for the monitor step of a run.

``work_predictions`` is what will be served once the run publishes: the published predictions,
minus periods this run re-scores, plus this run's new predictions (a Parquet hand-off).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipeline.warehouse.datasets import _path_literal, _temp_exists


def create_prediction_view(
    cur: duckdb.DuckDBPyConnection,
    new_path: Path | None,
    new_version: int | None,
    replaced: list[date],
) -> None:
    """TEMP views ``work_predictions`` (period, entity_id, probability, model_version) and
    ``work_predictions_by_period`` (the same with ``_period``, for the counting queries)."""
    parts = [
        "SELECT period, entity_id, probability, model_version FROM predictions "
        "WHERE NOT list_contains(getvariable('plumbline_replaced'), period)"
    ]
    if new_path is not None:
        parts.append(
            f"SELECT CAST(period AS DATE), entity_id, probability, {int(new_version or 0)} FROM "
            f"read_parquet({_path_literal(new_path)})"
        )
    cur.execute("SET VARIABLE plumbline_replaced = ?::DATE[]", [list(replaced)])
    cur.execute("CREATE OR REPLACE TEMP VIEW work_predictions AS " + " UNION ALL ".join(parts))
    cur.execute(
        "CREATE OR REPLACE TEMP VIEW work_predictions_by_period AS "
        "SELECT *, period AS _period FROM work_predictions"
    )


def clean_periods(cur: duckdb.DuckDBPyConnection) -> list[date]:
    """Every period with clean rows (published or staged), oldest first."""
    return [
        r[0] for r in cur.execute("SELECT DISTINCT _period FROM all_clean ORDER BY 1").fetchall()
    ]


def unmonitored_periods(cur: duckdb.DuckDBPyConnection) -> list[date]:
    """Periods with clean rows and no drift results yet, oldest first."""
    rows = cur.execute(
        "SELECT DISTINCT _period FROM all_clean WHERE _period NOT IN "
        "(SELECT DISTINCT period FROM drift_results) ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def realised_periods_to_refresh(cur: duckdb.DuckDBPyConnection, replaced: list[date]) -> list[date]:
    """Labelled periods with served predictions whose realised performance is new or stale:
    not computed yet, labelled in this run, or re-scored in this run."""
    staged = (
        "SELECT DISTINCT period FROM stage_labels"
        if _temp_exists(cur, "stage_labels")
        else "SELECT NULL::DATE AS period WHERE false"
    )
    rows = cur.execute(
        "WITH labelled AS (SELECT DISTINCT period FROM all_labels), "
        "served AS (SELECT DISTINCT period FROM work_predictions) "
        "SELECT period FROM labelled JOIN served USING (period) "
        "WHERE period NOT IN (SELECT period FROM performance WHERE kind = 'realised') "
        f"OR period IN ({staged}) OR list_contains(?::DATE[], period) ORDER BY 1",
        [list(replaced)],
    ).fetchall()
    return [r[0] for r in rows]


def rows_in(cur: duckdb.DuckDBPyConnection, periods: list[date]) -> int:
    """Clean rows (published or staged) in ``periods``."""
    return int(
        cur.execute(
            "SELECT count(*) FROM all_clean WHERE list_contains(?::DATE[], _period)",
            [list(periods)],
        ).fetchone()[0]
    )
