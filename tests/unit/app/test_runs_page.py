"""The Runs page: history, step timings, live progress, and the Retrain and Cancel buttons."""

from __future__ import annotations

import importlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import flask
import pandas as pd
import pytest
from dash import dcc, no_update

from app import answer_cache
from app.auth import Role, SessionUser, needed_role
from app.components.waiting import Words, latest_run_card
from app.services import Services, install
from pipeline import gate
from pipeline.runner import CancelRequest
from pipeline.settings import PromotionSettings
from pipeline.warehouse import utcnow
from pipeline.warehouse.audit import list_events

RUN_COLUMNS = "run_id, trigger, triggered_by, status, started_at, current_step"


@contextmanager
def logged_in(app, username: str = "ana", role: Role = Role.ANALYST):
    """A request by ``username``, as the login gate leaves it for a callback."""
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        flask.g.plumbline_user = SessionUser(username, role)
        yield


@dataclass
class FakeRunner:
    """An owner process whose Runner answers cancel requests with ``answer``."""

    answer: CancelRequest | None = None
    cancels: list[tuple[int, str]] = field(default_factory=list)

    def start_run(self, trigger: str, user: str | None = None, **flow) -> None:
        raise AssertionError("not started in these tests")

    def cancel(self, run_id: int, by: str) -> CancelRequest:
        self.cancels.append((run_id, by))
        return self.answer or CancelRequest(True, run_id, f"Cancelling run #{run_id}…")


@pytest.fixture
def runner(runs_page, settings, warehouse) -> FakeRunner:
    """The fake runner installed as ``plumbline serve`` installs the real one."""
    fake = FakeRunner()
    install(
        Services(
            settings=settings,
            warehouse=warehouse,
            start_run=fake.start_run,
            cancel_run=fake.cancel,
        )
    )
    return fake


def _running_run(warehouse, run_id: int = 3, seconds: int = 30, cancel_by: str | None = None):
    """Run ``run_id`` started ``seconds`` ago, three steps done and ``train`` running for 12 s."""
    now = utcnow()
    warehouse.execute(
        f"INSERT INTO runs ({RUN_COLUMNS}, cancel_requested_by) "
        "VALUES (?, 'schedule', NULL, 'running', ?, 'train', ?)",
        [run_id, now - timedelta(seconds=seconds), cancel_by],
    )
    for position, step in enumerate(["ingest", "validate", "clean"]):
        warehouse.execute(
            "INSERT INTO run_steps VALUES (?, ?, ?, 'succeeded', ?, ?, 1.0, 10, 10, NULL, NULL)",
            [run_id, position, step, now, now],
        )
    warehouse.execute(
        "INSERT INTO run_steps VALUES (?, 3, 'train', 'running', ?, NULL, NULL, 10, NULL, NULL, "
        "NULL)",
        [run_id, now - timedelta(seconds=12)],
    )


def _finished_run(warehouse, run_id: int, status: str, summary: dict | None, error=None):
    now = utcnow()
    warehouse.execute(
        f"INSERT INTO runs ({RUN_COLUMNS}, finished_at, duration_s, error, summary) "
        "VALUES (?, 'manual', 'ana', ?, ?, NULL, ?, 42.0, ?, ?)",
        [run_id, status, now - timedelta(seconds=42), now, error, json.dumps(summary or {})],
    )


def test_history_lists_runs_newest_first_with_status_and_error(runs_page, ui):
    page = runs_page.layout()
    history = page[runs_page.Ids.HISTORY]
    rows = ui.find_all(history, lambda c: type(c).__name__ == "Tr")[1:]
    assert [ui.texts(r.children[0]) for r in rows] == ["#2", "#1"]
    failed = ui.texts(rows[0])
    assert "manual" in failed and "alice" in failed and "failed" in failed
    assert "clean: 3 rows have negative monthly_charges" in failed
    assert rows[0].children[0].children.href == "/runs?run=2"


def test_the_latest_run_is_selected_unless_the_url_names_another(runs_page):
    assert runs_page.layout()[runs_page.Ids.SELECT].value == "2"
    assert runs_page.layout(run="1")[runs_page.Ids.SELECT].value == "1"
    assert runs_page.layout(run="99; DROP")[runs_page.Ids.SELECT].value == "2"


def test_step_timings_of_a_run_as_chart_and_table(runs_page, ui):
    graph, table = runs_page.show_steps("1", None)
    assert isinstance(graph, dcc.Graph)
    assert graph.figure.layout.title.text == "Step durations of run #1 (seconds)"
    assert sorted(graph.figure.data[0].y) == sorted(
        ["ingest", "validate", "clean", "train", "score"]
    )
    rows = ui.find_all(table, lambda c: type(c).__name__ == "Tr")[1:]
    assert ui.texts(rows[3]).split() == ["train", "succeeded", "160", "158", "40.0", "s"]


def test_a_running_step_says_since_when_without_reading_the_clock(runs_page, warehouse, ui):
    # The steps panel is a cached answer: the live card counts the seconds, not this panel.
    _running_run(warehouse)
    started = warehouse.rows("SELECT started_at FROM run_steps WHERE status = 'running'")[0][0]
    with flask.Flask(__name__).test_request_context():
        graph, table = runs_page.show_steps("3", None)
        assert not getattr(flask.g, answer_cache._CLOCK, False)
    rows = ui.find_all(table, lambda c: type(c).__name__ == "Tr")[1:]
    assert ui.texts(rows[3]).split() == [
        "train",
        "running",
        "10",
        "—",
        "since",
        f"{started:%H:%M:%S}",
    ]
    bars = {trace.name: trace for trace in graph.figure.data}
    assert list(bars["running"].y) == ["train"] and list(bars["running"].text) == ["running"]
    assert list(bars["running"].x) == [0.0]


def test_a_failed_step_shows_its_error(runs_page, ui):
    _, table = runs_page.show_steps("2", None)
    assert "3 rows have negative monthly_charges" in ui.texts(table)


def test_an_unknown_run_explains_instead_of_failing(runs_page, ui):
    card, table = runs_page.show_steps("41", None)
    assert "Run #41 has no steps yet" in ui.texts(card) and table is None
    card, _ = runs_page.show_steps("abc", None)
    assert "not a run number" in ui.texts(card)


def test_without_an_active_run_the_live_card_says_what_happened_last(runs_page, ui):
    text = ui.texts(runs_page.layout()[runs_page.Ids.LIVE])
    assert "No run in progress" in text and "#2" in text and "failed" in text


def test_live_progress_shows_the_step_and_elapsed_time_of_the_active_run(runs_page, warehouse, ui):
    _running_run(warehouse)
    known = {"signature": "before", "latest": "2"}
    out = runs_page.refresh(4, known, "2")
    progress = ui.find_all(out["live"], lambda c: type(c).__name__ == "Progress")[0]
    assert (progress.value, progress.max, progress.label) == (3, 6, "3 of 6 steps · train")
    text = ui.texts(out["live"])
    assert "Current step: train (12 s so far) · 30 s elapsed" in text
    assert out["selected"] == "3"  # someone watching the latest run follows the new one
    assert out["cancel"] is False and out["version"]["active"] == 3
    again = runs_page.refresh(5, out["version"], "3")
    assert again["history"] is no_update and again["live"] is not no_update


def test_a_long_run_counts_its_elapsed_time_in_minutes(runs_page, warehouse, ui):
    _running_run(warehouse, seconds=125)
    page = runs_page.layout()
    known, selected = page[runs_page.Ids.VERSION].data, page[runs_page.Ids.SELECT].value
    text = ui.texts(runs_page.refresh(None, known, selected)["live"])
    assert "2 min 5 s elapsed" in text


def test_the_layout_never_reads_the_clock_its_first_poll_counts(app, runs_page, warehouse, ui):
    # The layout is a cached answer; the poll that counts is sent as the page loads.
    _running_run(warehouse)
    with flask.Flask(__name__).test_request_context():
        page = runs_page.layout()
        assert not getattr(flask.g, answer_cache._CLOCK, False)
    live = ui.texts(page[runs_page.Ids.LIVE])
    assert live.endswith("Current step: train") and "elapsed" not in live
    history = ui.texts(page[runs_page.Ids.HISTORY])
    assert "in progress" in history and "so far" not in history
    polls = [c for c in app._callback_list if f"{runs_page.Ids.LIVE}.children" in c["output"]]
    assert polls and not polls[0]["prevent_initial_call"]


def test_a_run_being_cancelled_says_who_asked_and_cancel_is_disabled(runs_page, warehouse, ui):
    _running_run(warehouse, cancel_by="bob")
    out = runs_page.refresh(4, {"signature": "before", "latest": "2"}, "2")
    progress = ui.find_all(out["live"], lambda c: type(c).__name__ == "Progress")[0]
    assert progress.label == "3 of 6 steps · cancelling" and progress.color == "warning"
    assert "Cancelling: asked by bob" in ui.texts(out["live"])
    assert "cancelling (asked by bob)" in ui.texts(out["history"])
    assert out["cancel"] is True and out["version"]["active"] is None


def test_cancel_is_enabled_only_while_a_run_is_active(runs_page, warehouse):
    page = runs_page.layout()
    assert page[runs_page.Ids.CANCEL].disabled is True
    _running_run(warehouse)
    page = runs_page.layout()
    assert page[runs_page.Ids.CANCEL].disabled is False
    assert page[runs_page.Ids.VERSION].data["active"] == 3


def _decision(new_auc: float, old_auc: float = 0.80) -> str:
    """The summary the real gate writes for v3 against champion v2 on 2024-03."""
    metrics = {"nan_predictions": 0, "flag_rate": 0.2}
    return gate.decide(
        gate.Evaluation(3, {**metrics, "roc_auc": new_auc}),
        gate.Evaluation(2, {**metrics, "roc_auc": old_auc}),
        PromotionSettings(),
        "2024-03",
    ).summary


def test_a_finished_training_run_shows_the_gates_decision_without_a_reload(
    runs_page, warehouse, ui
):
    _running_run(warehouse)
    watching = runs_page.refresh(1, {"signature": "before", "latest": "2"}, "2")
    warehouse.execute("DELETE FROM runs WHERE run_id = 3")
    summary = {
        "train": {"version": 3, "decision": _decision(0.83), "policy": "schedule; retrained v3"},
        "score": {"model_version": 3, "periods": ["2024-04-01"]},
    }
    _finished_run(warehouse, 3, "succeeded", summary)
    out = runs_page.refresh(2, watching["version"], "3")
    text = ui.texts(out["live"])
    assert "No run in progress. Last run #3 succeeded" in text
    assert "Model v3 promoted: beat v2 on 2024-03 (ROC AUC 0.830 vs 0.800" in text
    assert "Scored 2024-04-01 with v3." in text
    assert out["cancel"] is True


def test_a_challenger_is_said_to_be_kept(runs_page, warehouse, ui):
    _finished_run(warehouse, 3, "succeeded", {"train": {"version": 3, "decision": _decision(0.7)}})
    text = ui.texts(runs_page.layout()[runs_page.Ids.LIVE])
    assert "Model v3 kept as challenger: did not beat v2 on 2024-03 (ROC AUC 0.700" in text


def test_a_promotion_run_and_a_run_without_training_say_so(runs_page, warehouse, ui):
    promoted = {"promote": {"version": 1, "reason": "rolled back to v1 by ana (was v2): bad"}}
    _finished_run(warehouse, 3, "succeeded", promoted)
    assert "Rolled back to v1 by ana (was v2): bad." in ui.texts(runs_page.layout())
    _finished_run(warehouse, 4, "succeeded", {"train": {"skipped": "no new labels since v2"}})
    assert "No new model: no new labels since v2." in ui.texts(runs_page.layout())


def test_a_cancelled_run_reads_as_cancelled_not_failed(runs_page, warehouse, ui):
    error = "cancelled by bob at 12:00:01 UTC"
    _finished_run(warehouse, 3, "cancelled", None, error=error)
    page = runs_page.layout()
    live = ui.texts(page[runs_page.Ids.LIVE])
    assert "Last run #3 cancelled" in live
    assert "Cancelled by bob at 12:00:01 UTC; nothing it computed was published." in live
    newest = ui.find_all(page[runs_page.Ids.HISTORY], lambda c: type(c).__name__ == "Tr")[1]
    [badge] = ui.by_class(newest, "status-badge")
    assert (badge.children, badge.color) == ("cancelled", "secondary")
    [shown] = ui.by_class(newest, "error-text")
    assert shown.children == error and "text-muted" in shown.className


def test_a_cancelled_run_explains_itself_on_a_waiting_page(ui):
    words = Words("t", "r", "h")
    runs = pd.DataFrame(
        [{"run_id": 7, "status": "cancelled", "error": "cancelled by bob at 12:00:01 UTC"}]
    )
    card = latest_run_card(
        runs, no_run=words, running=words, failed=words, finished=words, why="No scores yet."
    )
    text = ui.texts(card)
    assert "The last run was cancelled" in text
    assert "Run #7 was cancelled by bob at 12:00:01 UTC before it published anything." in text


def test_refresh_without_changes_sends_nothing(runs_page):
    known = runs_page.layout()[runs_page.Ids.VERSION].data
    out = runs_page.refresh(1, known, "1")
    assert all(value is no_update for value in out.values())
    # As the page loads, the version goes back so that the steps panel following it draws.
    first = runs_page.refresh(0, known, "1")
    assert first["version"] == known
    assert all(value is no_update for key, value in first.items() if key != "version")


def test_the_poll_reads_the_runs_again_only_after_a_write(runs_page, warehouse, monkeypatch):
    # Every open Runs page polls each tick: the runs are read once per write, for all of them.
    reads = []
    recent_runs = runs_page.recent_runs
    monkeypatch.setattr(runs_page, "recent_runs", lambda *a: reads.append(1) or recent_runs(*a))
    known = runs_page.layout()[runs_page.Ids.VERSION].data
    reads.clear()
    runs_page.refresh(1, known, "1")
    runs_page.refresh(2, known, "1")
    assert len(reads) == 1
    _running_run(warehouse)  # "progress" writes
    out = runs_page.refresh(3, known, "1")
    assert len(reads) == 2 and out["version"]["active"] == 3


def test_retrain_starts_a_run_for_the_logged_in_user_and_audits_it(
    app, runs_page, start_run, warehouse, ui
):
    with logged_in(app, "ana"):
        alert = runs_page.retrain(1)
    assert ui.texts(alert) == "Run #12 started" and alert.color == "success"
    start_run.active_run = 11
    with logged_in(app, "ana"):
        alert = runs_page.retrain(2)
    assert ui.texts(alert) == "already running (run #11)" and alert.color == "warning"
    assert start_run.calls == [("manual", "ana"), ("manual", "ana")]
    events = list_events(warehouse, action="retrain").sort_values("event_id")
    assert list(events.actor) == ["ana", "ana"] and set(events.role) == {"analyst"}
    assert list(events.target) == ["run #12", "run #11"]
    assert list(events.outcome) == ["ok", "refused"]
    assert events.detail.iloc[1] == "already running (run #11)"


def test_cancel_asks_the_runner_to_stop_the_run_the_page_shows(
    app, runs_page, runner, warehouse, ui
):
    with logged_in(app, "bob"):
        alert = runs_page.cancel(1, {"active": 3})
    assert ui.texts(alert) == "Cancelling run #3…" and alert.color == "info"
    assert runner.cancels == [(3, "bob")]
    [event] = list_events(warehouse, action="cancel").itertuples()
    assert (event.actor, event.target, event.outcome) == ("bob", "run #3", "ok")


@pytest.mark.parametrize(
    "message", ["run #3 is not running", "too late: run #3 is publishing its results"]
)
def test_a_refused_cancel_is_shown_and_audited_as_refused(
    app, runs_page, runner, warehouse, ui, message
):
    runner.answer = CancelRequest(False, 3, message)
    with logged_in(app):
        alert = runs_page.cancel(1, {"active": 3})
    assert ui.texts(alert) == message and alert.color == "warning"
    [event] = list_events(warehouse, action="cancel").itertuples()
    assert (event.outcome, event.detail) == ("refused", message)


def test_cancel_without_an_active_run_asks_nobody(app, runs_page, runner, warehouse, ui):
    with logged_in(app):
        alert = runs_page.cancel(1, {"active": None})
    assert "No run is in progress" in ui.texts(alert)
    assert runner.cancels == []
    assert list(list_events(warehouse, action="cancel").outcome) == ["refused"]


def test_retrain_and_cancel_are_analyst_actions(runs_page):
    assert needed_role(runs_page.retrain) == (Role.ANALYST, "retrain")
    assert needed_role(runs_page.cancel) == (Role.ANALYST, "cancel")
    for read in (runs_page.refresh, runs_page.show_steps):
        assert needed_role(read) == (Role.ANALYST, None)


def test_before_any_run_the_history_explains(make_app, empty_warehouse, ui):
    make_app(empty_warehouse)
    page_module = importlib.import_module("app.pages.runs")
    page = page_module.layout()
    assert "No runs yet" in ui.texts(page[page_module.Ids.HISTORY])
    assert page[page_module.Ids.SELECT].value is None
    card, _ = page_module.show_steps(None, None)
    assert "No run selected" in ui.texts(card)


def test_step_notes_say_what_each_step_did_in_words() -> None:
    from app.pages._runs_tables import step_note

    assert step_note('{"skipped": "no new labels since model v3"}') == (
        "skipped: no new labels since model v3"
    )
    assert step_note('{"version": 4, "decision": "challenger: v4 ROC AUC 0.70 < champion"}') == (
        "v4: challenger: v4 ROC AUC 0.70 < champion"
    )
    assert (
        step_note(
            '{"accepted": 41900, "quarantined": 120, "duplicates_removed": 118, "labels": 42000}'
        )
        == "41,900 accepted, 120 quarantined, 118 duplicates, 42,000 labels"
    )
    assert step_note(None) == ""
    assert step_note("not json") == ""


def test_the_policy_and_the_monitor_step_say_what_they_did() -> None:
    from app.pages._runs_tables import step_note

    policy = "drift on contract_type in region South (2025-06); retrained v2; v2 beat v1; promoted"
    assert step_note(json.dumps({"version": 2, "decision": "v2 beat v1", "policy": policy})) == (
        policy
    )
    monitored = {
        "periods": ["2025-06"],
        "drift_cells": 140,
        "drifted": ["contract_type in region South", "monthly_charges in region South",
                    "region in contract_type month-to-month", "tenure_months"],
        "alerts": ["...", "..."],
    }  # fmt: skip
    assert step_note('{"monitoring_failed": "RuntimeError: boom"}') == (
        "monitoring failed (predictions published): RuntimeError: boom"
    )
    assert step_note(json.dumps(monitored)) == (
        "monitored 2025-06: 4 drifted column/segment pair(s) (contract_type in region South, "
        "monthly_charges in region South, region in contract_type month-to-month, ...); "
        "2 alert rule(s) fired"
    )
