"""The monitor step on the small demo: what each run publishes, alerts, webhook, policy."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from tests.conftest import SMALL_DEMO
from tests.integration._owner import run_ok

ALWAYS = {"name": "Any missing value", "kind": "missing_rate", "threshold": 0.0}


def _owner(tmp_path, small_demo_files, **overrides):
    data = tmp_path / "data"
    shutil.copytree(small_demo_files, data / "demo")
    settings = load_settings(data_dir=data, demo=SMALL_DEMO, **overrides)
    wh = Warehouse(settings.warehouse_path)
    return settings, wh, Runner(settings, wh), DemoClock(settings, wh)


def test_each_run_publishes_drift_quality_and_performance(
    tmp_path, small_demo_files, webhook_receiver
):
    settings, wh, runner, clock = _owner(
        tmp_path,
        small_demo_files,
        monitoring={"webhook_url": webhook_receiver.url, "rules": [ALWAYS]},
    )
    try:
        clock.advance()
        first = run_ok(runner)
        # Months 1-5 released; v1 trained on 1-3, held out 4; every month is monitored.
        months = wh.read("SELECT DISTINCT period FROM drift_results ORDER BY 1").period
        assert [p.month for p in months] == [1, 2, 3, 4, 5]
        whole = wh.read(
            "SELECT column_name, kind, method, severity, histogram FROM drift_results "
            "WHERE segment_column = '(all)' AND period = '2024-05-01'"
        )
        contract_features = set(json.loads(wh.scalar("SELECT features FROM models"))["numeric"])
        assert contract_features <= set(whole.column_name)
        assert "__score__" in set(whole.column_name)
        assert set(whole.severity) <= {"ok", "watch", "drift"}
        shares = json.loads(whole.histogram[0])
        assert sum(shares["reference"]) == pytest.approx(1, abs=1e-4)
        assert sum(shares["current"]) == pytest.approx(1, abs=1e-4)
        assert wh.scalar("SELECT count(*) FROM drift_results WHERE segment_column = 'region'") > 0
        quality = wh.read("SELECT DISTINCT metric FROM data_quality").metric
        assert {"missing_rate", "duplicate_rate", "quarantine_rate"} <= set(quality)
        perf = wh.read("SELECT DISTINCT period, kind FROM performance ORDER BY 1, 2")
        assert [(p.month, k) for p, k in perf.itertuples(index=False)] == [
            (4, "estimated"), (4, "realised"), (5, "estimated"),
        ]  # fmt: skip
        raised = wh.read(
            "SELECT alert_id, kind, delivery FROM alerts WHERE run_id = ? "
            "AND kind = 'missing_rate'",  # (a fairness warning on the tiny demo is not ours)
            [first],
        )
        assert len(raised) >= 1
        assert set(raised.delivery) == {"delivered (HTTP 200)"}
        assert {a["id"] for a in webhook_receiver.bodies[0]["alerts"]} == set(raised.alert_id)

        webhook_receiver.status = 503  # the webhook breaks: the next run still succeeds
        clock.advance()
        second = run_ok(runner)
        assert wh.scalar("SELECT max(period) FROM drift_results").month == 6
        # v1 is still champion: its training window's counts were stored once and reused.
        assert wh.scalar("SELECT count(*) FROM monitor_references") == 1
        realised = wh.read(
            "SELECT DISTINCT period FROM performance WHERE kind = 'realised' ORDER BY 1"
        ).period
        assert [p.month for p in realised] == [4, 5]
        # A lasting condition is the same alert: nothing new to deliver unless a column is new.
        again = wh.read(
            "SELECT delivery FROM alerts WHERE run_id = ? AND kind = 'missing_rate'", [second]
        )
        assert set(again.delivery) <= {"failed: HTTP 503 Service Unavailable"}
    finally:
        runner.shutdown()
        wh.close()


def test_never_retraining_keeps_the_champion_and_says_nothing(tmp_path, small_demo_files):
    settings, wh, runner, clock = _owner(tmp_path, small_demo_files, retrain={"on": []})
    try:
        clock.advance()
        run_ok(runner)
        clock.advance()
        run_id = run_ok(runner)
        assert wh.scalar("SELECT count(*) FROM models") == 1
        note = wh.scalar(
            "SELECT detail FROM run_steps WHERE run_id = ? AND step = 'train'", [run_id]
        )
        assert "no trigger fired" in note
        # A person's Retrain press trains whatever the policy says.
        run_ok(runner, "manual", "ana")
        decisions = wh.read("SELECT trigger, action, reason FROM retrain_decisions ORDER BY 1")
        assert ("manual", "retrain") in set(zip(decisions.trigger, decisions.action, strict=True))
    finally:
        runner.shutdown()
        wh.close()


def test_a_monitoring_failure_still_publishes_the_run_and_raises_an_alert(
    tmp_path, small_demo_files, monkeypatch
):
    import pipeline.monitor_step

    def broken(*args, **kwargs):
        raise RuntimeError("the drift counts broke")

    monkeypatch.setattr(pipeline.monitor_step, "drift_by_period", broken)
    settings, wh, runner, clock = _owner(tmp_path, small_demo_files)
    try:
        clock.advance()
        run_id = run_ok(runner)
        assert wh.scalar("SELECT count(*) FROM predictions") > 0
        assert wh.scalar("SELECT count(*) FROM drift_results") == 0
        alert = wh.read("SELECT severity, message FROM alerts WHERE kind = 'monitoring_failed'")
        assert list(alert.severity) == ["critical"]
        assert "RuntimeError: the drift counts broke" in alert.message[0]
        note = wh.scalar(
            "SELECT detail FROM run_steps WHERE run_id = ? AND step = 'monitor'", [run_id]
        )
        assert "the drift counts broke" in note
        monkeypatch.undo()  # fixed: the next run monitors the months the failed one skipped
        clock.advance()
        run_ok(runner)
        months = wh.read("SELECT DISTINCT period FROM drift_results ORDER BY 1").period
        assert [p.month for p in months] == [1, 2, 3, 4, 5, 6]
        assert wh.scalar("SELECT status FROM alerts WHERE kind = 'monitoring_failed'") == (
            "resolved"
        )
    finally:
        runner.shutdown()
        wh.close()
