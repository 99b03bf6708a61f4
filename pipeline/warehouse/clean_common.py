"""What staging, profiling and cleaning share: the run's TEMP tables, result types and SQL pieces.

Everything runs on the run's own cursor, in TEMP tables that vanish if the process dies. SQL
built here takes identifiers only after :func:`quote_ident` (or from the data contract) and
values only as bound parameters; the few inlined literals are integers derived from the
constants below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from pipeline.contract import Contract
from pipeline.warehouse.connection import quote_ident

NULL_TOKENS = ["", "n/a", "na", "-", "--", "null", "none", "nan", "?", "missing"]
TOKEN_CHARS = max(len(t) for t in NULL_TOKENS)
# First characters (either case) of the null tokens: an ASCII value starting otherwise is none.
TOKEN_STARTS = sorted({ord(c) for t in NULL_TOKENS if t for c in (t[0].lower(), t[0].upper())})
TRUE_LABELS = ["1", "1.0", "true", "yes", "y", "churned"]
FALSE_LABELS = ["0", "0.0", "false", "no", "n", "retained"]
# Day-first before month-first: most exports outside the US write 31/01/2024.
DATE_FORMATS = ["%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y%m%d"]
QUARANTINE_COLUMNS = (
    "batch_id BIGINT, row_number BIGINT, rule VARCHAR, reason VARCHAR, record VARCHAR"
)
MALFORMED_COLUMNS = "_staged_file INTEGER, line BIGINT, error_type VARCHAR, error_message VARCHAR"
STAGE_TABLES = (
    "stage_quarantine",
    "stage_labels",
    "stage_clean_steps",
    "stage_column_stats",
    "stage_schema_changes",
    "stage_pii",
)


class BatchRejected(ValueError):
    """The whole batch is unusable; the message says why and what to do."""


@dataclass(frozen=True)
class CleanReport:
    """What cleaning did to one batch."""

    rows_in: int
    rows_accepted: int
    rows_quarantined: int
    duplicates_removed: int
    text_normalised: int
    nulls_found: int
    outliers_nulled: int
    labels_applied: int
    missing_imputed: int = 0


@dataclass
class StagedBatch:
    """One batch inside a staged table: its ``_staged_file`` value, parsed and unparsable lines."""

    batch_id: int
    file: int
    rows: int
    malformed: int
    offset: int  # rowid of the batch's first row


@dataclass
class Staged:
    """A TEMP table of raw rows (and one of unparsable lines) holding batches with one header.

    ``columns`` is the header; ``loaded`` the columns actually kept (columns nobody reads, such
    as configured PII that is dropped anyway, are left out of the read).
    """

    table: str
    malformed: str
    columns: list[str]
    batches: list[StagedBatch]
    loaded: list[str] = field(default_factory=list)

    def drop(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Drop both tables and forget which batches they held."""
        for name in (self.table, self.malformed):
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute("DELETE FROM stage_batch_files WHERE table_name = ?", [self.table])

    def file_params(self, batches: list[StagedBatch]) -> dict[str, list]:
        """``$bids`` and ``$offsets``: per ``_staged_file`` (list position + 1), the batch id
        (NULL for a file not in ``batches``) and the rowid of its first row."""
        files = 1 + max(b.file for b in self.batches)
        bids: list[int | None] = [None] * files
        offsets = [0] * files
        for b in batches:
            bids[b.file], offsets[b.file] = b.batch_id, b.offset
        return {"bids": bids, "offsets": offsets}


def ensure_staging(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the run's temporary quarantine table."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage_quarantine ({QUARANTINE_COLUMNS})")
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_labels (entity_id VARCHAR, event_time TIMESTAMP, "
        "period DATE, label INTEGER, batch_id BIGINT, row_number BIGINT)"
    )


def sql_params(sql: str, params: dict) -> dict:
    """The named parameters ``sql`` uses: DuckDB refuses a statement given unused ones."""
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
    return {k: v for k, v in params.items() if k in used}


def temp_exists(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the run's cursor has TEMP table ``table``."""
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]
        ).fetchone()[0]
    )


def table_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The column names of ``table``, in order."""
    return [r[0] for r in cur.execute(f"DESCRIBE {table}").fetchall()]


def loaded_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The file columns a staged table holds (all but ``_staged_file``)."""
    return [c for c in table_columns(cur, table) if c != "_staged_file"]


def batch_rows(batch: StagedBatch, limit: int | None = None) -> str:
    """SQL: rowid lies among the batch's rows (its first ``limit``, or all of them).

    A batch's rows are contiguous and in file order, and a constant rowid range lets DuckDB
    read only the row groups that hold them.
    """
    count = batch.rows if limit is None else min(limit, batch.rows)
    return f"rowid BETWEEN {int(batch.offset)} AND {int(batch.offset + count - 1)}"


# -- shared SQL ----------------------------------------------------------------------------
def plain_text_sql(expr: str) -> str:
    """SQL: text ``expr`` is certainly unchanged by :func:`clean_text_sql`.

    That holds for ASCII (so NFC leaves it alone) without a space at either end (the only
    ASCII character ``trim`` removes) and not starting like a null token. The test is a few
    byte checks, far cheaper than trimming, normalising and looking the value up.
    """
    # A list literal, not NOT IN: DuckDB may plan a long IN list inside a filter as a join.
    starts = ", ".join(str(c) for c in [0, 32, *TOKEN_STARTS])
    return (
        f"(strlen({expr}) = length({expr}) AND NOT list_contains([{starts}], ascii({expr})) "
        f"AND NOT ends_with({expr}, ' '))"
    )


def clean_text_sql(expr: str) -> str:
    """SQL for ``expr`` as trimmed, NFC-normalised text with null tokens turned into NULL.

    Uses the bound parameter ``$tokens`` (:data:`NULL_TOKENS`).
    """
    raw = f"CAST({expr} AS VARCHAR)"
    # Most values need nothing (see plain_text_sql).
    return f"CASE WHEN {plain_text_sql(raw)} THEN {raw} ELSE {cleaned_text_sql(raw)} END"


def cleaned_text_sql(raw: str) -> str:
    """SQL for text ``raw`` trimmed, NFC-normalised and NULL if a null token: the full work
    :func:`clean_text_sql` saves on plain values. Uses ``$tokens``."""
    text = f"nfc_normalize(trim({raw}))"
    # Lower-casing never shortens text, so longer values (ids, dates) skip the token lookup.
    return (
        f"CASE WHEN length({text}) <= {TOKEN_CHARS} AND list_contains($tokens, lower({text})) "
        f"THEN NULL ELSE {text} END"
    )


def clean_text(col: str) -> str:
    """SQL for a column as trimmed, NFC-normalised text with null tokens turned into NULL."""
    return clean_text_sql(quote_ident(col))


def event_time_sql(text: str) -> str:
    """SQL for an event time: ISO first, then the common day-first and other formats."""
    return f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, $formats))"


def offenders_sql(pairs: list[tuple[str, str, str]]) -> str:
    """SQL naming, per row, each column whose condition holds, with its value.

    ``pairs`` holds (column, condition SQL, value SQL).
    """
    if not pairs:
        return "''"
    parts = [
        f"CASE WHEN {cond} THEN '{col} = ' || coalesce(CAST({value} AS VARCHAR), 'empty') END"
        for col, cond, value in pairs
    ]
    return f"concat_ws(', ', {', '.join(parts)})"


def record_sql(
    cur: duckdb.DuckDBPyConnection,
    contract: Contract,
    table: str,
    columns: list[str] | None = None,
) -> str:
    """SQL building a JSON record of a raw row (alias ``s``) from allow-listed columns only.

    Only the keys, the target and the contract's features are kept, so a PII column, even
    one that first appears after the contract was made, never reaches the quarantine.
    ``columns`` are the table's columns when the caller knows them.
    """
    allowed = {contract.entity_id, contract.event_time, contract.target, *contract.features}
    known = table_columns(cur, table) if columns is None else columns
    raw_cols = [c for c in known if c in allowed]
    if not raw_cols:
        return "NULL"
    return (
        "CAST(json_object("
        + ", ".join(f"'{c}', s.{quote_ident(c)}" for c in raw_cols)
        + ") AS VARCHAR)"
    )


def quarantine_malformed(cur: duckdb.DuckDBPyConnection, staged: Staged, params: dict) -> None:
    """Move the unparsable lines of the batches in ``$bids`` into the quarantine."""
    active = {bid for bid in params["bids"] if bid is not None}
    if not any(b.malformed for b in staged.batches if b.batch_id in active):
        return
    sql = (
        "INSERT INTO stage_quarantine SELECT list_extract($bids, _staged_file + 1), line, "
        "'malformed_line', 'line ' || line || ' could not be parsed (' || lower(error_type) || "
        "': ' || error_message || '); fix the quoting or delimiter in the file and send it "
        f"again', json_object('line', line) FROM {staged.malformed} "
        "WHERE list_extract($bids, _staged_file + 1) IS NOT NULL"
    )
    cur.execute(sql, sql_params(sql, params))


def no_rows_message(cur: duckdb.DuckDBPyConnection, staged: Staged, batch: StagedBatch) -> str:
    """Why a staged batch without parsed rows cannot be cleaned."""
    if batch.malformed:
        first = cur.execute(
            f"SELECT min(line) FROM {staged.malformed} WHERE _staged_file = ?", [batch.file]
        ).fetchone()[0]
        return (
            f"none of its {batch.malformed} lines could be parsed (first at line {first}); check "
            "the delimiter, quoting and encoding (settings ingest.csv_delimiter, "
            "ingest.csv_encoding)"
        )
    return "the file has a header but no rows; send it again with its rows"


def quarantined_counts(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> dict[int, int]:
    """Rows in ``stage_quarantine`` per batch."""
    return dict(
        cur.execute(
            "SELECT batch_id, count(*) FROM stage_quarantine "
            "WHERE list_contains($ids, batch_id) GROUP BY batch_id",
            {"ids": batch_ids},
        ).fetchall()
    )


def discard_batch(cur: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Forget whatever a rejected batch had staged (its raw file keeps every byte)."""
    existing = {
        r[0]
        for r in cur.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    }
    for table in STAGE_TABLES:
        if table in existing:
            cur.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
