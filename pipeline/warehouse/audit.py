"""The audit trail: who did what, when, from where, and how it ended. Append-only.

Nothing in Plumbline updates or deletes an audit row; the only write is :func:`record`. Each
row also carries a SHA-256 chained over the previous row's hash and its own content, so an
edit made behind Plumbline's back (with the DuckDB shell, say) is found by :func:`verify_chain`.

Actions recorded: ``login`` (outcome ``ok``, ``failed`` or ``throttled``), ``logout``,
``retrain``, ``cancel``, ``promote``, ``rollback``, ``alert.acknowledge``, ``alert.mute``,
``user.add``, ``user.disable``, ``user.enable``, ``user.role``, ``user.password``,
``settings.change``, ``upload`` and ``denied`` (a privileged request the role may not make).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from pipeline.warehouse.connection import Warehouse, utcnow

GENESIS = "0" * 64
OUTCOMES = ("ok", "failed", "refused", "throttled", "denied")
COLUMNS = [
    "event_id",
    'occurred_at AS "at"',
    "actor",
    "role",
    "address",
    "action",
    "target",
    "outcome",
    "detail",
]


@dataclass(frozen=True)
class AuditEvent:
    """One thing a person (or the scheduler) did."""

    actor: str
    action: str
    outcome: str = "ok"
    target: str | None = None
    detail: str | None = None
    role: str | None = None
    address: str | None = None


def _fields(event: AuditEvent) -> list[str | None]:
    """The event's columns in table order, after ``event_id`` and the time."""
    return [
        event.actor,
        event.role,
        event.address,
        event.action,
        event.target,
        event.outcome,
        event.detail,
    ]


def _digest(prev_hash: str, event_id: int, at: datetime, event: AuditEvent) -> str:
    stamp = at.isoformat(timespec="microseconds")
    content = json.dumps([event_id, stamp, *_fields(event)], ensure_ascii=True)
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


def record(wh: Warehouse, event: AuditEvent) -> int:
    """Append ``event``; returns its id. Writes in its own transaction, at once."""
    if event.outcome not in OUTCOMES:
        raise ValueError(f"audit outcome {event.outcome!r} is not one of {OUTCOMES}")
    with wh.transaction(scope="audit") as cur:
        last = cur.execute(
            "SELECT event_id, row_hash FROM audit_log ORDER BY event_id DESC LIMIT 1"
        ).fetchone()
        event_id, prev_hash = (int(last[0]) + 1, last[1]) if last else (1, GENESIS)
        at = utcnow()
        row_hash = _digest(prev_hash, event_id, at, event)
        cur.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [event_id, at, *_fields(event), prev_hash, row_hash],
        )
    return event_id


def list_events(
    wh: Warehouse,
    *,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 5_000,
) -> pd.DataFrame:
    """Audit rows, newest first, filtered by exact actor/action/outcome and a time window.

    Columns: event_id, at, actor, role, address, action, target, outcome, detail.
    """
    clauses, params = [], []
    for column, value in (("actor", actor), ("action", action), ("outcome", outcome)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("occurred_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("occurred_at < ?")
        params.append(until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    params.append(int(limit))
    return wh.read(
        f"SELECT {', '.join(COLUMNS)} FROM audit_log {where} ORDER BY event_id DESC LIMIT ?",
        params,
    )


def distinct_values(wh: Warehouse, column: str) -> list[str]:
    """The values seen in ``column`` (actor, action or outcome), for filter menus."""
    if column not in ("actor", "action", "outcome"):
        raise ValueError(f"cannot list audit column {column!r}")
    return [r[0] for r in wh.rows(f"SELECT DISTINCT {column} FROM audit_log ORDER BY 1")]


def verify_chain(wh: Warehouse) -> int | None:
    """The first event id whose hash does not match its content, or None when all match."""
    prev = GENESIS
    rows = wh.rows(
        "SELECT event_id, occurred_at, actor, role, address, action, target, outcome, detail, "
        "prev_hash, row_hash FROM audit_log ORDER BY event_id"
    )
    for event_id, at, actor, role, address, action, target, outcome, detail, p, h in rows:
        event = AuditEvent(actor, action, outcome, target, detail, role, address)
        if p != prev or _digest(prev, int(event_id), at, event) != h:
            return int(event_id)
        prev = h
    return None
