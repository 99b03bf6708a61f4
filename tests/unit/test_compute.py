"""Compute children: results come back, failures arrive as ComputeFailed with their reason."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from pipeline.compute import ComputeFailed, run_in_child

TARGETS = "tests.unit._child_targets"


def test_child_returns_the_function_result() -> None:
    assert run_in_child(f"{TARGETS}.add", {"a": 1, "b": 2}) == 3


def test_exception_in_the_child_arrives_as_compute_failed_with_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="pipeline.compute"):
        with pytest.raises(ComputeFailed, match=r"^ValueError: bad input$"):
            run_in_child(f"{TARGETS}.boom", {})
    # The child's traceback is logged for the operator, not put in the user-facing message.
    assert "Traceback" in caplog.text and "boom" in caplog.text


def test_child_that_dies_gives_compute_failed_with_its_exit_code() -> None:
    with pytest.raises(ComputeFailed, match=r"died without an answer \(exit code 3\)"):
        run_in_child(f"{TARGETS}.die", {})


def test_unknown_target_is_compute_failed_naming_it() -> None:
    with pytest.raises(ComputeFailed, match="no_such_function"):
        run_in_child(f"{TARGETS}.no_such_function", {})


def test_child_runs_at_lower_priority_with_pinned_thread_pools() -> None:
    parent_nice = os.nice(0)
    nice, threads = run_in_child(f"{TARGETS}.niceness_and_threads", {}, threads=1, nice=5)
    assert nice == max(parent_nice, 5)  # at least 5: never below what it inherited
    assert threads and all(n == 1 for n in threads)


def test_a_run_thread_and_the_children_it_starts_yield_the_cpu_to_the_web() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.runner import RUN_NICE, yield_to_the_web

    web = os.getpriority(os.PRIO_PROCESS, 0)
    with ThreadPoolExecutor(1, initializer=yield_to_the_web) as run_thread:
        thread_nice = run_thread.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        ).result()
        child_nice, _ = run_thread.submit(
            run_in_child, f"{TARGETS}.niceness_and_threads", {}, nice=5
        ).result()
    assert thread_nice == max(web, RUN_NICE)
    assert child_nice == max(web, RUN_NICE)  # inherited from its first instruction
    assert os.getpriority(os.PRIO_PROCESS, 0) == web  # the web's threads keep theirs
