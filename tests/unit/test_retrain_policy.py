"""The retrain policy decides from evidence, says why in words, waits for labels and cools down."""

from __future__ import annotations

from datetime import date

from pipeline.monitor_settings import RetrainSettings
from pipeline.monitoring.policy import PolicyInput, decide

M = [date(2025, m, 1) for m in range(1, 13)]
EVENTS = ["drift", "performance"]  # the schedule would fire too on these months


def _input(**kw) -> PolicyInput:
    base = {
        "trigger": "demo-clock",
        "user": None,
        "champion_version": 6,
        "champion_holdout_to": M[4],
        "champion_auc": 0.79,
        "labelled": M[:8],
        "periods": M[:9],
        "top_features": ["contract_type", "tenure_months", "monthly_charges"],
    }
    return PolicyInput(**{**base, **kw})


def _drift(period: date, column: str = "monthly_charges", stat: float = 0.31) -> dict:
    return {
        "period": period, "column_name": column, "segment_column": "region",
        "segment_value": "South", "statistic": stat, "threshold": 0.1, "drifted": True,
        "sentence": f"Wasserstein {stat} std > 0.1: the distribution of {column} moved in "
        "region South",
    }  # fmt: skip


def test_no_champion_trains_the_first_model() -> None:
    d = decide(RetrainSettings(on=EVENTS), _input(champion_version=None, champion_holdout_to=None))
    assert (d.trigger, d.action) == ("first", "retrain")


def test_a_person_pressing_retrain_always_trains() -> None:
    d = decide(RetrainSettings(on=[]), _input(trigger="manual", user="ana"))
    assert (d.trigger, d.action, d.reason) == ("manual", "retrain", "retrain asked by ana")


def test_nothing_fired_means_no_retrain() -> None:
    d = decide(RetrainSettings(on=EVENTS), _input())
    assert d.action == "none"


def test_drift_on_a_top_feature_retrains_once_its_month_has_labels() -> None:
    d = decide(RetrainSettings(on=EVENTS), _input(drift=[_drift(M[5])]))
    assert (d.trigger, d.action) == ("drift", "retrain")
    assert "monthly_charges moved in region South (2025-06)" in d.reason


def test_drift_waits_until_its_month_can_be_learnt_from_and_checked_later() -> None:
    d = decide(RetrainSettings(on=EVENTS), _input(drift=[_drift(M[6])]))
    assert d.action == "wait"
    assert "waiting for the labels of 2025-09, so that the new model learns from 2025-07" in (
        d.reason
    )
    d = decide(
        RetrainSettings(on=EVENTS), _input(drift=[_drift(M[6])], labelled=M[:9], periods=M[:10])
    )
    assert d.action == "retrain"


def test_drift_outside_the_top_features_does_not_retrain() -> None:
    settings = RetrainSettings(on=EVENTS, top_features=2)
    d = decide(settings, _input(drift=[_drift(M[5], "monthly_charges")]))
    assert d.action == "none"


def test_an_estimated_drop_beyond_the_margin_retrains() -> None:
    perf = [{"period": M[5], "kind": "estimated", "segment_column": "(all)",
             "segment_value": "(all)", "value": 0.74}]  # fmt: skip
    d = decide(RetrainSettings(on=EVENTS), _input(performance=perf))
    assert (d.trigger, d.action) == ("performance", "retrain")
    assert "estimated ROC AUC 0.740 in 2025-06 is 0.050 below v6's holdout 0.790" in d.reason
    small = [{**perf[0], "value": 0.775}]
    assert decide(RetrainSettings(on=EVENTS), _input(performance=small)).action == "none"


def test_schedule_counts_labelled_months_since_the_champion() -> None:
    settings = RetrainSettings(on=["schedule"], schedule_periods=2)
    assert decide(settings, _input(labelled=M[:6], periods=M[:7])).action == "none"  # 1 since
    d = decide(settings, _input(labelled=M[:7], periods=M[:8]))
    assert (d.trigger, d.action) == ("schedule", "retrain")


def test_cool_down_stops_a_retrain_loop_then_lets_it_fire_again() -> None:
    settings = RetrainSettings(on=EVENTS, cooldown_periods=4)
    evidence = {"drift": [_drift(M[6])], "labelled": M[:9]}
    d = decide(settings, _input(periods=M[:9], last_auto=M[6], **evidence))
    assert d.action == "none"  # evidence from before the last retrain does not count
    d = decide(settings, _input(periods=M[:9], last_auto=M[5], **evidence))
    assert d.action == "cooldown"
    assert "inside the 4-period cool-down" in d.reason
    d = decide(settings, _input(periods=M[:10], last_auto=M[5], **evidence))
    assert d.action == "retrain"


def test_evidence_a_retrain_already_tried_does_not_fire_again() -> None:
    d = decide(
        RetrainSettings(on=EVENTS), _input(drift=[_drift(M[5])], periods=M[:9], last_auto=M[5])
    )
    assert d.action == "none"


def test_slight_drift_alerts_but_does_not_retrain() -> None:
    slight = _drift(M[5], stat=0.14)  # past the 0.1 threshold, short of twice it
    assert decide(RetrainSettings(on=EVENTS), _input(drift=[slight])).action == "none"
    assert (
        decide(RetrainSettings(on=EVENTS, drift_margin=1.0), _input(drift=[slight])).action
        == "retrain"
    )


def test_a_significance_test_on_a_small_segment_does_not_retrain() -> None:
    tested = {**_drift(M[5]), "method": "ks", "statistic": 0.2, "threshold": 0.05, "p_value": 1e-4}
    assert decide(RetrainSettings(on=EVENTS), _input(drift=[tested])).action == "none"


def test_never_automatically_ignores_every_trigger() -> None:
    d = decide(RetrainSettings(on=[]), _input(drift=[_drift(M[5])]))
    assert d.action == "none"
