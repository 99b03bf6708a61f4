"""Alerts: facts an operator must see, such as a model artefact that failed verification.

An alert is written at once, in its own small transaction, so it survives a failed run.
The same open alert (same kind and subject) is not raised twice.
"""

from __future__ import annotations

import pandas as pd

from pipeline.warehouse.connection import Warehouse, utcnow


def raise_alert(
    wh: Warehouse,
    severity: str,
    kind: str,
    subject: str,
    message: str,
    run_id: int | None = None,
) -> int:
    """Record an open alert and return its id (the existing one if it is already open)."""
    with wh.transaction() as cur:
        existing = cur.execute(
            "SELECT alert_id FROM alerts WHERE status = 'open' AND kind = ? AND subject = ?",
            [kind, subject],
        ).fetchone()
        if existing is not None:
            return int(existing[0])
        alert_id = cur.execute("SELECT coalesce(max(alert_id), 0) + 1 FROM alerts").fetchone()[0]
        cur.execute(
            "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, status, "
            "run_id) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
            [alert_id, utcnow(), severity, kind, subject, message, run_id],
        )
    return int(alert_id)


def open_alerts(wh: Warehouse, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Open alerts, newest first.

    Columns: alert_id, raised_at, severity, kind, subject, message, run_id.
    """
    where, params = "status = 'open'", []
    if kinds:
        where += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params = list(kinds)
    return wh.read(
        "SELECT alert_id, raised_at, severity, kind, subject, message, run_id FROM alerts "
        f"WHERE {where} ORDER BY raised_at DESC, alert_id DESC",
        params,
    )


def resolve(wh: Warehouse, kind: str, subject: str, by: str, comment: str) -> None:
    """Close the open alert of ``kind`` about ``subject`` (e.g. after a fix)."""
    wh.execute(
        "UPDATE alerts SET status = 'resolved', handled_by = ?, handled_at = ?, comment = ? "
        "WHERE status = 'open' AND kind = ? AND subject = ?",
        [by, utcnow(), comment, kind, subject],
    )
