"""Stage raw files into the run's temporary tables, and clean label batches, with DuckDB SQL.

Everything here runs on the run's own cursor, in TEMP tables that vanish if the process dies;
nothing is visible to readers until the flow publishes. Identifiers come from the file's own
header only after :func:`quote_ident` accepted them, and from the data contract; values are
always bound parameters.

A staged table holds one or more batches: column ``_staged_file`` says which file of the read a row
came from, and a batch's rows keep the file's order, so a row's number in its file is its
``rowid`` minus the batch's first ``rowid``, plus one. Data and label cleaning then work on all
batches of a staged table at once (see :mod:`pipeline.warehouse.clean_batch`).
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from pipeline.contract import ColumnProfile, Contract
from pipeline.warehouse.connection import quote_ident

NULL_TOKENS = ["", "n/a", "na", "-", "--", "null", "none", "nan", "?", "missing"]
TOKEN_CHARS = max(len(t) for t in NULL_TOKENS)
TRUE_LABELS = ["1", "1.0", "true", "yes", "y", "churned"]
FALSE_LABELS = ["0", "0.0", "false", "no", "n", "retained"]
# Day-first before month-first: most exports outside the US write 31/01/2024.
DATE_FORMATS = ["%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y%m%d"]
QUARANTINE_COLUMNS = (
    "batch_id BIGINT, row_number BIGINT, rule VARCHAR, reason VARCHAR, record VARCHAR"
)
MALFORMED_COLUMNS = "_staged_file INTEGER, line BIGINT, error_type VARCHAR, error_message VARCHAR"
# CSV files sharing a header are read together, up to this many bytes per staged table: one
# read and one set of cleaning statements for many files, while cleaning one staged table at a
# time keeps the working memory to a slice of the run.
GROUP_BYTES = 32 << 20
HEADER_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t", "|")


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


# -- staging -------------------------------------------------------------------------------
def stage_file(
    cur: duckdb.DuckDBPyConnection,
    path: str,
    suffix: str,
    encoding: str = "auto",
    delimiter: str = "auto",
) -> list[str]:
    """Load a raw file as text columns into TEMP table ``stage_raw``; returns its columns.

    Unparsable lines go to TEMP ``stage_malformed``. CSV encoding ``auto`` reads UTF-8 (with or
    without a BOM) and falls back to Latin-1 when the bytes are not valid UTF-8. Raises
    :class:`BatchRejected` when the file cannot be parsed at all.
    """
    return _stage_one(cur, path, suffix, encoding, delimiter, "stage_raw", "stage_malformed")


def staged_single(cur: duckdb.DuckDBPyConnection, batch_id: int, columns: list[str]) -> Staged:
    """``stage_raw`` and ``stage_malformed`` (from :func:`stage_file`) as one staged batch."""
    rows = cur.execute("SELECT count(*) FROM stage_raw").fetchone()[0]
    malformed = cur.execute("SELECT count(*) FROM stage_malformed").fetchone()[0]
    batch = StagedBatch(batch_id, 0, rows, malformed, 0)
    return Staged("stage_raw", "stage_malformed", columns, [batch], _loaded(cur, "stage_raw"))


def stage_batches(
    cur: duckdb.DuckDBPyConnection,
    batches: Iterable[tuple[int, str, str]],
    encoding: str = "auto",
    delimiter: str = "auto",
    skip: Iterable[str] = (),
) -> tuple[list[Staged], dict[int, str]]:
    """Stage ``(batch id, path, suffix)`` files; returns the staged tables and the rejections.

    CSV files with the same encoding and header line are read together, in groups of about
    :data:`GROUP_BYTES`, into TEMP ``raw_<first batch id>``, with the dialect the header shows
    (its delimiter, RFC 4180 quotes). A file that does not fit it (a malformed line, other
    quoting), any other format, and every file of a group whose header is not plain, is read
    alone into ``raw_<batch id>`` as :func:`stage_file` does, so it is quarantined line by
    line or rejected exactly as on its own. Columns named in ``skip`` (lower case) are not
    loaded from grouped files; their names stay in the header. Rejections map a batch id to the
    reason, for people. Which table holds which batch is noted in TEMP ``stage_batch_files``
    (see :func:`staged_tables`).
    """
    skip = {s.lower() for s in skip}
    staged: list[Staged] = []
    rejected: dict[int, str] = {}
    singles: list[tuple[int, str, str]] = []
    for group, enc in _csv_groups(list(batches), encoding):
        read, alone = ([], group) if enc is None else _stage_group(cur, group, enc, delimiter, skip)
        staged += read
        singles += alone
    for batch_id, path, suffix in singles:
        table, malformed = f"raw_{int(batch_id)}", f"malformed_{int(batch_id)}"
        try:
            columns = _stage_one(cur, path, suffix, encoding, delimiter, table, malformed)
        except BatchRejected as error:
            rejected[batch_id] = str(error)
            # The file may have been staged before its header was refused.
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"DROP TABLE IF EXISTS {malformed}")
            continue
        rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        bad = cur.execute(f"SELECT count(*) FROM {malformed}").fetchone()[0]
        batch = StagedBatch(batch_id, 0, rows, bad, 0)
        staged.append(Staged(table, malformed, columns, [batch], _loaded(cur, table)))
    staged.sort(key=lambda s: min(b.batch_id for b in s.batches))
    _record_staged(cur, staged)
    return staged, rejected


def _record_staged(cur: duckdb.DuckDBPyConnection, staged: list[Staged]) -> None:
    """Note in TEMP ``stage_batch_files`` which staged table holds which batch."""
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_batch_files (batch_id BIGINT, table_name VARCHAR, "
        "malformed_name VARCHAR, file INTEGER, rows BIGINT, malformed BIGINT, first_row BIGINT)"
    )
    rows = [
        [b.batch_id, s.table, s.malformed, b.file, b.rows, b.malformed, b.offset]
        for s in staged
        for b in s.batches
    ]
    if rows:
        cur.execute(
            "INSERT INTO stage_batch_files VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
            [v for row in rows for v in row],
        )


def staged_tables(cur: duckdb.DuckDBPyConnection, batches: dict[int, list[str]]) -> list[Staged]:
    """The staged tables holding ``batches`` (batch id -> columns), with only those batches,
    in order of their first batch."""
    if not batches or not temp_exists(cur, "stage_batch_files"):
        return []
    rows = cur.execute(
        "SELECT batch_id, table_name, malformed_name, file, rows, malformed, first_row "
        "FROM stage_batch_files WHERE list_contains($ids, batch_id) ORDER BY batch_id",
        {"ids": list(batches)},
    ).fetchall()
    out: dict[str, Staged] = {}
    for batch_id, table, malformed, file, n, bad, first in rows:
        if table not in out:
            out[table] = Staged(table, malformed, batches[batch_id], [], _loaded(cur, table))
        out[table].batches.append(StagedBatch(batch_id, file, n, bad, first))
    return list(out.values())


def _csv_groups(
    batches: list[tuple[int, str, str]], encoding: str
) -> list[tuple[list[tuple[int, str, str]], str | None]]:
    """Batches grouped for reading together, with their encoding; ``None``: read alone."""
    groups: dict[tuple[str, bytes], list[tuple[int, str, str]]] = {}
    alone = []
    for batch in batches:
        _, path, suffix = batch
        header = _first_line(path) if suffix == ".csv" else None
        enc = (detect_encoding(path) if encoding == "auto" else encoding) if header else None
        if header is None or enc not in ("utf-8", "latin-1"):
            alone.append(([batch], None))
        else:
            groups.setdefault((enc, header), []).append(batch)
    out: list[tuple[list[tuple[int, str, str]], str | None]] = []
    for (enc, _), members in groups.items():
        sizes = [os.path.getsize(path) for _, path, _ in members]
        # Equal shares of about GROUP_BYTES each, so no group is a small leftover.
        per_group = sum(sizes) / max(1, round(sum(sizes) / GROUP_BYTES))
        chunk: list[tuple[int, str, str]] = []
        size = 0
        for batch, bytes_ in zip(members, sizes, strict=True):
            if chunk and size + bytes_ / 2 > per_group:
                out.append((chunk, enc))
                chunk, size = [], 0
            chunk.append(batch)
            size += bytes_
        out.append((chunk, enc))
    return out + alone


def _first_line(path: str) -> bytes | None:
    """The header line's bytes, or None when the file has no complete first line."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    end = head.find(b"\n")
    return head[: end + 1] if end > 0 else None


def _header(path: str, encoding: str, delimiter: str) -> tuple[list[str], str] | None:
    """The header's column names and its delimiter, when the line is plain: it splits one way
    (or by the configured delimiter) into distinct usable names. None otherwise."""
    with open(path, "rb") as handle:
        raw = handle.readline()
    try:
        line = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding).rstrip("\r\n")
        found = []
        for delim in DELIMITERS if delimiter == "auto" else (delimiter,):
            names = [n.strip() for n in next(csv.reader([line], delimiter=delim))]
            if len(names) > 1:
                found.append((names, delim))
        if len(found) != 1:
            return None  # one column, or ambiguous: read alone, so the messages are exact
        names, delim = found[0]
        for name in names:
            quote_ident(name)
    except (UnicodeDecodeError, ValueError, csv.Error):
        return None
    if len({n.lower() for n in names}) != len(names):
        return None
    return names, delim


def _stage_group(
    cur: duckdb.DuckDBPyConnection,
    group: list[tuple[int, str, str]],
    encoding: str,
    delimiter: str,
    skip: set[str],
) -> tuple[list[Staged], list[tuple[int, str, str]]]:
    """Read CSV files sharing a header line in one scan each; returns the staged tables and the
    files to read alone.

    A read fails on any line that does not fit; the group is then read in halves, so only the
    files with such lines are left to be read alone (which quarantines the lines exactly).
    """
    header = _header(group[0][1], encoding, delimiter)
    if header is None:
        return [], group
    names, delim = header
    unused = [n for n in names if n.lower() in skip]
    exclude = f" EXCLUDE ({', '.join(quote_ident(n) for n in unused)})" if unused else ""
    table, malformed = f"raw_{int(group[0][0])}", f"malformed_{int(group[0][0])}"
    try:
        # The dialect is given, so nothing is sniffed; quotes and escapes are RFC 4180's (a
        # quote-free file reads as it is). Strict: a line that does not fit fails the read.
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT *{exclude}, "
            "CAST(file_index AS INTEGER) AS _staged_file FROM read_csv($paths, "
            "auto_detect = false, header = true, delim = $delim, quote = '\"', escape = '\"', "
            "encoding = $encoding, columns = $columns)",
            {
                "paths": [path for _, path, _ in group],
                "encoding": encoding,
                "delim": delim,
                "columns": dict.fromkeys(names, "VARCHAR"),
            },
        )
    except duckdb.Error:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        if len(group) == 1:
            return [], group
        half = len(group) // 2
        first = _stage_group(cur, group[:half], encoding, delimiter, skip)
        second = _stage_group(cur, group[half:], encoding, delimiter, skip)
        return first[0] + second[0], first[1] + second[1]
    counts = {
        f: (n, first)
        for f, n, first in cur.execute(
            f"SELECT _staged_file, count(*), min(rowid) FROM {table} GROUP BY _staged_file"
        ).fetchall()
    }
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {malformed} ({MALFORMED_COLUMNS})")
    batches = []
    for i, (batch_id, _, _) in enumerate(group):
        rows, first = counts.get(i, (0, 0))
        batches.append(StagedBatch(batch_id, i, rows, 0, first))
    return [Staged(table, malformed, names, batches, _loaded(cur, table))], []


def _stage_one(
    cur: duckdb.DuckDBPyConnection,
    path: str,
    suffix: str,
    encoding: str,
    delimiter: str,
    table: str,
    malformed: str,
) -> list[str]:
    """Stage one file into ``table`` and ``malformed``; returns its columns."""
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    if os.path.getsize(path) == 0:
        raise BatchRejected("the file is empty (0 bytes); send it again with a header and rows")
    if suffix == ".parquet":
        reader = "read_parquet($path)"
    elif suffix in (".jsonl", ".ndjson"):
        _stage_json_lines(cur, path, table, malformed)
        return _checked_columns(cur, table)
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
    # Each scan gets fresh reject tables, so only this file's bad lines are read back.
    cur.execute("DROP TABLE IF EXISTS stage_rejects")
    cur.execute("DROP TABLE IF EXISTS stage_reject_scans")
    try:
        _create_stage(cur, table, reader, params)
    except duckdb.Error as error:
        raise BatchRejected(_parse_message(error, path)) from None
    _stage_malformed(cur, malformed, suffix == ".csv")
    if suffix == ".csv":
        _check_csv_header(cur, path, params)
    return _checked_columns(cur, table)


def _loaded(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [c for c in _columns(cur, table) if c != "_staged_file"]


def _checked_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The staged file's columns, refused when a name is unusable or repeated."""
    columns = _loaded(cur, table)
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
                # Plain ASCII needs no decoding, unless a multi-byte character is pending.
                if not (block.isascii() and not decoder.getstate()[0]):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def _stage_json_lines(
    cur: duckdb.DuckDBPyConnection, path: str, table: str, malformed: str
) -> None:
    """Stage a JSON Lines file; lines that are not JSON objects go to ``malformed``.

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
            table,
            "read_json($path, format = 'newline_delimited', records = true)",
            {"path": source},
        )
    except duckdb.Error as error:
        raise BatchRejected(_parse_message(error, source)) from None
    finally:
        if source != path:
            os.unlink(source)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {malformed} ({MALFORMED_COLUMNS})")
    for number, message in bad:
        cur.execute(f"INSERT INTO {malformed} VALUES (0, ?, 'INVALID JSON', ?)", [number, message])


def _stage_malformed(cur: duckdb.DuckDBPyConnection, malformed: str, is_csv: bool) -> None:
    """TEMP ``malformed``: the lines of this CSV scan that could not be parsed."""
    has_rejects = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'stage_rejects'"
    ).fetchone()[0]
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {malformed} ({MALFORMED_COLUMNS})")
    if is_csv and has_rejects:
        cur.execute(
            f"INSERT INTO {malformed} SELECT 0, line, error_type, error_message FROM stage_rejects"
        )


def _create_stage(
    cur: duckdb.DuckDBPyConnection, table: str, reader: str, params: dict[str, str]
) -> None:
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT *, 0 AS _staged_file FROM {reader}", params
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
    if "error when sniffing" in lowered:
        # Its list of possible fixes names every option; the dialect is what to check.
        hint = (
            "check the delimiter, quoting and encoding (settings ingest.csv_delimiter, "
            "ingest.csv_encoding)"
        )
    elif "maximum line size" in lowered or "line size" in lowered:
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
    try:
        header = cur.execute(
            "SELECT * FROM read_csv($path, header = false, all_varchar = true, "
            f"encoding = $encoding{delim}) LIMIT 1",
            params,
        ).fetchone()
    except duckdb.Error as error:
        # Read without setting bad lines aside, the file may not parse at all: refuse the
        # file, not the run.
        raise BatchRejected(_parse_message(error, path)) from None
    names = [str(h).strip().lower() for h in (header or ()) if h is not None]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BatchRejected(
            f"the header repeats the column name(s) {', '.join(repeated)}; each column needs "
            "its own name"
        )


def temp_exists(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the run's cursor has TEMP table ``table``."""
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]
        ).fetchone()[0]
    )


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in cur.execute(f"DESCRIBE {table}").fetchall()]


# -- shared SQL ----------------------------------------------------------------------------
def clean_text_sql(expr: str) -> str:
    """SQL for ``expr`` as trimmed, NFC-normalised text with null tokens turned into NULL.

    Uses the bound parameter ``$tokens`` (:data:`NULL_TOKENS`).
    """
    text = f"nfc_normalize(trim(CAST({expr} AS VARCHAR)))"
    # Lower-casing never shortens text, so longer values (ids, dates) skip the token lookup.
    return (
        f"CASE WHEN length({text}) <= {TOKEN_CHARS} AND list_contains($tokens, lower({text})) "
        f"THEN NULL ELSE {text} END"
    )


def _clean_text(col: str) -> str:
    """SQL for a column as trimmed, NFC-normalised text with null tokens turned into NULL."""
    return clean_text_sql(quote_ident(col))


def event_time_sql(text: str) -> str:
    """SQL for an event time: ISO first, then the common day-first and other formats."""
    return f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, $formats))"


def profile(
    cur: duckdb.DuckDBPyConnection, columns: list[str], table: str = "stage_raw", file: int = 0
) -> list[ColumnProfile]:
    """Measure each column of one staged file: non-null count, numeric share, quantiles,
    categories. A column that was not loaded (see :class:`Staged`) gets an empty profile."""
    loaded = set(_loaded(cur, table))
    measured = [c for c in columns if c in loaded]
    found: dict[str, ColumnProfile] = {}
    if measured:
        texts = ", ".join(f"{_clean_text(c)} AS t{i}" for i, c in enumerate(measured))
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


def _record_expr(cur: duckdb.DuckDBPyConnection, contract: Contract, table: str) -> str:
    """SQL building a JSON record of a raw row (alias ``s``) from allow-listed columns only.

    Only the keys, the target and the contract's features are kept, so a PII column, even
    one that first appears after the contract was made, never reaches the quarantine.
    """
    allowed = {contract.entity_id, contract.event_time, contract.target, *contract.features}
    raw_cols = [c for c in _columns(cur, table) if c in allowed]
    if not raw_cols:
        return "NULL"
    return (
        "CAST(json_object("
        + ", ".join(f"'{c}', s.{quote_ident(c)}" for c in raw_cols)
        + ") AS VARCHAR)"
    )


def quarantine_malformed(cur: duckdb.DuckDBPyConnection, staged: Staged, params: dict) -> None:
    """Move the unparsable lines of the batches in ``$bids`` into the quarantine."""
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


# -- cleaning ------------------------------------------------------------------------------
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


def clean_label_batches(
    cur: duckdb.DuckDBPyConnection, staged: Staged, contract: Contract
) -> dict[int, CleanReport | BatchRejected]:
    """Stage the labels of every batch of ``staged`` into ``stage_labels``; per batch, the
    report or why the batch was rejected (then nothing of it is staged)."""
    results: dict[int, CleanReport | BatchRejected] = {}
    active = []
    for b in staged.batches:
        if b.rows == 0:
            results[b.batch_id] = BatchRejected(no_rows_message(cur, staged, b))
        else:
            active.append(b)
    if not active:
        return results
    files = 1 + max(b.file for b in staged.batches)
    params = {
        "tokens": NULL_TOKENS,
        "t": TRUE_LABELS,
        "f": FALSE_LABELS,
        "formats": DATE_FORMATS,
        "bids": [None] * files,
        "offsets": [0] * files,
    }
    for b in active:
        params["bids"][b.file], params["offsets"][b.file] = b.batch_id, b.offset
    e, t, y = (_clean_text(c) for c in (contract.entity_id, contract.event_time, contract.target))
    sql = (
        "CREATE OR REPLACE TEMP TABLE clean_labels AS SELECT file, _pos, _row, entity, "
        "event_time, _label, _label_text, CASE WHEN entity IS NULL OR _time_text IS NULL "
        "THEN 'missing_key' "
        "WHEN event_time IS NULL THEN 'invalid_time' WHEN _label_text IS NULL THEN "
        "'missing_label' WHEN _label IS NULL THEN 'invalid_label' END AS _rule FROM ("
        f"SELECT *, {event_time_sql('_time_text')} AS event_time, "
        "CASE WHEN list_contains($t, lower(_label_text)) THEN 1 "
        "WHEN list_contains($f, lower(_label_text)) THEN 0 END AS _label FROM ("
        "SELECT _staged_file AS file, rowid AS _pos, "
        "rowid - list_extract($offsets, _staged_file + 1) + 1 AS _row, "
        f"CAST({e} AS VARCHAR) AS entity, {t} AS _time_text, {y} AS _label_text "
        f"FROM {staged.table} WHERE list_extract($bids, _staged_file + 1) IS NOT NULL))"
    )
    cur.execute(sql, sql_params(sql, params))
    # The last row of a repeated key wins; the earlier ones are duplicates.
    cur.execute(
        "UPDATE clean_labels SET _rule = 'duplicate_key' FROM (SELECT file, entity, event_time, "
        "max(_row) AS last FROM clean_labels WHERE _rule IS NULL GROUP BY ALL "
        "HAVING count(*) > 1) k WHERE clean_labels._rule IS NULL AND clean_labels.file = k.file "
        "AND clean_labels.entity = k.entity AND clean_labels.event_time = k.event_time "
        "AND clean_labels._row < k.last"
    )
    quarantine_malformed(cur, staged, params)
    record = _record_expr(cur, contract, staged.table)
    sql = (
        "INSERT INTO stage_quarantine SELECT list_extract($bids, t.file + 1), t._row, t._rule, "
        "CASE t._rule WHEN 'missing_key' THEN 'the entity id or event time is missing' "
        "WHEN 'invalid_time' THEN 'the event time is not a date or timestamp' "
        "WHEN 'missing_label' THEN 'the target is empty; send the label when it is known' "
        "WHEN 'duplicate_key' THEN 'a later row in the file gives a label for the same entity "
        f"id and event time' ELSE 'the target {contract.target} = ' || "
        "coalesce(t._label_text, '') || ' is not binary: use 0/1, yes/no or true/false' END, "
        f"{record} FROM clean_labels t JOIN {staged.table} s ON s.rowid = t._pos "
        "WHERE t._rule IS NOT NULL"
    )
    cur.execute(sql, sql_params(sql, params))
    sql = (
        "INSERT INTO stage_labels SELECT entity, event_time, "
        "CAST(date_trunc('month', event_time) AS DATE), _label, "
        "list_extract($bids, file + 1), _row FROM clean_labels WHERE _rule IS NULL"
    )
    cur.execute(sql, sql_params(sql, params))
    counts = {
        f: (parsed, labels, dups)
        for f, parsed, labels, dups in cur.execute(
            "SELECT file, count(*), count(*) FILTER (WHERE _rule IS NULL), "
            "count(*) FILTER (WHERE _rule = 'duplicate_key') FROM clean_labels GROUP BY file"
        ).fetchall()
    }
    cur.execute("DROP TABLE clean_labels")
    quarantined = quarantined_counts(cur, [b.batch_id for b in active])
    for b in active:
        parsed, labels, dups = counts[b.file]
        rows_in = parsed + b.malformed
        q = quarantined.get(b.batch_id, 0)
        results[b.batch_id] = CleanReport(rows_in, labels, q, dups, 0, 0, 0, labels)
    return results
