"""The Monitor page: URL state, heatmap and cell detail, charts, alert handling, polling, and
the Overview's health badge. Callbacks are called as plain functions over a small world
(tests/unit/app/monitor_world.py) written into a temporary warehouse."""

from __future__ import annotations

import importlib
from datetime import timedelta
from types import ModuleType

import flask
import pytest
from dash import dcc, no_update

from app.components.polling import POLL_READY_MS, POLL_WAITING_MS
from app.identity import current_actor
from pipeline.accounts import Role
from pipeline.warehouse import Warehouse, utcnow
from tests.auth import acting_as
from tests.unit.app.monitor_world import write_monitor_world


@pytest.fixture
def monitor(make_app, empty_warehouse: Warehouse) -> ModuleType:
    """The Monitor page over the monitored world."""
    write_monitor_world(empty_warehouse)
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.monitor")


@pytest.fixture
def alerts_flow(monitor) -> ModuleType:
    """The alert and decision callbacks (registered by the page module)."""
    return importlib.import_module("app.pages._monitor_alerts")


@pytest.fixture
def empty_page(make_app, empty_warehouse: Warehouse) -> ModuleType:
    """The page before anything was monitored."""
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.monitor")


def _store(page: ModuleType, **query) -> dict:
    return page.layout(**query)[page.Ids.STORE].data


def _graph_figure(node, ui, index: int = 0):
    return ui.find_all(node, lambda c: isinstance(c, dcc.Graph))[index].figure


def _status(wh: Warehouse, alert_id: int) -> tuple:
    return wh.rows(
        "SELECT status, handled_by, comment, muted_until FROM alerts WHERE alert_id = ?",
        [alert_id],
    )[0]


# -- registration, defaults and the address ------------------------------------------------------


def test_the_page_sits_between_explain_and_runs(monitor):
    import dash

    pages = sorted(dash.page_registry.values(), key=lambda p: p["order"])
    names = [p["name"] for p in pages]
    assert names.index("Explain") < names.index("Monitor") < names.index("Runs")
    assert dash.page_registry["app.pages.monitor"]["path"] == "/monitor"


def test_a_bare_address_shows_the_latest_month_and_its_worst_feature(monitor, ui):
    page = monitor.layout()
    ids = monitor.Ids
    assert page[ids.PERIOD].value == "2024-06"
    assert page[ids.FEATURE].value == "monthly_charges"  # on watch in June
    assert page[ids.SEGMENT].value == "(all)"
    assert page[ids.METRIC].value == "roc_auc"
    assert page[ids.BODY].hidden is False and page[ids.EMPTY].hidden is True
    assert [o["label"] for o in page[ids.SEGMENT].options] == [
        "Whole batch",
        "region = North",
        "region = South",
    ]
    assert ui.texts(page[ids.SUMMARY]) == (
        "Champion v2 · 6 months monitored (Jan 2024–Jun 2024) · reference: v2's training "
        "window Jan 2023–Dec 2023 · latest by run #6"
    )
    assert "Model health: Watch" in ui.texts(page[ids.HEALTH])


def test_the_address_restores_a_view_and_ignores_junk(monitor):
    ids = monitor.Ids
    page = monitor.layout(period="2024-03", segment="region=South", feature="tenure_months",
                          metric="f1")  # fmt: skip
    assert (page[ids.PERIOD].value, page[ids.SEGMENT].value) == ("2024-03", "region=South")
    assert (page[ids.FEATURE].value, page[ids.METRIC].value) == ("tenure_months", "f1")
    junk = monitor.layout(period="1999-01", segment="region=Nowhere", feature="'; drop",
                          metric="accuracy", v=["7", "8"])  # fmt: skip
    assert (junk[ids.PERIOD].value, junk[ids.SEGMENT].value) == ("2024-06", "(all)")
    assert (junk[ids.FEATURE].value, junk[ids.METRIC].value) == ("monthly_charges", "roc_auc")


def test_the_address_keeps_only_what_differs_from_the_defaults(monitor):
    store = _store(monitor)
    assert monitor.write_url("2024-06", "(all)", "monthly_charges", "roc_auc", store) == ""
    assert (
        monitor.write_url("2024-05", "region=South", "tenure_months", "f1", store)
        == "?period=2024-05&segment=region%3DSouth&feature=tenure_months&metric=f1"
    )
    # what the address writes, the layout reads back
    page = monitor.layout(period="2024-05", segment="region=South", feature="tenure_months")
    assert page[monitor.Ids.SEGMENT].value == "region=South"


# -- drift ---------------------------------------------------------------------------------------


def test_the_heatmap_follows_the_segment_and_outlines_the_chosen_cell(monitor):
    store = _store(monitor)
    figure, style = monitor.update_heatmap("region=South", "2024-05", "monthly_charges", store)
    trace = figure.data[0]
    assert list(trace.y) == ["region", "monthly_charges", "tenure_months", "plan"]
    assert trace.z[1][4] == 2 and trace.z[1][5] == 2  # South drifts from May
    assert trace.z[1][3] == 0
    assert "region = South" in figure.layout.title.text
    (outline,) = figure.layout.shapes
    assert (outline.x0, outline.y0) == (3.5, 0.5)
    assert style == {"height": f"{figure.layout.height}px"}
    whole, _ = monitor.update_heatmap("(all)", None, None, store)
    assert whole.data[0].z[1][5] == 1  # watch for the whole batch in June


def test_a_click_on_a_cell_chooses_its_month_and_feature(monitor):
    store = _store(monitor)
    click = {"points": [{"x": "2024-05", "y": "tenure_months", "z": 0}]}
    assert monitor.select_cell(click, store) == ("2024-05", "tenure_months")
    for junk in (None, {}, {"points": []}, {"points": [{"x": "2031-01", "y": "tenure_months"}]}):
        assert monitor.select_cell(junk, store) == (no_update, no_update)


def test_the_chosen_cell_shows_its_verdict_and_distributions(monitor, ui):
    store = _store(monitor)
    detail = monitor.update_cell("2024-06", "monthly_charges", "region=South", store)
    text = ui.texts(detail)
    assert "Wasserstein 0.31 std > 0.1: monthly_charges moved in region South" in text
    assert "drift: past the threshold" in text
    assert "Wasserstein distance 0.31 (drift above 0.1" in text
    assert "v2's training window, Jan 2023–Dec 2023 (12,000 rows)" in text
    assert "Jun 2024 (1,000 rows)" in text
    figure = _graph_figure(detail, ui)
    reference, current = figure.data
    assert list(current.y) == [0.1, 0.25, 0.4, 0.25]
    assert reference.name.startswith("Reference: Jan 2023–Dec 2023")


def test_a_cell_that_was_not_measured_says_why(monitor, ui, empty_warehouse):
    store = _store(monitor)
    empty_warehouse.execute(
        "DELETE FROM drift_results WHERE segment_value = 'North' AND period = '2024-02-01'"
    )
    detail = monitor.update_cell("2024-02", "plan", "region=North", store)
    assert "No drift result for plan in Feb 2024" in ui.texts(detail)
    assert "segment_min_rows" in ui.texts(detail)


def test_prediction_drift_falls_back_to_the_whole_batch(monitor, ui):
    store = _store(monitor)
    figure = _graph_figure(monitor.update_prediction("region=South", store), ui)
    assert "Whole batch (score drift is not stored per segment)" in figure.layout.title.text
    points = figure.data[1]
    assert list(points.y)[-1] == 0.31
    # v2's promotion and its retrain in April are marked on the time axis
    assert any("★ v2" in a.text for a in figure.layout.annotations)


# -- performance and quality ---------------------------------------------------------------------


def test_performance_shows_the_segment_metric_and_the_champions_reference(monitor, ui):
    store = _store(monitor)
    figure = _graph_figure(monitor.update_performance("region=North", "roc_auc", store), ui)
    names = [t.name for t in figure.data if t.name]
    assert "v2 (champion) on its holdout: 0.820" in names
    assert "region = North" in figure.layout.title.text
    realised = next(t for t in figure.data if t.name == "Realised ROC AUC (labels arrived)")
    assert len(realised.y) == 5  # June's labels have not arrived
    f1 = _graph_figure(monitor.update_performance("(all)", "f1", store), ui)
    assert "v2 (champion) on its holdout: 0.550" in [t.name for t in f1.data]
    junk = _graph_figure(monitor.update_performance("(all)", "accuracy", store), ui)
    assert junk.layout.yaxis.title.text == "ROC AUC, higher is better"


def test_quality_draws_the_rules_from_the_settings(monitor, ui):
    figure = _graph_figure(monitor.update_quality(_store(monitor)), ui)
    names = [t.name for t in figure.data]
    assert "rule: missing rate above 10%" in names
    assert "rule: duplicate rate above 5%" in names
    assert names[0] == "tenure_months"  # 12% missing in March: the worst column


# -- alerts --------------------------------------------------------------------------------------


def _row(alerts_flow, alert_id: int, show_all: bool = False) -> dict:
    rows = alerts_flow.update_alerts(show_all, None, None)
    return next(r for r in rows if r["alert_id"] == alert_id)


def test_active_alerts_are_listed_newest_first(alerts_flow):
    rows = alerts_flow.update_alerts(False, None, None)
    assert [r["alert_id"] for r in rows] == [3, 2, 1]
    first = rows[0]
    assert first["severity"] == "warning" and first["status"] == "open"
    assert first["period"] == "Jun 2024" and first["raised"] == "2024-07-01 16:00"
    assert first["handled"] == ""


def test_acknowledging_needs_a_chosen_alert_and_a_comment(alerts_flow, empty_warehouse, ui):
    out = alerts_flow.acknowledge_alert(1, [], "on it")
    assert "Not acknowledged: choose an alert in the table first." in ui.texts(out["feedback"])
    assert out["refresh"] is no_update
    row = _row(alerts_flow, 1)
    out = alerts_flow.acknowledge_alert(1, [row], "  ")
    assert "write a comment (at least 3 characters)" in ui.texts(out["feedback"])
    assert out["invalid"] is True and out["refresh"] is no_update
    assert _status(empty_warehouse, 1)[0] == "open"


def test_an_acknowledged_alert_records_who_and_why_and_the_list_refreshes(
    alerts_flow, empty_warehouse, ui
):
    out = alerts_flow.acknowledge_alert(1, [_row(alerts_flow, 1)], "price change in the South")
    actor = current_actor()
    assert ui.texts(out["feedback"]) == f"Alert #1 acknowledged by {actor}."
    assert out["comment"] == "" and out["invalid"] is False
    assert out["refresh"]["alert"] == 1
    status, by, comment, _ = _status(empty_warehouse, 1)
    assert (status, by, comment) == ("acknowledged", actor, "price change in the South")
    row = _row(alerts_flow, 1)
    assert row["status"] == "acknowledged"
    assert row["handled"].startswith(actor) and row["handled"].endswith(
        ": price change in the South"
    )
    assert alerts_flow.describe_selection([row]).startswith("Alert #1 (warning, acknowledged)")


def test_muting_for_a_week_or_until_resolved(alerts_flow, empty_warehouse):
    before = utcnow()
    alerts_flow.mute_alert(1, [_row(alerts_flow, 3)], "known: new pricing", "7")
    status, _, _, until = _status(empty_warehouse, 3)
    assert status == "muted"
    assert timedelta(days=6, hours=23) < until - before <= timedelta(days=7, seconds=5)
    assert _row(alerts_flow, 3)["status"].startswith("muted until ")
    alerts_flow.mute_alert(1, [_row(alerts_flow, 2)], "duplicates are expected", "resolved")
    assert _status(empty_warehouse, 2)[3] is None
    assert _row(alerts_flow, 2)["status"] == "muted until resolved"


def test_a_resolved_alert_cannot_be_muted_and_shows_only_on_request(
    alerts_flow, empty_warehouse, ui
):
    row = _row(alerts_flow, 2)
    empty_warehouse.execute("UPDATE alerts SET status = 'resolved' WHERE alert_id = 2")
    out = alerts_flow.mute_alert(1, [row], "too late", "1")
    assert "Not muted: alert #2 is already resolved." in ui.texts(out["feedback"])
    assert out["invalid"] is False
    assert 2 not in [r["alert_id"] for r in alerts_flow.update_alerts(False, None, None)]
    assert 2 in [r["alert_id"] for r in alerts_flow.update_alerts(True, None, None)]


def test_handling_alerts_updates_the_health_badge(monitor, alerts_flow, ui):
    assert "2 warning alerts open" in ui.texts(monitor.update_health(None, None))
    for alert_id in (1, 3):
        alerts_flow.mute_alert(1, [_row(alerts_flow, alert_id)], "known: new pricing", "30")
    badge = ui.texts(monitor.update_health(None, {"alert": 3}))
    assert "Model health: Watch" in badge
    assert "Drift in Jun 2024: monthly_charges, the score distribution." in badge


def test_retrain_decisions_are_told_in_words(alerts_flow, ui):
    text = ui.texts(alerts_flow.update_decisions(None))
    assert "Retrained" in text and "Held back: cooldown" in text
    assert "Triggered by drift in the champion's top features on Apr 2024" in text
    assert "monthly_charges drifted in region South" in text
    assert "Trained v2, promoted to champion" in text
    assert "nothing to do" not in text  # a run that decided nothing is left out


def test_a_decision_whose_words_hold_the_gate_outcome_does_not_repeat_it(
    alerts_flow, empty_warehouse, ui
):
    empty_warehouse.execute(
        "UPDATE retrain_decisions SET reason = reason || '; retrained v2; ' || outcome "
        "WHERE decision_id = 1"
    )
    text = ui.texts(alerts_flow.update_decisions(None))
    assert text.count("v2 beat v1 on the holdout; promoted") == 1


# -- empty state and polling ---------------------------------------------------------------------


def test_before_anything_is_monitored_the_page_says_why_and_polls(empty_page, ui):
    page = empty_page.layout()
    ids = empty_page.Ids
    assert page[ids.BODY].hidden is True
    assert "Monitoring starts after the first model scores a month" in ui.texts(page[ids.EMPTY])
    assert page[ids.POLL].interval == POLL_WAITING_MS
    assert "Model health: Not monitored yet" in ui.texts(page[ids.HEALTH])
    out = empty_page.poll_data(1, page[ids.STORE].data, None, None)
    assert out["body_hidden"] is True and out["interval"] == POLL_WAITING_MS


def test_a_running_first_run_is_shown_while_waiting(empty_page, empty_warehouse, ui):
    empty_warehouse.execute(
        "INSERT INTO runs (run_id, trigger, status, started_at, current_step) "
        "VALUES (1, 'schedule', 'running', ?, 'train')",
        [utcnow()],
    )
    text = ui.texts(empty_page.layout()[empty_page.Ids.EMPTY])
    assert "Run #1 is at step “train”" in text


def test_the_first_monitored_months_show_on_the_next_poll(empty_page, empty_warehouse):
    store = empty_page.layout()[empty_page.Ids.STORE].data
    write_monitor_world(empty_warehouse)
    out = empty_page.poll_data(1, store, None, None)
    assert out["body_hidden"] is False and out["interval"] == POLL_READY_MS
    assert out["period"] == "2024-06" and out["feature"] == "monthly_charges"
    assert out["data"]["defaults"]["period"] == "2024-06"
    again = empty_page.poll_data(2, out["data"], "2024-06", "monthly_charges")
    assert all(v is no_update for v in again.values())


def test_a_new_month_moves_a_view_on_the_latest_month_but_not_a_chosen_one(
    monitor, empty_warehouse
):
    store = _store(monitor)
    empty_warehouse.execute(
        "INSERT INTO drift_results SELECT period + INTERVAL 1 MONTH, column_name, kind, "
        "segment_column, segment_value, reference_version, reference_from, reference_to, "
        "method, statistic, threshold, p_value, drifted, severity, rows_reference, "
        "rows_current, histogram, sentence, 7 FROM drift_results WHERE period = '2024-06-01'"
    )
    following = monitor.poll_data(1, store, "2024-06", "monthly_charges")
    assert following["period"] == "2024-07"
    assert following["period_options"][0] == {"label": "Jul 2024", "value": "2024-07"}
    chosen = monitor.poll_data(1, store, "2024-03", "tenure_months")
    assert chosen["period"] is no_update and chosen["feature"] is no_update


# -- the Overview's health badge -----------------------------------------------------------------


def test_the_overview_badge_links_analysts_to_the_monitor_page(monitor, ui):
    overview = importlib.import_module("app.pages.overview")
    server = flask.Flask("test")
    with acting_as(server, Role.ANALYST):
        page = overview.layout()
        badge = page[overview.Ids.HEALTH]
        links = ui.find_all(badge, lambda c: isinstance(c, dcc.Link))
        assert [link.href for link in links] == ["/monitor"]
        assert "Model health: Watch" in ui.texts(badge)
        assert "Model health: Watch" in ui.texts(overview.update_health({"months": []}))
    with acting_as(server, Role.EXECUTIVE):  # the Monitor page is not theirs: no link
        badge = overview.layout()[overview.Ids.HEALTH]
        assert ui.find_all(badge, lambda c: isinstance(c, dcc.Link)) == []
        assert "Model health: Watch" in ui.texts(badge)


def test_the_overview_badge_before_monitoring_says_so(empty_page, ui):
    overview = importlib.import_module("app.pages.overview")
    badge = overview.layout()[overview.Ids.HEALTH]
    assert "Model health: Not monitored yet" in ui.texts(badge)
