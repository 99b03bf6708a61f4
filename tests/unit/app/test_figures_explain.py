"""Explain page figures: effects in probability points, strongest first, honest empties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.figures import explain as figures


def importance(features: list[str], points: list[float]) -> pd.DataFrame:
    total = sum(points)
    return pd.DataFrame(
        {
            "feature": features,
            "mean_abs": [p / 40 for p in points],
            "mean_abs_points": points,
            "share": [p / total for p in points],
            "rank": list(range(1, len(features) + 1)),
            "direction": ["higher values raise risk"] * len(features),
        }
    )


def points_frame(feature: str, n: int, categorical: bool = False, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 10, n)
    cats = np.array(["a", "b", "c"])[np.arange(n) % 3]
    return pd.DataFrame(
        {
            "feature": feature,
            "row": np.arange(n),
            "value_num": np.nan if categorical else values,
            "value_text": cats if categorical else [f"{v:.2f}" for v in values],
            "shap": values / 10,
            "points": rng.normal(0, 3, n),
            "colour": (np.arange(n) % 3) / 2 if categorical else values / 10,
            "interaction_feature": "tenure",
            "interaction_value_text": "5",
            "interaction_colour": rng.uniform(0, 1, n),
        }
    )


def test_importance_bars_are_strongest_on_top_with_share_in_the_hover():
    fig = figures.importance_figure(importance(["plan", "tenure", "usage"], [6.0, 3.0, 1.0]))
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["plan", "tenure", "usage"]
    assert fig.layout.yaxis.autorange == "reversed"
    assert bar.customdata[0][0] == "60.0%"
    assert "model's attention" in bar.hovertemplate
    assert "percentage points" in fig.layout.xaxis.title.text


def test_bars_follow_the_plotted_points_not_the_raw_scale_rank():
    frame = importance(["plan", "tenure"], [2.0, 3.0])  # ranked by log-odds: plan first
    fig = figures.importance_figure(frame)
    assert list(fig.data[0].y) == ["tenure", "plan"]
    assert figures.feature_order(frame) == ["tenure", "plan"]


def test_feature_names_are_never_read_as_markup():
    fig = figures.importance_figure(importance(["<b>plan</b>"], [1.0]))
    assert list(fig.data[0].y) == ["&lt;b&gt;plan&lt;/b&gt;"]


def test_empty_frames_say_there_is_no_explanation():
    for fig in (
        figures.importance_figure(importance([], [])),
        figures.summary_figure(points_frame("x", 0), importance([], [])),
        figures.dependence_figure(points_frame("x", 0), "x"),
    ):
        assert fig.layout.annotations[0].text == figures.NO_EXPLANATION


def test_swarm_offsets_are_bounded_deterministic_and_spread_crowds():
    x = np.r_[np.zeros(50), np.linspace(1, 2, 5)]
    offsets = figures.swarm_offsets(x, width=0.4)
    assert np.all(np.abs(offsets) <= 0.4 + 1e-12)
    assert np.array_equal(offsets, figures.swarm_offsets(x, width=0.4))
    assert np.ptp(offsets[:50]) > 0.7  # the crowd at 0 fills the row
    assert len(set(np.round(offsets[:50], 9))) > 40
    assert figures.swarm_offsets(np.array([])).size == 0


def test_the_summary_has_one_row_per_top_feature_and_a_value_colourbar():
    names = [f"f{i}" for i in range(12)]
    points = pd.concat([points_frame(n, 30, seed=i) for i, n in enumerate(names)])
    points.loc[points.index[0], "colour"] = np.nan
    fig = figures.summary_figure(points, importance(names, list(range(12, 0, -1))), top=10)
    assert list(fig.layout.yaxis.ticktext) == names[:10]
    coloured, missing = fig.data
    assert len(coloured.x) + len(missing.x) == 300
    assert missing.marker.color == figures.MISSING_COLOUR
    assert coloured.marker.colorbar.title.text == "feature value<br>(low to high)"
    # each dot stays within its feature's row
    assert np.all(np.abs(np.asarray(coloured.y) - np.round(coloured.y)) <= 0.4 + 1e-3)


def test_the_summary_thins_each_feature_to_a_fixed_number_of_dots():
    points = points_frame("tenure", 2_000)
    fig = figures.summary_figure(points, importance(["tenure"], [1.0]), per_feature=400)
    assert sum(len(t.x) for t in fig.data) == 400


def test_dependence_names_the_interacting_feature_and_leaves_out_missing_values():
    points = points_frame("usage", 20)
    points.loc[0, "value_num"] = np.nan
    points.loc[1, "interaction_colour"] = np.nan
    fig = figures.dependence_figure(points, "usage")
    assert "tenure" in fig.data[0].marker.colorbar.title.text
    assert sum(len(t.x) for t in fig.data) == 19
    assert fig.data[1].name == "tenure missing"
    assert "1 customer with no value is not drawn" in fig.layout.title.text


def test_dependence_of_a_category_puts_each_value_on_its_own_tick():
    fig = figures.dependence_figure(points_frame("plan", 30, categorical=True), "plan")
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "c"]
    x = np.asarray(fig.data[0].x)
    assert np.all(np.abs(x - np.round(x)) < 0.3)  # jitter stays around its category


def test_waterfall_runs_from_the_base_rate_to_the_prediction_biggest_first():
    features = ["a", "b", "c"]
    points = [-2.0, 10.0, 0.5]
    fig = figures.waterfall_figure(features, ["1", "x", "3"], points, 0.2, 0.285, "title")
    w = fig.data[0]
    assert list(w.measure) == ["absolute", "relative", "relative", "relative", "total"]
    assert list(w.y[1:-1]) == ["b = x", "a = 1", "c = 3"]
    assert w.x[0] == pytest.approx(20.0) and w.x[-1] == pytest.approx(28.5)
    assert sum(w.x[:-1]) == pytest.approx(w.x[-1])  # the bars end at the prediction
    assert list(w.text[1:-1]) == ["+10 pts", "−2 pts", "+0.5 pts"]


def test_small_contributions_are_grouped_as_other_features():
    features = [f"f{i}" for i in range(12)]
    points = [float(12 - i) for i in range(12)]
    parts = figures.waterfall_parts(features, features, points, bars=8)
    assert len(parts) == 9
    assert parts[-1] == ("other 4 features", pytest.approx(4 + 3 + 2 + 1))
    assert sum(p for _, p in parts) == pytest.approx(sum(points))


def test_side_by_side_waterfalls_share_one_range():
    a = figures.running_totals([30.0, -5.0], 0.2)
    b = figures.running_totals([-10.0, 2.0], 0.2)
    low, high = figures.common_range(a, b)
    assert low == 0.0 and high == pytest.approx(50.0 + 0.22 * 50.0)  # room for the labels
    assert figures.running_totals([30.0, -5.0], 0.2) == pytest.approx([20.0, 50.0, 45.0])
