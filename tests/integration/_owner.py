"""Helpers for tests that drive the owner process's objects in-process."""

from __future__ import annotations

from pipeline.runner import Runner


def run_ok(runner: Runner, trigger: str = "test", user: str | None = None, **flow) -> int:
    """Run now and assert it started and succeeded; returns the run id."""
    request, reason = runner.run_now(trigger, user, **flow)
    assert request.started, request.message
    assert reason is None, reason
    return request.run_id
