"""The background scheduler: one APScheduler job that ticks the pipeline.

Started only by ``plumbline serve``, never on import. The job coalesces missed ticks and never
overlaps itself; runs themselves still go through :meth:`Runner.start_run`, which refuses while
a run is active.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import Settings
from pipeline.warehouse import runs

log = logging.getLogger(__name__)

JOB_ID = "pipeline"


def pipeline_tick(settings: Settings, runner: Runner, clock: DemoClock | None) -> None:
    """One tick: in demo mode release the next month, then ask for a run."""
    trigger = "schedule"
    active = runs.active_run(runner.wh)
    if active is not None:
        # Releasing months faster than runs process them would run the demo out of months
        # with some never processed; wait for the run instead.
        log.info("scheduler tick skipped: run #%s is still running", active[0])
        return
    if clock is not None:
        try:
            released = clock.advance()
        except Exception:  # a failed demo build must not kill the scheduler thread
            log.exception("the demo clock could not release the next month")
            return
        if not released and clock.months_released() >= settings.demo.months:
            log.info("demo complete: all %s months are released", settings.demo.months)
            return
        trigger = "demo-clock"
    request = runner.start_run(trigger, None)
    log.info("scheduler tick: %s", request.message)


def build_scheduler(
    settings: Settings, runner: Runner, clock: DemoClock | None
) -> BackgroundScheduler:
    """A BackgroundScheduler with the pipeline job due at once; call ``.start()`` to run it."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    interval = settings.demo.tick_seconds if clock is not None else settings.schedule_seconds
    scheduler.add_job(
        pipeline_tick,
        "interval",
        seconds=interval,
        id=JOB_ID,
        name="pipeline tick",
        args=[settings, runner, clock],
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    return scheduler
