"""The demo clock: releases one new month of the demo business per scheduler tick."""

from __future__ import annotations

import logging

from pipeline.compute import run_in_child
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, utcnow

log = logging.getLogger(__name__)


class DemoClock:
    """Knows how many demo months are out and releases the next ones into the landing folder."""

    def __init__(self, settings: Settings, wh: Warehouse):
        self.settings = settings
        self.wh = wh
        self.files_dir = settings.data_dir / "demo"

    def months_released(self) -> int:
        """How many months the landing folder has received so far."""
        return int(self.wh.scalar("SELECT months_released FROM demo_clock WHERE id = 1") or 0)

    def ensure_files(self) -> None:
        """Generate the demo's month files once (in a child process: it takes seconds)."""
        from pipeline.demo import demo_files_ready

        demo = self.settings.demo
        if demo_files_ready(self.files_dir, demo.seed, demo.customers, demo.months):
            return
        log.info(
            "generating the demo business (%s customers, %s months)", demo.customers, demo.months
        )
        result = run_in_child(
            "pipeline.tasks.build_demo_task",
            {
                "out_dir": str(self.files_dir),
                "seed": demo.seed,
                "customers": demo.customers,
                "months": demo.months,
            },
            threads=self.settings.compute_threads,
        )
        log.info("demo business ready: %s files in %.1f s", result["files"], result["seconds"])

    def advance(self) -> list[int]:
        """Release the first ``initial_months`` on the first tick, then one month per tick.

        Returns the month indexes released now (empty once every month is out).
        """
        from pipeline.demo import release_month

        demo = self.settings.demo
        released = self.months_released()
        if released >= demo.months:
            return []
        self.ensure_files()
        target = min(demo.months, max(demo.initial_months, released + 1))
        months = list(range(released + 1, target + 1))
        for month in months:
            release_month(self.files_dir, self.settings.landing_dir, month)
        self.wh.execute("INSERT OR REPLACE INTO demo_clock VALUES (1, ?, ?)", [target, utcnow()])
        log.info("demo clock released month(s) %s of %s", months, demo.months)
        return months
