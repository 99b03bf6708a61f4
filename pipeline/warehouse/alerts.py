"""Alerts: facts an operator must see, from a refused model artefact to drift past a rule.

Statuses: ``open`` (new), ``acknowledged`` (a person has seen it and is on it), ``muted`` (a
person silenced it, until ``muted_until`` or for good) and ``resolved`` (the condition cleared
or someone fixed it). An alert is *active* while it is open, acknowledged or muted; the same
kind and subject is never raised twice while one is active, so a drift that lasts three months
is one alert, not three.

``raise_alert`` writes at once, in its own transaction, so e.g. a refused artefact survives a
failed run. Monitoring alerts are staged instead and written by :func:`write_drafts` inside the
run's publication, with the rest of the run's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from pipeline.warehouse.connection import Warehouse, utcnow

ACTIVE = ("open", "acknowledged", "muted")
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertDraft:
    """An alert a run wants raised (or kept): written with the run's publication."""

    severity: str
    kind: str
    subject: str
    message: str
    period: date | None = None


def _active_id(cur: duckdb.DuckDBPyConnection, kind: str, subject: str) -> int | None:
    """The active alert of ``kind`` about ``subject``; a mute that has run out ends here."""
    row = cur.execute(
        "SELECT alert_id, status, muted_until FROM alerts "
        "WHERE status IN ('open', 'acknowledged', 'muted') AND kind = ? AND subject = ? "
        "ORDER BY alert_id DESC LIMIT 1",
        [kind, subject],
    ).fetchone()
    if row is None:
        return None
    alert_id, status, until = row
    if status == "muted" and until is not None and until <= utcnow():
        cur.execute(
            "UPDATE alerts SET status = 'resolved', comment = coalesce(comment, '') || ? "
            "WHERE alert_id = ?",
            [" (mute ended)", alert_id],
        )
        return None
    return int(alert_id)


def _insert(cur: duckdb.DuckDBPyConnection, draft: AlertDraft, run_id: int | None) -> int:
    alert_id = cur.execute("SELECT coalesce(max(alert_id), 0) + 1 FROM alerts").fetchone()[0]
    cur.execute(
        "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, status, "
        "run_id, period) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        [
            alert_id,
            utcnow(),
            draft.severity,
            draft.kind,
            draft.subject,
            draft.message,
            run_id,
            draft.period,
        ],
    )
    return int(alert_id)


def raise_alert(
    wh: Warehouse,
    severity: str,
    kind: str,
    subject: str,
    message: str,
    run_id: int | None = None,
) -> int:
    """Record an open alert and return its id (the active one if there is one already)."""
    with wh.transaction(scope="alerts") as cur:
        existing = _active_id(cur, kind, subject)
        if existing is not None:
            return existing
        return _insert(cur, AlertDraft(severity, kind, subject, message), run_id)


def write_drafts(
    cur: duckdb.DuckDBPyConnection,
    drafts: list[AlertDraft],
    run_id: int,
    clears: list[tuple[str, str, str]] | None = None,
) -> list[int]:
    """Inside a transaction: raise each draft unless an alert for it is active; resolve the
    active alerts in ``clears`` (kind, subject, why). Returns the ids newly raised."""
    raised = []
    for draft in drafts:
        if _active_id(cur, draft.kind, draft.subject) is None:
            raised.append(_insert(cur, draft, run_id))
    for kind, subject, why in clears or []:
        cur.execute(
            "UPDATE alerts SET status = 'resolved', handled_by = 'plumbline', handled_at = ?, "
            "comment = ? WHERE status IN ('open', 'acknowledged') AND kind = ? AND subject = ?",
            [utcnow(), why, kind, subject],
        )
    return raised


def active_subjects(wh: Warehouse, kinds: tuple[str, ...]) -> set[tuple[str, str]]:
    """(kind, subject) of every active alert of these kinds."""
    if not kinds:
        return set()
    rows = wh.read(
        "SELECT kind, subject FROM alerts WHERE status IN ('open', 'acknowledged', 'muted') "
        f"AND kind IN ({', '.join('?' for _ in kinds)})",
        list(kinds),
    )
    return {(k, s) for k, s in rows.itertuples(index=False)}


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


def list_alerts(
    wh: Warehouse, statuses: tuple[str, ...] = ACTIVE, limit: int = 500
) -> pd.DataFrame:
    """Alerts with these statuses, newest first, with who handled them and how.

    Columns: alert_id, raised_at, severity, kind, subject, message, status, run_id, period,
    handled_by, handled_at, comment, muted_until, delivery.
    """
    return wh.read(
        "SELECT alert_id, raised_at, severity, kind, subject, message, status, run_id, period, "
        "handled_by, handled_at, comment, muted_until, delivery FROM alerts "
        f"WHERE status IN ({', '.join('?' for _ in statuses)}) "
        "ORDER BY raised_at DESC, alert_id DESC LIMIT ?",
        [*statuses, limit],
    )


class AlertActionError(ValueError):
    """An acknowledge or mute that cannot be done; the message says why."""


def _handle(
    wh: Warehouse,
    alert_id: int,
    status: str,
    by: str,
    comment: str,
    until: datetime | None = None,
) -> None:
    text = (comment or "").strip()
    if len(text) < 3:
        raise AlertActionError("write a comment (at least 3 characters) saying why")
    if len(text) > 1000:
        raise AlertActionError("the comment is longer than 1,000 characters")
    with wh.transaction(scope="alerts") as cur:
        row = cur.execute("SELECT status FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
        if row is None:
            raise AlertActionError(f"there is no alert #{alert_id}")
        if row[0] == "resolved":
            raise AlertActionError(f"alert #{alert_id} is already resolved")
        cur.execute(
            "UPDATE alerts SET status = ?, handled_by = ?, handled_at = ?, comment = ?, "
            "muted_until = ? WHERE alert_id = ?",
            [status, by, utcnow(), text, until, alert_id],
        )


def acknowledge(wh: Warehouse, alert_id: int, by: str, comment: str) -> None:
    """Mark an alert as seen and handled by ``by``; it stays active, so it is not re-raised."""
    _handle(wh, alert_id, "acknowledged", by, comment)


def mute(
    wh: Warehouse, alert_id: int, by: str, comment: str, until: datetime | None = None
) -> None:
    """Silence an alert until ``until`` (None: until someone resolves it)."""
    if until is not None and until <= utcnow():
        raise AlertActionError("the mute must end in the future")
    _handle(wh, alert_id, "muted", by, comment, until)


def set_delivery(wh: Warehouse, alert_ids: list[int], delivery: str) -> None:
    """Record how the webhook delivery of these alerts went."""
    if alert_ids:
        wh.execute(
            "UPDATE alerts SET delivery = ? "
            f"WHERE alert_id IN ({', '.join('?' for _ in alert_ids)})",
            [delivery, *alert_ids],
            scope="alerts",
        )


def resolve(wh: Warehouse, kind: str, subject: str, by: str, comment: str) -> None:
    """Close the active alert of ``kind`` about ``subject`` (e.g. after a fix)."""
    wh.execute(
        "UPDATE alerts SET status = 'resolved', handled_by = ?, handled_at = ?, comment = ? "
        "WHERE status IN ('open', 'acknowledged', 'muted') AND kind = ? AND subject = ?",
        [by, utcnow(), comment, kind, subject],
        scope="alerts",
    )
