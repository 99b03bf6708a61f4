"""One owner per data dir: an exclusive ``flock`` on ``plumbline.lock``.

The kernel drops the lock when the owner dies, even by ``kill -9``, so a crash never leaves
a stale lock behind; the PID and address written into the file are only for messages.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

LOCK_NAME = "plumbline.lock"


class DataDirInUse(RuntimeError):
    """Another process owns the data dir."""

    def __init__(self, data_dir: Path, pid: int | None, url: str | None):
        who = f"PID {pid}" if pid else "another process"
        super().__init__(f"data dir in use by {who}: {data_dir.resolve()}")
        self.pid = pid
        self.url = url


def read_owner(data_dir: Path) -> dict:
    """What the owner wrote into the lock file: ``pid`` and, for ``serve``, ``url``."""
    try:
        return json.loads((data_dir / LOCK_NAME).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


class DataDirLock:
    """Hold the data dir for this process; ``release`` or process exit gives it back."""

    def __init__(self, data_dir: Path, url: str | None = None):
        self.path = data_dir / LOCK_NAME
        self.url = url
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            owner = read_owner(self.path.parent)
            raise DataDirInUse(self.path.parent, owner.get("pid"), owner.get("url")) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "url": self.url}).encode())
        os.fsync(fd)
        # Child compute processes must not inherit the lock (they never open the warehouse).
        os.set_inheritable(fd, False)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
