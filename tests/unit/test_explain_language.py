"""Explanations in words: sentences carry the same numbers as the charts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pipeline.explain.language import (
    driver_sentence,
    format_points,
    format_value,
    global_driver_sentence,
    local_story,
    pretty_name,
    top_drivers,
)
from pipeline.explain.shap_values import Explainer, probability_points
from pipeline.modeling.calibration import calibrate
from pipeline.modeling.candidates import HGB, build_candidate, default_params
from pipeline.train import LABEL, PERIOD, prepare_features
from tests.unit._modeling_frames import MONTHS, SPEC, churn_frame, one_thread  # noqa: F401


def test_driver_sentence_names_the_feature_its_value_and_the_points():
    assert (
        driver_sentence("contract_type", "month-to-month", 12.3)
        == "Contract type month-to-month raised churn risk by 12 points"
    )
    assert (
        driver_sentence("tenure_months", 30.0, -7.04)
        == "Tenure months 30 lowered churn risk by 7 points"
    )
    assert driver_sentence("usage_gb", 2.456, 1.04) == "Usage gb 2.46 raised churn risk by 1 point"
    assert (
        driver_sentence("usage_gb", 2.456, -2.34)
        == "Usage gb 2.46 lowered churn risk by 2.3 points"
    )


def test_small_contributions_barely_change_risk():
    assert driver_sentence("region", None, 0.49) == "Region missing barely changed churn risk"
    assert driver_sentence("region", "south", -0.2) == "Region south barely changed churn risk"
    assert driver_sentence("region", "south", 0.5).endswith("raised churn risk by 0.5 points")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (30.0, "30"),
        (np.int64(12), "12"),
        (70.35, "70.35"),
        (0.5, "0.5"),
        (12345.6, "12,346"),
        (0.004, "0.004"),
        (np.nan, "missing"),
        (None, "missing"),
        (pd.NA, "missing"),
        ("month-to-month", "month-to-month"),
        (True, "yes"),
    ],
)
def test_values_are_written_for_people(value, text):
    assert format_value(value) == text


def test_points_and_names_are_written_for_people():
    assert [format_points(p) for p in (12.4, -7.04, 2.34, 9.96, 0.5, 1.0)] == [
        "12",
        "7",
        "2.3",
        "10",
        "0.5",
        "1",
    ]
    assert pretty_name("payment_method") == "Payment method"


def test_local_story_puts_the_biggest_drivers_first():
    features = ["plan", "region", "usage", "tenure"]
    points = [3.0, -0.1, -9.0, 3.0]
    story = local_story(features, ["basic", "south", 1.5, 30.0], points, top=3)
    assert story == [
        "Usage 1.5 lowered churn risk by 9 points",
        "Plan basic raised churn risk by 3 points",
        "Tenure 30 raised churn risk by 3 points",
    ]
    by_name = pd.Series({"tenure": 30.0, "usage": 1.5, "region": "south", "plan": "basic"})
    assert local_story(features, by_name, points, top=3) == story
    assert len(local_story(features, by_name, points)) == 4


def test_global_driver_sentence_gives_the_share_of_attention():
    assert (
        global_driver_sentence("contract_type", "month-to-month raises risk most", 0.318)
        == "Contract type: month-to-month raises risk most (32% of the model's attention)"
    )
    assert global_driver_sentence("x", "higher values raise risk", 0.001).endswith(
        "(under 1% of the model's attention)"
    )


def test_sentences_use_the_numbers_the_chart_shows():
    """The local waterfall plots ``probability_points``; each sentence of the story names the
    same feature, value and rounded number as the bar it describes, in the chart's order."""
    frame = churn_frame(MONTHS[:4], rows=400, seed=5)
    fit, calib = frame[frame[PERIOD] < MONTHS[3]], frame[frame[PERIOD] == MONTHS[3]]
    params = {**default_params(HGB, "none"), "max_iter": 40}
    pipe = build_candidate(HGB, SPEC, params, seed=0)
    pipe.fit(prepare_features(fit, SPEC), fit[LABEL].to_numpy())
    pipe = calibrate(pipe, prepare_features(calib, SPEC), calib[LABEL].to_numpy(), "sigmoid")
    x = prepare_features(calib.iloc[:40], SPEC)
    explainer = Explainer(pipe, SPEC, x)
    checked = 0
    for i in range(len(x)):
        expl = explainer.explain(x.iloc[[i]])
        bars = probability_points(expl)[0]  # what the waterfall draws
        assert bars.sum() == pytest.approx(100 * (expl.proba[0] - expl.base_proba), abs=1e-9)
        drivers = top_drivers(expl.features, x.iloc[i], bars, top=3)
        story = local_story(expl.features, x.iloc[i], bars, top=3)
        assert [abs(p) for _, _, p in drivers] == sorted((abs(b) for b in bars), reverse=True)[:3]
        for (feature, value, points), sentence in zip(drivers, story, strict=True):
            assert points == bars[expl.features.index(feature)]
            assert sentence.startswith(f"{pretty_name(feature)} {format_value(value)} ")
            if abs(points) >= 0.5:
                assert re.search(rf" by {re.escape(format_points(points))} points?$", sentence)
                assert ("raised" in sentence) == (points > 0)
                checked += 1
    assert checked > 20
