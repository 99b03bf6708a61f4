"""The Explain page: global importance, summary, dependence, one customer, what-if, fairness.

A temporary warehouse holds two model versions: v1 (archived, trained before explanations, so
none is stored) and v2 (champion) with a stored explanation of its holdout month and of the
latest scored month, and fairness by region and plan. Local explanations come from a fake with
the real interface (``explain(version, entity_id, period, edits)``): its numbers follow simple
known rules, and its what-if edits are checked by the real contract validation.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash import dcc, no_update

from app.components.polling import POLL_READY_MS, POLL_WAITING_MS
from app.services import Services, install
from pipeline.contract import Contract
from pipeline.explain.language import local_story
from pipeline.local_explain import ExplainError, LocalResult, validate_whatif
from pipeline.warehouse import Warehouse
from pipeline.warehouse.models import store_contract
from tests.unit.app.conftest import write_serving_facts

T0 = datetime(2024, 4, 2, 9, 0)
FEATURES = ["contract_type", "region", "tenure_months", "monthly_charges"]
CONTRACT = Contract(
    entity_id="customer_id",
    event_time="snapshot_month",
    target="churned",
    categorical=["contract_type", "region"],
    numeric=["tenure_months", "monthly_charges"],
    ranges={"tenure_months": [0.0, 120.0], "monthly_charges": [0.0, 400.0]},
    categories={"contract_type": ["monthly", "yearly"], "region": ["North", "South"]},
    dropped=["email"],
)
# mean |points|, share, direction of v2's holdout explanation (rank = order here)
IMPORTANCE = {
    "contract_type": (9.0, 0.45, "monthly raises risk most"),
    "tenure_months": (6.0, 0.30, "lower values raise risk"),
    "monthly_charges": (3.0, 0.15, "higher values raise risk"),
    "region": (2.0, 0.10, "South raises risk most"),
}
POINTS_PER_FEATURE = 60
BASE = 0.2


def _points_rows(version: int, scope: str) -> list[list[Any]]:
    rng = np.random.default_rng(5)
    rows = []
    for feature, (size, _, _) in IMPORTANCE.items():
        for r in range(POINTS_PER_FEATURE):
            if feature in CONTRACT.categorical:
                choices = CONTRACT.categories[feature]
                text, num = choices[r % len(choices)], None
                colour = (r % len(choices)) / (len(choices) - 1)
            else:
                num = float(rng.uniform(0, 100))
                text, colour = f"{num:.2f}", num / 100
                if r == 0:
                    num, text, colour = None, "missing", None
            partner = "tenure_months" if feature != "tenure_months" else "contract_type"
            rows.append(
                [
                    version,
                    scope,
                    feature,
                    r,
                    num,
                    text,
                    size / 40,
                    float(rng.normal(0, size)),
                    colour,
                    partner,
                    "12",
                    None if r == 1 else float(rng.uniform()),
                ]
            )
    return rows


FAIRNESS_GROUPS = [
    # column, value, rows, positives, selection, tpr, fpr, precision, predicted, observed, small
    ("region", "North", 600, 60, 0.08, 0.50, 0.03, 0.62, 0.10, 0.10, False),
    ("region", "South", 500, 90, 0.22, 0.70, 0.12, 0.57, 0.17, 0.18, False),
    ("region", "East", 40, 4, 0.10, None, 0.05, 0.50, 0.11, 0.10, True),
    ("plan", "Basic", 700, 90, 0.15, 0.60, 0.08, 0.51, 0.13, 0.13, False),
    ("plan", "Premium", 440, 64, 0.14, 0.62, 0.07, 0.64, 0.14, 0.15, False),
]
FAIRNESS_SUMMARY = [
    ("plan", 0.01, 0.02, 0.1, 0.1, False, "Selection rate ranges from 14.0% to 15.0%."),
    (
        "region",
        0.14,
        0.2,
        0.1,
        0.1,
        True,
        "Selection rate ranges from 8.0% (North) to 22.0% (South): a demographic parity "
        "difference of 0.140, above the limit 0.100.",
    ),
]


def write_explain_world(wh: Warehouse) -> None:
    """v1 archived (nothing explained), v2 champion (explained twice, fairness stored)."""
    with wh.transaction() as cur:
        for version, auc in ((1, 0.74), (2, 0.812)):
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, holdout_from, holdout_to, roc_auc, "
                "pr_auc, brier, log_loss, features, params) VALUES (?, ?, ?, 'hgb', 'm', 'x', 1, "
                "100, 40, ?, ?, ?, 0.4, 0.1, 0.3, ?, '{}')",
                [
                    version,
                    version,
                    T0,
                    date(2024, version + 1, 1),
                    date(2024, version + 1, 1),
                    auc,
                    json.dumps({"categorical": FEATURES[:2], "numeric": FEATURES[2:]}),
                ],
            )
        cur.execute("INSERT INTO model_aliases VALUES ('champion', 2, ?, 'best auc')", [T0])
        for scope in ("holdout", "period:2024-04"):
            cur.execute(
                "INSERT INTO explain_meta VALUES (2, ?, -1.4, ?, 5000, 3.5, ?)", [scope, BASE, T0]
            )
            for rank, (feature, (size, share, direction)) in enumerate(IMPORTANCE.items(), 1):
                bump = 1.0 if scope == "holdout" else 1.5
                cur.execute(
                    "INSERT INTO explain_importance VALUES (2, ?, ?, ?, ?, ?, ?, ?)",
                    [scope, feature, size / 40, size * bump, share, rank, direction],
                )
            cur.executemany(
                f"INSERT INTO explain_points VALUES ({', '.join(['?'] * 12)})",
                _points_rows(2, scope),
            )
        cur.executemany(
            "INSERT INTO fairness_groups VALUES (2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [list(g) for g in FAIRNESS_GROUPS],
        )
        cur.executemany(
            "INSERT INTO fairness_summary VALUES (2, ?, ?, ?, ?, ?, ?, ?)",
            [list(s) for s in FAIRNESS_SUMMARY],
        )
    store_contract(wh, CONTRACT)


# -- a local explainer with known numbers ------------------------------------------------------

INPUTS = {
    "contract_type": "monthly",
    "region": "South",
    "tenure_months": 6.0,
    "monthly_charges": 80.0,
}


def _points_of(inputs: dict[str, Any]) -> list[float]:
    """Known contributions: monthly +15/yearly -5, South +3/North -1, tenure and charges."""
    contract = {"monthly": 15.0, "yearly": -5.0}.get(inputs["contract_type"], 0.0)
    region = {"South": 3.0, "North": -1.0}.get(inputs["region"], 0.0)
    tenure = 0.0 if pd.isna(inputs["tenure_months"]) else (24 - inputs["tenure_months"]) * 0.5
    charges = (inputs["monthly_charges"] - 60.0) * 0.2
    return [contract, region, tenure, charges]


@dataclass
class FakeExplanations:
    """Answers like ``LocalExplanations`` for customers C000..C039; records every call."""

    calls: list[tuple] = field(default_factory=list)

    def explain(
        self,
        version: int,
        entity_id: str,
        period: date | None = None,
        edits: dict[str, Any] | None = None,
    ) -> LocalResult:
        self.calls.append((version, entity_id, period, dict(edits or {})))
        if not (entity_id.startswith("C0") and entity_id[1:].isdigit() and int(entity_id[1:]) < 40):
            raise ExplainError(f"customer {entity_id!r} has not been scored; check the id")
        inputs = dict(INPUTS)
        if edits:
            typed, problems = validate_whatif(CONTRACT, edits)
            if problems:
                raise ExplainError("; ".join(problems))
            inputs |= typed
        points = _points_of(inputs)
        return LocalResult(
            version=version,
            entity_id=entity_id,
            period=period or date(2024, 4, 1),
            features=FEATURES,
            inputs=inputs,
            shown=[str(inputs[f]) for f in FEATURES],
            points=points,
            base_proba=BASE,
            proba=BASE + sum(points) / 100,
            sentences=local_story(FEATURES, [inputs[f] for f in FEATURES], np.array(points)),
        )


@pytest.fixture
def fake_local() -> FakeExplanations:
    return FakeExplanations()


@pytest.fixture
def explain_page(make_app, settings, start_run, empty_warehouse, facts, fake_local) -> ModuleType:
    """The Explain page over the two-version world, with the fake local explainer."""
    write_explain_world(empty_warehouse)
    write_serving_facts(empty_warehouse, facts)
    make_app(empty_warehouse)
    install(Services(settings, empty_warehouse, start_run, local=fake_local))
    return importlib.import_module("app.pages.explain")


@pytest.fixture
def empty_page(make_app, empty_warehouse) -> ModuleType:
    """The page before any model exists."""
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.explain")


@pytest.fixture
def customer(explain_page) -> ModuleType:
    """The one-customer callbacks (registered by the page module)."""
    return importlib.import_module("app.pages._explain_customer")


def _store(explain_page: ModuleType, **query: Any) -> dict:
    return explain_page.layout(**query)[explain_page.Ids.STORE].data


def _graph_figure(node: Any, ui, index: int = 0):
    graphs = ui.find_all(node, lambda c: isinstance(c, dcc.Graph))
    return graphs[index].figure


# -- registration, defaults and the address ----------------------------------------------------


def test_the_page_sits_between_model_review_and_runs(explain_page):
    import dash

    pages = sorted(dash.page_registry.values(), key=lambda p: p["order"])
    names = [p["name"] for p in pages]
    assert names.index("Model review") < names.index("Explain") < names.index("Runs")
    assert dash.page_registry["app.pages.explain"]["path"] == "/explain"


def test_the_champion_and_its_holdout_are_shown_by_default(explain_page, ui):
    layout = explain_page.layout()
    assert layout[explain_page.Ids.VERSION].value == 2
    assert layout[explain_page.Ids.SCOPE].value == "holdout"
    assert layout[explain_page.Ids.FEATURE].value == "contract_type"  # the strongest feature
    summary = ui.texts(layout[explain_page.Ids.SUMMARY])
    assert summary.startswith("Explaining v2 (champion), ROC AUC 0.812")
    assert "Holdout month Mar 2024" in summary
    assert "5,000 customers explained" in summary and "base rate 20.0%" in summary
    scopes = [o["label"] for o in layout[explain_page.Ids.SCOPE].options]
    assert scopes == ["Holdout month Mar 2024 (tested when trained)", "Scored month Apr 2024"]
    assert layout[explain_page.Ids.SCOPE_COL].style is None  # two scopes: the picker shows


def test_the_address_restores_a_view_and_ignores_junk(explain_page):
    layout = explain_page.layout(v="2", scope="period:2024-04", entity="C007", feature="region")
    assert layout[explain_page.Ids.SCOPE].value == "period:2024-04"
    assert layout[explain_page.Ids.FEATURE].value == "region"
    assert layout[explain_page.Ids.ENTITY].data == "C007"
    assert layout[explain_page.Ids.SEARCH].value == "C007"
    layout = explain_page.layout(
        v="99", scope="x", entity="'; DROP TABLE models; --", feature="email"
    )
    assert layout[explain_page.Ids.VERSION].value == 2
    assert layout[explain_page.Ids.SCOPE].value == "holdout"
    assert layout[explain_page.Ids.FEATURE].value == "contract_type"
    assert layout[explain_page.Ids.ENTITY].data is None


def test_the_address_keeps_only_what_differs_from_the_defaults(explain_page):
    store = _store(explain_page)
    assert explain_page.write_url(2, "holdout", None, "contract_type", store) == ""
    assert (
        explain_page.write_url("2", "holdout", "C007", "region", store)
        == "?entity=C007&feature=region"
    )
    assert (
        explain_page.write_url(2, "period:2024-04", None, None, store) == "?scope=period%3A2024-04"
    )
    assert explain_page.write_url("1", None, None, None, store) == "?v=1"


# -- global explanation ------------------------------------------------------------------------


def test_global_importance_is_in_points_strongest_on_top(explain_page, ui):
    out, _ = explain_page.update_global(2, "holdout", _store(explain_page))
    importance = _graph_figure(out, ui, 0)
    bar = importance.data[0]
    assert list(bar.y) == ["contract_type", "tenure_months", "monthly_charges", "region"]
    assert list(bar.x) == [9.0, 6.0, 3.0, 2.0]
    assert importance.layout.yaxis.autorange == "reversed"
    assert bar.customdata[0][0] == "45.0%"  # the share, in the hover
    assert "v2 (champion) · Holdout month Mar 2024" in importance.layout.title.text


def test_the_scope_picker_switches_to_the_latest_scored_month(explain_page, ui):
    out, _ = explain_page.update_global(2, "period:2024-04", _store(explain_page))
    assert list(_graph_figure(out, ui, 0).data[0].x) == [13.5, 9.0, 4.5, 3.0]


def test_the_summary_draws_every_explained_customer_per_feature(explain_page, ui):
    out, _ = explain_page.update_global(2, "holdout", _store(explain_page))
    summary = _graph_figure(out, ui, 1)
    coloured, missing = summary.data
    assert len(coloured.x) + len(missing.x) == 4 * POINTS_PER_FEATURE
    assert len(missing.x) == 2  # the numeric features' missing values are grey
    assert "feature value" in coloured.marker.colorbar.title.text
    assert list(summary.layout.yaxis.ticktext) == list(IMPORTANCE)


def test_a_version_without_an_explanation_says_why(explain_page, ui):
    store = _store(explain_page)
    card, style = explain_page.update_global(1, None, store)
    text = ui.texts(card)
    assert style is None  # no room kept for charts that will not come
    assert "No explanation stored for v1" in text
    assert "versions trained before explanations were added" in text
    assert "computed on demand" in text
    dependence, style, direction = explain_page.update_dependence(1, None, "region", store)
    assert "nothing to draw" in ui.texts(dependence) and style is None and direction is None
    out = explain_page.choose_scope("1", store, "holdout", "region")
    assert out["scope"] is None and out["scope_style"] == {"display": "none"}
    assert out["feature_options"] == [] and "no stored explanation" in out["summary"]


def test_dependence_of_a_number_is_coloured_by_its_interaction(explain_page, ui):
    graph, _, direction = explain_page.update_dependence(
        2, "holdout", "monthly_charges", _store(explain_page)
    )
    figure = graph.figure
    drawn = sum(len(t.x) for t in figure.data)
    assert drawn == POINTS_PER_FEATURE - 1  # the customer with no value is not drawn
    assert "coloured by<br>tenure_months" in figure.data[0].marker.colorbar.title.text
    assert "1 customer with no value is not drawn" in figure.layout.title.text
    assert "monthly_charges: moves churn probability by 3.0 points" in ui.texts(direction)
    assert "higher values raise risk" in ui.texts(direction)


def test_dependence_of_a_category_uses_a_category_axis(explain_page):
    graph, _, _ = explain_page.update_dependence(
        2, "holdout", "contract_type", _store(explain_page)
    )
    assert list(graph.figure.layout.xaxis.ticktext) == ["monthly", "yearly"]


def test_a_new_version_choice_keeps_a_feature_it_also_explains(explain_page):
    out = explain_page.choose_scope("2", _store(explain_page), "period:2024-04", "tenure_months")
    assert out["scope"] == "period:2024-04" and out["feature"] == "tenure_months"
    assert out["summary"].startswith("Explaining v2 (champion)")


# -- one customer --------------------------------------------------------------------------------


def test_the_riskiest_customers_of_the_latest_month_are_listed(explain_page, customer, facts):
    rows = customer.update_riskiest(_store(explain_page))
    latest = facts[facts["period"] == facts["period"].max()]
    expected = latest.sort_values("probability", ascending=False).head(20)
    assert [r["entity_id"] for r in rows] == list(expected["entity_id"])
    assert rows[0]["month"] == "Apr 2024" and rows[0]["scored_by"] == "v2"
    assert set(rows[0]) == {"entity_id", "probability", "month", "scored_by"}
    json.dumps(rows)


def test_typing_suggests_scored_ids(explain_page, customer):
    options = customer.suggest("C01")
    assert [o.value for o in options] == [f"C01{i}" for i in range(10)]
    assert customer.suggest("") == [] and customer.suggest("x'; --") == []


def test_a_click_or_a_search_chooses_the_customer(explain_page, customer):
    assert customer.pick_entity({"rowId": "C007", "colId": "probability"}) == ("C007", "C007")
    assert customer.pick_entity(None) == (no_update, no_update)
    assert customer.search_entity(1, None, " C012 ") == "C012"
    assert customer.search_entity(None, 1, "a b c") is no_update


def test_a_customer_gets_a_waterfall_and_the_same_numbers_in_words(
    explain_page, customer, fake_local, ui
):
    out = customer.explain_customer("C007", "2", _store(explain_page))
    figure = _graph_figure(out["local"], ui)
    waterfall = figure.data[0]
    points = _points_of(INPUTS)  # +15, +3, +9, +4
    assert waterfall.x[0] == pytest.approx(100 * BASE)
    assert list(waterfall.x[1:-1]) == sorted(points, key=abs, reverse=True)
    assert waterfall.measure[-1] == "total"
    assert waterfall.y[1] == "contract_type = monthly"
    assert list(waterfall.text[1:-1]) == ["+15 pts", "+9 pts", "+4 pts", "+3 pts"]
    text = ui.texts(out["local"])
    assert "51.0%" in text  # 20% + 31 points
    assert "Contract type monthly raised churn risk by 15 points" in text
    assert "Tenure months 6 raised churn risk by 9 points" in text
    assert "Served prediction" in text
    assert fake_local.calls == [(2, "C007", None, {})]


def test_the_what_if_form_starts_from_the_customer_and_shows_only_features(
    explain_page, customer, ui
):
    out = customer.explain_customer("C007", 2, _store(explain_page))
    assert out["button"] is False
    fields = ui.find_all(out["form"], lambda c: isinstance(getattr(c, "id", None), dict))
    by_feature = {f.id["feature"]: f for f in fields}
    assert list(by_feature) == FEATURES
    contract = by_feature["contract_type"]
    assert contract.value == "monthly"
    assert [o["value"] for o in contract.options] == ["", "monthly", "yearly"]
    tenure = by_feature["tenure_months"]
    assert tenure.type == "number" and tenure.value == 6.0 and tenure.step == "any"
    assert "range 0 to 120" in ui.texts(out["form"])
    assert "email" not in ui.texts(out["form"])  # a contract column the model does not use


def test_an_unknown_customer_is_explained_in_words(explain_page, customer, ui):
    out = customer.explain_customer("Z999", 2, _store(explain_page))
    text = ui.texts(out["local"])
    assert "Customer Z999 cannot be explained with v2" in text
    assert "has not been scored; check the id" in text
    assert out["button"] is True


def _form(explain_page, customer, ui, **changes: Any) -> tuple[list, list]:
    out = customer.explain_customer("C007", 2, _store(explain_page))
    fields = ui.find_all(out["form"], lambda c: isinstance(getattr(c, "id", None), dict))
    values = [changes.get(f.id["feature"], f.value) for f in fields]
    return values, [f.id for f in fields]


def test_a_what_if_edit_recomputes_only_the_changed_values(explain_page, customer, fake_local, ui):
    values, ids = _form(explain_page, customer, ui, tenure_months=30, contract_type="yearly")
    result = customer.recompute(1, values, ids, "C007", "2", _store(explain_page))
    text = ui.texts(result)
    # before 51.0%; after: yearly -5, South +3, tenure -3, charges +4 -> 19.0%
    assert "51.0% → 19.0%" in text and "(−32 pts)" in text
    assert "Changed: contract_type = yearly; tenure_months = 30" in text
    assert fake_local.calls[-1] == (
        2,
        "C007",
        date(2024, 4, 1),
        {"contract_type": "yearly", "tenure_months": 30.0},
    )
    before, after = (g.figure for g in ui.find_all(result, lambda c: isinstance(c, dcc.Graph)))
    assert before.layout.xaxis.range == after.layout.xaxis.range  # read side by side
    assert after.data[0].x[-1] == pytest.approx(19.0)


def test_a_value_outside_the_contract_is_refused_in_words(explain_page, customer, ui):
    values, ids = _form(explain_page, customer, ui, tenure_months=999)
    text = ui.texts(customer.recompute(1, values, ids, "C007", 2, _store(explain_page)))
    assert "The what-if values were not accepted" in text
    assert "tenure_months: 999 is outside the contract's range 0 to 120" in text


def test_an_emptied_number_means_missing_and_nothing_changed_is_said(
    explain_page, customer, fake_local, ui
):
    values, ids = _form(explain_page, customer, ui)
    assert "Nothing changed" in ui.texts(
        customer.recompute(1, values, ids, "C007", 2, _store(explain_page))
    )
    values, ids = _form(explain_page, customer, ui, tenure_months=None)
    customer.recompute(1, values, ids, "C007", 2, _store(explain_page))
    assert fake_local.calls[-1][3] == {"tenure_months": ""}


# -- fairness ----------------------------------------------------------------------------------


def test_fairness_shows_sentences_tables_and_charts_per_column(explain_page, ui):
    out = explain_page.update_fairness(2, _store(explain_page))
    text = ui.texts(out)
    assert "By plan" in text and "By region" in text
    breach = ui.by_class(out, "fairness-breach")
    assert len(breach) == 1 and breach[0].color == "warning"
    assert "above the limit 0.100" in ui.texts(breach)
    assert len(ui.by_class(out, "fairness-ok")) == 1
    tables = ui.by_class(out, "fairness-groups")
    assert len(tables) == 2
    rows = ui.find_all(tables[1], lambda c: type(c).__name__ == "Tr")[1:]
    cells = [ui.texts(c) for c in rows[1].children]
    assert cells[:3] == ["North", "600", "60"]
    assert cells[3:] == ["8.0%", "50.0%", "3.0%", "62.0%", "10.0%", "10.0%"]
    assert "East (few rows, not compared)" in ui.texts(rows[0])
    assert "—" in ui.texts(rows[0])  # East's TPR is undefined
    graphs = ui.find_all(out, lambda c: isinstance(c, dcc.Graph))
    assert len(graphs) == 4


def test_a_version_without_fairness_results_says_why(explain_page, ui):
    text = ui.texts(explain_page.update_fairness(1, _store(explain_page)))
    assert "No fairness results for v1" in text and "fairness.columns" in text


def test_the_model_review_card_follows_b_and_draws_charts_on_request(explain_page, ui):
    models_fairness = importlib.import_module("app.pages._models_fairness")
    store = {"versions": [2, 1]}
    tables, style = models_fairness.update_fairness(2, store)
    assert "above the limit 0.100" in ui.texts(tables) and style is None
    assert ui.find_all(tables, lambda c: isinstance(c, dcc.Graph)) == []
    charts, label = models_fairness.toggle_fairness_charts(1, 2, store)
    assert len(ui.find_all(charts, lambda c: isinstance(c, dcc.Graph))) == 4
    assert label == "Hide the charts"
    assert models_fairness.toggle_fairness_charts(2, 2, store) == (None, "Show the charts")
    empty, style = models_fairness.update_fairness(1, store)
    assert "No fairness results for v1" in ui.texts(empty) and style == {"display": "none"}


# -- empty state and polling --------------------------------------------------------------------


def test_before_any_model_the_page_explains_why_and_polls(empty_page, ui):
    layout = empty_page.layout()
    assert layout[empty_page.Ids.BODY].hidden is True
    assert "No model yet" in ui.texts(layout[empty_page.Ids.EMPTY])
    assert layout[empty_page.Ids.POLL].interval == POLL_WAITING_MS
    out = empty_page.poll_data(1, layout[empty_page.Ids.STORE].data, None)
    assert out["body_hidden"] is True and out["interval"] == POLL_WAITING_MS


def test_the_first_model_and_its_explanation_show_on_the_next_poll(empty_page, empty_warehouse):
    store = empty_page.layout()[empty_page.Ids.STORE].data
    write_explain_world(empty_warehouse)
    out = empty_page.poll_data(1, store, None)
    assert out["body_hidden"] is False and out["version"] == 2
    assert out["interval"] == POLL_READY_MS
    assert out["data"]["url"] == {"version": 2, "scope": "holdout", "feature": "contract_type"}
    # nothing new: nothing is sent
    again = empty_page.poll_data(2, out["data"], "2")
    assert all(v is no_update for v in again.values())


def test_a_newly_stored_explanation_is_noticed(explain_page, empty_warehouse):
    store = _store(explain_page, v="1")
    empty_warehouse.execute(
        "INSERT INTO explain_meta VALUES (1, 'holdout', -1.0, 0.2, 5000, 1.0, ?)", [T0]
    )
    out = explain_page.poll_data(1, store, "1")
    assert out["data"] is not no_update
    assert out["version"] is no_update  # the user's choice (v1) stays
