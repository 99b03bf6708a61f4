"""Half an hour of a compressed demo under light load leaves memory, threads, files and WAL flat.

A real `plumbline serve` on a 60-month demo whose clock releases a month every ~30 s and
retrains on every labelled month, while benchmarks/load_client.py plays 10 users. Every 10 s
the serve process is sampled with psutil (RSS, threads, open files, file descriptors, its
compute children's RSS) with the DuckDB WAL size. After a warm-up (the first tenth), the last
third's peak must stay within 1.5x the first third's (the WAL within 1.5x its 16 MiB checkpoint
threshold or the first third's peak, whichever is larger), threads and open files must not
climb third after third, no run may be left running or have failed, and the users see no
error. The series and its summary go to benchmarks/results/soak-<date>.json.

    pytest -m slow tests/slow/test_soak.py [--soak-minutes 30]
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from benchmarks.load_client import format_report, run_load
from tests.slow.conftest import Served, write_result

pytestmark = [pytest.mark.slow, pytest.mark.timeout(4 * 3600)]

USERS = 10
SAMPLE_SECONDS = 10.0
MONTHS, INITIAL_MONTHS = 60, 5  # 60 is DemoSettings' maximum
MIN_TICK = 20.0
GROWTH = 1.5
WAL_CHECKPOINT_MB = 16.0  # DuckDB's default checkpoint_threshold
MB = 1024 * 1024


def _tick_for(seconds: float) -> float:
    """A tick short enough to keep runs coming, long enough that the months last the soak."""
    return max(MIN_TICK, seconds / (MONTHS - INITIAL_MONTHS - 3))


def _megabytes(path: Path) -> float:
    try:
        return path.stat().st_size / MB
    except FileNotFoundError:  # no WAL between checkpoints
        return 0.0


class Sampler:
    """Samples the serve process every ``every`` seconds in a thread; ``.samples`` and the
    last status seen of every run (``.runs``: run id -> status)."""

    def __init__(self, served: Served, every: float = SAMPLE_SECONDS):
        self.served, self.every = served, every
        self.process = psutil.Process(served.process.pid)
        self.wal = served.data_dir / "warehouse.duckdb.wal"
        self.db = served.data_dir / "warehouse.duckdb"
        self.samples: list[dict[str, float]] = []
        self.runs: dict[int, str] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sampler", daemon=True)
        self.began = time.monotonic()

    def sample(self) -> dict[str, float]:
        with self.process.oneshot():
            rss = self.process.memory_info().rss
            threads = self.process.num_threads()
            fds = self.process.num_fds()
            files = len(self.process.open_files())
        children = 0
        for child in self.process.children(recursive=True):
            try:
                children += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass  # a compute child that ended between the listing and the read
        return {
            "t": round(time.monotonic() - self.began, 1),
            "rss_mb": round(rss / MB, 1),
            "children_rss_mb": round(children / MB, 1),
            "threads": threads,
            "open_files": files,
            "fds": fds,
            "wal_mb": round(_megabytes(self.wal), 2),
            "warehouse_mb": round(_megabytes(self.db), 1),
        }

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.samples.append(self.sample())
            for run in (self.served.status() or {}).get("runs", []):
                self.runs[int(run["run_id"])] = run["status"]
            self.stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def thirds(series: list[float]) -> tuple[list[float], list[float], list[float]]:
    """The series after its warm-up (first tenth, at least one sample) cut into thirds."""
    rest = series[max(1, len(series) // 10) :]
    n = len(rest) // 3
    return rest[:n], rest[n : 2 * n], rest[2 * n :]


def climbs(series: list[float], slack: float) -> bool:
    """True when each third's median exceeds the previous one's by more than ``slack``."""
    first, middle, last = (statistics.median(part) for part in thirds(series))
    return middle > first + slack and last > middle + slack


def summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Per measure: the peak of each third after warm-up, and the ratio last/first."""
    found: dict[str, Any] = {}
    for key in ("rss_mb", "children_rss_mb", "threads", "open_files", "fds", "wal_mb"):
        parts = thirds([s[key] for s in samples])
        peaks = [max(p) for p in parts]
        found[key] = {
            "third_peaks": peaks,
            "last_over_first": round(peaks[2] / peaks[0], 2) if peaks[0] else None,
            "median_by_third": [statistics.median(p) for p in parts],
        }
    return found


def test_a_half_hour_of_runs_under_load_leaves_resources_flat(
    served_demo, soak_minutes: float
) -> None:
    seconds = soak_minutes * 60
    tick = _tick_for(seconds)
    served = served_demo(
        demo={
            "customers": 2000,
            "months": MONTHS,
            "initial_months": INITIAL_MONTHS,
            "tick_seconds": tick,
        },
        retrain={"on": ["schedule"], "schedule_periods": 1},
    )
    with Sampler(served) as sampler:
        load = run_load(served.url, USERS, seconds, served.admin_password, seed=3)
    final = served.wait_idle()
    for run in final["runs"]:
        sampler.runs[int(run["run_id"])] = run["status"]
    after = sampler.sample()

    samples = sampler.samples
    figures = {
        "what": "tests/slow/test_soak.py: compressed demo, retrain every month, 10 users",
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "soak_minutes": soak_minutes,
        "tick_seconds": round(tick, 1),
        "users": USERS,
        "runs": {str(k): v for k, v in sorted(sampler.runs.items())},
        "runs_by_status": {
            status: sum(1 for v in sampler.runs.values() if v == status)
            for status in sorted(set(sampler.runs.values()))
        },
        "load": load,
        "summary": summary(samples),
        "after_idle": after,
        "samples": samples,
    }
    path = write_result("soak", figures)
    report = f"{path}\n{format_report(load)}\n{figures['summary']}"

    assert len(samples) >= 6, f"too few samples ({len(samples)}) for a soak"
    assert load["errors"] == 0 and not load["user_failures"], report
    assert not any(s == "running" for s in sampler.runs.values()), sampler.runs
    assert not any(s == "failed" for s in sampler.runs.values()), sampler.runs
    assert len(sampler.runs) >= 2, f"the demo clock started no run: {sampler.runs}"
    peaks = {k: v["third_peaks"] for k, v in figures["summary"].items()}
    assert peaks["rss_mb"][2] <= GROWTH * peaks["rss_mb"][0], report
    assert peaks["wal_mb"][2] <= GROWTH * max(peaks["wal_mb"][0], WAL_CHECKPOINT_MB), report
    for key, slack in (("threads", 2), ("open_files", 2), ("fds", 4)):
        assert peaks[key][2] <= GROWTH * peaks[key][0] + slack, (key, report)
        assert not climbs([s[key] for s in samples], slack), (key, report)
