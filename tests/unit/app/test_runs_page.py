"""The Runs page: history, step timings, live progress and the Retrain button."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta

from dash import dcc, no_update

from pipeline.warehouse import utcnow


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


def test_live_progress_counts_finished_steps_of_the_active_run(runs_page, warehouse, ui):
    now = utcnow()
    warehouse.execute(
        "INSERT INTO runs VALUES (3, 'schedule', NULL, 'running', ?, NULL, NULL, 'train', NULL, "
        "NULL)",
        [now - timedelta(seconds=30)],
    )
    for position, step in enumerate(["ingest", "validate", "clean"]):
        warehouse.execute(
            "INSERT INTO run_steps VALUES (3, ?, ?, 'succeeded', ?, ?, 1.0, 10, 10, NULL, NULL)",
            [position, step, now, now],
        )
    warehouse.execute(
        "INSERT INTO run_steps VALUES (3, 3, 'train', 'running', ?, NULL, NULL, 10, NULL, NULL, "
        "NULL)",
        [now],
    )
    known = {"signature": "before", "latest": "2"}
    out = runs_page.refresh(4, known, "2")
    progress = ui.find_all(out["live"], lambda c: type(c).__name__ == "Progress")[0]
    assert (progress.value, progress.max, progress.label) == (3, 6, "3 of 6 steps")
    assert "Current step: train" in ui.texts(out["live"])
    assert "30 s elapsed" in ui.texts(out["live"])
    assert out["selected"] == "3"  # someone watching the latest run follows the new one
    again = runs_page.refresh(5, out["version"], "3")
    assert again["history"] is no_update and again["live"] is not no_update


def test_refresh_without_changes_sends_nothing(runs_page):
    known = runs_page.layout()[runs_page.Ids.VERSION].data
    out = runs_page.refresh(1, known, "1")
    assert all(value is no_update for value in out.values())


def test_retrain_passes_the_start_run_answer_through(runs_page, start_run, ui):
    alert = runs_page.retrain(1)
    assert ui.texts(alert) == "Run #12 started" and alert.color == "success"
    start_run.active_run = 11
    alert = runs_page.retrain(2)
    assert ui.texts(alert) == "already running (run #11)" and alert.color == "warning"
    assert start_run.calls == [("manual", None), ("manual", None)]


def test_before_any_run_the_history_explains(make_app, empty_warehouse, ui):
    make_app(empty_warehouse)
    page_module = importlib.import_module("app.pages.runs")
    page = page_module.layout()
    assert "No runs yet" in ui.texts(page[page_module.Ids.HISTORY])
    assert page[page_module.Ids.SELECT].value is None
    card, _ = page_module.show_steps(None, None)
    assert "No run selected" in ui.texts(card)


def test_step_notes_say_what_each_step_did_in_words() -> None:
    from app.pages.runs import step_note

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
    from app.pages.runs import step_note

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
