"""The Runs page's live card: the active run's progress, or how the last run ended.

While a run is active the card shows a progress bar (finished steps out of the run's steps,
labelled with the current step), the current step's own time and the run's elapsed time, and
"cancelling" once someone asked it to stop. When the run ends, the next poll replaces it with the
outcome: the gate's decision of a training run, a person's promotion, what was scored and
monitored, or the error or the cancellation.
"""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.figures.formatting import format_duration, is_missing
from app.pages._runs_tables import cancelling_by, elapsed_s, note_of, status_badge, timestamp
from pipeline.flow import STEPS as PIPELINE_STEPS

FINISHED = {"succeeded", "skipped"}  # steps that count as done on the progress bar
ONE_STEP_TRIGGERS = ("promotion", "rollback")  # a person's promotion or rollback is one step


def live_progress(runs: pd.DataFrame, steps: pd.DataFrame, *, counting: bool = True) -> dbc.Card:
    """The active run's progress, or what happened in the last run.

    ``counting=False`` leaves out the seconds (which read the clock): the page's layout, a
    cached answer, shows the card that way until its first poll, sent as it loads, counts.
    """
    active = runs[runs["status"] == "running"]
    if active.empty:
        return last_run_card(runs)
    run = active.iloc[0]
    run_id = int(run["run_id"])
    mine = steps[steps["run_id"] == run_id] if len(steps) else steps
    done = int(mine["status"].isin(FINISHED).sum()) if len(mine) else 0
    planned = 1 if run["trigger"] in ONE_STEP_TRIGGERS else len(PIPELINE_STEPS)
    total = max(planned, len(mine))
    step = "starting" if is_missing(run["current_step"]) else str(run["current_step"])
    who = "" if is_missing(run["triggered_by"]) else f" by {run['triggered_by']}"
    stopping = cancelling_by(run)
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Strong(f"Run #{run_id} in progress"),
                        html.Span(
                            f" · {run['trigger']}{who} · started {timestamp(run['started_at'])}",
                            className="text-muted",
                        ),
                    ],
                    className="mb-2",
                ),
                dbc.Progress(
                    value=done,
                    max=total,
                    label=f"{done} of {total} steps · {'cancelling' if stopping else step}",
                    striped=True,
                    animated=True,
                    color="warning" if stopping else "info",
                    class_name="mb-2 run-progress",
                    style={"height": "1.4rem"},
                ),
                html.Div(
                    ["Current step: ", html.Strong(step)]
                    + (
                        [
                            _step_time(mine, step),
                            f" · {_whole(elapsed_s(run['started_at']))} elapsed",
                        ]
                        if counting
                        else []
                    )
                ),
                *([_cancelling_note(stopping)] if stopping else []),
            ]
        ),
        class_name=f"live-card border-{'warning' if stopping else 'info'}",
    )


def _whole(seconds: float) -> str:
    """Whole seconds under a minute ("30 s"), else minutes and seconds ("2 min 5 s")."""
    return f"{int(seconds)} s" if seconds < 60 else format_duration(seconds)


def _step_time(steps: pd.DataFrame, step: str) -> str:
    if steps.empty:
        return ""
    running = steps[(steps["step"] == step) & (steps["status"] == "running")]
    if running.empty:
        return ""
    return f" ({_whole(elapsed_s(running['started_at'].iloc[0]))} so far)"


def _cancelling_note(who: str) -> html.Div:
    return html.Div(
        f"Cancelling: asked by {who}. The run stops before its next step, or at once while a "
        "model is being trained or scored; nothing it computed is published.",
        className="small text-warning-emphasis mt-1 cancelling-note",
    )


def last_run_card(runs: pd.DataFrame) -> dbc.Card:
    """No run is active: how the newest run ended, with its outcome in words."""
    if runs.empty:
        body: list[Any] = [html.Div("No run has started yet.", className="mb-0")]
        return dbc.Card(dbc.CardBody(body), class_name="live-card")
    last = runs.iloc[0]
    when = timestamp(
        last["finished_at"] if not is_missing(last["finished_at"]) else last["started_at"]
    )
    body = [
        html.Div(
            [
                "No run in progress. Last run ",
                html.Strong(f"#{int(last['run_id'])}"),
                " ",
                status_badge(last["status"]),
                f" at {when}, took {format_duration(last['duration_s'])}.",
            ],
            className="mb-0",
        )
    ]
    lines = outcome_lines(last)
    if lines:
        body.append(
            html.Ul(
                [html.Li(line) for line in lines],
                className="small mb-0 mt-2 ps-3 run-outcome",
            )
        )
    return dbc.Card(dbc.CardBody(body), class_name="live-card")


def outcome_lines(run: pd.Series) -> list[str]:
    """What a finished run did, in sentences: the model decision first, then scoring and
    monitoring; the error of a failed run; who cancelled a cancelled one."""
    status = run["status"]
    error = None if is_missing(run.get("error")) else str(run["error"])
    if status == "failed":
        return [f"Stopped with: {error or 'no error recorded'}."]
    if status == "cancelled":
        said = error or "cancelled"
        return [f"{said[0].upper()}{said[1:]}; nothing it computed was published."]
    summary = _summary(run.get("summary"))
    model = _model_line(summary)
    lines = [model] if model else []
    for step in ("score", "monitor"):
        if step in summary and isinstance(summary[step], dict):
            note = note_of(summary[step])
            if note and not summary[step].get("skipped"):
                lines.append(f"{note[0].upper()}{note[1:]}.")
    return lines


def _summary(value: object) -> dict[str, Any]:
    if is_missing(value):
        return {}
    try:
        found = json.loads(str(value))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _model_line(summary: dict[str, Any]) -> str | None:
    """The gate's decision of a training run, a person's promotion, or why nothing trained."""
    promote = summary.get("promote")
    if isinstance(promote, dict) and promote.get("reason"):
        reason = str(promote["reason"])
        return f"{reason[0].upper()}{reason[1:]}."
    train = summary.get("train")
    if not isinstance(train, dict):
        return None
    if train.get("skipped"):
        return f"No new model: {train['skipped']}."
    if "decision" not in train:
        return None
    return decision_sentence(train.get("version"), str(train["decision"]))


def decision_sentence(version: object, decision: str) -> str:
    """ "Model v3 promoted: beat v2 on 2024-06 (...)" or "Model v3 kept as challenger: ...".

    Every summary :func:`pipeline.gate.decide` writes for a version it does not promote says
    "stays challenger"; the Runs page tests hold this page to that wording.
    """
    v = f"v{version}"
    kept = "stays challenger" in decision
    said = decision
    for prefix in (f"{v} stays challenger: ", f"{v} "):
        if said.startswith(prefix):
            said = said[len(prefix) :]
            break
    head = f"Model {v} kept as challenger" if kept else f"Model {v} promoted"
    return f"{head}: {said}"
