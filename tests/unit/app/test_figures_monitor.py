"""Monitor figures from small frames: colours by severity, order, events and empty states."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from app.figures import monitor as figures
from app.figures.monitor_style import PROMOTION_COLOUR, RETRAIN_COLOUR

MONTHS = pd.to_datetime(["2024-04-01", "2024-05-01", "2024-06-01"])


def _heatmap_frame() -> pd.DataFrame:
    rows = []
    for month in MONTHS:
        for feature, rank in (("tenure_months", 2.0), ("region", 1.0), ("plan", np.nan)):
            severity = "ok"
            if feature == "tenure_months" and month == MONTHS[-1]:
                severity = "drift"
            elif feature == "plan" and month == MONTHS[1]:
                severity = "watch"
            rows.append(
                {
                    "period": month,
                    "column_name": feature,
                    "kind": "numeric",
                    "method": "psi",
                    "statistic": {"ok": 0.01, "watch": 0.12, "drift": 0.4}[severity],
                    "threshold": 0.2,
                    "p_value": np.nan,
                    "severity": severity,
                    "sentence": f"PSI for {feature} in {month:%Y-%m}",
                    "rank": rank,
                }
            )
    return pd.DataFrame(rows)


def _heatmap(fig):
    return next(t for t in fig.data if t.type == "heatmap")


def _empty_message(fig) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


# -- heatmap -------------------------------------------------------------------------------------


def test_heatmap_rows_follow_importance_and_columns_are_months():
    fig = figures.drift_heatmap(_heatmap_frame())
    trace = _heatmap(fig)
    assert list(trace.y) == ["region", "tenure_months", "plan"]  # unranked plan last
    assert list(trace.x) == ["2024-04", "2024-05", "2024-06"]
    assert fig.layout.yaxis.autorange == "reversed"  # most important on top


def test_heatmap_cells_are_coloured_by_severity_on_a_discrete_scale():
    fig = figures.drift_heatmap(_heatmap_frame())
    trace = _heatmap(fig)
    z = np.array(trace.z, dtype=float)
    assert z[1, 2] == 2  # tenure_months, June: drift
    assert z[2, 1] == 1  # plan, May: watch
    assert z[0, 0] == 0
    # each code maps to exactly one colour: the scale is flat within each third
    scale = [tuple(step) for step in trace.colorscale]
    colours = {c for _, c in scale}
    assert colours == {figures.SEVERITY_FILL[s] for s in figures.SEVERITIES}
    assert (trace.zmin, trace.zmax) == (-0.5, 2.5)
    legend = [t.name for t in fig.data if t.type == "scatter"]
    assert legend == [figures.SEVERITY_LABEL[s] for s in figures.SEVERITIES]


def test_heatmap_hover_is_the_sentence_and_a_gap_says_not_measured():
    frame = _heatmap_frame()
    frame = frame[~((frame["column_name"] == "region") & (frame["period"] == MONTHS[0]))]
    trace = _heatmap(figures.drift_heatmap(frame))
    assert "PSI for tenure_months in 2024-06" in trace.customdata[1][2]
    assert "threshold 0.2" in trace.customdata[1][2]
    assert math.isnan(trace.z[0][0])
    assert trace.customdata[0][0] == "not measured for this month"


def test_the_selected_cell_is_outlined():
    fig = figures.drift_heatmap(_heatmap_frame(), selected=("2024-06", "tenure_months"))
    (shape,) = fig.layout.shapes
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (1.5, 2.5, 0.5, 1.5)
    unknown = figures.drift_heatmap(_heatmap_frame(), selected=("1999-01", "tenure_months"))
    assert unknown.layout.shapes == ()


def test_the_heatmap_grows_with_the_features():
    small = figures.drift_heatmap(_heatmap_frame())
    big_rows = [
        _heatmap_frame().assign(column_name=f"f{i}", rank=np.nan).iloc[:3] for i in range(25)
    ]
    big = figures.drift_heatmap(pd.concat(big_rows))
    assert big.layout.height > small.layout.height >= 360


def test_an_empty_heatmap_says_why():
    fig = figures.drift_heatmap(_heatmap_frame().iloc[:0], "region = South")
    assert "No feature drift measured for region = south yet" in _empty_message(fig)


# -- one cell's distributions -------------------------------------------------------------------

CELL = {
    "period": pd.Timestamp("2024-06-01"),
    "column_name": "monthly_charges",
    "segment_column": "region",
    "segment_value": "South",
    "reference_version": 2,
    "reference_from": pd.Timestamp("2023-01-01"),
    "reference_to": pd.Timestamp("2023-12-01"),
    "rows_reference": 12000,
    "rows_current": 1000,
    "histogram": {
        "labels": ["≤ 20", "(20, 50]", "(50, 80]", "> 80", "missing"],
        "reference": [0.25, 0.25, 0.25, 0.2, 0.05],
        "current": [0.1, 0.25, 0.4, 0.2, 0.05],
    },
}


def test_distributions_are_grouped_bars_of_reference_and_current_shares():
    fig = figures.distribution_figure(CELL)
    reference, current = fig.data
    assert fig.layout.barmode == "group"
    assert reference.name == "Reference: Jan 2023–Dec 2023 (12,000 rows)"
    assert current.name == "Current: Jun 2024 (1,000 rows)"
    assert list(current.y) == CELL["histogram"]["current"]
    assert list(reference.x) == CELL["histogram"]["labels"]
    assert reference.marker.color != current.marker.color
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "region = South" in fig.layout.title.text


def test_long_bin_labels_are_shortened_on_the_axis_but_whole_in_the_hover():
    long = "a very long category name that would not fit"
    cell = CELL | {"histogram": {"labels": [long, long + "!"], "reference": [0.5, 0.5],
                                 "current": [0.4, 0.6]}}  # fmt: skip
    bars = figures.distribution_figure(cell).data[0]
    assert all(len(x.strip()) <= 22 for x in bars.x)
    assert len(set(bars.x)) == 2  # still two distinct categories
    assert list(bars.customdata) == [long, long + "!"]


def test_no_cell_gives_an_empty_figure():
    assert "Click a cell" in _empty_message(figures.distribution_figure(None))
    assert "Click a cell" in _empty_message(figures.distribution_figure(CELL | {"histogram": None}))


# -- prediction drift --------------------------------------------------------------------------


def _score_frame(method: str = "wasserstein", p_values=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": MONTHS,
            "method": method,
            "statistic": [0.02, 0.07, 0.3],
            "threshold": [0.1, 0.1, 0.1] if method != "ks" else [0.05] * 3,
            "p_value": p_values if p_values is not None else [np.nan] * 3,
            "severity": ["ok", "watch", "drift"],
            "sentence": ["s1", "s2", "s3"],
            "rows_current": [2000] * 3,
        }
    )


EVENTS = pd.DataFrame(
    {
        "happened_at": pd.to_datetime(["2024-05-02 00:00", "2024-05-02 00:01", "2024-06-03 00:00"]),
        "kind": ["retrain", "promotion", "alert"],
        "period": pd.to_datetime(["2024-05-01", "2024-05-01", "2024-06-01"]),
        "version": pd.array([3, 3, None], dtype="Int64"),
        "severity": [None, None, "critical"],
        "text": ["drift in tenure_months", "v3 beat v2", "ROC AUC fell"],
    }
)


def test_prediction_drift_points_are_coloured_by_severity_against_a_threshold():
    fig = figures.prediction_drift_figure(_score_frame())
    threshold, points = fig.data[0], fig.data[1]
    assert threshold.name == "threshold: drift above it" and list(threshold.y) == [0.1] * 3
    assert list(points.y) == [0.02, 0.07, 0.3]
    assert list(points.marker.color) == [
        figures.SEVERITY_MARKER["ok"],
        figures.SEVERITY_MARKER["watch"],
        figures.SEVERITY_MARKER["drift"],
    ]
    assert fig.layout.yaxis.title.text == "Wasserstein distance"


def test_a_test_method_plots_p_values_on_a_log_axis():
    fig = figures.prediction_drift_figure(_score_frame("ks", [0.5, 0.08, 0.001]))
    assert list(fig.data[1].y) == [0.5, 0.08, 0.001]
    assert fig.layout.yaxis.type == "log"
    assert fig.data[0].name == "threshold: drift below it"


def test_mixed_methods_are_plotted_as_multiples_of_their_threshold():
    frame = _score_frame()
    frame.loc[0, ["method", "threshold", "p_value"]] = ["ks", 0.05, 0.5]
    fig = figures.prediction_drift_figure(frame)
    assert fig.data[1].y == pytest.approx((0.1, 0.7, 3.0))
    assert list(fig.data[0].y) == [1.0] * 3


def test_promotions_and_retrains_are_dotted_lines_with_their_version():
    fig = figures.prediction_drift_figure(_score_frame(), EVENTS)
    (line,) = fig.layout.shapes  # retrain and promotion share May; the alert draws no line
    assert line.line.dash == "dot" and line.line.color == PROMOTION_COLOUR
    assert pd.Timestamp(line.x0) == pd.Timestamp("2024-05-01")
    assert [a.text for a in fig.layout.annotations] == ["↻ v3 ★ v3"]


def test_events_outside_the_months_shown_are_left_out():
    early = EVENTS.assign(period=pd.to_datetime(["2023-01-01"] * 3))
    assert figures.prediction_drift_figure(_score_frame(), early).layout.shapes == ()


def test_no_score_drift_gives_an_empty_figure():
    fig = figures.prediction_drift_figure(_score_frame().iloc[:0])
    assert "No prediction drift measured" in _empty_message(fig)


# -- performance -------------------------------------------------------------------------------


def _performance_frame() -> pd.DataFrame:
    estimated = pd.DataFrame(
        {
            "period": MONTHS,
            "kind": "estimated",
            "value": [0.8, 0.78, 0.76],
            "low": [0.78, 0.76, 0.73],
            "high": [0.82, 0.80, 0.79],
            "rows": 2000,
            "model_version": [2, 2, 3],
        }
    )
    realised = estimated.iloc[:2].assign(
        kind="realised", value=[0.79, 0.77], low=np.nan, high=np.nan
    )
    return pd.concat([estimated, realised]).sort_values(["period", "kind"])


def test_performance_draws_the_estimate_with_its_band_and_realised_markers():
    fig = figures.performance_figure(_performance_frame(), "roc_auc", (2, 0.82), EVENTS)
    by_name = {t.name: t for t in fig.data if t.name}
    band = by_name["estimate's band"]
    assert band.fill == "tonexty" and list(band.y) == [0.78, 0.76, 0.73]
    estimated = by_name["Estimated ROC AUC (no labels needed)"]
    assert list(estimated.y) == [0.8, 0.78, 0.76]
    realised = by_name["Realised ROC AUC (labels arrived)"]
    assert realised.mode == "markers" and list(realised.y) == [0.79, 0.77]
    reference = by_name["v2 (champion) on its holdout: 0.820"]
    assert set(reference.y) == {0.82}


def test_performance_puts_promotions_retrains_and_alerts_on_the_time_axis():
    fig = figures.performance_figure(_performance_frame(), "roc_auc", (2, 0.82), EVENTS)
    lanes = {t.name: t for t in fig.data if t.yaxis == "y2"}
    assert set(lanes) == {"New champion", "Retrain", "Alerts"}
    assert lanes["New champion"].marker.symbol == "star"
    assert "v3 beat v2" in lanes["New champion"].customdata[0]
    assert lanes["Alerts"].marker.color == (figures.ALERT_COLOURS["critical"],)
    assert lanes["Retrain"].marker.color == (RETRAIN_COLOUR,)
    assert len(fig.layout.shapes) == 1 and "★ v3" in fig.layout.annotations[-1].text


def test_another_metric_is_named_on_the_axis():
    frame = _performance_frame()
    fig = figures.performance_figure(frame, "f1", None)
    assert fig.layout.yaxis.title.text == "F1, higher is better"
    assert not any("holdout" in (t.name or "") for t in fig.data)


def test_no_performance_gives_an_empty_figure():
    fig = figures.performance_figure(_performance_frame().iloc[:0], "recall")
    assert "No Recall measured for whole batch yet" in _empty_message(fig)


# -- data quality ------------------------------------------------------------------------------


def _quality_frame() -> pd.DataFrame:
    rows = []
    for i, month in enumerate(MONTHS):
        for column, missing in (("a", 0.0), ("b", 0.02 * i), ("c", 0.15), ("d", 0.01)):
            rows.append((month, column, "missing_rate", missing, 100))
        rows.append((month, "plan", "new_category_rate", 0.01 * i, 100))
        rows.append((month, "region", "new_category_rate", 0.03, 100))
        rows.append((month, "(all)", "duplicate_rate", 0.001, 100))
        rows.append((month, "(all)", "quarantine_rate", 0.002, 100))
    return pd.DataFrame(rows, columns=["period", "column_name", "metric", "value", "rows"])


def test_quality_shows_the_worst_missing_columns_first_and_the_rules():
    fig = figures.quality_figure(
        _quality_frame(), {"missing_rate": 0.1, "duplicate_rate": 0.05}, max_columns=2
    )
    top = [t.name for t in fig.data if t.legend in (None, "legend")]
    assert top[:2] == ["c", "b"]  # a never misses; d is beyond max_columns
    assert "rule: missing rate above 10%" in top
    bottom = {t.name: t for t in fig.data if t.legend == "legend2"}
    assert set(bottom) == {
        "duplicates",
        "quarantined",
        "new categories (worst column)",
        "rule: duplicate rate above 5%",
    }
    worst = bottom["new categories (worst column)"]
    assert list(worst.customdata) == [" in region", " in region", " in region"]
    assert "(the 2 worst; 2 others lower)" in fig.layout.annotations[0].text


def test_no_quality_gives_an_empty_figure():
    fig = figures.quality_figure(_quality_frame().iloc[:0])
    assert "No data quality measured yet" in _empty_message(fig)
