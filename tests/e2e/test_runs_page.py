"""The Runs page in headless Chromium: history, step timings and the Retrain button."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from pipeline.democlock import DemoClock


def test_run_history_and_step_timings_are_shown(page: Page, live_app, console_errors) -> None:
    # Run #1 is the first pipeline run; later tests in the session may add promotion runs.
    page.goto(live_app.url + "/runs?run=1")
    history = page.locator("#runs-history")
    expect(history).to_contain_text("#1")
    expect(history).to_contain_text("succeeded")
    for step in ("ingest", "validate", "clean", "train", "score"):
        expect(page.locator("#runs-steps-table")).to_contain_text(step)
    assert console_errors == []


def test_retrain_now_starts_one_run_and_refuses_a_second(
    page: Page, live_app, console_errors
) -> None:
    page.goto(live_app.url + "/runs")
    expect(page.locator("#runs-history")).to_contain_text("succeeded")
    before = int(live_app.wh.scalar("SELECT max(run_id) FROM runs"))
    # A new month makes the run train a model, so it is still running at the second click.
    DemoClock(live_app.settings, live_app.wh).advance()
    page.locator("#runs-retrain").click()
    alert = page.locator("#runs-retrain-alert")
    expect(alert).to_contain_text(f"Run #{before + 1} started")
    page.locator("#runs-retrain").click()
    expect(alert).to_contain_text(f"already running (run #{before + 1}")
    # the result appears without a reload
    row = page.locator("#runs-history tr", has_text=f"#{before + 1}")
    expect(row).to_contain_text(re.compile("succeeded|failed"), timeout=120_000)
    expect(row).to_contain_text("succeeded")
    assert console_errors == []
