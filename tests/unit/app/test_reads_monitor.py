"""The Monitor page's reads and the health verdict, against a temporary warehouse."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse import reads_monitor as reads
from pipeline.warehouse.alerts import acknowledge, mute
from pipeline.warehouse.reads_monitor import Segment
from tests.unit.app.monitor_world import (
    FEATURES,
    PERIODS,
    PROMOTED_AT_RUN,
    SEGMENTS,
    severity_of,
    write_monitor_world,
)

WHOLE = Segment()
SOUTH = Segment("region", "South")


@pytest.fixture
def world(empty_warehouse: Warehouse) -> Warehouse:
    write_monitor_world(empty_warehouse)
    return empty_warehouse


def test_segment_keys_round_trip_and_junk_is_refused():
    assert Segment.parse("(all)") == WHOLE
    assert Segment.parse("region=South") == SOUTH
    assert Segment.parse(SOUTH.key) == SOUTH and SOUTH.label == "region = South"
    assert Segment.parse("plan=Pro=Max") == Segment("plan", "Pro=Max")
    for junk in ("", "region", "=South", "region=", None, ["region=South"], 3):
        assert Segment.parse(junk) is None


def test_an_empty_warehouse_reads_as_nothing_monitored(empty_warehouse):
    wh = empty_warehouse
    assert reads.drift_periods(wh) == [] and not reads.has_results(wh)
    assert reads.segments(wh) == [WHOLE]
    assert reads.features(wh) == []
    assert reads.heatmap(wh, WHOLE).empty
    assert reads.cell(wh, date(2024, 6, 1), "tenure_months", WHOLE) is None
    assert reads.events(wh).empty and reads.decisions(wh).empty
    assert reads.summary(wh)["months"] == 0
    assert reads.health(wh, 0.03).state == "unknown"


def test_heatmap_is_one_row_per_month_and_feature_of_the_segment(world):
    frame = reads.heatmap(world, SOUTH)
    assert list(frame.columns) == reads.HEATMAP_COLUMNS
    assert len(frame) == len(PERIODS) * len(FEATURES)
    assert "__score__" not in set(frame["column_name"])
    for row in frame.itertuples(index=False):
        expected = severity_of(row.period.date(), row.column_name, ("region", "South"))
        assert row.severity == expected
    assert "histogram" not in frame.columns  # read only for the clicked cell


def test_features_follow_the_champions_importance_then_the_alphabet(world):
    assert reads.features(world) == ["region", "monthly_charges", "tenure_months", "plan"]
    world.execute("DELETE FROM explain_importance")
    assert reads.features(world) == sorted(FEATURES)


def test_a_cell_carries_its_histogram_and_reference(world):
    cell = reads.cell(world, date(2024, 6, 1), "monthly_charges", SOUTH)
    assert cell["severity"] == "drift" and cell["drifted"] is True
    assert cell["histogram"]["labels"][0] == "≤ 20"
    assert sum(cell["histogram"]["current"]) == pytest.approx(1.0)
    assert cell["reference_version"] == 2
    assert cell["reference_from"] == pd.Timestamp("2023-01-01")
    assert cell["p_value"] is None  # NaN becomes None
    assert reads.cell(world, date(2024, 6, 1), "monthly_charges", Segment("plan", "x")) is None


def test_segments_list_the_whole_batch_first(world):
    assert [s.key for s in reads.segments(world)] == [
        "(all)" if c == "(all)" else f"{c}={v}" for c, v in SEGMENTS
    ]


def test_prediction_drift_is_the_score_column(world):
    frame = reads.prediction_drift(world, WHOLE)
    assert len(frame) == len(PERIODS)
    assert list(frame["severity"]) == ["ok"] * 5 + ["drift"]
    assert reads.prediction_drift(world, SOUTH).empty


def test_performance_keeps_estimates_with_bands_and_realised_without(world):
    frame = reads.performance(world, "roc_auc", WHOLE)
    estimated = frame[frame["kind"] == "estimated"]
    realised = frame[frame["kind"] == "realised"]
    assert len(estimated) == 6 and len(realised) == 5
    assert (estimated["high"] - estimated["low"]).round(3).eq(0.04).all()
    assert realised["low"].isna().all()
    with pytest.raises(ValueError, match="unknown performance metric"):
        reads.performance(world, "drop table", WHOLE)


def test_the_reference_is_the_champions_holdout_metric(world):
    assert reads.champion_reference(world, "roc_auc") == (2, 0.82)
    assert reads.champion_reference(world, "f1") == (2, 0.55)
    assert reads.champion_reference(world, "recall") == (2, 0.6)


def test_events_place_promotions_retrains_and_alerts_on_their_months(world):
    events = reads.events(world)
    promotions = events[events["kind"] == "promotion"]
    assert list(promotions["version"]) == [1, 2]
    # v2 was promoted by the run that monitored April
    assert promotions["period"].iloc[1] == pd.Timestamp(PERIODS[PROMOTED_AT_RUN - 1])
    retrains = events[events["kind"] == "retrain"]
    assert list(retrains["period"]) == [pd.Timestamp("2024-04-01")]
    assert list(retrains["version"]) == [2]
    assert sorted(events.loc[events["kind"] == "alert", "severity"]) == [
        "info",
        "warning",
        "warning",
    ]


def test_a_promotion_without_a_run_is_placed_by_time(world):
    # a manual promotion after run 6 started: it belongs to June, the latest month monitored
    world.execute(
        "INSERT INTO alias_history (alias, version, set_at, reason) VALUES "
        "('champion', 1, ?, 'rolled back by hand')",
        [datetime(2024, 7, 1, 23, 0)],
    )
    events = reads.events(world)
    last = events[events["kind"] == "promotion"].iloc[-1]
    assert last["period"] == pd.Timestamp("2024-06-01")


def test_decisions_leave_out_runs_that_decided_nothing(world):
    frame = reads.decisions(world)
    assert list(frame["action"]) == ["cooldown", "retrain"]
    assert len(reads.decisions(world, include_none=True)) == 3


def test_summary_names_the_champion_months_and_reference(world):
    found = reads.summary(world)
    assert found["champion"] == 2 and found["months"] == 6
    assert found["last"] == date(2024, 6, 1) and found["run_id"] == 6
    assert found["reference_version"] == 2
    # the training window of the features, not the holdout month the scores compare with
    assert found["reference_from"] == date(2023, 1, 1)


def test_the_default_feature_is_the_worst_of_the_month(world):
    assert reads.default_feature(world, date(2024, 6, 1), WHOLE) == "monthly_charges"
    # nothing drifted in January: the most important feature
    assert reads.default_feature(world, date(2024, 1, 1), WHOLE) == "region"
    assert reads.default_feature(world, None, WHOLE) is None


def test_the_signature_changes_when_an_alert_is_handled(world):
    before = reads.signature(world)
    assert reads.signature(world) == before
    acknowledge(world, 1, "alice", "looking into it")
    assert reads.signature(world) != before


# -- health ------------------------------------------------------------------------------------


def _clear_alerts(wh: Warehouse) -> None:
    wh.execute("UPDATE alerts SET status = 'resolved'")


def test_open_warnings_make_the_model_watched(world):
    state, reason = reads.health(world, 0.03)
    assert state == "watch"
    assert reason.startswith("2 warning alerts open; newest: The score distribution moved")


def test_muted_warnings_leave_drift_in_the_latest_month_to_watch(world):
    for alert_id in (1, 3):
        mute(world, alert_id, "alice", "known price change", utcnow() + timedelta(days=7))
    state, reason = reads.health(world, 0.03)
    assert state == "watch"
    assert reason == "Drift in Jun 2024: monthly_charges, the score distribution."


def test_health_is_read_again_when_an_alert_is_handled(world):
    data = world.generation()
    assert reads.health(world, 0.03).state == "watch"
    for alert_id in (1, 3):
        mute(world, alert_id, "alice", "known price change", utcnow() + timedelta(days=7))
    assert world.generation() == data  # an alerts write, not a data write
    assert reads.health(world, 0.03).reason.startswith("Drift in Jun 2024")
    reference = reads.champion_reference(world, "roc_auc")
    world.execute("UPDATE models SET roc_auc = 0.5 WHERE version = ?", [reference[0]])
    assert reads.champion_reference(world, "roc_auc") == (reference[0], 0.5)


def test_no_alert_and_no_drift_is_healthy(world):
    _clear_alerts(world)
    world.execute("UPDATE drift_results SET severity = 'ok', drifted = FALSE")
    assert reads.health(world, 0.03) == (
        "healthy",
        "No drift in Jun 2024, no open warning or critical alert.",
    )


def test_an_acknowledged_critical_alert_still_degrades(world):
    world.execute(
        "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, status) "
        "VALUES (9, ?, 'critical', 'realised_drop', 'roc_auc', 'Realised ROC AUC fell', 'open')",
        [utcnow()],
    )
    acknowledge(world, 9, "bob", "retraining")
    state, reason = reads.health(world, 0.03)
    assert state == "degraded" and "1 critical alert open" in reason
    mute(world, 9, "bob", "known", None)
    assert reads.health(world, 0.03).state == "watch"


def test_a_realised_drop_past_the_setting_degrades(world):
    _clear_alerts(world)
    # May's realised ROC AUC is 0.795 against v2's holdout 0.82: a drop of 0.025
    assert reads.health(world, 0.03).state == "watch"  # June's drift
    state, reason = reads.health(world, 0.02)
    assert state == "degraded"
    assert reason == "Realised ROC AUC 0.795 in May 2024 is 0.025 below v2's holdout 0.820."


def test_an_estimated_drop_degrades_when_no_realised_one_does(world):
    _clear_alerts(world)
    world.execute(
        "UPDATE performance SET value = 0.70 WHERE kind = 'estimated' AND period = '2024-06-01'"
    )
    state, reason = reads.health(world, 0.03)
    assert state == "degraded" and reason.startswith("Estimated ROC AUC 0.700 in Jun 2024")
