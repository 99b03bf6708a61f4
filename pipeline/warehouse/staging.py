"""Stage a run's raw files into TEMP tables of text columns, reading files with one header together.

A staged table holds one or more batches: column ``_staged_file`` says which file of the read a row
came from, and a batch's rows keep the file's order, so a row's number in its file is its
``rowid`` minus the batch's first ``rowid``, plus one. Data and label cleaning then work on all
batches of a staged table at once (see :mod:`pipeline.warehouse.clean_batch`). Identifiers come
from the file's own header only after :func:`quote_ident` accepted them; values are bound
parameters.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

import duckdb

from pipeline.warehouse.clean_common import (
    MALFORMED_COLUMNS,
    BatchRejected,
    Staged,
    StagedBatch,
    loaded_columns,
    temp_exists,
)
from pipeline.warehouse.connection import quote_ident
from pipeline.warehouse.staging_one import detect_encoding, stage_one

# CSV files sharing a header are read together, up to this many bytes per staged table: one
# read and one set of cleaning statements for many files, while cleaning one staged table at a
# time keeps the working memory to a slice of the run.
GROUP_BYTES = 32 << 20
HEADER_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t", "|")


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
    return stage_one(cur, path, suffix, encoding, delimiter, "stage_raw", "stage_malformed")


def staged_single(cur: duckdb.DuckDBPyConnection, batch_id: int, columns: list[str]) -> Staged:
    """``stage_raw`` and ``stage_malformed`` (from :func:`stage_file`) as one staged batch."""
    rows = cur.execute("SELECT count(*) FROM stage_raw").fetchone()[0]
    malformed = cur.execute("SELECT count(*) FROM stage_malformed").fetchone()[0]
    batch = StagedBatch(batch_id, 0, rows, malformed, 0)
    loaded = loaded_columns(cur, "stage_raw")
    return Staged("stage_raw", "stage_malformed", columns, [batch], loaded)


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
            columns = stage_one(cur, path, suffix, encoding, delimiter, table, malformed)
        except BatchRejected as error:
            rejected[batch_id] = str(error)
            # The file may have been staged before its header was refused.
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"DROP TABLE IF EXISTS {malformed}")
            continue
        rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        bad = cur.execute(f"SELECT count(*) FROM {malformed}").fetchone()[0]
        batch = StagedBatch(batch_id, 0, rows, bad, 0)
        staged.append(Staged(table, malformed, columns, [batch], loaded_columns(cur, table)))
    staged.sort(key=lambda s: min(b.batch_id for b in s.batches))
    _record_staged(cur, staged)
    return staged, rejected


def _record_staged(cur: duckdb.DuckDBPyConnection, staged: list[Staged]) -> None:
    """Note in TEMP ``stage_batch_files`` which staged table holds which batch (and which
    columns the table loaded)."""
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_batch_files (batch_id BIGINT, table_name VARCHAR, "
        "malformed_name VARCHAR, file INTEGER, rows BIGINT, malformed BIGINT, first_row BIGINT, "
        "loaded VARCHAR[])"
    )
    rows = [
        [b.batch_id, s.table, s.malformed, b.file, b.rows, b.malformed, b.offset, s.loaded]
        for s in staged
        for b in s.batches
    ]
    if rows:
        cur.execute(
            "INSERT INTO stage_batch_files VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
            [v for row in rows for v in row],
        )


def staged_tables(cur: duckdb.DuckDBPyConnection, batches: dict[int, list[str]]) -> list[Staged]:
    """The staged tables holding ``batches`` (batch id -> columns), with only those batches,
    in order of their first batch."""
    if not batches or not temp_exists(cur, "stage_batch_files"):
        return []
    rows = cur.execute(
        "SELECT batch_id, table_name, malformed_name, file, rows, malformed, first_row, loaded "
        "FROM stage_batch_files WHERE list_contains($ids, batch_id) ORDER BY batch_id",
        {"ids": list(batches)},
    ).fetchall()
    out: dict[str, Staged] = {}
    for batch_id, table, malformed, file, n, bad, first, loaded in rows:
        if table not in out:
            out[table] = Staged(table, malformed, batches[batch_id], [], list(loaded))
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
    loaded = [n for n in names if n not in unused]
    return [Staged(table, malformed, names, batches, loaded)], []
