"""Find columns that look like PII but are not configured as PII."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipeline.warehouse.clean_common import (
    NULL_TOKENS,
    Staged,
    batch_rows,
    clean_text_sql,
    sql_params,
)
from pipeline.warehouse.connection import quote_ident, utcnow
from pipeline.warehouse.staging import staged_single

# Share of non-empty values that must match before a column is flagged.
FLAG_SHARE = 0.5
SAMPLE_ROWS = 5000
PATTERNS = {
    "email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    "phone": r"^\+?[0-9][0-9 ().-]{6,}[0-9]$",
    "name": r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+)+$",
}
# A cheap test each value must pass to match its pattern at all (an e-mail has an '@', a phone
# number at least 8 characters, a name a capital first and a separator), so the regular
# expression only runs on the few candidates. Keep these in step with PATTERNS.
NECESSARY = {
    "email": "contains({v}, '@')",
    "phone": "length({v}) >= 8",
    "name": "ascii({v}) BETWEEN 65 AND 90 AND (contains({v}, ' ') OR contains({v}, chr(39)) "
    "OR contains({v}, '-'))",
}


def scan_for_pii(
    cur: duckdb.DuckDBPyConnection, batch_id: int, columns: list[str], skip: set[str]
) -> list[tuple[str, str, float]]:
    """(column, kind, share) for each column of ``stage_raw`` outside ``skip`` that looks like
    emails, phone numbers or personal names; also staged into TEMP ``stage_pii``."""
    return scan_staged(cur, staged_single(cur, batch_id, columns), skip)[batch_id]


def scan_staged(
    cur: duckdb.DuckDBPyConnection,
    staged: Staged,
    skip: set[str],
    batch_ids: Iterable[int] | None = None,
) -> dict[int, list[tuple[str, str, float]]]:
    """:func:`scan_for_pii` for the batches of ``staged`` (all, or ``batch_ids``), in one scan
    of each batch's first :data:`SAMPLE_ROWS` rows; returns the suspects per batch.

    Each distinct value of the sample is cleaned and matched once, weighted by how often it
    occurs, which gives the same shares as matching every row.
    """
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_pii (column_name VARCHAR, kind VARCHAR, "
        "share DOUBLE, batch_id BIGINT, detected_at TIMESTAMP)"
    )
    wanted = set(batch_ids) if batch_ids is not None else {b.batch_id for b in staged.batches}
    batches = [b for b in staged.batches if b.batch_id in wanted]
    found: dict[int, list[tuple[str, str, float]]] = {b.batch_id: [] for b in batches}
    cols = [
        c for c in staged.columns if c not in skip and not c.startswith("_") and c in staged.loaded
    ]
    if not cols or not batches:
        return found
    params: dict = {"tokens": NULL_TOKENS, **PATTERNS}
    sample = " OR ".join(batch_rows(b, limit=SAMPLE_ROWS) for b in batches)
    spelt = " UNION ALL ".join(
        f"SELECT _staged_file AS f, {i} AS c, CAST({quote_ident(col)} AS VARCHAR) AS raw, "
        "count(*) AS n FROM sample GROUP BY ALL"
        for i, col in enumerate(cols)
    )
    matches = ", ".join(
        f"sum(n) FILTER (WHERE {NECESSARY[kind].format(v='v')} AND regexp_full_match(v, ${kind}))"
        for kind in PATTERNS
    )
    # Empty values are left out by FILTER, not WHERE: a WHERE would be pushed below the
    # grouping and clean every row instead of every distinct value.
    sql = (
        f"WITH sample AS (SELECT _staged_file, {', '.join(quote_ident(c) for c in cols)} "
        f"FROM {staged.table} WHERE {sample}), spelt AS ({spelt}), "
        f"texts AS (SELECT f, c, n, {clean_text_sql('raw')} AS v FROM spelt) "
        f"SELECT f, c, sum(n) FILTER (WHERE v IS NOT NULL), {matches} FROM texts GROUP BY f, c"
    )
    counts = {
        (f, c): (total, values)
        for f, c, total, *values in cur.execute(sql, sql_params(sql, params)).fetchall()
    }
    rows = []
    now = utcnow()
    for b in batches:
        for i, col in enumerate(cols):
            total, values = counts.get((b.file, i), (0, [None] * len(PATTERNS)))
            if not total:
                continue
            kind, share = max(
                ((k, (v or 0) / total) for k, v in zip(PATTERNS, values, strict=True)),
                key=lambda pair: pair[1],
            )
            if share >= FLAG_SHARE:
                found[b.batch_id].append((col, kind, float(share)))
                rows.append([col, kind, float(share), b.batch_id, now])
    if rows:
        cur.execute(
            "INSERT INTO stage_pii VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows)),
            [v for row in rows for v in row],
        )
    return found
