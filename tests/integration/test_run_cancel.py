"""Cancelling a real run while it trains: nothing is published and the next run succeeds."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse, models
from tests.conftest import EVERY_MONTH, SMALL_DEMO
from tests.integration._owner import run_ok

# The run's own records and the raw files that arrived (left pending for the next run, as a
# failed run leaves them) change; nothing else may.
CHANGING = {"runs", "run_steps", "raw_batches"}
TRAIN_CHILD = "plumbline-train_task"
WAIT = 60.0
# One candidate, one trial: a quick fit still runs in its child for a second or more (the
# child imports scikit-learn first), time enough to be cancelled while it works.
QUICK_TRAINING = {"candidates": ["logistic_regression"], "search_trials": 1, "search_folds": 1}


@pytest.fixture
def quick(small_settings: Settings):
    """The owner process's objects (as the ``owner`` fixture) with quick training."""
    settings = load_settings(
        data_dir=small_settings.data_dir,
        demo=SMALL_DEMO,
        retrain=EVERY_MONTH,
        training=QUICK_TRAINING,
    )
    wh = Warehouse(settings.warehouse_path)
    runner = Runner(settings, wh)
    yield settings, wh, runner, DemoClock(settings, wh)
    runner.shutdown()
    wh.close()


def _row_counts(wh: Warehouse) -> dict[str, int]:
    tables = [
        t
        for (t,) in wh.rows(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        if t not in CHANGING
    ]
    return {t: wh.scalar(f'SELECT count(*) FROM "{t}"') for t in tables}


def _training_child() -> bool:
    return any(child.name == TRAIN_CHILD for child in mp.active_children())


def test_a_run_cancelled_while_training_publishes_nothing_and_the_next_succeeds(quick) -> None:
    settings, wh, runner, clock = quick
    clock.advance()
    run_ok(runner)
    champion = models.champion(wh)["version"]
    before = _row_counts(wh)
    assert before["predictions"] > 0 and before["models"] == 1
    clock.advance()

    started = runner.start_run("schedule", None)
    deadline = time.monotonic() + WAIT
    while not _training_child():
        assert time.monotonic() < deadline, "the train step never started its child"
        assert runner.last_future is not None and not runner.last_future.done()
        time.sleep(0.05)
    answer = runner.cancel(started.run_id, "ana")
    assert answer.accepted, answer.message
    reason = runner.last_future.result(timeout=WAIT)

    assert not _training_child()
    run = wh.read(
        "SELECT status, error, cancel_requested_by FROM runs WHERE run_id = ?",
        [started.run_id],
    ).iloc[0]
    assert (run.status, run.cancel_requested_by) == ("cancelled", "ana")
    assert run.error == reason and reason.startswith("cancelled by ana at ")
    steps = dict(wh.rows("SELECT step, status FROM run_steps WHERE run_id = ?", [started.run_id]))
    assert steps == {
        "ingest": "succeeded",
        "validate": "succeeded",
        "clean": "succeeded",
        "train": "cancelled",
    }
    assert _row_counts(wh) == before
    assert models.champion(wh)["version"] == champion
    assert wh.scalar("SELECT count(*) FROM raw_batches WHERE status = 'pending'") == 2
    assert not (settings.work_dir / f"run-{started.run_id}").exists()

    run_ok(runner)
    assert models.next_version(wh) == 3  # the cancelled run used no version number
    assert wh.scalar("SELECT count(*) FROM raw_batches WHERE status = 'pending'") == 0
