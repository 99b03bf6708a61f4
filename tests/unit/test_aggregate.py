"""Events to one row per entity per month."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipeline.contract import Contract
from pipeline.settings import AggregateSettings
from pipeline.warehouse.aggregate import aggregate_monthly

CONTRACT = Contract("customer_id", "ts", "churned", numeric=["amount"], categorical=["channel"])


@pytest.fixture
def cur() -> duckdb.DuckDBPyConnection:
    cur = duckdb.connect().cursor()
    cur.execute(
        "CREATE TEMP TABLE stage_clean AS SELECT * FROM (VALUES "
        "('C1', TIMESTAMP '2024-01-03 10:00', DATE '2024-01-01', 1, 'web', 10.0::DOUBLE), "
        "('C1', TIMESTAMP '2024-01-20 10:00', DATE '2024-01-01', 1, 'app', 5.0::DOUBLE), "
        "('C1', TIMESTAMP '2024-02-02 10:00', DATE '2024-02-01', 2, 'web', 1.0::DOUBLE), "
        "('C2', TIMESTAMP '2024-01-05 10:00', DATE '2024-01-01', 1, 'web', 2.0::DOUBLE)) "
        "t(customer_id, ts, _period, _batch_id, channel, amount)"
    )
    cur.execute(
        "CREATE TEMP TABLE stage_labels AS SELECT * FROM (VALUES "
        "('C1', TIMESTAMP '2024-01-03 10:00', DATE '2024-01-01', 0, 3, 1), "
        "('C1', TIMESTAMP '2024-01-20 10:00', DATE '2024-01-01', 1, 3, 2)) "
        "t(entity_id, event_time, period, label, batch_id, row_number)"
    )
    return cur


@pytest.mark.parametrize(
    ("how", "january"), [("sum", 15.0), ("mean", 7.5), ("max", 10.0), ("last", 5.0), ("count", 2.0)]
)
def test_events_become_one_row_per_entity_and_month(cur, how: str, january: float) -> None:
    before, after = aggregate_monthly(
        cur, CONTRACT, AggregateSettings(enabled=True, functions={"amount": how})
    )
    assert (before, after) == (4, 3)
    rows = cur.execute(
        "SELECT customer_id, ts::DATE, amount, channel FROM stage_clean ORDER BY 1, 2"
    ).fetchall()
    assert [r[0] for r in rows] == ["C1", "C1", "C2"]
    assert str(rows[0][1]) == "2024-01-01"
    assert rows[0][2] == pytest.approx(january)
    assert rows[0][3] == "app"  # the month's latest event


def test_labels_are_kept_per_month_with_any_positive_winning(cur) -> None:
    aggregate_monthly(cur, CONTRACT, AggregateSettings(enabled=True))
    rows = cur.execute("SELECT entity_id, event_time::DATE, label FROM stage_labels").fetchall()
    assert rows == [("C1", date(2024, 1, 1), 1)]
