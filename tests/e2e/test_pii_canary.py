"""No page, callback, download or log line ever carries raw PII.

The demo's raw files hold names, emails and phone numbers (configured as PII). They are the
canaries: after browsing every page (the admin pages, health and metrics included), changing
filters and downloading the quarantine, none of them may appear in any response body or in the
log.
"""

from __future__ import annotations

import csv

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect


def _canaries(live_app, limit: int = 300) -> set[str]:
    values: set[str] = set()
    for path in sorted(live_app.settings.landing_dir.glob("customers_*.csv"))[:2]:
        with path.open(encoding="utf-8") as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                if i >= limit:
                    break
                for column in live_app.settings.dataset.pii:
                    value = (row.get(column) or "").strip()
                    if len(value) >= 6:  # short fragments could match innocently
                        values.add(value)
    return values


def test_no_response_or_log_line_contains_raw_pii(
    page: Page, live_app, log_lines: list[str], console_errors
) -> None:
    canaries = _canaries(live_app)
    assert len(canaries) > 300, "the demo files should provide names, emails and phones"
    bodies: list[str] = []

    def keep(response) -> None:
        try:
            if "text" in (response.headers.get("content-type") or "") or "json" in (
                response.headers.get("content-type") or ""
            ):
                bodies.append(response.text())
        except PlaywrightError:  # a body can vanish when the page navigates away
            return

    page.on("response", keep)
    paths = (
        "/",
        "/?segment=region&value=North&by=plan",
        "/data",
        "/models",
        "/explain",
        "/monitor",
        "/runs",
        "/users",
        "/audit",
        "/settings",
        "/api/status",
        "/healthz",
        "/metrics",
    )
    for path in paths:
        page.goto(live_app.url + path)
        page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_be_visible()
    page.goto(live_app.url + "/data")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download_info:
        page.locator("#data-quarantine-download-button").click()
    bodies.append(download_info.value.path().read_text(encoding="utf-8"))

    assert len(bodies) > 10
    leaks = sorted(c for c in canaries if any(c in body for body in bodies))
    assert leaks == [], f"raw PII reached the browser: {leaks[:5]}"
    logged = sorted(c for c in canaries if any(c in line for line in log_lines))
    assert logged == [], f"raw PII reached the log: {logged[:5]}"
    assert console_errors == []
