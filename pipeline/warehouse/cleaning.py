"""Validate and clean raw batches with DuckDB SQL: the functions the flow and the preview call.

Everything runs on the run's own cursor, in TEMP tables that vanish if the process dies;
nothing is visible to readers until the flow publishes. The work lives in cohesive modules, all
importable from here:

* :mod:`~pipeline.warehouse.clean_common`: result types, the run's TEMP tables, shared SQL;
* :mod:`~pipeline.warehouse.staging` and :mod:`~pipeline.warehouse.staging_one`: raw files into
  staged tables of text columns (files with one header read together, others alone);
* :mod:`~pipeline.warehouse.column_profile`: the profile a first batch gives the contract;
* :mod:`~pipeline.warehouse.clean_batch`: data batches into ``stage_clean``;
* :mod:`~pipeline.warehouse.clean_labels`: label batches into ``stage_labels``.
"""

from __future__ import annotations

import duckdb

from pipeline.contract import Contract
from pipeline.warehouse.clean_common import (
    DATE_FORMATS,
    FALSE_LABELS,
    MALFORMED_COLUMNS,
    NULL_TOKENS,
    QUARANTINE_COLUMNS,
    STAGE_TABLES,
    TOKEN_CHARS,
    TRUE_LABELS,
    BatchRejected,
    CleanReport,
    Staged,
    StagedBatch,
    clean_text,
    clean_text_sql,
    cleaned_text_sql,
    discard_batch,
    ensure_staging,
    event_time_sql,
    no_rows_message,
    offenders_sql,
    quarantine_malformed,
    quarantined_counts,
    record_sql,
    sql_params,
    temp_exists,
)
from pipeline.warehouse.clean_labels import clean_label_batches
from pipeline.warehouse.column_profile import profile
from pipeline.warehouse.staging import (
    DELIMITERS,
    GROUP_BYTES,
    HEADER_BYTES,
    stage_batches,
    stage_file,
    staged_single,
    staged_tables,
)
from pipeline.warehouse.staging_one import detect_encoding

# The names these helpers had before the module was split.
_clean_text = clean_text
_offenders = offenders_sql
_record_expr = record_sql

__all__ = [
    "DATE_FORMATS",
    "DELIMITERS",
    "FALSE_LABELS",
    "GROUP_BYTES",
    "HEADER_BYTES",
    "MALFORMED_COLUMNS",
    "NULL_TOKENS",
    "QUARANTINE_COLUMNS",
    "STAGE_TABLES",
    "TOKEN_CHARS",
    "TRUE_LABELS",
    "BatchRejected",
    "CleanReport",
    "Staged",
    "StagedBatch",
    "clean_data_batch",
    "clean_data_batches",
    "clean_label_batch",
    "clean_label_batches",
    "clean_text_sql",
    "cleaned_text_sql",
    "detect_encoding",
    "discard_batch",
    "ensure_staging",
    "event_time_sql",
    "finish_clean",
    "no_rows_message",
    "profile",
    "quarantine_malformed",
    "quarantined_counts",
    "sql_params",
    "stage_batches",
    "stage_file",
    "staged_single",
    "staged_tables",
    "temp_exists",
]


def clean_data_batch(
    cur: duckdb.DuckDBPyConnection,
    batch_id: int,
    columns: list[str],
    contract: Contract,
    policy: object | None = None,
    salt: str | None = None,
) -> CleanReport:
    """Clean ``stage_raw`` into TEMP ``stage_clean``; see :mod:`pipeline.warehouse.clean_batch`."""
    from pipeline.warehouse.clean_batch import clean_data_batch as run

    return run(cur, batch_id, columns, contract, policy, salt)


def clean_data_batches(
    cur: duckdb.DuckDBPyConnection,
    staged: Staged,
    contract: Contract,
    policy: object | None = None,
    salt: str | None = None,
) -> dict[int, CleanReport | BatchRejected]:
    """Clean every batch of ``staged``; see :mod:`pipeline.warehouse.clean_batch`."""
    from pipeline.warehouse.clean_batch import clean_data_batches as run

    return run(cur, staged, contract, policy, salt)


def finish_clean(cur: duckdb.DuckDBPyConnection) -> None:
    """Turn the data rows cleaned so far into TEMP ``stage_clean`` (after the last staged
    table); see :func:`pipeline.warehouse.clean_batch.finish_clean`."""
    from pipeline.warehouse.clean_batch import finish_clean as run

    run(cur)


def clean_label_batch(
    cur: duckdb.DuckDBPyConnection, batch_id: int, contract: Contract
) -> CleanReport:
    """Stage a labels file (entity id, event time, target) into ``stage_labels``."""
    result = clean_label_batches(cur, staged_single(cur, batch_id, []), contract)[batch_id]
    if isinstance(result, BatchRejected):
        raise result
    return result
