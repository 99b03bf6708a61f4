"""app/figures/spec.py: figures written as dicts, checked in tests, sent unchecked by the app."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

import app.figures.theme
from app.figures import spec


def _json(fig: spec.Figure) -> dict:
    return json.loads(to_json_plotly(fig))  # as Dash encodes a callback's answer


def _example() -> tuple[list[dict], dict]:
    months = pd.date_range("2024-01-01", periods=4, freq="MS")
    traces = [
        {
            "type": "scatter",
            "x": months,
            "y": [0.2, None, 0.4, 0.5],  # a gap: stays a gap
            "name": "estimated",
            "line": {"color": "#3498db", "dash": None},
            "marker": {"size": None},  # left empty by None: dropped as validation does
            "hovertemplate": "%{y:.2f}<extra></extra>",
        },
        {"type": "bar", "x": months, "y": np.array([1.0, 2.0, 3.0, 4.0]), "name": None},
    ]
    layout = {
        "title": {"text": "Performance"},
        "xaxis": {"title": {"text": None}, "range": None},
        "yaxis": {"title": {}, "rangemode": "tozero"},
        "shapes": [],
        "annotations": [{"text": "note", "x": 0, "y": 1, "showarrow": False, "font": None}],
    }
    return traces, layout


def test_tests_check_figures_against_plotlys_schema():
    assert spec.VALIDATE
    with pytest.raises(ValueError, match="colr"):
        spec.figure([{"type": "scatter", "x": [1], "y": [1], "line": {"colr": "red"}}], {})


def test_an_unchecked_figure_sends_the_same_json_as_a_checked_one(monkeypatch):
    checked = _json(spec.figure(*_example()))
    monkeypatch.setattr(spec, "VALIDATE", False)
    unchecked = spec.figure(*_example())
    assert _json(unchecked) == checked
    assert checked["data"][0]["y"] == [0.2, None, 0.4, 0.5]
    assert "marker" not in checked["data"][0] and "name" not in checked["data"][1]
    assert "xaxis" not in checked["layout"]
    assert checked["layout"]["yaxis"] == {"rangemode": "tozero"}
    assert "shapes" not in checked["layout"]
    assert checked["layout"]["template"]["layout"]["font"]["size"] == 13  # the house template


def test_an_unchecked_figure_still_reads_like_a_figure(monkeypatch):
    monkeypatch.setattr(spec, "VALIDATE", False)
    fig = spec.figure(*_example())
    assert fig.layout.title.text == "Performance"
    assert [trace.name for trace in fig.data] == ["estimated", None]


def test_the_callers_dicts_are_left_as_they_were():
    traces, layout = _example()
    spec.figure(traces, layout)
    assert layout["xaxis"] == {"title": {"text": None}, "range": None}
    assert layout["shapes"] == [] and traces[0]["marker"] == {"size": None}


def test_subplots_hands_out_independent_copies_of_one_grid():
    first = spec.subplots(rows=2, cols=1, shared_xaxes=True)
    first["xaxis"]["title"] = {"text": "changed"}
    second = spec.subplots(rows=2, cols=1, shared_xaxes=True)
    assert "title" not in second["xaxis"]
    assert set(second) >= {"xaxis", "xaxis2", "yaxis", "yaxis2"}


def test_the_app_sends_the_dicts_plotly_js_reads_without_building_plotly_objects(monkeypatch):
    monkeypatch.setattr(spec, "VALIDATE", False)
    fig = spec.figure(*_example())
    assert set(fig) == {"data", "layout"}
    assert all(type(trace) is dict for trace in fig["data"]) and type(fig["layout"]) is dict
    assert "_plotly_figure" not in vars(fig)  # plotly's objects only when someone reads them
    assert fig["layout"]["template"] == app.figures.theme.TEMPLATE.to_plotly_json()
    assert spec.height(fig) is None
    fig["layout"]["height"] = 300
    assert spec.height(fig) == 300 and fig.layout.height == 300
