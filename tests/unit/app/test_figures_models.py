"""Models page figures: one colour per label everywhere, honest axes, reference lines, empties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

from app.figures import models
from app.figures.models import (
    CHALLENGER_COLOUR,
    CHAMPION_COLOUR,
    calibration_overlay,
    confusion_matrices,
    gain_overlay,
    label_colours,
    metric_trend,
    pr_overlay,
    profit_curve,
    roc_overlay,
    threshold_summary,
)

CHAMPION = "v3 (champion)"
CHALLENGER = "v4 (challenger)"

# 10 rows, 4 churners; counts of rows with probability >= threshold.
GRID = {
    "threshold": [0.0, 0.25, 0.5, 0.75, 1.0],
    "tp": [4, 3, 2, 1, 0],
    "fp": [6, 3, 1, 0, 0],
    "fn": [0, 1, 2, 3, 4],
    "tn": [0, 3, 5, 6, 6],
}


def payload(lift: float = 0.0) -> dict:
    """A small curves payload shaped like ``pipeline.modeling.evaluation.curves``."""
    fpr = np.linspace(0.0, 1.0, 11)
    tpr = np.clip(np.sqrt(fpr) + lift, 0.0, 1.0)
    tpr[0] = 0.0
    return {
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()},
        "pr": {"recall": [0.0, 0.5, 1.0], "precision": [None, 0.6 + lift, 0.4]},
        "calibration": {
            "mean_predicted": [0.05, 0.15, 0.3],
            "observed": [0.04, 0.18, 0.27],
            "count": [40, 40, 20],
        },
        "gain": {"population": [0.1, 0.5, 1.0], "captured": [0.3 + lift, 0.8, 1.0]},
        "grid": GRID,
    }


def two_models() -> dict[str, dict]:
    return {CHAMPION: payload(), CHALLENGER: payload(0.05)}


def versions(n: int, champion: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    alias = ["archived"] * n
    if champion is not None:
        alias[champion - 1] = "champion"
    return pd.DataFrame(
        {
            "version": np.arange(1, n + 1),
            "created_at": pd.date_range("2024-01-01", periods=n, freq="D"),
            "roc_auc": rng.uniform(0.7, 0.9, n),
            "pr_auc": rng.uniform(0.3, 0.5, n),
            "brier": rng.uniform(0.1, 0.15, n),
            "alias": alias,
        }
    )


def names(fig) -> list[str]:
    return [t.name for t in fig.data]


def colour_of(fig, name: str) -> str:
    trace = next(t for t in fig.data if t.name == name)
    if trace.type == "heatmap":
        return trace.colorscale[-1][1]
    return trace.line.color


def test_label_colours_give_the_champion_then_the_challenger_colour():
    colours = label_colours([CHAMPION, CHALLENGER, "v5", "v6"])
    assert colours[CHAMPION] == CHAMPION_COLOUR
    assert colours[CHALLENGER] == CHALLENGER_COLOUR
    assert len(set(colours.values())) == 4


def test_every_comparison_chart_colours_a_label_the_same_way():
    curves = two_models()
    figures = [
        roc_overlay(curves),
        pr_overlay(curves, {CHAMPION: 0.4, CHALLENGER: 0.4}),
        calibration_overlay(curves),
        gain_overlay(curves),
        confusion_matrices(curves, {CHAMPION: 0.5, CHALLENGER: 0.5}),
    ]
    for fig in figures:
        assert colour_of(fig, CHAMPION) == CHAMPION_COLOUR, fig.layout.title.text
        assert colour_of(fig, CHALLENGER) == CHALLENGER_COLOUR, fig.layout.title.text


def test_roc_overlay_has_one_curve_per_label_over_a_random_diagonal():
    fig = roc_overlay(two_models())
    assert names(fig) == ["Random classifier", CHAMPION, CHALLENGER]
    diagonal = fig.data[0]
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert diagonal.line.dash == "dash"
    assert "False positive rate (%" in fig.layout.xaxis.title.text
    assert "True positive rate (%" in fig.layout.yaxis.title.text
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.range[0] <= 0.0 and axis.range[1] >= 1.0
        assert axis.tickformat == ".0%"
    assert "%{x:.1%}" in fig.data[1].hovertemplate
    assert fig.layout.height == models.CURVE_HEIGHT


def test_pr_overlay_draws_each_base_rate_as_a_dotted_line_in_the_label_colour():
    fig = pr_overlay(two_models(), {CHAMPION: 0.4, CHALLENGER: 0.35})
    assert names(fig) == [
        CHAMPION,
        f"{CHAMPION} base rate (40.0%)",
        CHALLENGER,
        f"{CHALLENGER} base rate (35.0%)",
    ]
    base = fig.data[3]
    assert base.line.dash == "dot"
    assert base.line.color == CHALLENGER_COLOUR
    assert list(base.y) == [0.35, 0.35] and list(base.x) == [0.0, 1.0]
    assert fig.data[0].y[0] is None  # undefined precision stays a gap, not zero
    assert fig.layout.xaxis.title.text.startswith("Recall (%")
    assert fig.layout.yaxis.title.text.startswith("Precision (%")


def test_pr_overlay_leaves_out_base_rates_it_was_not_given():
    fig = pr_overlay(two_models(), {CHALLENGER: 0.35})
    assert names(fig) == [CHAMPION, CHALLENGER, f"{CHALLENGER} base rate (35.0%)"]


def test_calibration_overlay_zooms_both_axes_alike_around_a_perfect_diagonal():
    fig = calibration_overlay(two_models())
    assert names(fig) == ["Perfect calibration", CHAMPION, CHALLENGER]
    assert fig.layout.xaxis.range == fig.layout.yaxis.range
    low, high = fig.layout.xaxis.range
    assert low <= 0.0 and 0.3 <= high <= 0.41  # data reach 30 %: zoomed, not 0-100 %
    assert list(fig.data[0].y) == list(fig.data[0].x)
    assert list(fig.data[1].customdata) == [40, 40, 20]
    assert "Observed churn rate" in fig.layout.yaxis.title.text


def test_gain_overlay_starts_at_the_origin_above_a_random_baseline():
    fig = gain_overlay(two_models())
    assert names(fig) == ["Random targeting", CHAMPION, CHALLENGER]
    champion = fig.data[1]
    assert list(champion.x) == [0.0, 0.1, 0.5, 1.0]
    assert list(champion.y) == [0.0, 0.3, 0.8, 1.0]
    assert "% of all churners" in fig.layout.yaxis.title.text


def test_confusion_matrices_use_the_grid_row_nearest_each_labels_threshold():
    fig = confusion_matrices(two_models(), {CHAMPION: 0.3, CHALLENGER: 0.74})
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [f"{CHAMPION} · threshold 0.25", f"{CHALLENGER} · threshold 0.75"]
    champion, challenger = fig.data
    assert list(champion.x) == ["churn", "stay"] and list(champion.y) == ["churn", "stay"]
    # Rows are actual (churn, stay), columns predicted (churn, stay): [[tp, fn], [fp, tn]].
    assert [list(r) for r in champion.text] == [
        ["3<br>30.0%", "1<br>10.0%"],
        ["3<br>30.0%", "3<br>30.0%"],
    ]
    assert [list(r) for r in challenger.z] == [[0.1, 0.3], [0.0, 0.6]]
    assert champion.zmax == challenger.zmax  # one colour scale for both panels
    assert fig.layout.xaxis.title.text == "Predicted"
    assert fig.layout.xaxis2.title.text == "Predicted"
    assert fig.layout.yaxis.title.text == "Actual"
    assert fig.layout.yaxis.autorange == "reversed"


def test_confusion_matrices_say_when_a_label_had_no_threshold():
    fig = confusion_matrices({CHAMPION: payload()}, {})
    assert fig.layout.annotations[0].text == f"{CHAMPION} · threshold 0.50 (none given)"


def test_threshold_summary_reads_the_nearest_grid_row():
    summary = threshold_summary(GRID, 0.3, value_per_churner=100.0, contact_cost=10.0)
    assert summary == {
        "threshold": 0.25,
        "precision": 0.5,
        "recall": 0.75,
        "contacts": 6,
        "caught": 3,
        "expected_profit": 240.0,  # 100 x 3 caught - 10 x 6 contacted
    }
    assert all(type(v) in (float, int) for v in summary.values())


def test_threshold_summary_on_a_tie_takes_the_lower_threshold():
    assert threshold_summary(GRID, 0.375, 100.0, 10.0)["threshold"] == 0.25


def test_threshold_summary_has_no_precision_when_nobody_is_contacted():
    summary = threshold_summary(GRID, 0.95, 100.0, 10.0)
    assert summary["threshold"] == 1.0
    assert summary["contacts"] == 0 and summary["caught"] == 0
    assert summary["precision"] is None
    assert summary["recall"] == 0.0
    assert summary["expected_profit"] == 0.0


def test_threshold_summary_accepts_numpy_counts_and_returns_plain_numbers():
    grid = {key: np.asarray(values) for key, values in GRID.items()}
    summary = threshold_summary(grid, np.float64(0.5), 100.0, 10.0)
    assert summary["contacts"] == 3 and type(summary["contacts"]) is int
    assert type(summary["threshold"]) is float


@pytest.mark.parametrize("threshold", [0.5, float("nan")])
def test_threshold_summary_of_an_empty_grid_or_no_threshold_is_all_none(threshold):
    grid = {} if threshold == 0.5 else GRID
    summary = threshold_summary(grid, threshold, 100.0, 10.0)
    assert set(summary) == {
        "threshold",
        "precision",
        "recall",
        "contacts",
        "caught",
        "expected_profit",
    }
    assert set(summary.values()) == {None}


def test_profit_curve_plots_value_of_catches_minus_cost_of_contacts_with_marks():
    fig = profit_curve(GRID, 100.0, 10.0, {"business": 0.25, "F1": 0.5, "slider": None})
    curve = fig.data[0]
    assert list(curve.x) == GRID["threshold"]
    assert list(curve.y) == [300.0, 240.0, 170.0, 90.0, 0.0]
    assert names(fig)[1:] == ["business: threshold 0.25, $240", "F1: threshold 0.50, $170"]
    marks = fig.data[1:]
    assert all(m.line.dash == "dash" and m.x[0] == m.x[1] for m in marks)
    assert [a.text for a in fig.layout.annotations] == ["business", "F1"]
    assert fig.layout.yaxis.title.text == "Expected profit ($)"
    assert fig.layout.xaxis.range == (0.0, 1.0)
    assert "$100 per churner caught" in fig.layout.title.text


def test_profit_curve_staggers_labels_of_close_marks():
    fig = profit_curve(GRID, 100.0, 10.0, {"business": 0.21, "F1": 0.23, "slider": 0.25})
    assert len({a.y for a in fig.layout.annotations}) == 3


def test_metric_trend_plots_three_metrics_and_stars_the_champion():
    fig = metric_trend(versions(5, champion=4))
    assert names(fig)[:3] == ["ROC AUC", "PR AUC", "Brier score"]
    stars = [t for t in fig.data if t.legendgroup == "champion"]
    assert len(stars) == 3 and [t.showlegend for t in stars] == [True, False, False]
    assert stars[0].name == "Champion (v4)"
    assert stars[0].marker.symbol == "star" and stars[0].marker.color == CHAMPION_COLOUR
    assert list(stars[0].x) == [4]
    assert list(fig.layout.xaxis2.ticktext) == ["v1", "v2", "v3", "v4", "v5"]
    assert fig.layout.xaxis2.title.text == "Model version"
    assert "lower is better" in fig.layout.yaxis2.title.text
    assert "higher is better" in fig.layout.yaxis.title.text
    assert len(fig.layout.shapes) == 2  # a dotted line at the champion in both panels
    assert fig.layout.height == models.TREND_HEIGHT


def test_metric_trend_of_200_versions_has_no_per_point_text_and_few_ticks():
    fig = metric_trend(versions(200, champion=150))
    for trace in fig.data:
        assert "text" not in trace.mode and trace.text is None
        assert trace.mode == "markers" or trace.mode == "lines"
    assert len(fig.layout.xaxis2.tickvals) <= models.MAX_VERSION_TICKS
    assert all(t.startswith("v") for t in fig.layout.xaxis2.ticktext)
    assert len(fig.layout.annotations) == 2  # the two subplot titles only


def test_metric_trend_of_one_version_is_a_point_not_an_error():
    fig = metric_trend(versions(1, champion=1))
    assert list(fig.layout.xaxis.tickvals) == [1]
    assert fig.layout.yaxis.range[0] < fig.layout.yaxis.range[1]
    to_json_plotly(fig)  # as Dash sends it


EMPTY_BUILDERS = {
    "trend": lambda: metric_trend(versions(3).iloc[0:0]),
    "roc": lambda: roc_overlay({}),
    "pr": lambda: pr_overlay({}, {}),
    "calibration": lambda: calibration_overlay({}),
    "gain": lambda: gain_overlay({}),
    "confusion": lambda: confusion_matrices({}, {}),
    "profit": lambda: profit_curve({}, 100.0, 10.0, {"business": 0.2}),
    "roc without its section": lambda: roc_overlay({CHAMPION: {"roc": {"fpr": [], "tpr": []}}}),
}


@pytest.mark.parametrize("build", EMPTY_BUILDERS.values(), ids=EMPTY_BUILDERS.keys())
def test_empty_inputs_give_an_explanatory_figure(build):
    fig = build()
    assert fig.data == ()
    assert fig.layout.xaxis.visible is False
    assert fig.layout.annotations[0].text.startswith("No ")
    assert fig.layout.title.text


SINGLE_POINT = {
    "roc": {"fpr": [0.0], "tpr": [0.0]},
    "pr": {"recall": [1.0], "precision": [0.3]},
    "calibration": {"mean_predicted": [0.3], "observed": [0.3], "count": [10]},
    "gain": {"population": [1.0], "captured": [1.0]},
    "grid": {"threshold": [0.5], "tp": [1], "fp": [2], "fn": [3], "tn": [4]},
}
SINGLE_BUILDERS = {
    "roc": lambda c: roc_overlay(c),
    "pr": lambda c: pr_overlay(c, {CHAMPION: 0.3}),
    "calibration": lambda c: calibration_overlay(c),
    "gain": lambda c: gain_overlay(c),
    "confusion": lambda c: confusion_matrices(c, {CHAMPION: 0.9}),
    "profit": lambda c: profit_curve(c[CHAMPION]["grid"], 100.0, 10.0, {"business": 0.5}),
}


@pytest.mark.parametrize("build", SINGLE_BUILDERS.values(), ids=SINGLE_BUILDERS.keys())
def test_payloads_with_a_single_point_still_draw(build):
    fig = build({CHAMPION: SINGLE_POINT})
    assert any(t.name == CHAMPION or t.name == "Expected profit" for t in fig.data)
    to_json_plotly(fig)  # as Dash sends it


def test_labels_are_shown_literally_not_as_markup():
    fig = roc_overlay({"<b>v1</b>": payload()})
    assert fig.data[1].name == "&lt;b&gt;v1&lt;/b&gt;"
