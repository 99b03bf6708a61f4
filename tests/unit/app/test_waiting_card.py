"""The waiting card every page shows before its first results, told from the newest run."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from app.components.waiting import Words, latest_run_card

NOW = datetime(2024, 6, 1, 12, 0, 0)
WORDS = {
    "why": "Results need a run.",
    "no_run": Words("Nothing yet", "{why}", "Wait a moment."),
    "running": Words("Working", "{why} Run #{run_id} is {doing} ({elapsed} s so far).", "Soon."),
    "failed": Words("Failed", "{why} Run #{run_id} stopped with: {error}.", "See Runs."),
    "finished": Words("Still nothing", "Run #{run_id} gave no results.", "Next run.", "warning"),
}


def _runs(status: str, step: str | None = None, error: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": 7,
                "status": status,
                "started_at": pd.Timestamp("2024-06-01 11:59:30"),
                "current_step": step,
                "error": error,
            }
        ]
    )


def _no_runs() -> pd.DataFrame:
    return pd.DataFrame(columns=["run_id", "status", "started_at", "current_step", "error"])


def test_each_state_of_the_newest_run_gets_its_own_words_and_tone(ui):
    cases = [
        (_no_runs(), "Nothing yet Results need a run. Wait a moment.", "border-secondary"),
        (_runs("running", "train"), "Run #7 is at step “train” (30 s so far).", "border-info"),
        (_runs("running"), "Run #7 is starting (30 s so far).", "border-info"),
        (_runs("failed", error="ingest: no files"), "stopped with: ingest: no files.", "danger"),
        (_runs("failed"), "Run #7 stopped with: no error recorded.", "border-danger"),
        (_runs("succeeded"), "Still nothing Run #7 gave no results. Next run.", "border-warning"),
    ]
    for runs, said, tone in cases:
        card = latest_run_card(runs, now=NOW, **WORDS)
        assert said in ui.texts(card)
        assert tone in card.class_name


def test_a_running_run_shows_a_spinner_and_the_pages_own_step_verb(ui):
    card = latest_run_card(_runs("running", "score"), now=NOW, step_verb="running step", **WORDS)
    assert "Run #7 is running step “score”" in ui.texts(card)
    assert "Spinner" in repr(card)


def test_words_that_depend_on_the_run_are_used_as_they_are(ui):
    # Text read from the run may hold braces; it must not be taken for a template field.
    words = {**WORDS, "finished": lambda run_id: Words("Nothing", f"Run #{run_id} said {{x}}.", "")}
    card = latest_run_card(_runs("succeeded"), now=NOW, **words)
    assert "Run #7 said {x}." in ui.texts(card)


def test_a_clock_behind_the_runs_start_never_shows_negative_seconds(ui):
    runs = _runs("running").assign(started_at=pd.Timestamp("2024-06-01 12:00:05"))
    assert "(0 s so far)" in ui.texts(latest_run_card(runs, now=NOW, **WORDS))
