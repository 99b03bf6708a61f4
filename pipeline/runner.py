"""Starting and cancelling runs: the one door through which every pipeline run enters.

``Runner.start_run`` is the only function that starts a run. It refuses while another run is
active, whoever asked, so the scheduler, the Retrain button and the command line never race.
``Runner.cancel`` stops the active run, whoever started it, until it begins to publish.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb

from pipeline import faults
from pipeline.flow import Cancellation, Flow, ProgressHook, RunCancelled, RunFailed
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, runs, utcnow

log = logging.getLogger(__name__)

# Recording who cancelled is one UPDATE of the run's row, which the run's thread may be
# updating at that moment (its current step); DuckDB then refuses one of the two.
RECORD_ATTEMPTS = 3
# The run's thread works at this CPU priority ("nice"), and so does every compute child it
# spawns, from its first instruction (a child inherits its parent thread's priority when it is
# forked; importing pandas and scikit-learn costs it a second or two before its own code runs).
# The web's threads stay at 0, so a retrain takes the CPU the dashboards leave.
RUN_NICE = 10


def yield_to_the_web() -> None:
    """Lower the calling thread's CPU priority to :data:`RUN_NICE` (Linux sets it per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RUN_NICE)
    except (OSError, AttributeError):  # not Linux, or not allowed: runs are then only slower
        log.debug("could not lower the run thread's priority")


@dataclass(frozen=True)
class RunRequest:
    """The answer to a request to start a run."""

    started: bool
    run_id: int
    message: str


@dataclass(frozen=True)
class CancelRequest:
    """The answer to a request to cancel a run: accepted, or refused and why."""

    accepted: bool
    run_id: int
    message: str


@dataclass(frozen=True)
class _Active:
    run_id: int
    cancel: Cancellation


class Runner:
    """Owns the single run slot of the owner process."""

    def __init__(self, settings: Settings, wh: Warehouse, hook: ProgressHook | None = None):
        self.settings = settings
        self.wh = wh
        self.hook = hook
        faults.arm(settings.fault_point)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="plumbline-run", initializer=yield_to_the_web
        )
        self._active: _Active | None = None
        self.last_future: Future | None = None

    def start_run(self, trigger: str, user: str | None = None, **flow: Any) -> RunRequest:
        """Start a run in the background, or refuse with "already running (run #n)"."""
        with self._lock:
            active = runs.active_run(self.wh)
            if active is not None:
                run_id, who, started = active
                by = f", started by {who}" if who else ""
                at = f" at {started:%H:%M:%S} UTC" if started else ""
                return RunRequest(False, run_id, f"already running (run #{run_id}{by}{at})")
            run_id = runs.create_run(self.wh, trigger, user)
            self._active = _Active(run_id, Cancellation())
            flow = {"trigger": trigger, "user": user, **flow, "cancel": self._active.cancel}
            self.last_future = self._executor.submit(self._execute, run_id, flow)
        log.info("run #%s started (%s%s)", run_id, trigger, f" by {user}" if user else "")
        return RunRequest(True, run_id, f"Run #{run_id} started")

    def cancel(self, run_id: int, by: str) -> CancelRequest:
        """Ask run ``run_id`` to stop, whoever started it.

        Refused when it is not running, when it is already being cancelled, and once it has
        begun to publish its results ("too late"). The run stops before its next step, or at
        once when a compute child is working (the child is terminated).
        """
        with self._lock:
            active = self._active
            if active is None or active.run_id != run_id:
                return CancelRequest(False, run_id, f"run #{run_id} is not running")
            refusal = active.cancel.request(by, utcnow())
            if refusal == "publishing":
                return CancelRequest(
                    False, run_id, f"too late: run #{run_id} is publishing its results"
                )
            if refusal is not None:
                first = active.cancel.reason.removeprefix("cancelled ")
                return CancelRequest(
                    False, run_id, f"run #{run_id} is already being cancelled (asked {first})"
                )
        self._record_cancel(run_id, by)
        log.info("run #%s: %s asked to cancel it", run_id, by)
        return CancelRequest(True, run_id, f"Cancelling run #{run_id}…")

    def _record_cancel(self, run_id: int, by: str) -> None:
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                runs.request_cancel(self.wh, run_id, by)
                return
            except duckdb.TransactionException:
                if attempt == RECORD_ATTEMPTS:
                    # The run thread writes the name when it closes the run as cancelled.
                    log.warning("run #%s: could not record the cancel request yet", run_id)
                    return
                time.sleep(0.05 * attempt)

    def run_now(
        self, trigger: str, user: str | None = None, **flow: Any
    ) -> tuple[RunRequest, str | None]:
        """Start a run and wait for it; returns the request and the failure reason, if any.

        ``flow`` passes ``steps`` and ``paths`` to :class:`Flow` (e.g. `plumbline ingest`).
        """
        request = self.start_run(trigger, user, **flow)
        if not request.started or self.last_future is None:
            return request, request.message
        return request, self.last_future.result()

    def _execute(self, run_id: int, flow: dict[str, Any]) -> str | None:
        """Run the flow and close its record; the run slot is free once the record is closed."""
        try:
            return self._run(run_id, flow)
        finally:
            with self._lock:
                if self._active is not None and self._active.run_id == run_id:
                    self._active = None

    def _run(self, run_id: int, flow: dict[str, Any]) -> str | None:
        """Returns None on success, or the reason the run failed or was cancelled."""
        cancel: Cancellation = flow["cancel"]
        try:
            Flow(self.settings, self.wh, self.hook, **flow).execute(run_id)
        except RunCancelled as stop:
            reason = str(stop)
            log.warning("run #%s was %s", run_id, reason)
            runs.finish_cancelled(self.wh, run_id, cancel.by or "someone", reason)
            return reason
        except RunFailed as error:
            reason = str(error)
        except Exception as error:  # the run thread must always close its run record
            log.exception("run #%s crashed", run_id)
            reason = f"{type(error).__name__}: {error}"
        else:
            log.info("run #%s succeeded", run_id)
            return None
        log.warning("run #%s failed: %s", run_id, reason)
        runs.finish_run(self.wh, run_id, "failed", reason, {})
        return reason

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs; with ``wait`` let the active run finish."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
