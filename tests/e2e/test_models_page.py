"""The Model review page in headless Chromium: registry, comparison, model card, promotion."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from pipeline.democlock import DemoClock

RUN_TIMEOUT_MS = 120_000


def _row(page: Page, version: int):
    # AG Grid draws the pinned Version column apart from the rest of the row; both carry row-id.
    return page.locator(f'#models-versions .ag-center-cols-container [row-id="{version}"]')


def _aliases(live_app) -> dict[str, int]:
    return {a: int(v) for a, v in live_app.wh.rows("SELECT alias, version FROM model_aliases")}


def test_versions_comparison_charts_and_model_card(page: Page, live_app, console_errors) -> None:
    champion = _aliases(live_app)["champion"]
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(live_app.url + "/models")
    expect(page.locator("#models-summary")).to_contain_text(f"champion v{champion} (ROC AUC 0.")
    expect(_row(page, champion)).to_contain_text("champion")
    expect(page.locator("#models-history")).to_contain_text("first usable model")
    expect(page.locator("#models-a")).to_contain_text(f"v{champion} · champion · ROC AUC 0.")
    # trend, ROC, PR, calibration, gain, confusion matrices and the profit curve
    expect(page.locator("#models-body .js-plotly-plot")).to_have_count(7)
    expect(page.locator("#models-roc")).to_contain_text("ROC curve")
    auc = live_app.wh.scalar("SELECT roc_auc FROM models WHERE version = ?", [champion])
    expect(page.locator("#models-metrics")).to_contain_text(f"{auc:.3f}")
    expect(page.locator("#models-gate")).to_contain_text("promoted by the gate")
    expect(page.locator("#models-threshold-numbers")).to_contain_text("Customers contacted")
    expect(page.locator("#models-lineage")).to_contain_text("scikit-learn")

    page.locator("#models-card-open").click()
    expect(page.locator("#models-card-title")).to_have_text(f"Model card: churn model v{champion}")
    card = page.locator("#models-card-body")
    expect(card.locator("h6", has_text="Intended use")).to_be_visible()
    expect(card).to_contain_text("Metrics on the holdout")
    with page.expect_download() as download:
        page.locator("#models-card-modal-download").click()
    assert download.value.suggested_filename == f"model-card-v{champion}.md"
    assert console_errors == []


def test_a_second_version_can_be_compared_and_made_champion_by_hand(
    page: Page, live_app, console_errors
) -> None:
    # A new month of labels makes the next run train v2; the gate decides where it goes.
    DemoClock(live_app.settings, live_app.wh).advance()
    _, reason = live_app.runner.run_now("test")
    assert reason is None, reason
    before = _aliases(live_app)
    newest = int(live_app.wh.scalar("SELECT max(version) FROM models"))
    assert newest >= 2
    page.goto(live_app.url + "/models")
    expect(page.locator("#models-versions .ag-center-cols-container .ag-row")).to_have_count(newest)
    if before.get("champion") == newest:
        # The gate promoted it: roll back to the former champion instead.
        target, button, verb = newest - 1, "#models-rollback", "rolled back to"
        expect(page.locator(button)).to_have_text(f"Roll back to v{target}")
    else:
        target, button, verb = newest, "#models-promote", "promoted"
        expect(page.locator("#models-b")).to_contain_text(f"v{newest} · challenger")
        expect(page.locator(button)).to_have_text(f"Make v{newest} champion")
    expect(page.locator("#models-window")).to_contain_text("same labelled window")

    runs_before = int(live_app.wh.scalar("SELECT max(run_id) FROM runs"))
    page.locator(button).click()
    expect(page.locator("#models-confirm-modal")).to_be_visible()
    page.locator("#models-comment").fill("ok")
    page.locator("#models-confirm").click()
    expect(page.locator("#models-comment-feedback")).to_contain_text("at least 5 characters")
    assert int(live_app.wh.scalar("SELECT max(run_id) FROM runs")) == runs_before

    page.locator("#models-comment").fill("checked the segments by hand")
    page.locator("#models-confirm").click()
    alert = page.locator("#models-action-alert")
    expect(alert).to_contain_text(f"Run #{runs_before + 1} ")
    expect(alert).to_contain_text("succeeded", timeout=RUN_TIMEOUT_MS)
    expect(alert).to_contain_text(f"{verb} v{target}")
    expect(alert).to_contain_text("checked the segments by hand")
    # the registry refreshes without a reload
    assert _aliases(live_app)["champion"] == target
    expect(page.locator("#models-summary")).to_contain_text(f"champion v{target} ")
    history = page.locator("#models-promotions")
    expect(history).to_contain_text("checked the segments by hand")
    expect(_row(page, target)).to_contain_text("champion")
    assert console_errors == []
