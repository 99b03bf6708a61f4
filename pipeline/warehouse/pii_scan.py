"""Find columns that look like PII but are not configured as PII."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipeline.warehouse.cleaning import (
    NULL_TOKENS,
    Staged,
    _clean_text,
    sql_params,
    staged_single,
)
from pipeline.warehouse.connection import utcnow

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
    of each batch's first :data:`SAMPLE_ROWS` rows; returns the suspects per batch."""
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
    files = 1 + max(b.file for b in staged.batches)
    params: dict = {"tokens": NULL_TOKENS, "offsets": [0] * files, "bids": [None] * files}
    params.update(PATTERNS)
    for b in batches:
        params["offsets"][b.file], params["bids"][b.file] = b.offset, b.batch_id
    texts = ", ".join(f"{_clean_text(c)} AS v{i}" for i, c in enumerate(cols))
    shares = ", ".join(
        f"avg(CASE WHEN v{i} IS NULL THEN NULL WHEN "
        f"{NECESSARY[kind].format(v=f'v{i}')} THEN CAST(regexp_full_match(v{i}, ${kind}) "
        "AS DOUBLE) ELSE 0.0 END)"
        for i in range(len(cols))
        for kind in PATTERNS
    )
    sql = (
        f"SELECT _staged_file, {shares} FROM (SELECT _staged_file, {texts} FROM {staged.table} "
        "WHERE list_extract($bids, _staged_file + 1) IS NOT NULL "
        f"AND rowid - list_extract($offsets, _staged_file + 1) < {SAMPLE_ROWS}) "
        "GROUP BY _staged_file"
    )
    by_file = {r[0]: r[1:] for r in cur.execute(sql, sql_params(sql, params)).fetchall()}
    rows = []
    now = utcnow()
    for b in batches:
        values = by_file.get(b.file)
        if values is None:
            continue
        for i, col in enumerate(cols):
            shares_of = values[i * len(PATTERNS) : (i + 1) * len(PATTERNS)]
            kind, share = max(
                ((k, s or 0.0) for k, s in zip(PATTERNS, shares_of, strict=True)),
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
