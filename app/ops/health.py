"""``GET /healthz``: is this Plumbline process able to do its job?

Answers JSON, 200 when healthy and 503 when not, with one entry per check:

- ``warehouse``: a ``SELECT 1`` on a fresh cursor works.
- ``scheduler``: the background scheduler is alive.
- ``champion``: the champion's artefact exists and matches the registry's SHA-256 (and skops'
  type check, see :func:`pipeline.registry.verify_artefact`); no champion yet is healthy. The
  verdict is cached by the file's (path, mtime, size), so frequent probes do not re-hash.
- ``last_run``: the latest finished run (id, status, finished_at, error), for information
  only: a failed run is the pipeline's business, not a sick process. A run ``running`` for
  longer than :data:`STUCK_AFTER` adds a warning.

The body never holds a stack trace, a user name or a file's full path; run errors are
redacted like log lines and cut short.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask

from pipeline.logs import Redactor
from pipeline.registry import ArtefactRefused, verify_artefact
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, runs
from pipeline.warehouse import models as registry
from pipeline.warehouse.connection import utcnow

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(hours=6)
ENDPOINT = "plumbline_healthz"
_MAX_TEXT = 300
_redact = Redactor()

Check = dict[str, Any]


def _short(text: object) -> str:
    """First line of ``text``, redacted like a log line and cut to a readable length."""
    lines = str(text).strip().splitlines()
    line = _redact(lines[0]) if lines else ""
    return line if len(line) <= _MAX_TEXT else line[: _MAX_TEXT - 1] + "…"


def _error(error: BaseException) -> str:
    return _short(f"{type(error).__name__}: {error}")


def _iso(value: datetime | None) -> str | None:
    # TIMESTAMP columns hold naive UTC.
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


class ArtefactVerifier:
    """Verifies one artefact against its expected SHA-256, remembering the last verdict.

    The verdict is reused while the file's path, mtime, size and the expected hash are
    unchanged, so only a changed (or newly promoted) file is hashed again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int, str] | None = None
        self._problem: str | None = None

    def problem(self, path: Path, expected_sha256: str) -> str | None:
        """Why the artefact fails verification, or None when it passes."""
        try:
            stat = path.stat()
        except OSError:
            return f"model artefact {path.name} is missing"
        key = (str(path), stat.st_mtime_ns, stat.st_size, expected_sha256)
        with self._lock:
            if key == self._key:
                return self._problem
        try:
            verify_artefact(path, expected_sha256)
            problem = None
        except ArtefactRefused as refused:
            problem = _short(str(refused))
        with self._lock:
            self._key, self._problem = key, problem
        return problem


def check_warehouse(wh: Warehouse) -> Check:
    """``{"ok": True}`` when a ``SELECT 1`` works on a new cursor, else the error."""
    try:
        cur = wh.cursor()
        try:
            cur.execute("SELECT 1").fetchone()
        finally:
            cur.close()
    except Exception as error:  # any failure here means "unreachable"; reported, not raised
        return {"ok": False, "error": _error(error)}
    return {"ok": True}


def check_scheduler(scheduler_alive: Callable[[], bool]) -> Check:
    """``{"ok": <alive>}``; a probe that raises counts as not alive."""
    try:
        alive = bool(scheduler_alive())
    except Exception as error:  # a broken probe must not break the health endpoint
        return {"ok": False, "error": _error(error)}
    return {"ok": alive} if alive else {"ok": False, "error": "the scheduler is not running"}


def check_champion(wh: Warehouse, verifier: ArtefactVerifier) -> Check:
    """The champion's version and whether its artefact verifies; ok when there is none."""
    try:
        champion = registry.champion(wh)
    except Exception as error:  # the warehouse went away between checks
        return {"ok": False, "error": _error(error)}
    if champion is None:
        return {"ok": True, "version": None, "detail": "no champion yet"}
    problem = verifier.problem(Path(champion["artefact_path"]), champion["sha256"])
    check: Check = {"ok": problem is None, "version": int(champion["version"])}
    if problem is not None:
        check["error"] = problem
    return check


def _last_finished_run(wh: Warehouse) -> tuple[int, str, datetime | None, str | None] | None:
    """(run_id, status, finished_at, error) of the latest run that is not running, or None."""
    found = wh.rows(
        "SELECT run_id, status, finished_at, error FROM runs WHERE status <> 'running' "
        "ORDER BY finished_at DESC NULLS LAST, run_id DESC LIMIT 1"
    )
    return found[0] if found else None


def check_last_run(wh: Warehouse, now: datetime | None = None) -> Check:
    """The latest finished run, and a warning when a run has been running too long.

    Always ``ok``: a failed run does not make the process unhealthy.
    """
    try:
        last = _last_finished_run(wh)
        active = runs.active_run(wh)
    except Exception as error:  # the warehouse went away between checks
        return {"ok": True, "error": _error(error)}
    check: Check = {"ok": True}
    if last is None:
        check["detail"] = "no finished run yet"
    else:
        run_id, status, finished_at, error = last
        check.update(
            id=int(run_id),
            status=status,
            finished_at=_iso(finished_at),
            error=None if error is None else _short(error),
        )
    if active is not None:
        run_id, _who, started_at = active  # who started it is not for an open endpoint
        check["running"] = {"id": int(run_id), "started_at": _iso(started_at)}
        age = (now or utcnow()) - started_at
        if age > STUCK_AFTER:
            check["warning"] = (
                f"run #{run_id} has been running for {age.total_seconds() / 3600:.1f} h "
                f"(more than {STUCK_AFTER.total_seconds() / 3600:.0f} h): it may be stuck"
            )
    return check


def health_report(
    wh: Warehouse,
    scheduler_alive: Callable[[], bool],
    verifier: ArtefactVerifier,
    now: datetime | None = None,
) -> tuple[bool, dict[str, Any]]:
    """(healthy, body): healthy unless the warehouse, the scheduler or the champion fails."""
    warehouse = check_warehouse(wh)
    checks: dict[str, Check] = {
        "warehouse": warehouse,
        "scheduler": check_scheduler(scheduler_alive),
    }
    if warehouse["ok"]:
        checks["champion"] = check_champion(wh, verifier)
        checks["last_run"] = check_last_run(wh, now)
    else:
        skipped = {"ok": None, "skipped": "the warehouse is unreachable"}
        checks["champion"] = dict(skipped)
        checks["last_run"] = dict(skipped)
    healthy = all(checks[name]["ok"] for name in ("warehouse", "scheduler", "champion"))
    body: dict[str, Any] = {"status": "ok" if healthy else "unhealthy", "checks": checks}
    warnings = [c["warning"] for c in checks.values() if c.get("warning")]
    if warnings:
        body["warnings"] = warnings
    return healthy, body


def register_health(
    server: flask.Flask,
    settings: Settings,
    wh: Warehouse,
    scheduler_alive: Callable[[], bool],
) -> None:
    """Add ``GET /healthz`` to ``server`` (see the module docstring).

    ``scheduler_alive`` answers whether the background scheduler runs, e.g.
    ``lambda: scheduler.running`` for an APScheduler scheduler. ``settings`` is accepted for
    symmetry with the other ``register_*`` functions; no check needs it yet.
    """
    verifier = ArtefactVerifier()
    last = {"healthy": True}

    def healthz() -> flask.Response:
        healthy, body = health_report(wh, scheduler_alive, verifier)
        if healthy != last["healthy"]:
            # Log changes only: a probe every few seconds must not flood the log.
            failing = sorted(n for n, c in body["checks"].items() if c["ok"] is False)
            if healthy:
                log.info("health: healthy again")
            else:
                log.warning("health: unhealthy (%s)", ", ".join(failing))
            last["healthy"] = healthy
        response = flask.jsonify(body)
        response.status_code = 200 if healthy else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule("/healthz", endpoint=ENDPOINT, view_func=healthz)
    answer_first(server, ENDPOINT, healthz)


def answer_first(server: flask.Flask, endpoint: str, view: Callable[[], flask.Response]) -> None:
    """Answer requests for ``endpoint`` before any other ``before_request`` hook runs.

    A probe must be answered when the rest of the app cannot be: the login gate and the
    first-request set-up hooks read the warehouse, and would turn a 503 into a 500.
    """

    def first() -> flask.Response | None:
        return view() if flask.request.endpoint == endpoint else None

    # Flask has no public "run me first"; before_request_funcs is its documented registry.
    server.before_request_funcs.setdefault(None, []).insert(0, first)
