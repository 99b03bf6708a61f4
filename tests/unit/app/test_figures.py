"""Figure builders: titles say what is measured, axes carry units, empty frames explain."""

from __future__ import annotations

import pandas as pd
import plotly.io as pio
import pytest

from app.figures.formatting import format_duration, format_money, format_month, format_pct
from app.figures.overview import TREND_TITLE, breakdown_figure, trend_figure
from app.figures.runs import step_durations_figure
from app.figures.theme import STATUS_COLOURS, TEMPLATE_NAME, empty_figure


def monthly_frame(labelled: bool = True, money: bool = True) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "predicted_rate": [0.10, 0.12, 0.15],
            "realised_rate": [0.09, 0.13, None] if labelled else [None, None, None],
            "revenue_at_risk": [1200.0, 1500.0, 1800.0] if money else [None] * 3,
        }
    )


def annotation_texts(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_trend_figure_plots_predicted_and_realised_rates_and_revenue_bars():
    fig = trend_figure(monthly_frame())
    assert fig.layout.title.text == TREND_TITLE
    assert [t.name for t in fig.data] == [
        "Predicted churn rate",
        "Realised churn rate",
        "Revenue at risk",
    ]
    assert fig.data[2].type == "bar"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.yaxis2.tickprefix == "$"
    assert "$ per month" in fig.layout.yaxis2.title.text


def test_trend_figure_leaves_out_series_without_data():
    fig = trend_figure(monthly_frame(labelled=False, money=False))
    assert [t.name for t in fig.data] == ["Predicted churn rate"]


def test_trend_figure_of_empty_frame_is_an_annotation_not_an_empty_axis():
    fig = trend_figure(monthly_frame().iloc[0:0])
    assert fig.data == ()
    assert fig.layout.xaxis.visible is False
    assert "No scored customers" in annotation_texts(fig)[0]


def test_breakdown_figure_shows_rate_and_money_per_segment_highest_rate_on_top():
    rows = pd.DataFrame(
        {
            "segment": ["North", "South", None],
            "customers": [100, 80, 5],
            "predicted_rate": [0.1, 0.3, 0.2],
            "revenue_at_risk": [900.0, 2500.0, 40.0],
        }
    )
    fig = breakdown_figure(rows, "region", "Jun 2024")
    assert fig.layout.title.text == "Churn risk by region, Jun 2024"
    assert len(fig.data) == 2
    assert list(fig.data[0].y) == ["North", "(missing)", "South"]  # drawn bottom-up
    assert list(fig.data[0].text) == ["10.0%", "20.0%", "30.0%"]
    assert fig.data[1].text[-1] == "$2.50k"
    assert fig.layout.xaxis.tickformat == ".0%"


def test_breakdown_figure_keeps_the_largest_segments_and_says_so():
    rows = pd.DataFrame(
        {
            "segment": [f"s{i}" for i in range(30)],
            "customers": list(range(30)),
            "predicted_rate": [0.1] * 30,
            "revenue_at_risk": [None] * 30,
        }
    )
    fig = breakdown_figure(rows, "plan", "May 2024", max_bars=5)
    assert len(fig.data) == 1  # no money panel without values
    assert set(fig.data[0].y) == {"s25", "s26", "s27", "s28", "s29"}
    assert "largest 5 of 30" in fig.layout.title.text


def test_breakdown_figure_of_empty_frame_is_an_annotation():
    empty = pd.DataFrame(columns=["segment", "customers", "predicted_rate", "revenue_at_risk"])
    fig = breakdown_figure(empty, "region", "Jun 2024")
    assert fig.data == ()
    assert annotation_texts(fig)


def test_step_durations_figure_has_one_bar_per_step_coloured_by_status():
    steps = pd.DataFrame(
        {
            "position": [0, 1, 2],
            "step": ["ingest", "validate", "clean"],
            "status": ["succeeded", "succeeded", "failed"],
            "duration_s": [2.0, 1.5, 0.4],
        }
    )
    fig = step_durations_figure(steps, 7)
    assert fig.layout.title.text == "Step durations of run #7 (seconds)"
    assert {t.name: t.marker.color for t in fig.data} == {
        "succeeded": STATUS_COLOURS["succeeded"],
        "failed": STATUS_COLOURS["failed"],
    }
    assert sum(len(t.y) for t in fig.data) == 3
    assert fig.layout.xaxis.title.text == "Duration (s)"
    assert list(fig.layout.yaxis.categoryarray) == ["clean", "validate", "ingest"]


def test_step_durations_figure_without_steps_explains():
    empty = pd.DataFrame(columns=["position", "step", "status", "duration_s"])
    fig = step_durations_figure(empty, 3)
    assert "not recorded any steps" in annotation_texts(fig)[0]


def test_template_is_registered_once_under_its_name():
    assert TEMPLATE_NAME in pio.templates
    assert empty_figure("nothing").layout.annotations[0].text == "nothing"


@pytest.mark.parametrize(
    ("value", "text"),
    [(812, "$812"), (45_210, "$45.2k"), (1_234_567, "$1.23M"), (999_999, "$1.00M"), (None, "—")],
)
def test_money_is_short_and_carries_the_currency(value, text):
    assert format_money(value) == text


def test_other_formats():
    assert format_pct(0.1234) == "12.3%"
    assert format_month("2024-06-01") == "Jun 2024"
    assert format_duration(3.24) == "3.2 s"
    assert format_duration(75) == "1 min 15 s"
    assert format_duration(3700) == "1 h 1 min"
