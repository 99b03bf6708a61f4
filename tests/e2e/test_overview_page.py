"""The Overview in headless Chromium: real numbers from the warehouse, filters in the URL."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from pipeline.warehouse import reads_overview


def _tile_value(page: Page, label: str):
    return page.locator(".kpi-tile", has_text=label).locator(".kpi-value")


def _latest(live_app, where: str = "", params: list | None = None):
    # "At risk" uses the champion's business threshold (maximum expected profit).
    threshold = reads_overview.champion_threshold(live_app.wh)
    return live_app.wh.read(
        "SELECT count(*) AS n, avg(probability) AS rate, "
        "count(*) FILTER (WHERE probability > ?) AS at_risk FROM serving_facts "
        f"WHERE period = (SELECT max(period) FROM serving_facts) {where}",
        [threshold, *(params or [])],
    ).iloc[0]


def test_overview_shows_kpis_from_the_trained_model(page: Page, live_app, console_errors) -> None:
    expected = _latest(live_app)
    champion = live_app.wh.scalar("SELECT version FROM model_aliases WHERE alias = 'champion'")
    page.goto(live_app.url + "/")
    expect(_tile_value(page, "Customers scored")).to_have_text(f"{int(expected.n):,}")
    expect(_tile_value(page, "Predicted churn rate")).to_have_text(f"{expected.rate:.1%}")
    expect(_tile_value(page, "Customers at risk")).to_have_text(f"{int(expected.at_risk):,}")
    expect(page.get_by_text(re.compile(rf"model v{champion} \(champion, ROC AUC"))).to_be_visible()
    expect(page.locator("#overview-trend .main-svg").first).to_be_visible()
    expect(page.locator("#overview-breakdown .main-svg").first).to_be_visible()
    assert console_errors == []


def test_a_shared_link_restores_the_segment_filter(page: Page, live_app, console_errors) -> None:
    expected = _latest(live_app, "AND region = ?", ["South"])
    everyone = _latest(live_app)
    assert 0 < expected.n < everyone.n
    page.goto(live_app.url + "/?segment=region&value=South&by=plan")
    expect(_tile_value(page, "Customers scored")).to_have_text(f"{int(expected.n):,}")
    expect(page.get_by_text(re.compile("Churn risk by plan"))).to_be_visible()
    assert "segment=region" in page.url and "value=South" in page.url
    assert console_errors == []


def test_changing_the_segment_updates_tiles_and_the_address(
    page: Page, live_app, console_errors
) -> None:
    page.goto(live_app.url + "/")
    everyone = _latest(live_app)
    expect(_tile_value(page, "Customers scored")).to_have_text(f"{int(everyone.n):,}")
    page.select_option("#overview-segment", "region")
    expect(page.locator("#overview-value")).to_be_enabled()
    page.select_option("#overview-value", "North")
    north = _latest(live_app, "AND region = ?", ["North"])
    expect(_tile_value(page, "Customers scored")).to_have_text(f"{int(north.n):,}")
    expect(page).to_have_url(re.compile(r"segment=region.*value=North"))
    assert console_errors == []
