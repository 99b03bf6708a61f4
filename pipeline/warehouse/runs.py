"""Run and step records: every pipeline run is written here as it happens.

A run's status is ``running`` until it ends ``succeeded``, ``failed`` or ``cancelled``; a step's
is one of those or ``skipped``. A cancelled run names who cancelled it in ``cancel_requested_by``
and its error reads "cancelled by ana at 14:03:07 UTC".
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipeline.warehouse.connection import Warehouse, utcnow

INTERRUPTED = "interrupted"
RUN_STATUSES = ("running", "succeeded", "failed", "cancelled")
CANCELLED_UNFINISHED = "cancelled by {by} (the server stopped before the run had ended)"


def mark_interrupted_runs(wh: Warehouse) -> list[int]:
    """Runs left ``running`` by a crash become ``failed`` with reason ``interrupted``.

    A run someone had asked to cancel becomes ``cancelled`` instead: nothing of it was
    published either way, and that is what they asked for.
    """
    now = utcnow()
    with wh.transaction() as cur:
        found = cur.execute(
            "SELECT run_id, cancel_requested_by FROM runs WHERE status = 'running'"
        ).fetchall()
        for run_id, by in found:
            status = "failed" if by is None else "cancelled"
            error = INTERRUPTED if by is None else CANCELLED_UNFINISHED.format(by=by)
            cur.execute(
                "UPDATE runs SET status = ?, error = ?, finished_at = ?, current_step = NULL, "
                "duration_s = date_diff('millisecond', started_at, ?) / 1000.0 "
                "WHERE run_id = ?",
                [status, error, now, now, run_id],
            )
            cur.execute(
                "UPDATE run_steps SET status = ?, error = ?, finished_at = ? "
                "WHERE run_id = ? AND status = 'running'",
                [status, error, now, run_id],
            )
    return [int(r[0]) for r in found]


def active_run(wh: Warehouse) -> tuple[int, str | None, Any] | None:
    """(run_id, triggered_by, started_at) of the run in progress, or None."""
    found = wh.rows(
        "SELECT run_id, triggered_by, started_at FROM runs WHERE status = 'running' "
        "ORDER BY run_id DESC LIMIT 1"
    )
    return found[0] if found else None


def create_run(wh: Warehouse, trigger: str, user: str | None) -> int:
    """Insert a new ``running`` run and return its id."""
    with wh.transaction(scope="progress") as cur:
        run_id = cur.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
        cur.execute(
            "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at) "
            "VALUES (?, ?, ?, 'running', ?)",
            [run_id, trigger, user, utcnow()],
        )
    return int(run_id)


def start_step(wh: Warehouse, run_id: int, position: int, step: str) -> None:
    """Record that a step has begun; the run shows it as its current step."""
    with wh.transaction(scope="progress") as cur:
        cur.execute(
            "INSERT INTO run_steps (run_id, position, step, status, started_at) "
            "VALUES (?, ?, ?, 'running', ?)",
            [run_id, position, step, utcnow()],
        )
        cur.execute("UPDATE runs SET current_step = ? WHERE run_id = ?", [step, run_id])


def finish_step_sql(
    run_id: int,
    step: str,
    status: str,
    rows_in: int | None,
    rows_out: int | None,
    detail: dict | None,
    error: str | None,
) -> tuple[str, list[Any]]:
    """The UPDATE that closes a step, so a flow can run it inside its publish transaction."""
    now = utcnow()
    return (
        "UPDATE run_steps SET status = ?, finished_at = ?, "
        "duration_s = date_diff('microsecond', started_at, ?) / 1e6, "
        "rows_in = ?, rows_out = ?, detail = ?, error = ? WHERE run_id = ? AND step = ?",
        [
            status,
            now,
            now,
            rows_in,
            rows_out,
            json.dumps(detail, default=str) if detail else None,
            error,
            run_id,
            step,
        ],
    )


def finish_step(wh: Warehouse, run_id: int, step: str, status: str, **kw: Any) -> None:
    """Close a step in its own transaction."""
    sql, params = finish_step_sql(
        run_id,
        step,
        status,
        kw.get("rows_in"),
        kw.get("rows_out"),
        kw.get("detail"),
        kw.get("error"),
    )
    wh.execute(sql, params, scope="progress")


def finish_run_sql(
    run_id: int, status: str, error: str | None, summary: dict
) -> tuple[str, list[Any]]:
    """The UPDATE that closes a run, so a successful run closes inside its publish transaction."""
    now = utcnow()
    return (
        "UPDATE runs SET status = ?, finished_at = ?, current_step = NULL, error = ?, summary = ?, "
        "duration_s = date_diff('microsecond', started_at, ?) / 1e6 WHERE run_id = ?",
        [status, now, error, json.dumps(summary, default=str), now, run_id],
    )


def finish_run(wh: Warehouse, run_id: int, status: str, error: str | None, summary: dict) -> None:
    """Close a run as ``succeeded`` or ``failed`` in its own transaction (a cancelled run:
    :func:`finish_cancelled`). Only the run's record changes, so it is a "progress" write: the
    dashboards' kept answers stay (a successful run closes inside its publication instead)."""
    wh.execute(*finish_run_sql(run_id, status, error, summary), scope="progress")


def request_cancel(wh: Warehouse, run_id: int, by: str) -> None:
    """Record who asked to cancel a running run (the first asker is kept)."""
    wh.execute(
        "UPDATE runs SET cancel_requested_by = ? "
        "WHERE run_id = ? AND status = 'running' AND cancel_requested_by IS NULL",
        [by, run_id],
        scope="progress",
    )


def cancel_open_step(wh: Warehouse, run_id: int, error: str) -> str | None:
    """Close the run's running step as ``cancelled``; returns its name (None if none was open)."""
    now = utcnow()
    with wh.transaction(scope="progress") as cur:
        found = cur.execute(
            "UPDATE run_steps SET status = 'cancelled', finished_at = ?, "
            "duration_s = date_diff('microsecond', started_at, ?) / 1e6, error = ? "
            "WHERE run_id = ? AND status = 'running' RETURNING step",
            [now, now, error, run_id],
        ).fetchall()
    return found[0][0] if found else None


def finish_cancelled(wh: Warehouse, run_id: int, by: str, error: str) -> None:
    """Close a run as ``cancelled`` by ``by``, with ``error`` saying who and when."""
    now = utcnow()
    wh.execute(
        "UPDATE runs SET status = 'cancelled', finished_at = ?, current_step = NULL, error = ?, "
        "summary = '{}', cancel_requested_by = coalesce(cancel_requested_by, ?), "
        "duration_s = date_diff('microsecond', started_at, ?) / 1e6 WHERE run_id = ?",
        [now, error, by, now, run_id],
        scope="progress",
    )


def recent_runs(wh: Warehouse, limit: int = 50) -> pd.DataFrame:
    """Latest runs, newest first.

    Columns: run_id, trigger, triggered_by, status, started_at, finished_at, duration_s,
    current_step, error, summary, cancel_requested_by.
    """
    return wh.read(
        "SELECT run_id, trigger, triggered_by, status, started_at, finished_at, duration_s, "
        "current_step, error, summary, cancel_requested_by FROM runs "
        "ORDER BY run_id DESC LIMIT ?",
        [limit],
    )


def run_steps(wh: Warehouse, run_ids: list[int]) -> pd.DataFrame:
    """Steps of the given runs in execution order.

    Columns: run_id, position, step, status, started_at, finished_at, duration_s, rows_in,
    rows_out, detail, error.
    """
    if not run_ids:
        return pd.DataFrame(
            columns=[
                "run_id",
                "position",
                "step",
                "status",
                "started_at",
                "finished_at",
                "duration_s",
                "rows_in",
                "rows_out",
                "detail",
                "error",
            ]
        )
    return wh.read(
        "SELECT run_id, position, step, status, started_at, finished_at, duration_s, rows_in, "
        "rows_out, detail, error FROM run_steps WHERE list_contains(?, run_id) "
        "ORDER BY run_id DESC, position",
        [run_ids],
    )
