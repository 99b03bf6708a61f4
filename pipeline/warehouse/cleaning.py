"""Validate and clean one raw batch with DuckDB SQL, into the run's temporary staging tables.

Everything here runs on the run's own cursor, in TEMP tables that vanish if the process dies;
nothing is visible to readers until the flow publishes. Identifiers come from the file's own
header only after :func:`quote_ident` accepted them, and from the data contract; values are
always bound parameters.
"""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from dataclasses import dataclass

import duckdb

from pipeline.contract import ColumnProfile, Contract
from pipeline.warehouse.connection import quote_ident

NULL_TOKENS = ["", "n/a", "na", "-", "--", "null", "none", "nan", "?", "missing"]
TRUE_LABELS = ["1", "1.0", "true", "yes", "y", "churned"]
FALSE_LABELS = ["0", "0.0", "false", "no", "n", "retained"]
# Day-first before month-first: most exports outside the US write 31/01/2024.
DATE_FORMATS = ["%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y%m%d"]
QUARANTINE_COLUMNS = (
    "batch_id BIGINT, row_number BIGINT, rule VARCHAR, reason VARCHAR, record VARCHAR"
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


def ensure_staging(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the run's temporary quarantine table."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage_quarantine ({QUARANTINE_COLUMNS})")
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_labels (entity_id VARCHAR, event_time TIMESTAMP, "
        "period DATE, label INTEGER, batch_id BIGINT, row_number BIGINT)"
    )


def stage_file(
    cur: duckdb.DuckDBPyConnection,
    path: str,
    suffix: str,
    encoding: str = "auto",
    delimiter: str = "auto",
) -> list[str]:
    """Load a raw file as text columns into TEMP table ``stage_raw``; returns its columns.

    CSV encoding ``auto`` reads UTF-8 (with or without a BOM) and falls back to Latin-1 when
    the bytes are not valid UTF-8. Raises :class:`BatchRejected` when the file cannot be
    parsed at all.
    """
    cur.execute("DROP TABLE IF EXISTS stage_raw")
    if os.path.getsize(path) == 0:
        raise BatchRejected("the file is empty (0 bytes); send it again with a header and rows")
    if suffix == ".parquet":
        reader = "read_parquet(?)"
    elif suffix in (".jsonl", ".ndjson"):
        _stage_json_lines(cur, path)
        return _checked_columns(cur)
    else:
        # Lines the parser cannot split are kept aside (store_rejects) and quarantined with
        # their line number, instead of failing the whole file.
        options = (
            "all_varchar = true, header = true, sample_size = -1, store_rejects = true, "
            "rejects_table = 'stage_rejects', rejects_scan = 'stage_reject_scans'"
        )
        if delimiter != "auto":
            options += ", delim = $delim"
        reader = f"read_csv($path, {options}, encoding = $encoding)"
    params: dict[str, str] = {"path": path}
    if "$encoding" in reader:
        params["encoding"] = detect_encoding(path) if encoding == "auto" else encoding
    if "$delim" in reader:
        params["delim"] = delimiter
    reader = reader.replace("(?", "($path")
    # Each scan gets fresh reject tables, so only this file's bad lines are read back.
    cur.execute("DROP TABLE IF EXISTS stage_rejects")
    cur.execute("DROP TABLE IF EXISTS stage_reject_scans")
    try:
        _create_stage(cur, reader, params)
    except duckdb.Error as error:
        raise BatchRejected(_parse_message(error, path)) from None
    _stage_malformed(cur, suffix == ".csv")
    if suffix == ".csv":
        _check_csv_header(cur, path, params)
    return _checked_columns(cur)


def _checked_columns(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The staged file's columns, refused when a name is unusable or repeated."""
    columns = [c for c in _columns(cur, "stage_raw") if c != "_row"]
    if len(columns) == 1 and any(sep in columns[0] for sep in ";|\t,"):
        sep = next(s for s in ";|\t," if s in columns[0])
        raise BatchRejected(
            f"the header was read as one column ({columns[0][:60]!r}…): the file seems to use "
            f"{sep!r} as its delimiter; set ingest.csv_delimiter = {sep!r} or 'auto'"
        )
    for name in columns:
        try:
            quote_ident(name)
        except ValueError:
            raise BatchRejected(
                f"column name {name!r} is not usable; rename it to letters, digits and underscores"
            ) from None
    if len({c.lower() for c in columns}) != len(columns):
        raise BatchRejected("the header repeats a column name; each column needs its own name")
    return columns


def detect_encoding(path: str, chunk: int = 1 << 20) -> str:
    """'utf-8' when every byte decodes as UTF-8 (a BOM is fine), else 'latin-1'.

    Latin-1 maps every byte to a character, so it is the safe fallback for legacy exports.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while block := handle.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def _stage_json_lines(cur: duckdb.DuckDBPyConnection, path: str) -> None:
    """Stage a JSON Lines file; lines that are not JSON objects go to ``stage_malformed``.

    DuckDB rejects the whole file at the first bad line, so lines are checked here first and
    only the good ones are handed to DuckDB.
    """
    bad: list[tuple[int, str]] = []
    good = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                parsed = json.loads(raw)
            except ValueError as error:
                bad.append((number, f"not valid JSON: {str(error)[:120]}"))
                continue
            if not isinstance(parsed, dict):
                bad.append((number, "not a JSON object"))
            else:
                good += 1
    if not good:
        raise BatchRejected(
            "no line is a JSON object"
            + (f" (line {bad[0][0]}: {bad[0][1]})" if bad else "")
            + "; send one JSON object per line"
        )
    source = path
    if bad:
        skip = {n for n, _ in bad}
        with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as out:
            with open(path, "rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    if number not in skip and raw.strip():
                        out.write(raw)
            source = out.name
    try:
        _create_stage(
            cur,
            "read_json($path, format = 'newline_delimited', records = true)",
            {"path": source},
        )
    except duckdb.Error as error:
        raise BatchRejected(_parse_message(error, source)) from None
    finally:
        if source != path:
            os.unlink(source)
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_malformed (line BIGINT, error_type VARCHAR, "
        "error_message VARCHAR)"
    )
    for number, message in bad:
        cur.execute("INSERT INTO stage_malformed VALUES (?, 'INVALID JSON', ?)", [number, message])


def _stage_malformed(cur: duckdb.DuckDBPyConnection, is_csv: bool) -> None:
    """TEMP ``stage_malformed``: the lines of this CSV scan that could not be parsed."""
    has_rejects = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'stage_rejects'"
    ).fetchone()[0]
    source = (
        "SELECT line, error_type, error_message FROM stage_rejects"
        if is_csv and has_rejects
        else "SELECT NULL::BIGINT AS line, NULL::VARCHAR AS error_type, "
        "NULL::VARCHAR AS error_message LIMIT 0"
    )
    cur.execute(f"CREATE OR REPLACE TEMP TABLE stage_malformed AS {source}")


def _parsed_rows(cur: duckdb.DuckDBPyConnection) -> int:
    """Rows the parser read; raises BatchRejected when there are none."""
    parsed = cur.execute("SELECT count(*) FROM stage_raw").fetchone()[0]
    if parsed == 0:
        bad = cur.execute("SELECT min(line), count(*) FROM stage_malformed").fetchone()
        if bad[1]:
            raise BatchRejected(
                f"none of its {bad[1]} lines could be parsed (first at line {bad[0]}); check the "
                "delimiter, quoting and encoding (settings ingest.csv_delimiter, "
                "ingest.csv_encoding)"
            )
        raise BatchRejected("the file has a header but no rows; send it again with its rows")
    return parsed


def _quarantine_malformed(cur: duckdb.DuckDBPyConnection, batch_id: int) -> int:
    """Move unparsable lines into the quarantine; the raw file keeps their bytes."""
    cur.execute(
        "INSERT INTO stage_quarantine SELECT ?, line, 'malformed_line', "
        "'line ' || line || ' could not be parsed (' || lower(error_type) || ': ' || "
        "error_message || '); fix the quoting or delimiter in the file and send it again', "
        "json_object('line', line) FROM stage_malformed",
        [batch_id],
    )
    return cur.execute("SELECT count(*) FROM stage_malformed").fetchone()[0]


STAGE_TABLES = (
    "stage_quarantine",
    "stage_labels",
    "stage_clean_steps",
    "stage_column_stats",
    "stage_schema_changes",
    "stage_pii",
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


def _create_stage(cur: duckdb.DuckDBPyConnection, reader: str, params: dict[str, str]) -> None:
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage_raw AS "
        f"SELECT *, row_number() OVER () AS _row FROM {reader}",
        params,
    )


def _parse_message(error: duckdb.Error, path: str = "") -> str:
    """DuckDB's parser error as one short sentence with advice; never the file's content."""
    text = str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Invalid Error: "):
        first = first.replace(prefix, "")
    if path:
        first = first.replace(f'"{path}"', "the file").replace(f"'{path}'", "the file")
        first = first.replace(path, "the file")
    first = first[:200]
    lowered = text.lower()
    if "maximum line size" in lowered or "line size" in lowered:
        hint = (
            "a line exceeds the maximum line size of 2 MB; the file is probably not a CSV or "
            "misses its line breaks: check the export and send it again"
        )
    elif "magic bytes" in lowered or "parquet" in lowered:
        hint = "the Parquet file is damaged or incomplete; send it again"
    elif "expected number of columns" in lowered or "too many columns" in lowered:
        hint = "check the delimiter and quoting (setting ingest.csv_delimiter)"
    else:
        hint = "check that the file is a CSV, Parquet or JSON Lines file and send it again"
    return f"cannot parse the file: {first}; {hint}"


def _check_csv_header(cur: duckdb.DuckDBPyConnection, path: str, params: dict[str, str]) -> None:
    """Reject a header that repeats a name: DuckDB would silently rename it ``name_1``."""
    delim = ", delim = $delim" if "delim" in params else ""
    header = cur.execute(
        "SELECT * FROM read_csv($path, header = false, all_varchar = true, "
        f"encoding = $encoding{delim}) LIMIT 1",
        params,
    ).fetchone()
    names = [str(h).strip().lower() for h in (header or ()) if h is not None]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BatchRejected(
            f"the header repeats the column name(s) {', '.join(repeated)}; each column needs "
            "its own name"
        )


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in cur.execute(f"DESCRIBE {table}").fetchall()]


def _clean_text(col: str) -> str:
    """SQL for a column as trimmed, NFC-normalised text with null tokens turned into NULL."""
    q = quote_ident(col)
    text = f"nfc_normalize(trim(CAST({q} AS VARCHAR)))"
    return f"CASE WHEN lower({text}) IN (SELECT unnest($tokens)) THEN NULL ELSE {text} END"


def profile(cur: duckdb.DuckDBPyConnection, columns: list[str]) -> list[ColumnProfile]:
    """Measure each staged column: non-null count, numeric share, quantiles, categories."""
    out = []
    for col in columns:
        t = _clean_text(col)
        n = f"TRY_CAST(replace({t}, ',', '') AS DOUBLE)"
        non_null, numeric_ok, q_low, q_high, median = cur.execute(
            f"SELECT count({t}), count({n}), quantile_cont({n}, 0.01), "
            f"quantile_cont({n}, 0.99), quantile_cont({n}, 0.5) FROM stage_raw",
            {"tokens": NULL_TOKENS},
        ).fetchone()
        # One spelling per case-insensitive category: the most frequent one.
        cats = cur.execute(
            f"SELECT arg_max(v, n) FROM (SELECT {t} AS v, count(*) AS n FROM stage_raw "
            "GROUP BY 1) WHERE v IS NOT NULL GROUP BY lower(v) ORDER BY sum(n) DESC LIMIT 201",
            {"tokens": NULL_TOKENS},
        ).fetchall()
        out.append(
            ColumnProfile(col, non_null, numeric_ok, q_low, q_high, [c[0] for c in cats], median)
        )
    return out


def _canonical_map(cur: duckdb.DuckDBPyConnection, col: str, known: list[str]) -> None:
    """TEMP table ``canon`` mapping lower-case spellings to one canonical spelling.

    Known contract categories win; otherwise the batch's most frequent spelling does.
    """
    t = _clean_text(col)
    cur.execute("DROP TABLE IF EXISTS canon")
    cur.execute(
        "CREATE TEMP TABLE canon AS "
        "SELECT k, arg_max(v, w) AS canonical FROM ("
        "  SELECT lower(v) AS k, v, 1e12 AS w FROM (SELECT unnest($known) AS v) "
        f"  UNION ALL SELECT lower({t}) AS k, {t} AS v, count(*) AS w FROM stage_raw "
        f"  WHERE {t} IS NOT NULL GROUP BY ALL"
        ") GROUP BY k",
        {"known": known, "tokens": NULL_TOKENS},
    )


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


def _offenders(pairs: list[tuple[str, str, str]]) -> str:
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


def _quarantine_rules(
    cur: duckdb.DuckDBPyConnection,
    batch_id: int,
    contract: Contract,
    nums: list[str],
    filters: list | tuple = (),
) -> None:
    """Copy every rejected row of ``stage_raw`` to ``stage_quarantine`` with a human reason."""
    record = _record_expr(cur, contract)
    norm_cols = set(_columns(cur, "stage_norm"))
    cats = [c for c in contract.categorical if c in norm_cols]
    txt = {c: "n." + quote_ident("_txt_" + c) for c in nums}
    number = {c: f"TRY_CAST(replace({txt[c]}, ',', '') AS DOUBLE)" for c in nums}
    known = {c: [v.lower() for v in contract.categories.get(c, [])] for c in cats}
    bad_numbers = _offenders(
        [(c, f"{txt[c]} IS NOT NULL AND {number[c]} IS NULL", txt[c]) for c in nums]
    )
    unseen = _offenders(
        [
            (
                c,
                f"n.{quote_ident(c)} IS NOT NULL AND lower(n.{quote_ident(c)}) NOT IN "
                f"(SELECT unnest({_sql_list(known[c])}))",
                f"n.{quote_ident(c)}",
            )
            for c in cats
            if known[c]
        ]
    )
    outside = _offenders(
        [
            (c, f"{number[c]} NOT BETWEEN {lo!r} AND {hi!r}", txt[c])
            for c, (lo, hi) in ((c, contract.ranges[c]) for c in nums if c in contract.ranges)
        ]
    )
    reasons = {
        "missing_key": (
            f"'the entity id ({contract.entity_id}) or event time ({contract.event_time}) is "
            "missing; fill it in the source and send the row again'"
        ),
        "invalid_time": (
            f"'{contract.event_time} = ' || coalesce(n.event_text, 'empty') || "
            "' is not a date; use ISO dates such as 2024-06-01'"
        ),
        "invalid_number": f"'not a number: ' || {bad_numbers} || "
        "'; fix the value in the source and send the row again'",
        "unseen_category": f"'a category not in the data contract: ' || {unseen} || "
        "'; fix the value, or add the category to the contract'",
        "out_of_range": f"'outside the contract''s range: ' || {outside} || "
        "'; fix the value or widen the range in the contract'",
    }
    for i, f in enumerate(filters):
        reasons[f"filter_{i}"] = (
            "'filtered out by cleaning.filters: "
            + f.describe().replace("'", "''")
            + " does not hold for this row'"
        )
    for rule, reason in reasons.items():
        cur.execute(
            f"INSERT INTO stage_quarantine SELECT ?, s._row, ?, {reason}, {record} "
            "FROM stage_typed t JOIN stage_raw s USING (_row) JOIN stage_norm n USING (_row) "
            "WHERE t._rule = ?",
            [batch_id, rule, rule],
        )
    cur.execute(
        f"INSERT INTO stage_quarantine SELECT ?, s._row, "
        "CASE WHEN r._exact_rank > 1 THEN 'exact_duplicate' ELSE 'duplicate_key' END, "
        "CASE WHEN r._exact_rank > 1 THEN 'an identical row appears earlier in the file' "
        "ELSE 'a later row in the file has the same entity id and event time; the later one "
        f"was kept' END, {record} "
        "FROM stage_ranked r JOIN stage_raw s USING (_row) "
        "WHERE r._exact_rank > 1 OR r._key_rank > 1",
        [batch_id],
    )


def _sql_list(values: list[str]) -> str:
    """A SQL list literal of contract-derived strings, quotes doubled."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _record_expr(cur: duckdb.DuckDBPyConnection, contract: Contract) -> str:
    """SQL building a JSON record of a raw row from allow-listed columns only.

    Only the keys, the target and the contract's features are kept, so a PII column, even
    one that first appears after the contract was made, never reaches the quarantine.
    """
    allowed = {contract.entity_id, contract.event_time, contract.target, *contract.features}
    raw_cols = [c for c in _columns(cur, "stage_raw") if c in allowed]
    if not raw_cols:
        return "NULL"
    return (
        "CAST(json_object("
        + ", ".join(f"'{c}', s.{quote_ident(c)}" for c in raw_cols)
        + ") AS VARCHAR)"
    )


def _stage_labels(cur: duckdb.DuckDBPyConnection, batch_id: int, source: str) -> int:
    cur.execute(
        "INSERT INTO stage_labels SELECT entity, event_time, "
        "CAST(date_trunc('month', event_time) AS DATE), _label, ?, _row " + source,
        [batch_id],
    )
    return cur.execute(
        "SELECT count(*) FROM stage_labels WHERE batch_id = ?", [batch_id]
    ).fetchone()[0]


def _append_stage_clean(cur: duckdb.DuckDBPyConnection) -> None:
    exists = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'stage_clean'"
    ).fetchone()[0]
    if exists:
        cur.execute("INSERT INTO stage_clean BY NAME SELECT * FROM stage_batch")
    else:
        cur.execute("CREATE TEMP TABLE stage_clean AS SELECT * FROM stage_batch")


def _quarantined(cur: duckdb.DuckDBPyConnection, batch_id: int) -> int:
    return cur.execute(
        "SELECT count(*) FROM stage_quarantine WHERE batch_id = ?", [batch_id]
    ).fetchone()[0]


def clean_label_batch(
    cur: duckdb.DuckDBPyConnection, batch_id: int, contract: Contract
) -> CleanReport:
    """Stage a labels file (entity id, event time, target) into ``stage_labels``."""
    tokens = {"tokens": NULL_TOKENS, "t": TRUE_LABELS, "f": FALSE_LABELS, "formats": DATE_FORMATS}
    rows_in = _parsed_rows(cur) + _quarantine_malformed(cur, batch_id)
    e, t, y = (_clean_text(c) for c in (contract.entity_id, contract.event_time, contract.target))
    parsed_time = f"coalesce(TRY_CAST({t} AS TIMESTAMP), try_strptime({t}, $formats))"
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_typed AS SELECT "
        f"CAST({e} AS VARCHAR) AS entity, {parsed_time} AS event_time, _row, "
        f"CASE WHEN lower({y}) IN (SELECT unnest($t)) THEN 1 "
        f"WHEN lower({y}) IN (SELECT unnest($f)) THEN 0 END AS _label, {y} AS _label_text, "
        f"CASE WHEN {e} IS NULL OR {t} IS NULL THEN 'missing_key' "
        f"WHEN {parsed_time} IS NULL THEN 'invalid_time' "
        f"WHEN {y} IS NULL THEN 'missing_label' "
        f"WHEN lower({y}) NOT IN (SELECT unnest($t)) AND lower({y}) NOT IN (SELECT unnest($f)) "
        "THEN 'invalid_label' END AS _rule FROM stage_raw",
        tokens,
    )
    record = _record_expr(cur, contract)
    cur.execute(
        f"INSERT INTO stage_quarantine SELECT ?, s._row, t._rule, CASE t._rule "
        "WHEN 'missing_key' THEN 'the entity id or event time is missing' "
        "WHEN 'invalid_time' THEN 'the event time is not a date or timestamp' "
        "WHEN 'missing_label' THEN 'the target is empty; send the label when it is known' "
        f"ELSE 'the target {contract.target} = ' || coalesce(t._label_text, '') || "
        "' is not binary: use 0/1, yes/no or true/false' END, "
        f"{record} FROM stage_typed t JOIN stage_raw s USING (_row) WHERE t._rule IS NOT NULL",
        [batch_id],
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_ranked AS SELECT *, 1 AS _exact_rank, "
        "row_number() OVER (PARTITION BY entity, event_time ORDER BY _row DESC) AS _key_rank "
        "FROM stage_typed WHERE _rule IS NULL"
    )
    cur.execute(
        "INSERT INTO stage_quarantine SELECT ?, r._row, 'duplicate_key', "
        "'a later row in the file gives a label for the same entity id and event time', "
        f"{record} FROM stage_ranked r JOIN stage_raw s USING (_row) WHERE r._key_rank > 1",
        [batch_id],
    )
    duplicates = cur.execute("SELECT count(*) FROM stage_ranked WHERE _key_rank > 1").fetchone()[0]
    labels = _stage_labels(cur, batch_id, "FROM stage_ranked WHERE _key_rank = 1")
    quarantined = _quarantined(cur, batch_id)
    return CleanReport(rows_in, labels, quarantined, duplicates, 0, 0, 0, labels)
