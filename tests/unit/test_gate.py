"""The promotion gate: margins, segment tolerance, sanity checks, all explained in words."""

from __future__ import annotations

from pipeline.gate import Evaluation, decide
from pipeline.settings import PromotionSettings

RULES = PromotionSettings(min_auc_gain=0.005, segment_tolerance=0.02, segment_min_rows=100)


def _metrics(auc: float, flag_rate: float = 0.1, nan: int = 0) -> dict:
    return {"roc_auc": auc, "flag_rate": flag_rate, "nan_predictions": nan}


def _segments(south: float, north: float = 0.8, rows: int = 1000) -> list[dict]:
    return [
        {"column": "region", "value": "South", "rows": rows, "roc_auc": south},
        {"column": "region", "value": "North", "rows": rows, "roc_auc": north},
    ]


def test_first_model_becomes_champion_when_sane() -> None:
    decision = decide(Evaluation(1, _metrics(0.8)), None, RULES, "2025-03")
    assert decision.promote and decision.alias == "champion"
    assert "first usable model" in decision.summary


def test_first_model_with_nan_predictions_stays_challenger() -> None:
    decision = decide(Evaluation(1, _metrics(0.8, nan=3)), None, RULES, "2025-03")
    assert not decision.promote
    assert "3 predictions are missing or infinite" in decision.summary


def test_a_better_challenger_is_promoted_with_the_reason_in_words() -> None:
    new = Evaluation(7, _metrics(0.81), _segments(0.80))
    old = Evaluation(6, _metrics(0.74), _segments(0.72))
    decision = decide(new, old, RULES, "2025-06")
    assert decision.promote
    assert (
        "v7 beat v6 on 2025-06 (ROC AUC 0.810 vs 0.740, gain +0.0700 >= margin" in decision.summary
    )
    assert decision.summary.endswith("promoted; v6 archived.")


def test_a_worse_challenger_is_not_promoted() -> None:
    decision = decide(Evaluation(7, _metrics(0.70)), Evaluation(6, _metrics(0.74)), RULES, "m")
    assert not decision.promote and decision.alias == "challenger"
    assert "did not beat" in decision.summary and "v6 kept" in decision.summary


def test_a_gain_below_the_margin_is_not_enough() -> None:
    decision = decide(Evaluation(7, _metrics(0.743)), Evaluation(6, _metrics(0.74)), RULES, "m")
    assert not decision.promote
    assert "v7 did not beat v6 by the margin on m" in decision.summary
    assert "gain +0.0030 < margin 0.0050" in decision.summary


def test_a_segment_regression_beyond_tolerance_blocks_promotion() -> None:
    new = Evaluation(7, _metrics(0.82), _segments(south=0.70))
    old = Evaluation(6, _metrics(0.78), _segments(south=0.76))
    decision = decide(new, old, RULES, "m")
    assert not decision.promote
    assert "ROC AUC on region South fell from 0.760 to 0.700" in decision.summary


def test_small_segments_are_not_compared() -> None:
    new = Evaluation(7, _metrics(0.82), _segments(south=0.50, rows=50))
    old = Evaluation(6, _metrics(0.78), _segments(south=0.76, rows=50))
    assert decide(new, old, RULES, "m").promote


def test_flag_rate_out_of_bounds_blocks_promotion() -> None:
    new = Evaluation(7, _metrics(0.9, flag_rate=0.9))
    decision = decide(new, Evaluation(6, _metrics(0.7)), RULES, "m")
    assert not decision.promote
    assert "flags 90.0% of customers" in decision.summary


def test_automatic_promotion_can_be_switched_off() -> None:
    rules = RULES.model_copy(update={"auto": False})
    decision = decide(Evaluation(7, _metrics(0.9)), Evaluation(6, _metrics(0.7)), rules, "m")
    assert not decision.promote
    assert "automatic promotion is off" in decision.summary


def test_decision_json_lists_every_check() -> None:
    decision = decide(Evaluation(7, _metrics(0.9)), Evaluation(6, _metrics(0.7)), RULES, "m")
    checks = {c["check"] for c in decision.as_json()["checks"]}
    assert checks == {"no_nan", "flag_rate", "margin", "segments", "auto"}


def test_a_window_with_one_class_cannot_promote() -> None:
    new = Evaluation(7, {"roc_auc": None, "flag_rate": 0.1, "nan_predictions": 0})
    decision = decide(new, Evaluation(6, _metrics(0.7)), RULES, "2025-06")
    assert not decision.promote
    assert decision.summary == (
        "v7 stays challenger: ROC AUC is undefined on 2025-06 (one class only); v6 kept."
    )


def test_a_blocking_fairness_breach_keeps_the_challenger_with_the_reason() -> None:
    sentence = "fairness limit exceeded for region (...); blocked by fairness.block_promotion"
    decision = decide(
        Evaluation(7, _metrics(0.9)), Evaluation(6, _metrics(0.7)), RULES, "m", (False, sentence)
    )
    assert not decision.promote and sentence in decision.summary


def test_a_fairness_warning_is_said_but_does_not_block() -> None:
    sentence = "fairness limit exceeded for region (...); a warning only"
    decision = decide(
        Evaluation(7, _metrics(0.9)), Evaluation(6, _metrics(0.7)), RULES, "m", (True, sentence)
    )
    assert decision.promote and sentence in decision.summary
