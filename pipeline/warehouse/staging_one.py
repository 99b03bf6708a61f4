"""Read one raw file alone into TEMP tables: CSV with unparsable lines set aside, JSON Lines,
Parquet; refuse files that cannot be used, with a sentence for people.

The grouped reads of :mod:`pipeline.warehouse.staging` fall back to these single reads for any
file that does not fit its group, so malformed lines are quarantined exactly as on their own.
"""

from __future__ import annotations

import codecs
import json
import os
import tempfile

import duckdb

from pipeline.warehouse.clean_common import MALFORMED_COLUMNS, BatchRejected, loaded_columns
from pipeline.warehouse.connection import quote_ident


def stage_one(
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


def _checked_columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The staged file's columns, refused when a name is unusable or repeated."""
    columns = loaded_columns(cur, table)
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
