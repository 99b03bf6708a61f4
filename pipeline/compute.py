"""Run heavy work (training, scoring) in a child process, so the web never waits on the GIL.

The child is spawned (not forked: the owner holds DuckDB and threads), runs at a lower CPU
priority with its BLAS/OpenMP pools pinned, dies with its parent (``PR_SET_PDEATHSIG``), and
sends back a small picklable result. Bulk data goes through Parquet files in the work dir.

A run can be cancelled while a child works: the flow wraps its steps in :func:`interruptible`
with the run's cancel check, so every child that the run's thread starts is watched without the
steps passing anything down. When the check raises, the child is stopped and the error goes on.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2  # how often a waiting parent asks whether the run was cancelled
STOP_GRACE_SECONDS = 5.0  # how long a terminated child may take to exit before it is killed

# The interruption check of the current thread, set by :func:`interruptible` (per thread: the
# run thread's check must not stop a child that the scheduler's demo clock started).
_watch = threading.local()


class ComputeFailed(RuntimeError):
    """The child process raised or died; the message carries its reason."""


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the child may outlive a killed parent, which is only wasteful
        log.debug("prctl unavailable; child will not die with its parent")


def _child_main(conn: Any, target: str, kwargs: dict[str, Any], threads: int, nice: int) -> None:
    _die_with_parent()
    try:
        os.nice(max(0, nice - os.nice(0)))  # at least ``nice``: it may have inherited as much
    except OSError:
        log.debug("could not lower the child's priority")
    try:
        from threadpoolctl import threadpool_limits

        module_name, func_name = target.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        # Limit after the import, when numpy's BLAS and sklearn's OpenMP are loaded.
        with threadpool_limits(limits=threads):
            result = func(**kwargs)
        conn.send(("ok", result))
    except BaseException as error:  # everything must reach the parent as a message
        conn.send(("error", f"{type(error).__name__}: {error}", traceback.format_exc()))
    finally:
        conn.close()


@contextmanager
def interruptible(check: Callable[[], None]) -> Iterator[None]:
    """Inside the block, :func:`run_in_child` calls in this thread call ``check`` before starting
    a child and every :data:`POLL_SECONDS` while it works; when ``check`` raises, the child is
    stopped (terminated, killed if it lingers) and the exception propagates to the caller."""
    previous = getattr(_watch, "check", None)
    _watch.check = check
    try:
        yield
    finally:
        _watch.check = previous


def _stop(child: Any) -> None:
    """End a child that is no longer wanted: SIGTERM, then SIGKILL if it does not exit."""
    child.terminate()
    child.join(STOP_GRACE_SECONDS)
    if child.is_alive():
        log.warning("child %s ignored SIGTERM; killing it", child.name)
        child.kill()
        child.join()


def _wait(receive: Any, child: Any, check: Callable[[], None] | None) -> Any:
    """The child's message; polls so that ``check`` can stop the child while it works."""
    if check is None:
        return receive.recv()
    while not receive.poll(POLL_SECONDS):  # poll is also true when the child died: recv raises
        try:
            check()
        except BaseException:
            _stop(child)
            raise
    return receive.recv()


def run_in_child(target: str, kwargs: dict[str, Any], threads: int = 1, nice: int = 10) -> Any:
    """Call ``target`` ("module.function") with ``kwargs`` in a spawned child; return its result.

    Raises :class:`ComputeFailed` when the function raises or the child dies, and whatever the
    thread's :func:`interruptible` check raises when the work is no longer wanted.
    """
    check = getattr(_watch, "check", None)
    if check is not None:
        check()
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child_main,
        args=(send, target, kwargs, threads, nice),
        daemon=True,
        name=f"plumbline-{target.rsplit('.', 1)[-1]}",
    )
    child.start()
    send.close()
    try:
        message = _wait(receive, child, check)
    except EOFError:
        child.join()
        code = child.exitcode
        hint = (
            "it was killed (out of memory?)"
            if code is not None and code < 0
            else "see the log for its output"
        )
        raise ComputeFailed(f"{target} died without an answer (exit code {code}); {hint}") from None
    finally:
        receive.close()
    child.join()
    if message[0] == "ok":
        return message[1]
    log.error("child %s failed:\n%s", target, message[2])
    raise ComputeFailed(message[1])
