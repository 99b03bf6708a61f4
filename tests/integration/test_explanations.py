"""Explanations and fairness written by real runs, and local explanations served from them."""

from __future__ import annotations

import time

import pytest

from pipeline.explain.language import global_driver_sentence, pretty_name
from pipeline.local_explain import ExplainError, LocalExplanations
from pipeline.warehouse import models, reads_explain


def test_each_version_stores_its_explanation_and_fairness(two_versions) -> None:
    settings, wh, _, _ = two_versions
    for version in (1, 2):
        assert "holdout" in reads_explain.scopes(wh, version)
        importance = reads_explain.importance(wh, version, "holdout")
        contract = models.latest_contract(wh)
        assert set(importance["feature"]) == set(contract.features)
        assert importance["share"].sum() == pytest.approx(1.0)
        points = reads_explain.points(wh, version, "holdout")
        assert points.groupby("feature").size().max() <= settings.explain.dependence_points
        assert points["interaction_feature"].notna().all()
        summary = reads_explain.fairness_summary(wh, version)
        assert set(summary["column_name"]) == set(settings.dataset.segments)
        assert summary["sentence"].str.len().min() > 20


def test_the_champion_explains_the_latest_month_for_the_overview(two_versions) -> None:
    settings, wh, _, _ = two_versions
    found = reads_explain.champion_drivers(wh, settings.explain.drivers)
    champion = models.current_aliases(wh)["champion"]
    assert found["version"] == champion
    latest = wh.scalar("SELECT max(period) FROM predictions")
    assert found["scope"] == f"period:{latest:%Y-%m}"
    assert len(found["drivers"]) == settings.explain.drivers
    top = found["drivers"].iloc[0]
    sentence = global_driver_sentence(top["feature"], top["direction"], float(top["share"]))
    assert sentence.startswith(pretty_name(top["feature"]) + ": ")
    assert f"({top['share']:.0%} of the model's attention)" in sentence


def test_local_explanations_are_fast_cached_and_checked(two_versions) -> None:
    settings, wh, _, _ = two_versions
    local = LocalExplanations(wh)
    champion = models.current_aliases(wh)["champion"]
    riskiest = reads_explain.riskiest(wh, 5)
    entity = riskiest["entity_id"].iloc[0]
    first = local.explain(champion, entity)
    assert abs(first.proba - riskiest["probability"].iloc[0]) < 1e-9  # the served prediction
    assert abs(first.base_proba + sum(first.points) / 100 - first.proba) < 1e-9
    assert first.sentences and all("churn risk" in s for s in first.sentences)
    timings = []
    for other in reads_explain.riskiest(wh, 20)["entity_id"][1:]:
        started = time.perf_counter()
        local.explain(champion, other)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[len(timings) // 2] < 0.3
    numeric = models.latest_contract(wh).numeric[0]
    low, high = models.latest_contract(wh).ranges[numeric]
    edited = local.explain(champion, entity, edits={numeric: str(high)})
    assert edited.inputs[numeric] == high
    try:
        local.explain(champion, entity, edits={numeric: str(high * 10 + 1)})
    except ExplainError as error:
        assert "outside the contract's range" in str(error)
    else:
        raise AssertionError("an out-of-range what-if value was accepted")
