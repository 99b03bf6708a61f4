"""Starting runs: the one door through which every pipeline run enters.

``Runner.start_run`` is the only function that starts a run. It refuses while another run is
active, whoever asked, so the scheduler, the Retrain button and the command line never race.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pipeline import faults
from pipeline.flow import Flow, ProgressHook, RunFailed
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRequest:
    """The answer to a request to start a run."""

    started: bool
    run_id: int
    message: str


class Runner:
    """Owns the single run slot of the owner process."""

    def __init__(self, settings: Settings, wh: Warehouse, hook: ProgressHook | None = None):
        self.settings = settings
        self.wh = wh
        self.hook = hook
        faults.arm(settings.fault_point)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plumbline-run")
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
            flow = {"trigger": trigger, "user": user, **flow}
            self.last_future = self._executor.submit(self._execute, run_id, flow)
        log.info("run #%s started (%s%s)", run_id, trigger, f" by {user}" if user else "")
        return RunRequest(True, run_id, f"Run #{run_id} started")

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
        """Run the flow; returns None on success or the failure reason."""
        try:
            Flow(self.settings, self.wh, self.hook, **flow).execute(run_id)
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
