"""The `plumbline` command as a user meets it: exit codes, messages, one owner, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.served import free_port, read_status, serve_command
from tests.conftest import SMALL_DEMO

PLUMBLINE = [sys.executable, "-m", "pipeline.cli"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PLUMBLINE, *args], capture_output=True, text=True, timeout=timeout, env=_env()
    )


def _demo_dir(small_settings, tick_seconds: float) -> Path:
    data = small_settings.data_dir
    toml = "[demo]\n" + "".join(
        f"{k} = {v}\n" for k, v in SMALL_DEMO.items() if k != "tick_seconds"
    )
    (data / "plumbline.toml").write_text(toml + f"tick_seconds = {tick_seconds}\n")
    return data


def _serve(data: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        serve_command(data, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
        start_new_session=True,
    )


def _wait_for(predicate, timeout: float, what: str, every: float = 0.3):
    """The first truthy value of ``predicate()`` within ``timeout`` seconds, else AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.stdout.read() if proc.stdout else ""


def test_invalid_settings_print_one_line_each_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_text(
        "[dataset]\ndecision_threshold = 2\nsegments = 'region'\n[demo]\nmonths = 1\n"
    )
    result = _cli("run", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("plumbline: setting")]
    assert len(lines) == 3, result.stderr
    assert any("dataset.decision_threshold" in line and "for example" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_a_missing_source_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_text("[dataset]\nsource = '/nowhere/customers.csv'\n")
    result = _cli("run", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "source path /nowhere/customers.csv does not exist" in result.stderr
    assert "dataset.source" in result.stderr


def test_status_before_anything_ran_says_what_to_do(tmp_path: Path) -> None:
    result = _cli("status", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "no warehouse" in result.stderr and "plumbline serve" in result.stderr


def test_run_then_status_json_reports_the_champion(small_settings) -> None:
    data = _demo_dir(small_settings, 120)
    result = _cli("run", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "succeeded" in result.stdout
    status = json.loads(_cli("status", "--data-dir", str(data), "--json").stdout)
    assert status["champion"]["version"] == 1
    assert 0.5 < status["champion"]["metrics"]["roc_auc"] < 1
    assert status["runs"][0]["status"] == "succeeded"
    text = _cli("status", "--data-dir", str(data)).stdout
    assert "champion    v1" in text


def test_a_second_owner_of_the_data_dir_is_refused(small_settings) -> None:
    data = _demo_dir(small_settings, 600)
    port = free_port()
    first = _serve(data, port)
    try:
        _wait_for(lambda: read_status(port, data), 60, "the first serve to answer")
        second = _cli("serve", "--data-dir", str(data), "--port", str(free_port()), timeout=30)
        assert second.returncode == 1
        assert f"data dir in use by PID {first.pid}" in second.stderr
        run = _cli("run", "--data-dir", str(data), timeout=30)
        assert run.returncode == 1 and f"data dir in use by PID {first.pid}" in run.stderr
        # status still works: it asks the running server
        status = _cli("status", "--data-dir", str(data), "--json", timeout=30)
        assert status.returncode == 0 and "runs" in json.loads(status.stdout)
    finally:
        _stop(first)


def test_kill_9_during_a_run_is_recovered_on_restart(small_settings) -> None:
    data = _demo_dir(small_settings, 2)
    port = free_port()
    server = _serve(data, port)
    try:

        def first_done_second_running():
            status = read_status(port, data)
            if not status:
                return None
            by_id = {r["run_id"]: r for r in status["runs"]}
            ok = by_id.get(1, {}).get("status") == "succeeded"
            return status if ok and by_id.get(2, {}).get("status") == "running" else None

        before = _wait_for(first_done_second_running, 300, "run 1 done and run 2 running")
        served = before["predictions"]
        assert served > 0
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        _stop(server)

    restarted = _serve(data, port)
    try:

        def run_2_failed():
            status = read_status(port, data)
            runs = {r["run_id"]: r for r in (status or {}).get("runs", [])}
            return status if runs.get(2, {}).get("status") == "failed" else None

        status = _wait_for(run_2_failed, 60, "run 2 to be marked failed")
        run2 = next(r for r in status["runs"] if r["run_id"] == 2)
        assert run2["error"] == "interrupted"
        # the previous results are still served
        assert status["predictions"] >= served
        assert status["champion"]["version"] == 1

        def a_later_run_succeeded():
            status = read_status(port, data)
            runs = (status or {}).get("runs", [])
            return any(r["run_id"] > 2 and r["status"] == "succeeded" for r in runs)

        _wait_for(a_later_run_succeeded, 300, "a run after the restart to succeed")
    finally:
        _stop(restarted)


@pytest.mark.parametrize("command", ["serve", "run", "status"])
def test_help_describes_each_command(command: str) -> None:
    result = _cli(command, "--help")
    assert result.returncode == 0
    assert "--data-dir" in result.stdout


def test_ingest_reports_each_file_and_fails_when_one_is_rejected(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "customer_id,snapshot_month,region\nC1,2024-01-01,North\nC1,2024-01-01,North\n"
        'C2,2024-01-01,"South"\nC3,2024-01-01,East,extra\n'
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    data = str(tmp_path / "data")
    result = _cli("ingest", "--data-dir", data, str(good), str(empty), str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        "good.csv: batch #1: 4 rows in, 2 rows accepted, 2 quarantined" in line
        and "exact_duplicate 1" in line
        and "malformed_line 1" in line
        for line in lines
    ), result.stdout
    assert any("empty.csv: rejected: the file is empty" in line for line in lines)
    assert any("nope.csv: rejected: no such file" in line for line in lines)
    again = _cli("ingest", "--data-dir", data, str(good))
    assert again.returncode == 0
    assert "already ingested as batch #1" in again.stdout
