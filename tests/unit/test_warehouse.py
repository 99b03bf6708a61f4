"""Warehouse: migrations, identifier quoting, transactions, snapshot reads and run records."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.warehouse import Warehouse, quote_ident, runs
from pipeline.warehouse.migrations import MIGRATIONS

ALL_VERSIONS = [version for version, _, _ in MIGRATIONS]


def _count(wh: Warehouse, table: str) -> int:
    return wh.scalar(f"SELECT count(*) FROM {quote_ident(table)}")


@pytest.fixture
def scratch(warehouse: Warehouse) -> Warehouse:
    """The migrated warehouse with an empty scratch table ``t(x INTEGER)``."""
    warehouse.execute("CREATE TABLE t (x INTEGER)")
    return warehouse


# -- migrations ------------------------------------------------------------------------------
def test_new_warehouse_records_every_migration_once(warehouse: Warehouse) -> None:
    rows = warehouse.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == ALL_VERSIONS
    assert warehouse.table_exists("runs") and warehouse.table_exists("quarantine")


def test_reopening_a_warehouse_applies_no_migration_again(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    with Warehouse(path) as first:
        first.execute("INSERT INTO demo_clock VALUES (1, 3, TIMESTAMP '2024-01-01 00:00:00')")
    with Warehouse(path) as again:
        assert again.migrate() == []
        versions = again.rows("SELECT version, count(*) FROM schema_migrations GROUP BY 1")
        assert sorted(versions) == [(v, 1) for v in ALL_VERSIONS]
        # Data written before the reopen survives: no table was recreated.
        assert again.scalar("SELECT months_released FROM demo_clock") == 3


# -- quote_ident -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ['a"; DROP TABLE x; --', "", "1st_column", "x;y", "a" * 64, "naïve", "a\nb"],
)
def test_quote_ident_refuses_names_that_are_not_plain_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe SQL identifier"):
        quote_ident(name)


def test_quote_ident_refuses_a_name_with_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="unsafe SQL identifier"):
        quote_ident("customer_id\n")


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("customer_id", '"customer_id"'),
        ("_period", '"_period"'),
        ("Monthly Charges", '"Monthly Charges"'),
        ("a" * 63, '"' + "a" * 63 + '"'),
    ],
)
def test_quote_ident_double_quotes_plain_identifiers(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


# -- transactions ------------------------------------------------------------------------------
def test_transaction_commits_everything_on_success(scratch: Warehouse) -> None:
    with scratch.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1), (2)")
        cur.execute("INSERT INTO t VALUES (3)")
    assert [r[0] for r in scratch.rows("SELECT x FROM t ORDER BY x")] == [1, 2, 3]


def test_transaction_rolls_back_every_statement_on_error(scratch: Warehouse) -> None:
    with pytest.raises(RuntimeError, match="half way"), scratch.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("half way")
    assert _count(scratch, "t") == 0
    # The write lock and connection are usable afterwards.
    scratch.execute("INSERT INTO t VALUES (2)")
    assert _count(scratch, "t") == 1


def test_transaction_rolls_back_when_a_statement_fails(scratch: Warehouse) -> None:
    with pytest.raises(duckdb.Error), scratch.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
        cur.execute("INSERT INTO no_such_table VALUES (1)")
    assert _count(scratch, "t") == 0


def test_reader_sees_the_old_state_while_a_write_is_open(scratch: Warehouse) -> None:
    scratch.execute("INSERT INTO t VALUES (1)")
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with scratch.transaction() as cur:
                cur.execute("INSERT INTO t VALUES (2), (3)")
                cur.execute("DELETE FROM t WHERE x = 1")
                written.set()
                assert release.wait(10), "test thread never released the writer"
        except BaseException as error:  # reported to the test thread below
            errors.append(error)
            written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(10)
        during = scratch.read("SELECT x FROM t ORDER BY x")["x"].tolist()
    finally:
        release.set()
        thread.join(10)
    assert not errors
    assert during == [1]
    assert scratch.read("SELECT x FROM t ORDER BY x")["x"].tolist() == [2, 3]


# -- run records -------------------------------------------------------------------------------
def _run(wh: Warehouse, run_id: int) -> dict:
    frame = wh.read("SELECT * FROM runs WHERE run_id = ?", [run_id])
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def _step(wh: Warehouse, run_id: int, step: str) -> dict:
    frame = wh.read("SELECT * FROM run_steps WHERE run_id = ? AND step = ?", [run_id, step])
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_create_run_numbers_runs_and_starts_them_running(warehouse: Warehouse) -> None:
    first = runs.create_run(warehouse, "schedule", None)
    second = runs.create_run(warehouse, "manual", "ana")
    assert (first, second) == (1, 2)
    run = _run(warehouse, second)
    assert run["status"] == "running"
    assert run["trigger"] == "manual" and run["triggered_by"] == "ana"
    assert pd.isna(run["finished_at"])


def test_steps_and_runs_record_status_rows_detail_and_duration(warehouse: Warehouse) -> None:
    run_id = runs.create_run(warehouse, "manual", "ana")
    runs.start_step(warehouse, run_id, 1, "ingest")
    assert _run(warehouse, run_id)["current_step"] == "ingest"
    assert _step(warehouse, run_id, "ingest")["status"] == "running"

    runs.finish_step(
        warehouse, run_id, "ingest", "succeeded", rows_in=10, rows_out=8, detail={"files": 2}
    )
    step = _step(warehouse, run_id, "ingest")
    assert step["status"] == "succeeded"
    assert (step["rows_in"], step["rows_out"]) == (10, 8)
    assert json.loads(step["detail"]) == {"files": 2}
    assert step["duration_s"] >= 0
    assert pd.isna(step["error"])

    runs.finish_run(warehouse, run_id, "succeeded", None, {"ingest": {"files": 2}})
    run = _run(warehouse, run_id)
    assert run["status"] == "succeeded"
    assert run["current_step"] is None
    assert json.loads(run["summary"]) == {"ingest": {"files": 2}}
    assert run["duration_s"] >= 0
    assert run["finished_at"] >= run["started_at"]


def test_failed_step_keeps_its_error(warehouse: Warehouse) -> None:
    run_id = runs.create_run(warehouse, "manual", None)
    runs.start_step(warehouse, run_id, 1, "clean")
    runs.finish_step(warehouse, run_id, "clean", "failed", error="file is empty")
    runs.finish_run(warehouse, run_id, "failed", "clean: file is empty", {})
    assert _step(warehouse, run_id, "clean")["error"] == "file is empty"
    assert _run(warehouse, run_id)["error"] == "clean: file is empty"


def test_interrupted_runs_and_steps_become_failed_and_finished_ones_stay(
    warehouse: Warehouse,
) -> None:
    done = runs.create_run(warehouse, "schedule", None)
    runs.start_step(warehouse, done, 1, "ingest")
    runs.finish_step(warehouse, done, "ingest", "succeeded")
    runs.finish_run(warehouse, done, "succeeded", None, {})
    crashed = runs.create_run(warehouse, "manual", "ana")
    runs.start_step(warehouse, crashed, 1, "ingest")
    runs.finish_step(warehouse, crashed, "ingest", "succeeded")
    runs.start_step(warehouse, crashed, 2, "validate")

    assert runs.mark_interrupted_runs(warehouse) == [crashed]

    run = _run(warehouse, crashed)
    assert (run["status"], run["error"], run["current_step"]) == ("failed", "interrupted", None)
    assert run["finished_at"] >= run["started_at"]
    step = _step(warehouse, crashed, "validate")
    assert (step["status"], step["error"]) == ("failed", "interrupted")
    assert _step(warehouse, crashed, "ingest")["status"] == "succeeded"
    assert _run(warehouse, done)["status"] == "succeeded"
    assert pd.isna(_run(warehouse, done)["error"])
    assert _step(warehouse, done, "ingest")["status"] == "succeeded"
    # Nothing is left to mark a second time.
    assert runs.mark_interrupted_runs(warehouse) == []


def test_active_run_is_the_running_one_or_none(warehouse: Warehouse) -> None:
    assert runs.active_run(warehouse) is None
    finished = runs.create_run(warehouse, "schedule", None)
    runs.finish_run(warehouse, finished, "succeeded", None, {})
    assert runs.active_run(warehouse) is None
    running = runs.create_run(warehouse, "manual", "ana")
    active = runs.active_run(warehouse)
    assert active is not None
    assert active[:2] == (running, "ana")
    assert active[2] == _run(warehouse, running)["started_at"]
    runs.finish_run(warehouse, running, "failed", "boom", {})
    assert runs.active_run(warehouse) is None


def test_columns_are_described_again_only_after_a_data_write(warehouse: Warehouse) -> None:
    warehouse.execute("CREATE TABLE t (a INTEGER)")
    found = warehouse.columns("t")
    assert found == {"a": "INTEGER"}
    found["b"] = "VARCHAR"  # a caller's copy: the kept answer is not changed
    assert warehouse.columns("t") == {"a": "INTEGER"}
    warehouse.execute("ALTER TABLE t ADD COLUMN b VARCHAR")
    assert warehouse.columns("t") == {"a": "INTEGER", "b": "VARCHAR"}
    assert warehouse.columns("missing") == {}
