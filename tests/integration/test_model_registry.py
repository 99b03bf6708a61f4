"""The registry on a small demo: the gate, promotion by hand, tampered artefacts, kill -9."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.democlock import DemoClock
from pipeline.model_steps import PromotionRequest
from pipeline.registry import file_sha256
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse, alerts, models, runs
from tests.conftest import EVERY_MONTH, SMALL_DEMO
from tests.integration._owner import run_ok


def _served_versions(wh: Warehouse) -> set[int]:
    latest = wh.scalar("SELECT max(period) FROM predictions")
    served = wh.rows("SELECT DISTINCT model_version FROM predictions WHERE period = ?", [latest])
    facts = wh.rows("SELECT DISTINCT model_version FROM serving_facts WHERE period = ?", [latest])
    assert served == facts, "serving_facts disagrees with predictions"
    return {int(r[0]) for r in served}


def _champion_version(wh: Warehouse) -> int:
    return models.current_aliases(wh)["champion"]


def test_a_new_model_is_gated_against_the_champion_on_the_same_window(two_versions) -> None:
    settings, wh, runner, _ = two_versions
    gate = json.loads(wh.scalar("SELECT gate FROM models WHERE version = 2"))
    assert "v2" in gate["summary"] and "v1" in gate["summary"]
    assert {c["check"] for c in gate["checks"]} >= {"margin", "segments", "no_nan", "flag_rate"}
    windows = wh.rows(
        "SELECT evaluated_version, window_from, window_to FROM model_evaluations "
        "WHERE model_version = 2 ORDER BY 1"
    )
    assert [w[0] for w in windows] == [1, 2]
    assert windows[0][1:] == windows[1][1:], "champion and challenger on different windows"
    expected = "champion" if gate["promote"] else "challenger"
    assert models.current_aliases(wh)[expected] == 2
    # the month being served is scored by the champion, whoever it is
    assert _served_versions(wh) == {_champion_version(wh)}
    segments = wh.scalar("SELECT count(*) FROM model_segment_metrics WHERE model_version = 2")
    assert segments > 0
    lineage = json.loads(wh.scalar("SELECT lineage FROM models WHERE version = 2"))
    assert lineage["settings_hash"] and lineage["code_version"]
    batches = lineage["data"]["batches"]
    assert len(batches) >= 6 and all(len(b["sha256"]) == 64 for b in batches)
    assert any("label" in b["file"] for b in batches)
    assert lineage["libraries"]["scikit-learn"]


def test_promotion_by_hand_rescores_the_served_month_and_records_who_and_why(
    two_versions,
) -> None:
    settings, wh, runner, _ = two_versions
    old = _champion_version(wh)
    other = 1 if old == 2 else 2
    rows_before = wh.scalar("SELECT count(*) FROM predictions")
    run_id = run_ok(
        runner,
        "promotion",
        "ana",
        steps=("promote",),
        promotion=PromotionRequest(other, "ana", "curves look better on South"),
    )
    assert _champion_version(wh) == other
    assert _served_versions(wh) == {other}
    assert wh.scalar("SELECT count(*) FROM predictions") == rows_before
    last = wh.rows(
        "SELECT alias, version, actor, comment, run_id FROM alias_history "
        "ORDER BY set_at DESC LIMIT 2"
    )
    assert last[0] == ("champion", other, "ana", "curves look better on South", run_id)
    assert last[1][:2] == ("archived", old)
    # and back again, as a rollback
    run_ok(
        runner,
        "rollback",
        "ana",
        steps=("promote",),
        promotion=PromotionRequest(old, "ana", "South dipped, rolling back", "rollback"),
    )
    assert _champion_version(wh) == old and _served_versions(wh) == {old}
    reason = wh.scalar("SELECT reason FROM model_aliases WHERE alias = 'champion'")
    assert reason.startswith(f"rolled back to v{old} by ana")


def test_promoting_the_champion_again_is_refused_in_words(owner) -> None:
    settings, wh, runner, clock = owner
    clock.advance()
    run_ok(runner)
    request, reason = runner.run_now(
        "promotion", "ana", steps=("promote",), promotion=PromotionRequest(1, "ana", "again!")
    )
    assert reason == "promote: v1 is already the champion"


def _hash_mismatch(path: Path, wh: Warehouse, version: int) -> None:
    with path.open("ab") as handle:
        handle.write(b"\x00")


def _pickle_swap(path: Path, wh: Warehouse, version: int) -> None:
    # An attacker swaps the file for a pickle and even fixes the hash in the registry: the
    # trusted-type check still refuses it without unpickling.
    path.write_bytes(pickle.dumps({"not": "a model"}))
    wh.execute("UPDATE models SET sha256 = ? WHERE version = ?", [file_sha256(path), version])


@pytest.mark.parametrize("tamper", [_hash_mismatch, _pickle_swap], ids=["hash", "pickle"])
def test_a_tampered_champion_is_refused_and_the_last_verified_champion_serves(
    two_versions, tamper
) -> None:
    settings, wh, runner, clock = two_versions
    if _champion_version(wh) != 2:
        run_ok(
            runner,
            "promotion",
            "ana",
            steps=("promote",),
            promotion=PromotionRequest(2, "ana", "make v2 champion for the test"),
        )
    tamper(Path(models.champion(wh)["artefact_path"]), wh, 2)
    clock.advance()
    run_ok(runner)  # the run survives the refused artefact

    open_alerts = alerts.open_alerts(wh, ("artefact_refused",))
    assert list(open_alerts["subject"]) == ["v2"]
    assert "Champion reverted to v1" in open_alerts["message"][0]
    history = wh.rows("SELECT alias, reason FROM alias_history WHERE version = 2")
    assert any(a == "archived" and r.startswith("artefact refused") for a, r in history)
    champion = _champion_version(wh)
    assert champion != 2
    assert 2 not in _served_versions(wh)


def _write_small_demo_toml(data: Path) -> None:
    lines = "".join(f"{k} = {v}\n" for k, v in SMALL_DEMO.items())
    (data / "plumbline.toml").write_text("[demo]\n" + lines)


@pytest.mark.parametrize(
    ("point", "expect_new"),
    [
        pytest.param("step.promote.done", False, marks=pytest.mark.slow),
        ("publish.aliases_written", False),
        pytest.param("publish.before_commit", False, marks=pytest.mark.slow),
        ("publish.committed", True),
    ],
)
def test_kill_9_during_a_promotion_leaves_exactly_the_old_or_the_new_champion(
    two_versions, point: str, expect_new: bool
) -> None:
    small_settings, wh, runner, _ = two_versions
    old = _champion_version(wh)
    new = 1 if old == 2 else 2
    runner.shutdown()
    wh.close()

    data = small_settings.data_dir
    _write_small_demo_toml(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["PLUMBLINE_FAULT_POINT"] = point
    command = [sys.executable, "-m", "pipeline.cli", "promote", str(new), "--data-dir", str(data)]
    killed = subprocess.run(
        [*command, "--comment", "fault test"], env=env, capture_output=True, timeout=180
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]

    wh = Warehouse(small_settings.warehouse_path)
    try:
        assert runs.mark_interrupted_runs(wh) == ([] if expect_new else [3])
        expected = new if expect_new else old
        assert _champion_version(wh) == expected
        assert _served_versions(wh) == {expected}
        registered = {v for (v,) in wh.rows("SELECT version FROM models")}
        assert set(models.current_aliases(wh).values()) <= registered
        status = wh.scalar("SELECT status FROM runs WHERE run_id = 3")
        error = wh.scalar("SELECT error FROM runs WHERE run_id = 3")
        if expect_new:
            assert status == "succeeded"
        else:
            assert (status, error) == ("failed", "interrupted")
    finally:
        wh.close()
    del env["PLUMBLINE_FAULT_POINT"]
    again = subprocess.run(
        [*command, "--comment", "after the crash"], env=env, capture_output=True, timeout=180
    )
    if expect_new:
        assert b"already the champion" in again.stderr
    else:
        assert again.returncode == 0, again.stderr.decode()[-2000:]


def test_same_data_settings_and_seed_give_identical_predictions(
    tmp_path: Path, small_demo_files: Path
) -> None:
    served = []
    for name in ("first", "second"):
        data = tmp_path / name / "data"
        shutil.copytree(small_demo_files, data / "demo")
        settings = load_settings(data_dir=data, demo=SMALL_DEMO, retrain=EVERY_MONTH)
        wh = Warehouse(settings.warehouse_path)
        runner = Runner(settings, wh)
        DemoClock(settings, wh).advance()
        run_ok(runner)
        served.append(
            wh.read(
                "SELECT period, entity_id, probability FROM predictions ORDER BY period, entity_id"
            )
        )
        runner.shutdown()
        wh.close()
    assert len(served[0]) > 1000
    # bit-identical, not approximately equal
    assert (
        served[0]["probability"].to_numpy().tobytes()
        == served[1]["probability"].to_numpy().tobytes()
    )
    assert served[0]["entity_id"].equals(served[1]["entity_id"])
