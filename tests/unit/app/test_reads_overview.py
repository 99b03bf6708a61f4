"""Overview reads against a temporary warehouse, checked against pandas on the same data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.warehouse import reads_overview as reads

SEGMENTS = ["region", "plan", "contract_type"]
THRESHOLD = 0.25


def expected_monthly(facts: pd.DataFrame) -> pd.DataFrame:
    grouped = facts.groupby("period")
    return pd.DataFrame(
        {
            "customers": grouped.size(),
            "predicted_rate": grouped["probability"].mean(),
            "at_risk": grouped["probability"].apply(lambda p: int((p > THRESHOLD).sum())),
            "revenue_at_risk": grouped.apply(
                lambda g: (g["value"] * g["probability"]).sum(), include_groups=False
            ),
            "labelled": grouped["label"].count(),
            "realised_rate": grouped["label"].mean(),
        }
    )


def test_serving_periods_lists_months_with_label_counts(warehouse, facts):
    periods = reads.serving_periods(warehouse)
    assert list(periods.columns) == ["period", "customers", "labelled"]
    assert [p.strftime("%Y-%m") for p in periods["period"]] == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    assert list(periods["customers"]) == [40, 40, 40, 40]
    assert list(periods["labelled"]) == [40, 40, 40, 0]


def test_monthly_aggregates_match_pandas_for_all_customers(warehouse, facts):
    got = reads.monthly_aggregates(
        warehouse, date(2024, 1, 1), date(2024, 4, 1), THRESHOLD, SEGMENTS
    ).set_index("period")
    want = expected_monthly(facts)
    assert list(got.index) == list(want.index)
    for column in ("customers", "at_risk", "labelled"):
        assert list(got[column]) == list(want[column]), column
    for column in ("predicted_rate", "revenue_at_risk"):
        assert got[column].to_numpy() == pytest.approx(want[column].to_numpy()), column
    assert got["realised_rate"].iloc[:3].to_numpy() == pytest.approx(
        want["realised_rate"].iloc[:3].to_numpy().astype(float)
    )
    assert pd.isna(got["realised_rate"].iloc[3])  # April's labels have not arrived
    assert list(got["model_version"]) == [1, 1, 2, 2]


def test_monthly_aggregates_follow_the_segment_filter_and_the_range(warehouse, facts):
    got = reads.monthly_aggregates(
        warehouse, date(2024, 2, 1), date(2024, 3, 1), THRESHOLD, SEGMENTS, "region", "South"
    ).set_index("period")
    south = facts[(facts["region"] == "South") & facts["period"].between("2024-02", "2024-03")]
    want = expected_monthly(south)
    assert list(got["customers"]) == [20, 20]
    assert got["predicted_rate"].to_numpy() == pytest.approx(want["predicted_rate"].to_numpy())
    assert got["revenue_at_risk"].to_numpy() == pytest.approx(want["revenue_at_risk"].to_numpy())
    assert list(got["at_risk"]) == list(want["at_risk"])


def test_segment_breakdown_matches_pandas(warehouse, facts):
    got = reads.segment_breakdown(
        warehouse, date(2024, 3, 1), "plan", THRESHOLD, SEGMENTS, "contract_type", "Monthly"
    ).set_index("segment")
    month = facts[(facts["period"] == "2024-03-01") & (facts["contract_type"] == "Monthly")]
    want = month.groupby("plan").agg(
        customers=("probability", "size"), predicted_rate=("probability", "mean")
    )
    assert sorted(got.index) == ["Basic", "Premium"]
    for plan in want.index:
        assert got.loc[plan, "customers"] == want.loc[plan, "customers"]
        assert got.loc[plan, "predicted_rate"] == pytest.approx(want.loc[plan, "predicted_rate"])
    assert list(got.reset_index().columns) == reads.BREAKDOWN_COLUMNS


def test_segment_values_are_distinct_and_sorted(warehouse):
    values = reads.segment_values(warehouse, "region", SEGMENTS)
    assert list(values["value"]) == ["North", "South"]
    assert list(values["customers"]) == [80, 80]


def test_segment_columns_are_the_configured_ones_the_table_has(warehouse):
    assert reads.segment_columns(warehouse, ["plan", "tenure_band", "region"]) == [
        "plan",
        "region",
    ]


@pytest.mark.parametrize(
    "column",
    ['region"; DROP TABLE runs; --', "entity_id", "probability", "tenure_band", ""],
)
def test_a_column_outside_the_allow_list_is_refused_before_any_sql(warehouse, column):
    with pytest.raises(reads.UnknownSegmentError):
        reads.segment_values(warehouse, column, SEGMENTS)
    with pytest.raises(reads.UnknownSegmentError):
        reads.segment_breakdown(warehouse, date(2024, 3, 1), column, THRESHOLD, SEGMENTS)
    with pytest.raises(reads.UnknownSegmentError):
        reads.monthly_aggregates(
            warehouse, date(2024, 1, 1), date(2024, 4, 1), THRESHOLD, SEGMENTS, column, "x"
        )
    assert warehouse.table_exists("runs")


def test_a_hostile_segment_value_is_only_ever_a_bound_parameter(warehouse):
    hostile = "South' OR '1'='1"
    got = reads.monthly_aggregates(
        warehouse, date(2024, 1, 1), date(2024, 4, 1), THRESHOLD, SEGMENTS, "region", hostile
    )
    assert got.empty


def test_freshness_names_the_champion_and_the_last_batch(warehouse):
    row = reads.freshness(warehouse).iloc[0]
    assert int(row["champion_version"]) == 2
    assert row["roc_auc"] == pytest.approx(0.812)
    assert pd.Timestamp(row["last_batch_at"]) == pd.Timestamp("2024-05-02 12:03")


def test_freshness_is_read_again_when_a_batch_arrives_or_the_champion_changes(warehouse):
    first = reads.freshness(warehouse)
    first.loc[0, "roc_auc"] = 0.0  # a caller's copy
    assert reads.freshness(warehouse).iloc[0]["roc_auc"] == pytest.approx(0.812)
    warehouse.execute("UPDATE raw_batches SET arrived_at = TIMESTAMP '2024-06-01'", scope="intake")
    fresh = reads.freshness(warehouse).iloc[0]
    assert pd.Timestamp(fresh["last_batch_at"]) == pd.Timestamp("2024-06-01")
    threshold = reads.champion_threshold(warehouse)
    warehouse.execute("UPDATE models SET threshold = 0.9 WHERE version = 2")
    assert reads.champion_threshold(warehouse) == 0.9 != threshold


def test_before_the_first_run_reads_return_empty_frames_with_their_columns(empty_warehouse):
    assert reads.serving_periods(empty_warehouse).empty
    monthly = reads.monthly_aggregates(
        empty_warehouse, date(2024, 1, 1), date(2024, 4, 1), THRESHOLD, SEGMENTS
    )
    assert monthly.empty and list(monthly.columns) == reads.MONTHLY_COLUMNS
    assert reads.segment_columns(empty_warehouse, SEGMENTS) == []
    fresh = reads.freshness(empty_warehouse).iloc[0]
    assert pd.isna(fresh["champion_version"]) and pd.isna(fresh["last_batch_at"])
