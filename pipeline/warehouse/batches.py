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
    with wh.transaction(scope="intake") as cur:
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


def batch_by_hash(wh: Warehouse) -> dict[str, tuple[int, Any]]:
    """content hash -> (batch id, arrival time) of every ingested file."""
    return {
        r[0]: (r[1], r[2])
        for r in wh.rows("SELECT content_hash, batch_id, arrived_at FROM raw_batches")
    }


def batch_reports(wh: Warehouse, batch_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per batch: file, status, message, rows in/accepted/quarantined and quarantine by rule."""
    if not batch_ids:
        return {}
    rows = wh.rows(
        "SELECT b.batch_id, b.file_name, b.status, b.message, s.rows_in, s.rows_accepted, "
        "s.rows_quarantined, s.labels_applied FROM raw_batches b "
        "LEFT JOIN batch_stats s USING (batch_id) WHERE list_contains(?, b.batch_id)",
        [batch_ids],
    )
    out = {
        r[0]: {
            "batch_id": r[0],
            "file_name": r[1],
            "status": r[2],
            "message": r[3],
            "rows_in": r[4],
            "accepted": r[5],
            "quarantined": r[6],
            "labels": r[7],
            "rules": {},
        }
        for r in rows
    }
    for batch_id, rule, n in wh.rows(
        "SELECT batch_id, rule, count(*) FROM quarantine WHERE list_contains(?, batch_id) "
        "GROUP BY ALL ORDER BY 3 DESC",
        [batch_ids],
    ):
        out[batch_id]["rules"][rule] = n
    return out


def requeue_rejected(wh: Warehouse, batch_ids: list[int]) -> dict[int, str]:
    """Mark rejected batches pending again; returns a problem per id that could not be."""
    problems: dict[int, str] = {}
    status = dict(
        wh.rows(
            "SELECT batch_id, status FROM raw_batches WHERE list_contains(?, batch_id)", [batch_ids]
        )
    )
    for batch_id in batch_ids:
        if batch_id not in status:
            problems[batch_id] = "no such batch"
        elif status[batch_id] != "rejected":
            problems[batch_id] = (
                f"batch is {status[batch_id]}, not rejected; only rejected batches are re-processed"
            )
    ready = [b for b in batch_ids if b not in problems]
    if ready:
        wh.execute(
            "UPDATE raw_batches SET status = 'pending' WHERE list_contains(?, batch_id)",
            [ready],
            scope="intake",
        )
    return problems
