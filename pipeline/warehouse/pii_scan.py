"""Find columns that look like PII but are not configured as PII."""

from __future__ import annotations

import duckdb

from pipeline.warehouse.cleaning import NULL_TOKENS, _clean_text
from pipeline.warehouse.connection import utcnow

# Share of non-empty values that must match before a column is flagged.
FLAG_SHARE = 0.5
SAMPLE_ROWS = 5000
PATTERNS = {
    "email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    "phone": r"^\+?[0-9][0-9 ().-]{6,}[0-9]$",
    "name": r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+)+$",
}


def scan_for_pii(
    cur: duckdb.DuckDBPyConnection, batch_id: int, columns: list[str], skip: set[str]
) -> list[tuple[str, str, float]]:
    """(column, kind, share) for each column of ``stage_raw`` outside ``skip`` that looks like
    emails, phone numbers or personal names; also staged into TEMP ``stage_pii``."""
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_pii (column_name VARCHAR, kind VARCHAR, "
        "share DOUBLE, batch_id BIGINT, detected_at TIMESTAMP)"
    )
    found = []
    for col in columns:
        if col in skip or col.startswith("_"):
            continue
        text = _clean_text(col)
        checks = ", ".join(
            f"avg(CAST(regexp_full_match(v, ${kind}) AS DOUBLE))" for kind in PATTERNS
        )
        shares = cur.execute(
            f"SELECT {checks} FROM (SELECT {text} AS v FROM stage_raw LIMIT {SAMPLE_ROWS}) "
            "WHERE v IS NOT NULL",
            {"tokens": NULL_TOKENS, **PATTERNS},
        ).fetchone()
        best = max(
            ((kind, share or 0.0) for kind, share in zip(PATTERNS, shares, strict=True)),
            key=lambda pair: pair[1],
        )
        if best[1] >= FLAG_SHARE:
            found.append((col, best[0], float(best[1])))
            cur.execute(
                "INSERT INTO stage_pii VALUES (?, ?, ?, ?, ?)",
                [col, best[0], float(best[1]), batch_id, utcnow()],
            )
    return found
