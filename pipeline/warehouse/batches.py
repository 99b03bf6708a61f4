"""Raw batches: append-only records of every file that arrived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.ingest import FoundFile
from pipeline.warehouse.connection import Warehouse, utcnow


def known_hashes(wh: Warehouse) -> set[str]:
    """Content hashes of every batch ever ingested."""
    return {r[0] for r in wh.rows("SELECT content_hash FROM raw_batches")}


def register(wh: Warehouse, run_id: int, found: FoundFile, stored: Path) -> int:
    """Record a new raw batch as ``pending``; returns its id."""
    with wh.transaction() as cur:
        batch_id = cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM raw_batches").fetchone()[
            0
        ]
        cur.execute(
            "INSERT INTO raw_batches (batch_id, run_id, kind, file_name, stored_path, size_bytes, "
            "content_hash, arrived_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
            [
                batch_id,
                run_id,
                found.suffix.lstrip("."),
                found.path.name,
                str(stored),
                found.size_bytes,
                found.content_hash,
                utcnow(),
            ],
        )
    return int(batch_id)


def pending(wh: Warehouse) -> list[dict[str, Any]]:
    """Batches not yet accepted or rejected (new, or left by a failed run), oldest first."""
    rows = wh.rows(
        "SELECT batch_id, file_name, stored_path, kind FROM raw_batches "
        "WHERE status = 'pending' ORDER BY batch_id"
    )
    return [
        {"batch_id": r[0], "file_name": r[1], "stored_path": r[2], "suffix": "." + r[3]}
        for r in rows
    ]
