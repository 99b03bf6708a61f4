"""The demo tells the monitoring story end to end, on the full demo business.

South's price rise starts in month 18 (``pipeline.demo.world.DRIFT_MONTH``). Monitoring must
flag it in that month, the estimated performance of the region must drop before its labels
arrive, the policy must retrain once they do, the gate must promote the new model, and the
realised ROC AUC in South on the following months must be better than the old model's in the
month of the change. Runs month by month like the demo clock, with the policy's drift and
performance triggers only (no schedule), so any retrain is the policy's doing.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.demo.world import DRIFT_MONTH, DRIFT_REGION
from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from tests.integration._owner import run_ok

START = date(2024, 1, 1)


def _month(index: int) -> date:
    """The first day of 1-based demo month ``index``."""
    return date(START.year + (index - 1) // 12, (index - 1) % 12 + 1, 1)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    data = tmp_path_factory.mktemp("story") / "data"
    settings = load_settings(
        data_dir=data,
        demo={"months": DRIFT_MONTH + 5, "initial_months": DRIFT_MONTH - 6},
        retrain={"on": ["drift", "performance"], "cooldown_periods": 2},
    )
    wh = Warehouse(settings.warehouse_path)
    runner = Runner(settings, wh)
    clock = DemoClock(settings, wh)
    while clock.advance():
        run_ok(runner, "demo-clock")
    yield wh
    runner.shutdown()
    wh.close()


def test_the_price_rise_is_flagged_in_the_month_it_starts(story) -> None:
    drift = story.read(
        "SELECT period, column_name, statistic, sentence FROM drift_results "
        "WHERE segment_column = 'region' AND segment_value = ? AND drifted ORDER BY period",
        [DRIFT_REGION],
    )
    first = drift.groupby("column_name")["period"].min()
    assert first["monthly_charges"].date() == _month(DRIFT_MONTH)
    before = drift[drift["period"].dt.date < _month(DRIFT_MONTH)]
    assert "monthly_charges" not in set(before["column_name"])
    # The alert rule watches the champion's top-5 features: the contract mix of the region
    # moved with the price rise, and its alert is raised in that month, naming the region.
    alerts = story.read(
        "SELECT subject, message FROM alerts WHERE kind = 'feature_drift' AND period = ?",
        [_month(DRIFT_MONTH)],
    )
    south = alerts[alerts["message"].str.contains(f"in region {DRIFT_REGION}")]
    assert "contract_type" in set(south["subject"])


def test_estimated_performance_drops_before_the_labels_confirm_it(story) -> None:
    perf = story.read(
        "SELECT period, kind, value, run_id FROM performance WHERE metric = 'roc_auc' "
        "AND segment_column = 'region' AND segment_value = ? ORDER BY period",
        [DRIFT_REGION],
    ).assign(period=lambda f: f["period"].dt.date)
    est = perf[perf["kind"] == "estimated"].set_index("period")
    real = perf[perf["kind"] == "realised"].set_index("period")
    before, at = _month(DRIFT_MONTH - 1), _month(DRIFT_MONTH)
    assert est.loc[at, "value"] < est.loc[before, "value"] - 0.015
    # The estimate was published in an earlier run than the realised value of that month.
    assert est.loc[at, "run_id"] < real.loc[at, "run_id"]
    assert real.loc[at, "value"] < real.loc[before, "value"] - 0.03


def test_the_policy_retrains_the_gate_promotes_and_south_recovers(story) -> None:
    decisions = story.read(
        "SELECT period, trigger, action, reason, model_version, promoted "
        "FROM retrain_decisions WHERE action = 'retrain' AND trigger <> 'first' ORDER BY period"
    )
    assert len(decisions) >= 1
    first = decisions.iloc[0]
    assert first["trigger"] in ("drift", "performance")
    assert first["period"].date() > _month(DRIFT_MONTH)  # it needed the month's labels
    assert first["promoted"]
    assert f"retrained v{first['model_version']}" in first["reason"]
    assert "promoted" in first["reason"]
    champion = story.scalar("SELECT version FROM model_aliases WHERE alias = 'champion'")
    assert champion >= first["model_version"]
    real = story.read(
        "SELECT period, value, model_version FROM performance WHERE kind = 'realised' "
        "AND metric = 'roc_auc' AND segment_column = 'region' AND segment_value = ? "
        "ORDER BY period",
        [DRIFT_REGION],
    ).assign(period=lambda f: f["period"].dt.date)
    at = real[real["period"] == _month(DRIFT_MONTH)].iloc[0]
    after = real[real["model_version"] >= first["model_version"]]
    assert len(after) >= 1
    assert after["value"].mean() > at["value"] + 0.02
