"""The Monitor page in headless Chromium, over a warehouse filled with monitoring rows.

No pipeline run is needed: the monitored world (tests/unit/app/monitor_world.py) is written
straight into the warehouse, so the test stays fast.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app import create_app
from app.services import installed
from pipeline.runner import RunRequest
from pipeline.warehouse import Warehouse
from tests.auth import ensure_users
from tests.e2e.conftest import Served, e2e_settings
from tests.unit.app.monitor_world import write_monitor_world


class MonitoredApp:
    """The app served over a warehouse holding six monitored months and three open alerts."""

    def __init__(self, data_dir: Path):
        previous = installed()  # the session's live app, put back on close
        self.wh = Warehouse(data_dir / "warehouse.duckdb")
        write_monitor_world(self.wh)
        ensure_users(self.wh)
        settings = e2e_settings(data_dir)
        app = create_app(settings, self.wh, self._no_run)
        self._served = Served(app.server, previous)
        self.url = self._served.url

    @staticmethod
    def _no_run(trigger: str, user: str | None, **flow: object) -> RunRequest:
        return RunRequest(False, None, "no runs in this test")

    def close(self) -> None:
        self._served.stop()
        self.wh.close()


@pytest.fixture
def monitored(tmp_path: Path) -> Iterator[MonitoredApp]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    live = MonitoredApp(tmp_path)
    yield live
    live.close()


def _click_cell(page: Page, month: str, feature: str) -> None:
    """Click the heatmap cell of ``month`` ("YYYY-MM") and ``feature`` where Plotly drew it."""
    graph = page.locator("#monitor-heatmap .js-plotly-plot")
    x, y = graph.evaluate(
        """(gd, cell) => {
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [xa._offset + xa.d2p(cell[0]), ya._offset + ya.d2p(cell[1])];
        }""",
        [month, feature],
    )
    box = graph.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_a_cell_opens_its_distributions_and_an_alert_is_acknowledged(
    page: Page, monitored: MonitoredApp, console_errors
) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(monitored.url + "/monitor")
    expect(page.locator("#monitor-health")).to_contain_text("Model health: Watch")
    expect(page.locator("#monitor-summary")).to_contain_text("6 months monitored")
    expect(page.locator("#monitor-heatmap .js-plotly-plot")).to_be_visible()
    cell = page.locator("#monitor-cell")
    expect(cell).to_contain_text("monthly_charges is stable")  # June, the whole batch
    expect(page.locator("#monitor-performance .js-plotly-plot")).to_be_visible()
    expect(page.locator("#monitor-quality .js-plotly-plot")).to_be_visible()
    expect(page.locator("#monitor-decisions")).to_contain_text("Held back: cooldown")

    # region South: a click on May's monthly_charges shows the drift and its distributions
    page.select_option("#monitor-segment", "region=South")
    expect(page.locator("#monitor-heatmap")).to_contain_text("region = South")
    _click_cell(page, "2024-05", "monthly_charges")
    expect(page.locator("#monitor-period")).to_have_value("2024-05")
    expect(cell).to_contain_text("monthly_charges moved in region South")
    expect(cell).to_contain_text("v2's training window")
    expect(cell.locator(".js-plotly-plot")).to_be_visible()
    expect(cell.locator(".legendtext", has_text="Current: May 2024")).to_be_visible()
    expect(page).to_have_url(re.compile(r"period=2024-05.*segment=region%3DSouth"))

    # acknowledge alert #1: a comment is required, then who and why are recorded
    row = page.locator('#monitor-alerts .ag-center-cols-container [row-id="1"]')
    expect(row).to_contain_text("monthly_charges moved in region South")
    # AG Grid keeps rows of auto height hidden until the grid has been in view
    page.locator("#monitor-alerts").scroll_into_view_if_needed()
    row.locator('[col-id="raised"]').click()
    expect(page.locator("#monitor-selected")).to_contain_text("Alert #1 (warning, open)")
    page.locator("#monitor-acknowledge").click()
    expect(page.locator("#monitor-feedback")).to_contain_text("write a comment")
    page.locator("#monitor-comment").fill("price change in the South, retraining Monday")
    page.locator("#monitor-acknowledge").click()
    expect(page.locator("#monitor-feedback")).to_contain_text("Alert #1 acknowledged by")
    expect(row).to_contain_text("acknowledged")
    expect(row).to_contain_text("price change in the South, retraining Monday")
    status, by = monitored.wh.rows("SELECT status, handled_by FROM alerts WHERE alert_id = 1")[0]
    assert (status, by) == ("acknowledged", "admin")  # the logged-in user
    assert console_errors == []
