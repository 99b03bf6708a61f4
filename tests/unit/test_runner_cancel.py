"""Cancelling a run: between steps, while a compute child works, and never once it publishes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pipeline.flow as flow_module
import pipeline.runner as runner_module
from pipeline.compute import run_in_child
from pipeline.flow import Flow
from pipeline.flow_state import StepResult
from pipeline.runner import Runner
from pipeline.settings import Settings, load_settings
from pipeline.status import collect_status, format_status
from pipeline.warehouse import Warehouse, runs

TARGETS = "tests.unit._child_targets"
WAIT = 20.0  # seconds; generous for a loaded CI machine, never reached when things work


class SlowFlow(Flow):
    """A flow whose steps wait for the test, or sleep in a compute child."""

    held = threading.Event()  # set when the "hold" step is waiting
    release = threading.Event()  # set by the test to let "hold" finish

    def _hold(self, cur: Any, state: Any, work: Path) -> StepResult:
        (work / "scratch.txt").write_text("a file the run's work dir must not keep")
        SlowFlow.held.set()
        assert SlowFlow.release.wait(WAIT), "the test never released the step"
        return StepResult(1, 1, {"held": True})

    def _sleep(self, cur: Any, state: Any, work: Path) -> StepResult:
        run_in_child(f"{TARGETS}.sleep", {"seconds": 60, "pid_file": str(work / "child.pid")})
        return StepResult(1, 1, {})

    def _quick(self, cur: Any, state: Any, work: Path) -> StepResult:
        return StepResult(1, 1, {"quick": True})


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(os.environ):
        if key.startswith("PLUMBLINE_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def runner(settings: Settings, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runner_module, "Flow", SlowFlow)
    SlowFlow.held, SlowFlow.release = threading.Event(), threading.Event()
    runner = Runner(settings, warehouse)
    yield runner
    SlowFlow.release.set()
    runner.shutdown()


def _run(wh: Warehouse, run_id: int) -> dict[str, Any]:
    found = wh.read(
        "SELECT status, error, cancel_requested_by, triggered_by FROM runs WHERE run_id = ?",
        [run_id],
    )
    return found.iloc[0].to_dict()


def _steps(wh: Warehouse, run_id: int) -> dict[str, tuple[str, str | None]]:
    rows = wh.rows("SELECT step, status, error FROM run_steps WHERE run_id = ?", [run_id])
    return {step: (status, error) for step, status, error in rows}


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_cancel_between_steps_stops_before_the_next_step(runner, warehouse, settings):
    started = runner.start_run("schedule", None, steps=("hold", "quick"))
    assert SlowFlow.held.wait(WAIT)
    answer = runner.cancel(started.run_id, "ana")
    assert (answer.accepted, answer.message) == (True, f"Cancelling run #{started.run_id}…")
    # Asked again while the run is stopping: refused, naming the first asker.
    again = runner.cancel(started.run_id, "bob")
    assert not again.accepted and "already being cancelled (asked by ana at" in again.message
    assert _run(warehouse, started.run_id)["cancel_requested_by"] == "ana"

    SlowFlow.release.set()
    reason = runner.last_future.result(timeout=WAIT)
    assert reason is not None and reason.startswith("cancelled by ana at ")
    run = _run(warehouse, started.run_id)
    assert run["status"] == "cancelled" and run["error"] == reason
    assert run["triggered_by"] is None  # a scheduler's run, cancelled by a person
    # The step that was under way finished its work; the next one never started.
    assert _steps(warehouse, started.run_id) == {"hold": ("succeeded", None)}
    assert not (settings.work_dir / f"run-{started.run_id}").exists()


def test_cancel_while_a_compute_child_works_stops_the_child(runner, warehouse, settings):
    started = runner.start_run("manual", "ana", steps=("sleep", "quick"))
    pid_file = settings.work_dir / f"run-{started.run_id}" / "child.pid"
    _wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the child to start")
    pid = int(pid_file.read_text())

    clock = time.monotonic()
    assert runner.cancel(started.run_id, "bob").accepted
    reason = runner.last_future.result(timeout=WAIT)
    assert time.monotonic() - clock < 6  # stopped at once, not after the 60 s sleep
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the child is gone, and reaped
    run = _run(warehouse, started.run_id)
    assert (run["status"], run["cancel_requested_by"]) == ("cancelled", "bob")
    assert _steps(warehouse, started.run_id) == {"sleep": ("cancelled", reason)}
    assert not pid_file.parent.exists()

    answer = runner.cancel(started.run_id, "bob")
    assert (answer.accepted, answer.message) == (False, f"run #{started.run_id} is not running")
    assert runner.start_run("manual", "ana", steps=("quick",)).started
    assert runner.last_future.result(timeout=WAIT) is None


def test_cancel_once_publishing_has_begun_is_refused(runner, warehouse, monkeypatch):
    publishing, finish = threading.Event(), threading.Event()
    real = flow_module.publish

    def slow_publish(*args: Any) -> None:
        publishing.set()
        assert finish.wait(WAIT)
        real(*args)

    monkeypatch.setattr(flow_module, "publish", slow_publish)
    started = runner.start_run("manual", "ana", steps=("quick",))
    assert publishing.wait(WAIT)
    answer = runner.cancel(started.run_id, "bob")
    assert (answer.accepted, answer.message) == (
        False,
        f"too late: run #{started.run_id} is publishing its results",
    )
    finish.set()
    assert runner.last_future.result(timeout=WAIT) is None
    run = _run(warehouse, started.run_id)
    assert (run["status"], run["cancel_requested_by"]) == ("succeeded", None)


def test_an_unknown_run_is_not_running(runner):
    answer = runner.cancel(41, "ana")
    assert (answer.accepted, answer.message) == (False, "run #41 is not running")


def test_a_server_stopped_while_cancelling_leaves_the_run_cancelled_not_failed(warehouse):
    # Two runs left "running" when the server stopped: one was being cancelled, one was not.
    cancelling = runs.create_run(warehouse, "manual", "ana")
    runs.start_step(warehouse, cancelling, 1, "train")
    runs.request_cancel(warehouse, cancelling, "bob")
    crashed = runs.create_run(warehouse, "schedule", None)
    assert sorted(runs.mark_interrupted_runs(warehouse)) == [cancelling, crashed]
    assert _run(warehouse, cancelling)["status"] == "cancelled"
    assert _run(warehouse, cancelling)["error"] == (
        "cancelled by bob (the server stopped before the run had ended)"
    )
    assert _steps(warehouse, cancelling)["train"][0] == "cancelled"
    assert (_run(warehouse, crashed)["status"], _run(warehouse, crashed)["error"]) == (
        "failed",
        "interrupted",
    )


def test_the_status_report_says_cancelled_and_cancelling(settings, warehouse):
    done = runs.create_run(warehouse, "manual", "ana")
    runs.finish_cancelled(warehouse, done, "bob", "cancelled by bob at 12:00:01 UTC")
    active = runs.create_run(warehouse, "schedule", None)
    runs.start_step(warehouse, active, 1, "train")
    runs.request_cancel(warehouse, active, "ana")
    lines = format_status(collect_status(settings, warehouse)).splitlines()
    assert any(f"#{done}" in line and "cancelled by bob at 12:00:01 UTC" in line for line in lines)
    assert any(
        f"#{active}" in line and "at train, cancelling (asked by ana)" in line for line in lines
    )
