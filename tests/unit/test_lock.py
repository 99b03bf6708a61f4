"""Data dir lock: one owner at a time, released by the kernel when the owner dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.warehouse import DataDirInUse, DataDirLock, read_owner
from pipeline.warehouse.lock import LOCK_NAME

HOLDER = """
import sys, time
from pathlib import Path
from pipeline.warehouse import DataDirLock
DataDirLock(Path(sys.argv[1]), url="http://holder:1").acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def held(data_dir: Path) -> Iterator[DataDirLock]:
    """A lock on ``data_dir`` held by this process."""
    lock = DataDirLock(data_dir, url="http://127.0.0.1:8050").acquire()
    yield lock
    lock.release()


def test_second_holder_is_refused_with_the_owner_pid(data_dir: Path, held: DataDirLock) -> None:
    with pytest.raises(DataDirInUse) as caught:
        DataDirLock(data_dir).acquire()
    assert f"data dir in use by PID {os.getpid()}" in str(caught.value)
    assert str(data_dir.resolve()) in str(caught.value)
    assert caught.value.pid == os.getpid()
    assert caught.value.url == "http://127.0.0.1:8050"


def test_refused_attempt_leaves_the_owner_record_intact(data_dir: Path, held: DataDirLock) -> None:
    with pytest.raises(DataDirInUse):
        DataDirLock(data_dir, url="http://intruder:1").acquire()
    assert read_owner(data_dir) == {"pid": os.getpid(), "url": "http://127.0.0.1:8050"}


def test_released_lock_can_be_acquired_again(data_dir: Path) -> None:
    first = DataDirLock(data_dir).acquire()
    first.release()
    with DataDirLock(data_dir, url="http://second:1") as second:
        assert second.path == data_dir / LOCK_NAME
        with pytest.raises(DataDirInUse):
            DataDirLock(data_dir).acquire()
    # Leaving the context released it too.
    DataDirLock(data_dir).acquire().release()


def test_read_owner_returns_pid_and_url(data_dir: Path, held: DataDirLock) -> None:
    assert read_owner(data_dir) == {"pid": os.getpid(), "url": "http://127.0.0.1:8050"}


def test_read_owner_of_a_dir_without_lock_file_is_empty(tmp_path: Path) -> None:
    assert read_owner(tmp_path) == {}


def test_lock_of_a_killed_process_is_released_by_the_kernel(data_dir: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirInUse, match=f"data dir in use by PID {holder.pid}"):
            DataDirLock(data_dir).acquire()
        assert read_owner(data_dir)["url"] == "http://holder:1"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        holder.stdout.close()
    assert holder.returncode == -signal.SIGKILL

    deadline = time.monotonic() + 5
    while True:  # the kernel drops the flock when the process is reaped; allow a moment
        try:
            lock = DataDirLock(data_dir).acquire()
            break
        except DataDirInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        assert read_owner(data_dir)["pid"] == os.getpid()
    finally:
        lock.release()
