"""Validate and clean one raw batch with DuckDB SQL, into the run's temporary staging tables.

Everything here runs on the run's own cursor, in TEMP tables that vanish if the process dies;
nothing is visible to readers until the flow publishes. Identifiers come from the file's own
header only after :func:`quote_ident` accepted them, and from the data contract; values are
always bound parameters.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass

import duckdb

from pipeline.contract import ColumnProfile, Contract
from pipeline.warehouse.connection import quote_ident

NULL_TOKENS = ["", "n/a", "na", "-", "--", "null", "none", "nan", "?", "missing"]
TRUE_LABELS = ["1", "1.0", "true", "yes", "y", "churned"]
FALSE_LABELS = ["0", "0.0", "false", "no", "n", "retained"]
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
        reader = "read_json(?, format = 'newline_delimited')"
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
        raise BatchRejected(_parse_message(error)) from None
    columns = [c for c in _columns(cur, "stage_raw") if c != "_row"]
    _stage_malformed(cur, suffix == ".csv")
    if suffix == ".csv":
        _check_csv_header(cur, path, params)
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


def _stage_malformed(cur: duckdb.DuckDBPyConnection, is_csv: bool) -> None:
    """TEMP ``stage_malformed``: the lines of this CSV scan that could not be parsed."""
    has_rejects = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'stage_rejects'"
    ).fetchone()[0]
    source = (
        "SELECT line, error_type, error_message FROM stage_rejects"
        if is_csv and has_rejects
        else "SELECT NULL::BIGINT AS line, NULL AS error_type, NULL AS error_message LIMIT 0"
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
        raise BatchRejected("the file has a header but no rows")
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


def _create_stage(cur: duckdb.DuckDBPyConnection, reader: str, params: dict[str, str]) -> None:
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage_raw AS "
        f"SELECT *, row_number() OVER () AS _row FROM {reader}",
        params,
    )


def _parse_message(error: duckdb.Error) -> str:
    """DuckDB's parser error as a short sentence naming the line, when it gives one."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    first = first.replace("Invalid Input Error: ", "").replace("IO Error: ", "")
    hint = ""
    if "Expected Number of Columns" in str(error) or "too many columns" in str(error).lower():
        hint = "; check the delimiter and quoting (setting ingest.csv_delimiter)"
    return f"cannot parse the file: {first}{hint}"


def _check_csv_header(
    cur: duckdb.DuckDBPyConnection, path: str, params: dict[str, str]
) -> None:
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
        non_null, numeric_ok, q_low, q_high = cur.execute(
            f"SELECT count({t}), count(TRY_CAST({t} AS DOUBLE)), "
            f"quantile_cont(TRY_CAST({t} AS DOUBLE), 0.01), "
            f"quantile_cont(TRY_CAST({t} AS DOUBLE), 0.99) FROM stage_raw",
            {"tokens": NULL_TOKENS},
        ).fetchone()
        # One spelling per case-insensitive category: the most frequent one.
        cats = cur.execute(
            f"SELECT arg_max(v, n) FROM (SELECT {t} AS v, count(*) AS n FROM stage_raw "
            "GROUP BY 1) WHERE v IS NOT NULL GROUP BY lower(v) ORDER BY sum(n) DESC LIMIT 201",
            {"tokens": NULL_TOKENS},
        ).fetchall()
        out.append(ColumnProfile(col, non_null, numeric_ok, q_low, q_high, [c[0] for c in cats]))
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
    cur: duckdb.DuckDBPyConnection, batch_id: int, columns: list[str], contract: Contract
) -> CleanReport:
    """Clean ``stage_raw`` into TEMP ``stage_clean``; rejected rows go to ``stage_quarantine``."""
    present = set(columns)
    for required in (contract.entity_id, contract.event_time):
        if required not in present:
            raise BatchRejected(
                f"the file has no column {required!r} (setting dataset."
                f"{'entity_id' if required == contract.entity_id else 'event_time'}); "
                "rename the column in the file or change the setting"
            )
    tokens = {"tokens": NULL_TOKENS}
    rows_in = _parsed_rows(cur) + _quarantine_malformed(cur, batch_id)
    cats = [c for c in contract.categorical if c in present]
    nums = [c for c in contract.numeric if c in present]
    has_target = contract.target in present

    # 1. text normalisation and canonical category spelling, counted per row
    selects = [
        f"CAST({_clean_text(contract.entity_id)} AS VARCHAR) AS entity",
        f"{_clean_text(contract.event_time)} AS event_text",
        "_row",
    ]
    for i, col in enumerate(cats):
        _canonical_map(cur, col, contract.categories.get(col, []))
        cur.execute(f"CREATE OR REPLACE TEMP TABLE canon_{i} AS SELECT * FROM canon")
        selects.append(
            f"(SELECT canonical FROM canon_{i} WHERE k = lower({_clean_text(col)})) "
            f"AS {quote_ident(col)}"
        )
    selects += [f"{_clean_text(c)} AS {quote_ident('_txt_' + c)}" for c in nums]
    if has_target:
        selects.append(f"lower({_clean_text(contract.target)}) AS _target_text")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage_norm AS SELECT {', '.join(selects)} FROM stage_raw",
        tokens,
    )
    normalised_expr = (
        " OR ".join(
            [
                f"(s.{quote_ident(c)} IS NOT NULL AND n.{quote_ident(c)} IS DISTINCT FROM "
                f"CAST(s.{quote_ident(c)} AS VARCHAR))"
                for c in cats
            ]
            + [
                f"(s.{quote_ident(c)} IS NOT NULL AND "
                f"n.{quote_ident('_txt_' + c)} IS DISTINCT FROM "
                f"CAST(s.{quote_ident(c)} AS VARCHAR))"
                for c in nums
            ]
        )
        or "false"
    )
    text_normalised = cur.execute(
        f"SELECT count(*) FROM stage_norm n JOIN stage_raw s USING (_row) WHERE {normalised_expr}"
    ).fetchone()[0]

    # 2. typed values; a rule name per row that fails (first failing rule wins)
    typed = [
        "entity",
        "TRY_CAST(event_text AS TIMESTAMP) AS event_time",
        "event_text",
        "_row",
        *[quote_ident(c) for c in cats],
        *[
            f"TRY_CAST(replace({quote_ident('_txt_' + c)}, ',', '') AS DOUBLE) AS {quote_ident(c)}"
            for c in nums
        ],
    ]
    bad_number = (
        " OR ".join(
            f"({quote_ident('_txt_' + c)} IS NOT NULL AND "
            f"TRY_CAST(replace({quote_ident('_txt_' + c)}, ',', '') AS DOUBLE) IS NULL)"
            for c in nums
        )
        or "false"
    )
    if has_target:
        typed.append(
            "CASE WHEN _target_text IN (SELECT unnest($t)) THEN 1 "
            "WHEN _target_text IN (SELECT unnest($f)) THEN 0 END AS _label"
        )
        typed.append("_target_text")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage_typed AS SELECT {', '.join(typed)}, "
        f"CASE WHEN entity IS NULL THEN 'missing_key' "
        f"WHEN event_text IS NULL THEN 'missing_key' "
        f"WHEN TRY_CAST(event_text AS TIMESTAMP) IS NULL THEN 'invalid_time' "
        f"WHEN {bad_number} THEN 'invalid_number' END AS _rule FROM stage_norm",
        {"t": TRUE_LABELS, "f": FALSE_LABELS} if has_target else {},
    )
    # 3. duplicates: exact copies of an accepted row, then the same key kept latest in file
    dup_cols = ", ".join(
        ["entity", "event_time", *[quote_ident(c) for c in [*cats, *nums]]]
        + (["_target_text"] if has_target else [])
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_exact AS SELECT *, "
        f"row_number() OVER (PARTITION BY {dup_cols} ORDER BY _row) AS _exact_rank, "
        f"max(_row) OVER (PARTITION BY {dup_cols}) AS _last_copy "
        "FROM stage_typed WHERE _rule IS NULL"
    )
    # Only rows that are not exact copies compete for their key, so a row and its copy never
    # knock each other out.
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_ranked AS SELECT *, CASE WHEN _exact_rank = 1 THEN "
        "row_number() OVER (PARTITION BY entity, event_time, _exact_rank = 1 "
        "ORDER BY _last_copy DESC) "
        "ELSE 1 END AS _key_rank FROM stage_exact"
    )
    _quarantine_rules(cur, batch_id, contract, nums)
    duplicates = cur.execute(
        "SELECT count(*) FROM stage_ranked WHERE _exact_rank > 1 OR _key_rank > 1"
    ).fetchone()[0]

    # 4. outliers beyond the contract's plausible range become missing (counted, not dropped)
    keep = "FROM stage_ranked WHERE _exact_rank = 1 AND _key_rank = 1"
    outlier_terms = []
    out_cols = []
    for c in nums:
        low, high = contract.ranges.get(c, [None, None])
        q = quote_ident(c)
        if low is None:
            out_cols.append(q)
            continue
        out_cols.append(
            f"CASE WHEN {q} < {float(low)!r} OR {q} > {float(high)!r} THEN NULL ELSE {q} END AS {q}"
        )
        outlier_terms.append(f"CAST({q} < {float(low)!r} OR {q} > {float(high)!r} AS INTEGER)")
    outliers = 0
    if outlier_terms:
        outliers = cur.execute(
            f"SELECT coalesce(sum({' + '.join(outlier_terms)}), 0) {keep}"
        ).fetchone()[0]
    entity_q, time_q = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    feature_sql = ", ".join([*[quote_ident(c) for c in cats], *out_cols]) or "NULL AS _none"
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_batch AS SELECT "
        f"entity AS {entity_q}, event_time AS {time_q}, "
        "CAST(date_trunc('month', event_time) AS DATE) AS _period, "
        f"CAST(? AS BIGINT) AS _batch_id, {feature_sql} {keep}",
        [batch_id],
    )
    accepted = cur.execute("SELECT count(*) FROM stage_batch").fetchone()[0]
    nulls = 0
    if cats or nums:
        nulls = cur.execute(
            "SELECT "
            + " + ".join(f"count(*) - count({quote_ident(c)})" for c in [*cats, *nums])
            + " FROM stage_batch"
        ).fetchone()[0]
    labels = 0
    if has_target:
        labels = _stage_labels(
            cur,
            batch_id,
            "FROM stage_ranked WHERE _exact_rank = 1 AND _key_rank = 1 AND _label IS NOT NULL",
        )
    _append_stage_clean(cur)
    quarantined = _quarantined(cur, batch_id)
    return CleanReport(
        rows_in, accepted, quarantined, duplicates, text_normalised, nulls, outliers, labels
    )


def _quarantine_rules(
    cur: duckdb.DuckDBPyConnection, batch_id: int, contract: Contract, nums: list[str]
) -> None:
    """Copy every rejected row of ``stage_raw`` to ``stage_quarantine`` with a human reason."""
    record = _record_expr(cur, contract)
    reasons = {
        "missing_key": (
            f"the entity id ({contract.entity_id}) or event time ({contract.event_time}) is "
            "missing; fill it in the source and re-send the row"
        ),
        "invalid_time": f"{contract.event_time} is not a date or timestamp (e.g. 2024-06-01)",
        "invalid_number": "a numeric column holds text that is not a number: " + ", ".join(nums),
    }
    for rule, reason in reasons.items():
        cur.execute(
            f"INSERT INTO stage_quarantine SELECT ?, s._row, ?, ?, {record} "
            "FROM stage_typed t JOIN stage_raw s USING (_row) WHERE t._rule = ?",
            [batch_id, rule, reason, rule],
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
    tokens = {"tokens": NULL_TOKENS, "t": TRUE_LABELS, "f": FALSE_LABELS}
    rows_in = _parsed_rows(cur) + _quarantine_malformed(cur, batch_id)
    e, t, y = (_clean_text(c) for c in (contract.entity_id, contract.event_time, contract.target))
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE stage_typed AS SELECT "
        f"CAST({e} AS VARCHAR) AS entity, TRY_CAST({t} AS TIMESTAMP) AS event_time, _row, "
        f"CASE WHEN lower({y}) IN (SELECT unnest($t)) THEN 1 "
        f"WHEN lower({y}) IN (SELECT unnest($f)) THEN 0 END AS _label, "
        f"CASE WHEN {e} IS NULL OR {t} IS NULL THEN 'missing_key' "
        f"WHEN TRY_CAST({t} AS TIMESTAMP) IS NULL THEN 'invalid_time' "
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
        "ELSE 'the target is not binary (expected 0/1, yes/no or true/false)' END, "
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
