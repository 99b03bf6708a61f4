"""A whole pipeline on a small demo business, in a temporary data dir."""

from __future__ import annotations

import shutil

from pipeline.warehouse import models
from tests.integration._owner import run_ok as _run


def test_first_run_trains_a_champion_and_scores_out_of_sample(owner) -> None:
    settings, wh, runner, clock = owner
    assert clock.advance() == [1, 2, 3, 4, 5]
    run_id = _run(runner)

    steps = wh.read(
        "SELECT step, status, rows_in, rows_out FROM run_steps WHERE run_id = ?", [run_id]
    )
    assert list(steps.step) == ["ingest", "validate", "clean", "train", "score", "monitor"]
    assert set(steps.status) == {"succeeded"}
    champion = models.champion(wh)
    assert champion is not None and champion["version"] == 1
    assert 0.6 < champion["roc_auc"] < 0.95
    # Months 1-4 have labels (month 5's arrive with month 6): train 1-3, hold out 4.
    periods = wh.read("SELECT DISTINCT period FROM predictions ORDER BY 1").period
    assert [p.month for p in periods] == [4, 5]
    facts = wh.read("SELECT count(*) AS n, count(label) AS labelled FROM serving_facts")
    assert facts.n[0] == wh.scalar("SELECT count(*) FROM predictions")
    assert 0 < facts.labelled[0] < facts.n[0]  # month 5 labels have not arrived yet
    # nothing lost: every raw row is accepted or quarantined
    stats = wh.read(
        "SELECT sum(rows_in) i, sum(rows_accepted) a, sum(rows_quarantined) q FROM batch_stats"
    )
    assert stats.i[0] == stats.a[0] + stats.q[0]
    assert wh.scalar("SELECT count(*) FROM quarantine") == stats.q[0]


def test_each_tick_adds_a_month_and_a_run(owner) -> None:
    settings, wh, runner, clock = owner
    clock.advance()
    _run(runner)
    assert clock.advance() == [6]
    run_id = _run(runner)
    detail = wh.scalar("SELECT detail FROM run_steps WHERE run_id = ? AND step = 'score'", [run_id])
    assert "2024-06-01" in detail
    assert wh.scalar("SELECT count(DISTINCT period) FROM predictions") == 3
    assert wh.scalar("SELECT count(*) FROM models") == 2


def test_the_same_file_twice_is_not_counted_twice(owner) -> None:
    settings, wh, runner, clock = owner
    clock.advance()
    _run(runner)
    rows = wh.scalar("SELECT count(*) FROM clean_rows")
    first = settings.landing_dir / "customers_2024-01.csv"
    shutil.copyfile(first, settings.landing_dir / "copy_of_january.csv")
    run_id = _run(runner)
    assert wh.scalar("SELECT count(*) FROM clean_rows") == rows
    detail = wh.scalar(
        "SELECT detail FROM run_steps WHERE run_id = ? AND step = 'ingest'", [run_id]
    )
    assert '"already_ingested": 10' in detail


def test_a_failed_run_publishes_nothing_and_the_next_run_succeeds(owner, monkeypatch) -> None:
    settings, wh, runner, clock = owner
    clock.advance()
    _run(runner)
    before = {
        t: wh.scalar(f"SELECT count(*) FROM {t}")
        for t in ("clean_rows", "labels", "predictions", "serving_facts", "models")
    }
    clock.advance()

    import pipeline.model_steps as steps
    from pipeline.compute import ComputeFailed

    real = steps.run_in_child

    def fail_scoring(target, kwargs, threads=1):
        if target.endswith("score_task"):
            raise ComputeFailed("simulated crash while scoring")
        return real(target, kwargs, threads)

    monkeypatch.setattr(steps, "run_in_child", fail_scoring)
    request, reason = runner.run_now("test")
    assert "simulated crash while scoring" in reason
    failed = wh.read("SELECT status, error FROM runs WHERE run_id = ?", [request.run_id])
    assert failed.status[0] == "failed" and "score" in failed.error[0]
    after = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in before}
    assert after == before
    assert wh.scalar("SELECT count(*) FROM raw_batches WHERE status = 'pending'") == 2

    monkeypatch.setattr(steps, "run_in_child", real)
    _run(runner)
    assert wh.scalar("SELECT count(*) FROM raw_batches WHERE status = 'pending'") == 0
    assert wh.scalar("SELECT count(DISTINCT period) FROM predictions") == 3


def test_a_second_start_while_running_is_refused(owner) -> None:
    settings, wh, runner, clock = owner
    clock.advance()
    first = runner.start_run("test", "ana")
    second = runner.start_run("test", "bob")
    runner.last_future.result()
    assert first.started
    assert not second.started
    assert second.message.startswith(f"already running (run #{first.run_id}, started by ana")


def test_a_tick_during_a_run_does_not_release_a_month(owner) -> None:
    from pipeline.scheduler import pipeline_tick

    settings, wh, runner, clock = owner
    pipeline_tick(settings, runner, clock)  # releases months 1-5 and starts run 1
    assert clock.months_released() == 5
    pipeline_tick(settings, runner, clock)  # run 1 is still going: nothing happens
    assert clock.months_released() == 5
    runner.last_future.result()
    pipeline_tick(settings, runner, clock)
    assert clock.months_released() == 6
    runner.last_future.result()
