"""The fault suite: ``kill -9`` at every named fault point, and an artefact directory that cannot
be written.

Each case starts from a data dir with a champion (v1 and v2, built once per session), runs the
real ``plumbline`` command in a child process with one fault point armed, and checks that the
process died by SIGKILL. It then inspects the warehouse exactly as the crash left it, restarts
with ``plumbline run --retrain`` (which marks the crashed run and trains again) and checks the
warehouse once more: exactly one champion everywhere (alias, models table, served predictions,
serving facts), every referenced artefact present with its registered SHA-256, no temp file
referenced, the crashed run ``failed`` with ``interrupted``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.faults import POINTS
from pipeline.registry import verify_artefact
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, models
from tests.integration.conftest import two_versions, two_versions_data  # noqa: F401 (fixtures)
from tests.integration.test_model_registry import (
    _champion_version,
    _served_versions,
    _write_small_demo_toml,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # two runs with training a case

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 600  # one run with training on the small demo, on a busy 2-core machine
NEW = 3  # the version a retrain trains next: the data dir holds v1 and v2
FULL_DISK_BYTES = 1024  # the file-size limit that stands for a full disk in the training child


def _env(point: str | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PLUMBLINE_", "_PLUMBLINE_"))  # no settings or fault from outside
    }
    env["PYTHONPATH"] = str(ROOT)
    if point is not None:
        env["PLUMBLINE_FAULT_POINT"] = point
    return env


def _plumbline(data: Path, *args: str, point: str | None = None) -> subprocess.CompletedProcess:
    command, rest = args[0], args[1:]
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", command, "--data-dir", str(data), *rest],
        env=_env(point),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def _assert_consistent(wh: Warehouse) -> tuple[int, set[int]]:
    """Exactly one champion everywhere, every referenced artefact intact and final.

    Returns the champion's version and the registered versions.
    """
    champion = _champion_version(wh)
    registered = {int(v) for (v,) in wh.rows("SELECT version FROM models")}
    assert set(models.current_aliases(wh).values()) <= registered, "an alias names no model"
    assert _served_versions(wh) == {champion}, "the served month is not the champion's"
    for version, path, sha256 in wh.rows("SELECT version, artefact_path, sha256 FROM models"):
        artefact = Path(path)
        assert not artefact.name.startswith("."), f"v{version} references a temp file {path}"
        assert artefact.suffix == ".skops", f"v{version} references {path}"
        verify_artefact(artefact, sha256)  # raises with the reason when missing or changed
    return champion, registered


def _run_status(wh: Warehouse, run_id: int) -> tuple[str, str | None]:
    status, error = wh.rows("SELECT status, error FROM runs WHERE run_id = ?", [run_id])[0]
    return status, error


def _partial_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.artefact_dir.glob(".*.partial"))


@pytest.fixture
def champion_dir(two_versions):  # noqa: F811 (the fixture imported above)
    """Settings and the champion's version of a private two-version data dir, warehouse closed
    so that ``plumbline`` commands can own it."""
    settings, wh, runner, _ = two_versions
    old = _champion_version(wh)
    runner.shutdown()
    wh.close()
    _write_small_demo_toml(settings.data_dir)
    return settings, old


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_a_fault_point_leaves_one_champion_and_the_restart_trains_again(
    champion_dir, point: str
) -> None:
    settings, old = champion_dir
    data = settings.data_dir
    if point == "step.promote.done":
        target = 1 if old == 2 else 2
        killed = _plumbline(data, "promote", str(target), "--comment", "fault test", point=point)
    else:
        target = NEW
        killed = _plumbline(data, "run", "--retrain", point=point)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert f"fault point {point} reached" in killed.stderr

    # What a restarted process finds, before anything repairs it.
    committed = point == "publish.committed"
    wh = Warehouse(settings.warehouse_path)
    try:
        crashed = int(wh.scalar("SELECT max(run_id) FROM runs"))
        champion, registered = _assert_consistent(wh)
        if committed:
            assert target in registered and champion in {old, target}
            assert _run_status(wh, crashed) == ("succeeded", None)
        else:
            assert champion == old and registered == {1, 2}
            assert _run_status(wh, crashed)[0] == "running"
    finally:
        wh.close()

    restart = _plumbline(data, "run", "--retrain")
    assert restart.returncode == 0, restart.stderr[-3000:]
    if not committed:
        assert f"runs [{crashed}] were left running by a crash" in restart.stderr

    wh = Warehouse(settings.warehouse_path)
    try:
        expected = ("succeeded", None) if committed else ("failed", "interrupted")
        assert _run_status(wh, crashed) == expected
        assert wh.scalar("SELECT count(*) FROM runs WHERE status = 'running'") == 0
        last = int(wh.scalar("SELECT max(run_id) FROM runs"))
        assert _run_status(wh, last) == ("succeeded", None)
        _, registered = _assert_consistent(wh)
        assert max(registered) == (NEW + 1 if committed else NEW), "the restart trained nothing"
        assert _partial_files(settings) == [], "a temp artefact outlived a successful run"
    finally:
        wh.close()


# -- an artefact directory that cannot be written ----------------------------------------------


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc: no psutil in the test environment)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


def _run_on_a_full_disk(data: Path, out: Path) -> tuple[int, str]:
    """``plumbline run --retrain`` whose compute children may write files of at most
    :data:`FULL_DISK_BYTES`: the model artefact is their first write, so it meets a "full disk"
    while the owner process (and DuckDB) write normally. Python ignores SIGXFSZ, so the write
    fails with EFBIG ("File too large"). Returns the exit code and stderr."""
    with (out / "stdout").open("w") as stdout, (out / "stderr").open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run", "--data-dir", str(data), "--retrain"],
            env=_env(),
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        limited: set[int] = set()
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            for child in set(_children(proc.pid)) - limited:
                with contextlib.suppress(ProcessLookupError):
                    resource.prlimit(
                        child, resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, FULL_DISK_BYTES)
                    )
                limited.add(child)
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert limited, "no compute child was seen, so nothing was limited"
    return proc.returncode, (out / "stderr").read_text()


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[str]:
    """Make ``directory`` read-only; yields the reason a write then fails with.

    Root ignores permission bits, so as root the directory is made immutable (``chattr +i``,
    which binds root too); where that is not allowed the case is skipped.
    """
    if os.geteuid() != 0:
        mode = directory.stat().st_mode
        directory.chmod(0o555)
        try:
            yield "Permission denied"
        finally:
            directory.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(directory)]).returncode != 0:
        pytest.skip("as root a directory is read-only only with chattr +i, refused here")
    try:
        yield "Operation not permitted"
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)


def _served(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "SELECT period, model_version, count(*), sum(probability) FROM predictions "
        "GROUP BY ALL ORDER BY ALL"
    )


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_an_unwritable_artefact_directory_fails_the_run_in_words_and_keeps_the_champion(
    champion_dir, tmp_path: Path, fault: str
) -> None:
    settings, old = champion_dir
    data = settings.data_dir
    wh = Warehouse(settings.warehouse_path)
    try:
        champion = {k: models.champion(wh)[k] for k in ("version", "artefact_path", "sha256")}
        served = _served(wh)
    finally:
        wh.close()

    if fault == "full":
        code, stderr = _run_on_a_full_disk(data, tmp_path)
        reason = "File too large"
    else:
        with _read_only(settings.artefact_dir) as reason:
            failed = _plumbline(data, "run", "--retrain")
        code, stderr = failed.returncode, failed.stderr
    assert code not in (0, -9), stderr[-3000:]
    # The child's traceback is logged above it; the person reads the command's last line.
    last_line = stderr.strip().splitlines()[-1]
    expected = f"cannot write the model artefact model-v{NEW}.skops in {settings.artefact_dir}"
    assert last_line.startswith("plumbline: run #") and expected in last_line, stderr[-3000:]
    assert reason in last_line, last_line

    wh = Warehouse(settings.warehouse_path)
    try:
        run_id = int(wh.scalar("SELECT max(run_id) FROM runs"))
        status, error = _run_status(wh, run_id)
        assert status == "failed" and expected in error
        assert _champion_version(wh) == old == champion["version"]
        now = models.champion(wh)
        assert {k: now[k] for k in champion} == champion
        verify_artefact(Path(champion["artefact_path"]), champion["sha256"])
        assert _served(wh) == served
        _assert_consistent(wh)
    finally:
        wh.close()
    assert not (settings.artefact_dir / f"model-v{NEW}.skops").exists()
    assert _partial_files(settings) == []

    again = _plumbline(data, "run", "--retrain")
    assert again.returncode == 0, again.stderr[-3000:]
    wh = Warehouse(settings.warehouse_path)
    try:
        _, registered = _assert_consistent(wh)
        assert NEW in registered
    finally:
        wh.close()
