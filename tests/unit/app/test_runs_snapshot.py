"""The Runs page poll's reads are kept until the warehouse is written."""

from __future__ import annotations

from app.pages._runs_snapshot import Snapshot
from pipeline.warehouse import Warehouse


def test_a_snapshot_is_read_again_only_after_a_write(warehouse: Warehouse, tmp_path):
    reads = []

    def count_runs(wh: Warehouse) -> int:
        reads.append(wh)
        return wh.scalar("SELECT count(*) FROM runs")

    snapshot = Snapshot(count_runs)
    before = snapshot(warehouse)
    assert snapshot(warehouse) == before and len(reads) == 1
    warehouse.execute(
        "INSERT INTO runs (run_id, trigger, status, started_at) "
        "SELECT coalesce(max(run_id), 0) + 1, 'manual', 'running', now() FROM runs",
        scope="progress",
    )
    assert snapshot(warehouse) == before + 1 and len(reads) == 2
    other = Warehouse(tmp_path / "other.duckdb")  # same generations, another warehouse
    try:
        assert snapshot(other) == 0 and len(reads) == 3 and reads[-1] is other
    finally:
        other.close()
