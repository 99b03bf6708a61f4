"""The Data page's upload card in headless Chromium: preview numbers, then Accept."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from app.pages._data_upload import summary_text
from pipeline.contract import Contract
from pipeline.preview import preview_file
from pipeline.warehouse import reads_data as reads

NAME = "customers-upload.csv"


def _csv(contract: Contract, rows: int = 6) -> str:
    """A small file in the live contract's shape: ``rows`` good rows and one bad number."""
    columns = [contract.entity_id, contract.event_time, *contract.categorical, *contract.numeric]
    lines = [",".join(columns)]
    for i in range(rows + 1):
        values = [f"UPLOAD-{i:03d}", "2024-01-01"]
        values += [contract.categories[c][0] for c in contract.categorical]
        low_high = [contract.ranges.get(c, [0.0, 1.0]) for c in contract.numeric]
        values += [f"{(low + high) / 4:.2f}" for low, high in low_high]
        if i == rows:
            values[-1] = "not-a-number"
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def test_an_uploaded_file_is_previewed_then_queued_for_ingest(
    page: Page, live_app, console_errors, tmp_path: Path
) -> None:
    info = reads.latest_contract(live_app.wh)
    assert info is not None
    content = _csv(info.contract)
    local = tmp_path / NAME
    local.write_text(content, encoding="utf-8")
    expected = preview_file(local, live_app.settings, info.contract)
    assert expected.rows_quarantined == 1 and expected.rows_accepted == 6

    page.goto(live_app.url + "/data")
    accept = page.locator("#data-upload-accept")
    expect(accept).to_be_disabled()
    page.set_input_files(
        "#data-upload-drop input[type=file]",
        files=[{"name": NAME, "mimeType": "text/csv", "buffer": content.encode()}],
    )
    result = page.locator("#data-upload-result")
    expect(result).to_contain_text(summary_text(expected))
    expect(result.locator(".upload-rules")).to_contain_text("invalid_number")
    expect(accept).to_be_enabled()
    expect(page.locator("#data-upload-discard")).to_be_enabled()

    accept.click()
    expect(result).to_contain_text("Queued")
    expect(result).to_contain_text("the next run ingests it; start one now from Runs")
    expect(accept).to_be_disabled()
    landed = [
        p
        for p in live_app.settings.landing_dir.iterdir()
        if re.fullmatch(rf"upload-\d{{8}}T\d{{6}}Z-{re.escape(NAME)}", p.name)
    ]
    try:
        assert len(landed) == 1
        assert landed[0].read_text(encoding="utf-8") == content
        assert not any(p.name.startswith(".") for p in live_app.settings.landing_dir.iterdir())
    finally:
        # The app is shared by the session: later tests' runs must not ingest this file.
        for path in landed:
            path.unlink()
    assert console_errors == []
