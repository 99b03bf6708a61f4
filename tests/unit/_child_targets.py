"""Functions that tests run in spawned child processes (imported there by module path)."""

from __future__ import annotations

import os

# Imported at module level, as the real tasks do, so its BLAS pool exists when the child
# applies its thread limit.
import numpy  # noqa: F401


def add(a: int, b: int) -> int:
    """Return ``a + b``."""
    return a + b


def boom() -> None:
    """Raise the error a failing task would raise."""
    raise ValueError("bad input")


def die() -> None:
    """Exit at once without answering, as a process killed by the OOM killer would."""
    os._exit(3)


def niceness_and_threads() -> tuple[int, list[int]]:
    """The child's CPU priority and the thread counts of its native (BLAS) thread pools."""
    from threadpoolctl import threadpool_info

    return os.nice(0), [pool["num_threads"] for pool in threadpool_info()]


def sleep(seconds: float, pid_file: str) -> None:
    """Write this child's pid to ``pid_file``, then sleep: a long fit a person cancels."""
    import time
    from pathlib import Path

    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
