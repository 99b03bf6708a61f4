"""The Overview page: URL state, tiles and charts with real numbers, and its empty states."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

import pandas as pd
import pytest
from dash import dcc, no_update

from app.components.polling import POLL_READY_MS, POLL_WAITING_MS
from app.figures.formatting import format_count, format_money, format_pct
from pipeline.warehouse import utcnow

THRESHOLD = 0.25  # the default settings.dataset.decision_threshold


def month(facts: pd.DataFrame, key: str) -> pd.DataFrame:
    return facts[facts["period"] == pd.Timestamp(f"{key}-01")]


def filter_values(overview, page) -> dict[str, object]:
    ids = overview.Ids
    return {
        "from": page[ids.FROM].value,
        "to": page[ids.TO].value,
        "segment": page[ids.SEGMENT].value,
        "value": page[ids.VALUE].value,
        "by": page[ids.BY].value,
    }


# -- URL round trip ----------------------------------------------------------------------------


def test_layout_restores_the_filters_from_the_query_string(overview):
    page = overview.layout(
        **{"from": "2024-02", "to": "2024-03", "segment": "region", "value": "South", "by": "plan"}
    )
    assert filter_values(overview, page) == {
        "from": "2024-02",
        "to": "2024-03",
        "segment": "region",
        "value": "South",
        "by": "plan",
    }
    assert page[overview.Ids.VALUE].disabled is False


def test_a_bare_url_shows_the_defaults(overview):
    page = overview.layout()
    assert filter_values(overview, page) == {
        "from": "2024-01",
        "to": "2024-04",
        "segment": overview.ALL,
        "value": None,
        "by": "region",
    }


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2023-13", "to": "banana"},
        {"from": ["2024-02", "2024-03"]},  # a repeated key arrives as a list
        {"segment": 'region"; DROP TABLE x; --', "value": "South"},
        {"segment": "region", "value": "Atlantis"},
        {"segment": "entity_id", "value": "C001"},
        {"value": "South"},
        {"by": "probability"},
        {"utm_source": "newsletter"},
    ],
)
def test_unknown_or_invalid_query_values_fall_back_to_the_defaults(overview, query, warehouse):
    assert filter_values(overview, overview.layout(**query)) == filter_values(
        overview, overview.layout()
    )
    assert warehouse.table_exists("runs")


def test_reversed_months_are_swapped_not_rejected(overview):
    page = overview.layout(**{"from": "2024-03", "to": "2024-01"})
    assert (page[overview.Ids.FROM].value, page[overview.Ids.TO].value) == ("2024-01", "2024-03")


def test_changing_filters_writes_only_non_default_values_to_the_url(overview):
    data = overview.load_data_state(overview.services()).as_store()
    assert overview.write_url("2024-01", "2024-04", overview.ALL, None, "region", data) == ""
    assert (
        overview.write_url("2024-02", "2024-03", "region", "South", "plan", data)
        == "?from=2024-02&to=2024-03&segment=region&value=South&by=plan"
    )
    assert (
        overview.write_url("2024-01", "2024-04", "contract_type", "Month to month", "region", data)
        == "?segment=contract_type&value=Month+to+month"
    )


def test_the_written_url_restores_the_same_filters(overview):
    data = overview.load_data_state(overview.services()).as_store()
    search = overview.write_url("2024-02", "2024-04", "plan", "Premium", "contract_type", data)
    query = dict(pair.split("=") for pair in search.lstrip("?").split("&"))
    page = overview.layout(**query)
    assert filter_values(overview, page) == {
        "from": "2024-02",
        "to": "2024-04",
        "segment": "plan",
        "value": "Premium",
        "by": "contract_type",
    }


# -- tiles, trend, breakdown -------------------------------------------------------------------


def tile_values(ui, kpis) -> dict[str, str]:
    tiles = ui.by_class(kpis, "kpi-tile")
    return {
        ui.texts(ui.by_class(t, "kpi-label")): ui.texts(ui.by_class(t, "kpi-value")) for t in tiles
    }


def test_tiles_show_the_last_month_of_the_range_with_pandas_numbers(overview, facts, ui):
    out = overview.update_summary("2024-01", "2024-04", overview.ALL, None, None)
    april, march = month(facts, "2024-04"), month(facts, "2024-03")
    values = tile_values(ui, out["kpis"])
    assert values == {
        "Customers scored": "40",
        "Predicted churn rate": format_pct(april["probability"].mean()),
        "Customers at risk": format_count((april["probability"] > THRESHOLD).sum()),
        "Revenue at risk": format_money((april["value"] * april["probability"]).sum()),
        "Realised churn": format_pct(march["label"].mean()),
    }
    text = ui.texts(out["kpis"])
    assert "in Mar 2024, the latest month with labels" in text
    assert "vs Mar 2024" in text  # changes are against the month before
    assert "Figures for Apr 2024, all customers" in out["headline"]


def test_tiles_and_trend_follow_the_segment_filter_and_range(overview, facts, ui):
    out = overview.update_summary("2024-01", "2024-02", "region", "South", None)
    feb = month(facts, "2024-02")
    south = feb[feb["region"] == "South"]
    jan_south = month(facts, "2024-01").query("region == 'South'")
    values = tile_values(ui, out["kpis"])
    assert values["Customers scored"] == "20"
    assert values["Predicted churn rate"] == format_pct(south["probability"].mean())
    assert values["Realised churn"] == format_pct(south["label"].mean())
    change = (south["probability"].mean() - jan_south["probability"].mean()) * 100
    assert f"{abs(change):.1f} pp vs Jan 2024" in ui.texts(out["kpis"])
    figure = out["trend"].figure
    assert list(figure.data[0].y) == pytest.approx(
        [jan_south["probability"].mean(), south["probability"].mean()]
    )


def test_a_change_is_compared_with_the_month_before_the_range(overview, facts, ui):
    out = overview.update_summary("2024-03", "2024-03", overview.ALL, None, None)
    mar, feb = month(facts, "2024-03"), month(facts, "2024-02")
    diff = int((mar["probability"] > THRESHOLD).sum() - (feb["probability"] > THRESHOLD).sum())
    arrow = "▲" if diff > 0 else "▼" if diff < 0 else "■"
    assert f"{arrow} {abs(diff)} vs Feb 2024" in ui.texts(out["kpis"])
    assert len(out["trend"].figure.data[0].x) == 1  # the month before is not plotted


def test_months_without_labels_say_when_churn_will_be_known(overview, ui):
    out = overview.update_summary("2024-04", "2024-04", overview.ALL, None, None)
    values = tile_values(ui, out["kpis"])
    assert values["Realised churn"] == "—"
    assert "known a month later" in ui.texts(out["kpis"])


def test_filters_that_match_nobody_show_an_explanation_not_an_empty_chart(overview, ui):
    out = overview.update_summary("2024-01", "2024-04", "region", "Atlantis", None)
    assert out["trend"] is None
    assert "No customers match these filters" in ui.texts(out["kpis"])


def test_a_forged_segment_column_is_refused_without_a_traceback(overview, warehouse, ui):
    out = overview.update_summary("2024-01", "2024-04", 'region"; DROP TABLE runs; --', "x", None)
    assert "Unknown segment" in ui.texts(out["kpis"])
    card = overview.update_breakdown("2024-04", overview.ALL, None, "entity_id", None)
    assert "Choose a segment column" in ui.texts(card)
    assert warehouse.table_exists("runs")


def test_breakdown_is_for_the_last_month_and_the_chosen_column(overview, facts):
    graph = overview.update_breakdown("2024-03", "region", "North", "plan", None)
    assert isinstance(graph, dcc.Graph)
    figure = graph.figure
    assert figure.layout.title.text == "Churn risk by plan, Mar 2024"
    north = month(facts, "2024-03").query("region == 'North'")
    want = north.groupby("plan")["probability"].mean()
    got = dict(zip(figure.data[0].y, figure.data[0].x, strict=True))
    assert got == pytest.approx(want.to_dict())


def test_choosing_a_segment_column_offers_its_values(overview):
    assert overview.update_value_options("region") == (
        [{"label": "North", "value": "North"}, {"label": "South", "value": "South"}],
        "North",
        False,
    )
    assert overview.update_value_options(overview.ALL) == ([], None, True)
    assert overview.update_value_options("nope") == ([], None, True)


def test_the_freshness_line_names_month_batch_and_model(overview, ui):
    page = overview.layout()
    assert ui.texts(page[overview.Ids.FRESHNESS]) == (
        "Data as of Apr 2024 · last batch 2 May 2024 12:03 UTC · model v2 (champion, ROC AUC 0.81)"
    )


# -- empty states and polling ------------------------------------------------------------------


@pytest.fixture
def empty_overview(make_app, empty_warehouse):
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.overview")


def test_before_any_run_the_page_explains_and_polls_quickly(empty_overview, ui):
    page = empty_overview.layout(**{"from": "2024-01"})
    ids = empty_overview.Ids
    assert page[ids.BODY].hidden is True
    assert page[ids.EMPTY].hidden is False
    assert "The pipeline has not run yet" in ui.texts(page[ids.EMPTY])
    assert page[ids.POLL].interval == POLL_WAITING_MS
    assert ui.texts(page[ids.FRESHNESS]) == "No data yet · no batch received yet · no model yet"
    # The chart callbacks stay quiet rather than drawing empty axes.
    assert empty_overview.update_summary(None, None, empty_overview.ALL, None, None) == {
        "headline": None,
        "kpis": None,
        "trend": None,
    }
    assert empty_overview.update_breakdown(None, empty_overview.ALL, None, None, None) is None


def test_stale_filters_before_any_data_get_an_explanation(empty_overview, ui):
    # A browser tab that still holds months from an earlier data dir asks for them.
    out = empty_overview.update_summary("2024-01", "2024-02", "region", "South", None)
    assert "No customers match these filters" in ui.texts(out["kpis"])
    card = empty_overview.update_breakdown("2024-02", empty_overview.ALL, None, "region", None)
    assert "No breakdown for Feb 2024" in ui.texts(card)


def test_while_the_first_run_is_in_progress_the_page_says_which_step(
    empty_overview, empty_warehouse, ui
):
    empty_warehouse.execute(
        "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, "
        "duration_s, current_step, error, summary) "
        "VALUES (1, 'schedule', NULL, 'running', ?, NULL, NULL, 'train', NULL, "
        "NULL)",
        [utcnow() - timedelta(seconds=20)],
    )
    text = ui.texts(empty_overview.layout()[empty_overview.Ids.EMPTY])
    assert "Run #1 is running step “train”" in text
    assert "fills in by itself" in text


def test_after_a_failed_first_run_the_page_shows_its_error(empty_overview, empty_warehouse, ui):
    empty_warehouse.execute(
        "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, "
        "duration_s, current_step, error, summary) "
        "VALUES (1, 'schedule', NULL, 'failed', ?, ?, 3.0, NULL, "
        "'ingest: no files in the landing dir', NULL)",
        [datetime(2024, 5, 1), datetime(2024, 5, 1)],
    )
    text = ui.texts(empty_overview.layout()[empty_overview.Ids.EMPTY])
    assert "the last run failed" in text
    assert "ingest: no files in the landing dir" in text


def test_the_page_fills_in_by_itself_when_the_first_run_publishes(
    empty_overview, empty_warehouse, publish
):
    page = empty_overview.layout()
    known = page[empty_overview.Ids.DATA].data
    waiting = empty_overview.poll_data(1, known, None, None, None)
    assert waiting["body_hidden"] is True and waiting["data"] is no_update

    publish(empty_warehouse)
    out = empty_overview.poll_data(2, known, None, None, None)
    assert out["empty_hidden"] is True and out["body_hidden"] is False
    assert out["interval"] == POLL_READY_MS
    assert (out["from_value"], out["to_value"], out["by_value"]) == ("2024-01", "2024-04", "region")
    assert [o["value"] for o in out["to_options"]] == ["2024-04", "2024-03", "2024-02", "2024-01"]
    assert out["freshness"].startswith("Data as of Apr 2024")
    assert out["data"]["months"] == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_a_new_month_moves_a_view_that_followed_the_latest_month(overview, warehouse):
    known = overview.load_data_state(overview.services()).as_store()
    warehouse.execute(
        "INSERT INTO serving_facts SELECT period + INTERVAL 1 MONTH, entity_id, probability, "
        "model_version, value, NULL, region, plan, contract_type FROM serving_facts "
        "WHERE period = DATE '2024-04-01'"
    )
    followed = overview.poll_data(5, known, "2024-01", "2024-04", "region")
    assert followed["to_value"] == "2024-05"
    pinned = overview.poll_data(5, known, "2024-01", "2024-03", "region")
    assert pinned["to_value"] is no_update


def test_polling_with_unchanged_data_updates_nothing(overview):
    known = overview.load_data_state(overview.services()).as_store()
    out = overview.poll_data(3, known, "2024-01", "2024-04", "region")
    assert all(value is no_update for value in out.values())
