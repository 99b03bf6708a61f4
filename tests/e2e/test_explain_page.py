"""The Explain page in headless Chromium, on the explanation the first run stored."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _champion(live_app) -> int:
    return int(live_app.wh.scalar("SELECT version FROM model_aliases WHERE alias = 'champion'"))


def _number(text: str) -> float:
    return float(re.search(r"-?\d+(\.\d+)?", text).group())  # type: ignore[union-attr]


def test_global_local_what_if_and_fairness(page: Page, live_app, console_errors) -> None:
    champion = _champion(live_app)
    wh = live_app.wh
    top = wh.read(
        "SELECT feature FROM explain_importance WHERE model_version = ? AND scope = 'holdout' "
        "ORDER BY mean_abs_points DESC LIMIT 1",
        [champion],
    )["feature"].iloc[0]
    riskiest = wh.read(
        "SELECT entity_id, probability, model_version FROM serving_facts "
        "WHERE period = (SELECT max(period) FROM serving_facts) "
        "ORDER BY probability DESC, entity_id LIMIT 1"
    ).iloc[0]

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(live_app.url + "/explain")
    expect(page.locator("#explain-summary")).to_contain_text(f"Explaining v{champion} (champion")
    expect(page.locator("#explain-summary")).to_contain_text("customers explained")
    # global importance and the summary, then the dependence of the strongest feature
    expect(page.locator("#explain-global .js-plotly-plot")).to_have_count(2)
    expect(page.locator("#explain-global")).to_contain_text("What the model relies on")
    expect(page.locator("#explain-global")).to_contain_text(top)
    expect(page.locator("#explain-feature")).to_have_value(top)
    expect(page.locator("#explain-dependence .js-plotly-plot")).to_have_count(1)
    expect(page.locator("#explain-dependence")).to_contain_text(f"how {top} moves")

    # a riskiest customer: the waterfall and the same story in words
    first = page.locator("#explain-riskiest .ag-center-cols-container .ag-row").first
    expect(first).to_contain_text(str(riskiest.entity_id))
    first.locator(".ag-cell").first.click()
    local = page.locator("#explain-local")
    expect(local.locator(".js-plotly-plot")).to_have_count(1)
    expect(local).to_contain_text("Base rate (average customer)")
    expect(local.locator(".explain-sentences li").first).to_contain_text("churn risk")
    served_by_champion = int(riskiest.model_version) == champion
    if served_by_champion:  # the explanation reproduces the served prediction
        expect(local.locator(".explain-probability")).to_contain_text(
            f"{100 * riskiest.probability:.1f}%"
        )
    expect(page).to_have_url(re.compile(rf"entity={riskiest.entity_id}"))

    # what-if: a tenure far from the customer's changes the probability
    form = page.locator("#explain-whatif-form")
    tenure = form.locator("""[id='{"feature":"tenure_months","type":"explain-whatif-field"}']""")
    expect(tenure).to_be_visible()
    current = float(tenure.input_value())
    tenure.fill("100" if current < 50 else "1")
    page.locator("#explain-whatif-button").click()
    result = page.locator("#explain-whatif-result")
    expect(result.locator(".js-plotly-plot")).to_have_count(2)
    before, after = (
        _number(part)
        for part in result.locator(".explain-whatif-probability").inner_text().split("→")
    )
    if served_by_champion:
        assert before == round(100 * riskiest.probability, 1)
    assert after != before
    # a value outside the contract's range is refused in words
    tenure.fill("99999")
    page.locator("#explain-whatif-button").click()
    expect(result).to_contain_text("outside the contract's range")

    # fairness by group
    fairness = page.locator("#explain-fairness")
    expect(fairness.locator("table.fairness-groups").first).to_contain_text("Selection rate")
    expect(fairness.locator(".fairness-charts .js-plotly-plot").first).to_be_visible()
    assert console_errors == []


def test_a_link_from_the_overview_restores_version_and_feature(
    page: Page, live_app, console_errors
) -> None:
    champion = _champion(live_app)
    page.goto(live_app.url + f"/explain?v={champion}&feature=region")
    expect(page.locator("#explain-feature")).to_have_value("region")
    expect(page.locator("#explain-dependence")).to_contain_text("how region moves")
    assert console_errors == []
