"""What-if values are checked against the data contract before they reach a model."""

from __future__ import annotations

import math

from pipeline.contract import Contract
from pipeline.local_explain import validate_whatif

CONTRACT = Contract(
    entity_id="customer_id",
    event_time="snapshot_month",
    target="churned",
    numeric=["tenure_months"],
    categorical=["plan"],
    ranges={"tenure_months": [0.0, 120.0]},
    categories={"plan": ["basic", "plus"]},
)


def test_valid_edits_are_typed() -> None:
    typed, problems = validate_whatif(CONTRACT, {"tenure_months": "1,2", "plan": "plus"})
    assert problems == []
    assert typed == {"tenure_months": 12.0, "plan": "plus"}


def test_empty_values_mean_missing() -> None:
    typed, problems = validate_whatif(CONTRACT, {"tenure_months": "", "plan": ""})
    assert problems == [] and math.isnan(typed["tenure_months"]) and typed["plan"] is None


def test_each_refused_value_gets_one_sentence() -> None:
    typed, problems = validate_whatif(
        CONTRACT, {"tenure_months": "999", "plan": "gold", "name": "x", "usage": "abc"}
    )
    assert typed == {}
    assert problems == [
        "tenure_months: 999 is outside the contract's range 0 to 120",
        "plan: 'gold' is not one of basic, plus",
        "name is not a feature of the model",
        "usage is not a feature of the model",
    ]


def test_text_in_a_number_field_is_refused() -> None:
    CONTRACT.numeric.append("usage")
    try:
        _, problems = validate_whatif(CONTRACT, {"usage": "abc"})
    finally:
        CONTRACT.numeric.remove("usage")
    assert problems == ["usage: 'abc' is not a number"]
