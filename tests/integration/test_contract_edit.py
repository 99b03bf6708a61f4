"""Fixing the contract, then re-processing what it rejected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from pipeline.warehouse.batches import batch_reports

HEADER = "customer_id,snapshot_month,region,monthly_charges\n"


def _file(path: Path, region: str, n: int = 5) -> Path:
    rows = "".join(f"C{i},2024-01-01,{region if i == 0 else 'North'},{20 + i}\n" for i in range(n))
    path.write_text(HEADER + rows)
    return path


@pytest.fixture
def owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    settings = load_settings(
        data_dir=tmp_path / "data", cleaning={"on_violation": {"region": "reject_batch"}}
    )
    wh = Warehouse(settings.warehouse_path)
    runner = Runner(settings, wh)
    yield settings, wh, runner
    runner.shutdown()
    wh.close()


def _ingest(runner: Runner, wh: Warehouse, path: Path) -> dict:
    request, reason = runner.run_now(
        "test", None, steps=("ingest", "validate", "clean"), paths=[path]
    )
    assert reason is None, reason
    batch = wh.scalar("SELECT max(batch_id) FROM raw_batches")
    return batch_reports(wh, [batch])[batch]


def test_an_edited_contract_is_stored_as_a_new_version_and_lets_a_batch_through(
    owner, tmp_path: Path
) -> None:
    settings, wh, runner = owner
    first = _ingest(runner, wh, _file(tmp_path / "first.csv", "South"))
    assert first["status"] == "accepted"
    contract_path = settings.data_dir / "contract.toml"
    assert contract_path.exists()

    second = _ingest(runner, wh, _file(tmp_path / "second.csv", "Atlantis"))
    assert second["status"] == "rejected"
    assert "Atlantis" in second["message"] and "reject_batch" in second["message"]

    text = contract_path.read_text()
    contract_path.write_text(
        text.replace(
            'categories = ["North", "South"]', 'categories = ["Atlantis", "North", "South"]'
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["PLUMBLINE_CLEANING__ON_VIOLATION"] = '{"region": "reject_batch"}'
    runner.shutdown()
    wh.close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "reprocess",
            "--data-dir",
            str(settings.data_dir),
            str(second["batch_id"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "second.csv: batch #2: 5 rows in, 5 rows accepted" in result.stdout
    with Warehouse(settings.warehouse_path, read_only=True) as wh2:
        assert wh2.scalar("SELECT max(version) FROM data_contract") == 2
        assert wh2.scalar("SELECT count(*) FROM clean_rows WHERE region = 'Atlantis'") == 1


def test_an_invalid_edit_keeps_the_previous_contract(owner, tmp_path: Path) -> None:
    settings, wh, runner = owner
    _ingest(runner, wh, _file(tmp_path / "first.csv", "South"))
    contract_path = settings.data_dir / "contract.toml"
    contract_path.write_text(contract_path.read_text().replace("range = [", "range = [9e9, "))
    _ingest(runner, wh, _file(tmp_path / "again.csv", "North", n=6))
    assert wh.scalar("SELECT max(version) FROM data_contract") == 1
    note = wh.scalar(
        "SELECT detail FROM run_steps WHERE step = 'ingest' ORDER BY run_id DESC LIMIT 1"
    )
    assert "contract.toml not applied" in note


def test_event_rows_are_aggregated_to_entity_months_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    settings = load_settings(
        data_dir=tmp_path / "data",
        dataset={"event_time": "ts", "segments": ["region"], "value": "amount"},
        cleaning={"aggregate": {"enabled": True, "functions": {"amount": "sum"}}},
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "customer_id,ts,region,amount\n"
        + "".join(
            f"C{i % 20},2024-01-{1 + i % 28:02d} {i // 28:02d}:00:00,North,{i}\n"
            for i in range(200)
        )
    )
    with Warehouse(settings.warehouse_path) as wh:
        runner = Runner(settings, wh)
        request, reason = runner.run_now(
            "test", None, steps=("ingest", "validate", "clean"), paths=[events]
        )
        runner.shutdown()
        assert reason is None, reason
        assert wh.scalar("SELECT count(*) FROM clean_rows") == 20
        assert wh.scalar("SELECT sum(amount) FROM clean_rows") == sum(range(200))
        assert str(wh.scalar("SELECT min(ts) FROM clean_rows")).startswith("2024-01-01")
