"""The Data page in headless Chromium: real batch counts, the quarantine grid and its download."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Page, expect


def _batch_row(page: Page, batch_id: int):
    # The id cell must match exactly: "#1" is also in the rows of batches #10 to #19.
    cell = page.get_by_role("cell", name=f"#{batch_id}", exact=True)
    return page.locator("#data-batch-table tr.batch-row").filter(has=cell).first


def test_batches_table_shows_the_warehouse_counts(page: Page, live_app, console_errors) -> None:
    stats = live_app.wh.read(
        "SELECT b.batch_id, b.file_name, s.rows_accepted, s.rows_quarantined "
        "FROM raw_batches b JOIN batch_stats s USING (batch_id) "
        "WHERE s.rows_quarantined > 0 ORDER BY b.batch_id"
    )
    assert len(stats) > 0, "the demo run quarantined no rows; the test needs some"
    page.goto(live_app.url + "/data")
    expect(page.locator("#data-batch-table")).to_contain_text(str(stats["file_name"].iloc[0]))
    for batch in stats.itertuples():
        cells = _batch_row(page, int(batch.batch_id)).locator("td")
        expect(cells.nth(1)).to_have_text(str(batch.file_name))
        expect(cells.nth(5)).to_have_text(f"{int(batch.rows_accepted):,}")
        expect(cells.nth(6)).to_have_text(f"{int(batch.rows_quarantined):,}")
    expect(page.locator("#data-batch-chart .main-svg").first).to_be_visible()
    expect(page.locator("#data-contract")).to_contain_text("Version 1")
    expect(page.locator("#data-distribution .main-svg").first).to_be_visible()
    assert console_errors == []


def test_quarantine_grid_shows_reasons_and_downloads_csv(
    page: Page, live_app, console_errors
) -> None:
    total = int(live_app.wh.scalar("SELECT count(*) FROM quarantine"))
    reason = str(
        live_app.wh.scalar(
            "SELECT reason FROM quarantine ORDER BY batch_id DESC, row_number LIMIT 1"
        )
    )
    page.goto(live_app.url + "/data")
    grid = page.locator("#data-quarantine-grid")
    expect(grid.locator(".ag-header-cell-text", has_text="Reason")).to_be_visible()
    expect(grid.locator(".ag-center-cols-container .ag-row").first).to_contain_text(reason)
    expect(page.locator("#data-quarantine-note")).to_contain_text(f"{total:,} matching rows")

    with page.expect_download() as download_info:
        page.locator("#data-quarantine-download-button").click()
    download = download_info.value
    assert download.suggested_filename == "quarantine.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert len(rows) == total
    assert {"Batch", "Row in file", "Rule", "Reason"} <= set(rows[0])
    assert reason in {r["Reason"] for r in rows}
    assert console_errors == []


def test_choosing_a_batch_narrows_the_grid_and_the_address(
    page: Page, live_app, console_errors
) -> None:
    batch_id, rows = live_app.wh.rows(
        "SELECT batch_id, count(*) FROM quarantine GROUP BY 1 ORDER BY 1 LIMIT 1"
    )[0]
    page.goto(live_app.url + "/data")
    expect(page.locator("#data-quarantine-note")).to_contain_text("matching rows")
    page.select_option("#data-quarantine-batch", str(batch_id))
    expect(page.locator("#data-quarantine-note")).to_contain_text(f"all {rows:,} matching rows")
    expect(page).to_have_url(f"{live_app.url}/data?batch={batch_id}")
    assert console_errors == []
