"""Fairness figures: rates and calibration per group, small groups set apart, honest gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

from app.figures.fairness import (
    OBSERVED_COLOUR,
    PREDICTED_COLOUR,
    RATE_COLOURS,
    SMALL_PATTERN,
    calibration_title,
    group_calibration_figure,
    group_rates_figure,
    rates_title,
)
from pipeline.modeling.fairness import group_metrics


def groups(**overrides) -> pd.DataFrame:
    """Three regions and one plan, shaped like ``group_metrics`` output."""
    frame = pd.DataFrame(
        {
            "column": ["region", "region", "region", "plan"],
            "value": ["North", "South", "Isles", "basic"],
            "rows": [900, 800, 40, 1740],
            "positives": [90, 160, 4, 254],
            "selection_rate": [0.081, 0.214, 0.5, 0.15],
            "tpr": [0.5, 0.75, 1.0, 0.6],
            "fpr": [0.04, 0.1, 0.4, 0.08],
            "precision": [0.6, 0.7, 0.2, 0.65],
            "mean_predicted": [0.12, 0.18, 0.3, 0.15],
            "observed_rate": [0.1, 0.2, 0.1, 0.146],
            "small": [False, False, True, False],
        }
    )
    for key, values in overrides.items():
        frame[key] = values
    return frame


def subtitle(fig) -> str:
    return fig.layout.title.text.split("<br>", 1)[1]


def test_rates_figure_draws_three_grouped_bar_series_on_a_percent_axis():
    fig = group_rates_figure(groups(), "region")
    assert [t.type for t in fig.data] == ["bar"] * 3
    assert [t.name for t in fig.data] == [
        "Selection rate (share flagged)",
        "True positive rate (churners flagged)",
        "False positive rate (stayers flagged)",
    ]
    assert [t.marker.color for t in fig.data] == list(RATE_COLOURS.values())
    assert list(fig.data[0].y) == [0.081, 0.214, 0.5]  # only the region's groups
    assert list(fig.data[2].y) == [0.04, 0.1, 0.4]
    assert fig.layout.barmode == "group"
    assert fig.layout.title.text.startswith(rates_title("region"))
    assert fig.layout.yaxis.title.text == "Share of the group (%)"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.xaxis.title.text == "Region (group)"
    assert fig.layout.xaxis.ticktext[0].startswith("North<br>")
    assert "900 rows" in fig.layout.xaxis.ticktext[0]


def test_rates_subtitle_gives_both_differences_against_their_limits():
    fig = group_rates_figure(groups(), "region", dpd_limit=0.1, eod_limit=0.3)
    # Isles is small: North and South give DPD 0.133, TPR range 0.25, FPR range 0.06.
    assert subtitle(fig).startswith(
        "<sup>Demographic parity difference 0.133 (above the limit 0.100) · "
        "equalised odds difference 0.250 (within the limit 0.300)</sup>"
    )
    bare = group_rates_figure(groups(), "region")
    assert "Demographic parity difference 0.133 · equalised odds difference 0.250" in (
        subtitle(bare)
    )


def test_small_groups_are_hatched_pale_and_named_in_the_subtitle():
    fig = group_rates_figure(groups(), "region")
    for trace in fig.data:
        assert list(trace.marker.pattern.shape) == ["", "", SMALL_PATTERN]
        assert trace.marker.opacity[2] < trace.marker.opacity[0] == 1.0
    assert "too few rows, shown but not compared (Isles)" in subtitle(fig)
    assert "not compared" in fig.layout.xaxis.ticktext[2]
    calibration = group_calibration_figure(groups(), "region")
    assert list(calibration.data[1].marker.symbol) == ["circle", "circle", "circle-open"]
    assert "(Isles)" in subtitle(calibration)


def test_undefined_rates_are_gaps_explained_in_the_subtitle():
    fig = group_rates_figure(groups(tpr=[0.5, None, 1.0, 0.6]), "region")
    assert fig.data[1].y[1] is None  # a gap, not a 0 % bar
    assert "no true positive rate for South (no churners)" in subtitle(fig)
    assert fig.data[1].texttemplate == "%{y:.0%}"  # 0 % bars carry a label, gaps do not


def test_calibration_figure_joins_predicted_and_observed_per_group():
    fig = group_calibration_figure(groups(), "region")
    assert [t.name for t in fig.data] == [
        "Calibration gap",
        "Mean predicted probability",
        "Observed churn rate",
    ]
    connector, predicted, observed = fig.data
    assert list(predicted.y) == [0.12, 0.18, 0.3]
    assert list(observed.y) == [0.1, 0.2, 0.1]
    assert list(connector.x) == [0, 0, None, 1, 1, None, 2, 2, None]
    assert list(connector.y) == [0.12, 0.1, None, 0.18, 0.2, None, 0.3, 0.1, None]
    assert predicted.marker.color == PREDICTED_COLOUR
    assert observed.marker.color == OBSERVED_COLOUR
    assert list(observed.customdata[1]) == ["South", "800", "+2.0"]  # points above predicted
    assert fig.layout.title.text.startswith(calibration_title("region"))
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.yaxis.range[1] >= 0.3
    assert fig.layout.yaxis.title.text == "Churn probability / rate (%)"


EMPTY_CASES = {
    "no groups": (groups().iloc[:0], "No fairness results for this model version yet"),
    "other column": (groups(), "No fairness results for contract type in this model version"),
}


@pytest.mark.parametrize("build", [group_rates_figure, group_calibration_figure])
@pytest.mark.parametrize(("frame", "message"), EMPTY_CASES.values(), ids=EMPTY_CASES.keys())
def test_empty_inputs_give_an_explanatory_figure(build, frame, message):
    fig = build(frame, "contract_type")
    assert fig.data == ()
    assert fig.layout.xaxis.visible is False
    assert fig.layout.annotations[0].text.startswith(message)
    assert "contract type" in fig.layout.title.text


def test_figures_read_the_warehouse_frame_and_group_metrics_output():
    stored = groups().rename(columns={"column": "column_name"})
    assert len(group_rates_figure(stored, "plan").data) == 3
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"plan": rng.choice(["a", "b"], 60), "tier": rng.choice([1, 2], 60)})
    y = (rng.random(60) < 0.3).astype(int)
    rows = pd.DataFrame(group_metrics(frame, y, rng.random(60), 0.5, 10))
    for build in (group_rates_figure, group_calibration_figure):
        fig = build(rows, "tier")
        assert [t.x[0] for t in fig.data if t.type == "bar"] in ([0] * 3, [])
        to_json_plotly(fig)  # as Dash sends it


def test_group_values_are_shown_literally_not_as_markup():
    fig = group_rates_figure(groups(value=["<b>N</b>", "South", None, "basic"]), "region")
    assert fig.layout.xaxis.ticktext[0].startswith("&lt;b&gt;N&lt;/b&gt;<br>")
    assert fig.layout.xaxis.ticktext[2].startswith("(missing)<br>")
    assert fig.data[0].customdata[0][0] == "&lt;b&gt;N&lt;/b&gt;"
