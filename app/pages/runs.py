"""Runs: the operator page. What the pipeline did, how long each step took, retrain and cancel.

The page polls every two seconds: the progress card follows the active run live and shows how
it ended, the history and step views refresh only when a run or step changed. ``/runs?run=12``
opens run #12's steps. Retrain and Cancel act for the logged-in user and are audited.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.empty import empty_state
from app.figures.formatting import is_missing
from app.figures.runs import step_durations_figure
from app.pages import _runs_actions as actions
from app.pages._runs_live import live_progress
from app.pages._runs_tables import history_table, run_options, steps_table
from app.services import services
from pipeline.warehouse import Warehouse
from pipeline.warehouse.runs import recent_runs, run_steps

dash.register_page(
    __name__,
    path="/runs",
    name="Runs",
    title="Plumbline · Runs",
    order=10,
    role=Role.ANALYST,
    cached=True,  # its layout reads only the warehouse, never the clock
)

HISTORY_LIMIT = 25
TICK_MS = 2_000


class Ids(StrEnum):
    """Component ids of this page."""

    TICK = "runs-tick"
    VERSION = "runs-version"
    RETRAIN = "runs-retrain"
    RETRAIN_ALERT = "runs-retrain-alert"
    CANCEL = "runs-cancel"
    CANCEL_ALERT = "runs-cancel-alert"
    LIVE = "runs-live"
    HISTORY = "runs-history"
    SELECT = "runs-select"
    STEPS_FIGURE = "runs-steps-figure"
    STEPS_TABLE = "runs-steps-table"


def _signature(runs: pd.DataFrame, steps: pd.DataFrame) -> str:
    parts = [
        f"{r.run_id}:{r.status}:{r.current_step}:{r.finished_at}:{r.cancel_requested_by}"
        for r in runs.itertuples()
    ]
    parts += [f"{s.run_id}/{s.step}:{s.status}" for s in steps.itertuples()]
    return "|".join(parts)


def _active_steps(runs: pd.DataFrame, wh: Warehouse) -> pd.DataFrame:
    active = [int(r) for r in runs.loc[runs["status"] == "running", "run_id"]]
    return run_steps(wh, active)


def _active_run(runs: pd.DataFrame) -> int | None:
    """The run the Cancel button stops: the active one, unless it is already being cancelled."""
    active = runs[runs["status"] == "running"]
    if active.empty:
        return None
    run = active.iloc[0]
    return int(run["run_id"]) if is_missing(run.get("cancel_requested_by")) else None


def _version(runs: pd.DataFrame, steps: pd.DataFrame) -> dict[str, Any]:
    """What the page last showed: its signature, the latest run and the run Cancel stops."""
    latest = str(int(runs["run_id"].iloc[0])) if len(runs) else None
    return {"signature": _signature(runs, steps), "latest": latest, "active": _active_run(runs)}


def _polled(wh: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The runs, the active run's steps and the page's version. Every open Runs page asks each
    tick and the answer cache cannot keep the poll (its card counts seconds), so these are read
    once per write to the runs and shared by all of them (not to be changed)."""

    def read() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        runs = recent_runs(wh, HISTORY_LIMIT)
        steps = _active_steps(runs, wh)
        return runs, steps, _version(runs, steps)

    return wh.kept("runs.poll", ["progress"], read)


def _selected(requested: object, runs: pd.DataFrame) -> str | None:
    ids = [str(int(r)) for r in runs["run_id"]]
    if isinstance(requested, str) and requested.strip() in ids:
        return requested.strip()
    return ids[0] if ids else None


# -- layout ----------------------------------------------------------------------------------


def layout(run: object = None, **kwargs: Any) -> html.Div:
    """The page; ``run`` (from ``?run=12``) picks the run whose steps are shown, else the latest."""
    wh = services().warehouse
    runs = recent_runs(wh, HISTORY_LIMIT)
    steps = _active_steps(runs, wh)
    selected = _selected(run, runs)
    version = _version(runs, steps)
    return html.Div(
        [
            dcc.Interval(id=Ids.TICK, interval=TICK_MS),
            dcc.Store(id=Ids.VERSION, data=version),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2("Pipeline runs", className="mb-1"),
                            html.Div(
                                "Each run ingests, validates, cleans, trains and scores.",
                                className="small text-muted",
                            ),
                        ]
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                "Cancel run",
                                id=Ids.CANCEL,
                                color="danger",
                                outline=True,
                                disabled=version["active"] is None,
                                class_name="me-2",
                            ),
                            dbc.Button("Retrain now", id=Ids.RETRAIN, color="primary"),
                        ],
                        width="auto",
                        class_name="align-self-center",
                    ),
                ],
                class_name="mb-3",
            ),
            html.Div(id=Ids.RETRAIN_ALERT),
            html.Div(id=Ids.CANCEL_ALERT),
            html.Div(live_progress(runs, steps, counting=False), id=Ids.LIVE, className="mb-4"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Run history"),
                                dbc.CardBody(html.Div(history_table(runs), id=Ids.HISTORY)),
                            ]
                        ),
                        lg=7,
                        class_name="mb-4",
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(
                                    dbc.Row(
                                        [
                                            dbc.Col(
                                                "Steps of",
                                                width="auto",
                                                class_name="align-self-center",
                                            ),
                                            dbc.Col(
                                                dbc.Select(
                                                    id=Ids.SELECT,
                                                    options=run_options(runs),
                                                    value=selected,
                                                    size="sm",
                                                )
                                            ),
                                        ],
                                        class_name="g-2",
                                    )
                                ),
                                dbc.CardBody(
                                    [html.Div(id=Ids.STEPS_FIGURE), html.Div(id=Ids.STEPS_TABLE)]
                                ),
                            ]
                        ),
                        lg=5,
                        class_name="mb-4",
                    ),
                ]
            ),
        ],
        className="runs-page",
    )


# -- callbacks -------------------------------------------------------------------------------

REFRESHED = ("live", "history", "options", "selected", "version", "cancel")


@callback(
    Output(Ids.RETRAIN_ALERT, "children"),
    Input(Ids.RETRAIN, "n_clicks"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="retrain")
def retrain(n_clicks: int | None) -> dbc.Alert:
    """Ask the owner process for a manual run by the acting user and say what it answered."""
    return actions.retrain()


@callback(
    Output(Ids.CANCEL_ALERT, "children"),
    Input(Ids.CANCEL, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="cancel")
def cancel(n_clicks: int | None, version: dict | None) -> dbc.Alert:
    """Ask the owner process to cancel the active run the page shows, and say what it answered."""
    return actions.cancel((version or {}).get("active"))


@callback(
    output={
        "live": Output(Ids.LIVE, "children"),
        "history": Output(Ids.HISTORY, "children"),
        "options": Output(Ids.SELECT, "options"),
        "selected": Output(Ids.SELECT, "value"),
        "version": Output(Ids.VERSION, "data"),
        "cancel": Output(Ids.CANCEL, "disabled"),
    },
    inputs={
        "tick": Input(Ids.TICK, "n_intervals"),
        "known": State(Ids.VERSION, "data"),
        "selected": State(Ids.SELECT, "value"),
    },
)
@requires(Role.ANALYST)
def refresh(tick: int | None, known: dict | None, selected: str | None) -> dict[str, Any]:
    """Live progress every tick, and as the page loads (its layout, a cached answer, does not
    count seconds); history, selection and Cancel only when a run or step changed.

    A run that has just ended changes the signature, so its outcome (the gate's decision, the
    error, who cancelled it) replaces the progress bar on the next tick.
    """
    runs, steps, version = _polled(services().warehouse)
    known = known or {}
    busy = bool((runs["status"] == "running").any())
    if known.get("signature") == version["signature"]:
        unchanged: dict[str, Any] = dict.fromkeys(REFRESHED, no_update)
        # As the page loads (no tick yet) the version goes back as it came: the steps panel
        # follows it, waits for this answer, and would not draw if it said "no update".
        first = {"version": version} if not tick else {}
        return {**unchanged, **first, "live": live_progress(runs, steps) if busy else no_update}
    latest = version["latest"]
    # Someone watching the latest run follows the next one; a chosen older run stays.
    follow = selected is None or selected == known.get("latest")
    return {
        "live": live_progress(runs, steps),
        "history": history_table(runs),
        "options": run_options(runs),
        "selected": latest if follow and latest != selected else no_update,
        "version": version,
        "cancel": version["active"] is None,
    }


@callback(
    Output(Ids.STEPS_FIGURE, "children"),
    Output(Ids.STEPS_TABLE, "children"),
    Input(Ids.SELECT, "value"),
    Input(Ids.VERSION, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def show_steps(selected: str | None, version: dict | None) -> tuple[Any, Any]:
    """The selected run's step timings as a chart and a table."""
    if selected is None:
        return empty_state(
            "No run selected", "There are no runs to show yet.", tone="secondary"
        ), None
    try:
        run_id = int(selected)
    except (TypeError, ValueError):
        return empty_state(
            "No such run", f"“{selected}” is not a run number.", tone="warning"
        ), None
    steps = run_steps(services().warehouse, [run_id])
    if steps.empty:
        return empty_state(
            f"Run #{run_id} has no steps yet",
            "Steps appear here as soon as the run starts them.",
            tone="secondary",
        ), None
    figure = dcc.Graph(
        figure=step_durations_figure(steps, run_id),
        config={"displaylogo": False, "displayModeBar": False},
    )
    return figure, steps_table(steps)
