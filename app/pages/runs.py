"""Runs: the operator page. What the pipeline did, how long each step took, and retraining.

The page polls every two seconds: the progress card follows the active run live, the history and
step views refresh only when a run or step changed. ``/runs?run=12`` opens run #12's steps.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app.components.empty import empty_state
from app.figures.formatting import format_count, format_duration, is_missing
from app.figures.runs import step_durations_figure
from app.services import services
from pipeline.flow import STEPS as FLOW_STEPS
from pipeline.warehouse import utcnow
from pipeline.warehouse.runs import recent_runs, run_steps

dash.register_page(__name__, path="/runs", name="Runs", title="Plumbline · Runs", order=10)

# The flow's steps in order; the progress bar counts finished ones out of these.
PIPELINE_STEPS = FLOW_STEPS
HISTORY_LIMIT = 25
TICK_MS = 2_000
ERROR_PREVIEW = 160

STATUS_BADGE = {
    "running": "info",
    "succeeded": "success",
    "failed": "danger",
    "skipped": "secondary",
}
FINISHED = {"succeeded", "skipped"}


class Ids(StrEnum):
    """Component ids of this page."""

    TICK = "runs-tick"
    VERSION = "runs-version"
    RETRAIN = "runs-retrain"
    RETRAIN_ALERT = "runs-retrain-alert"
    LIVE = "runs-live"
    HISTORY = "runs-history"
    SELECT = "runs-select"
    STEPS_FIGURE = "runs-steps-figure"
    STEPS_TABLE = "runs-steps-table"


# -- small formatters ------------------------------------------------------------------------


def status_badge(status: str) -> dbc.Badge:
    """A coloured pill for a run or step status."""
    return dbc.Badge(
        status, color=STATUS_BADGE.get(status, "secondary"), pill=True, class_name="status-badge"
    )


def _timestamp(value: object) -> str:
    if is_missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S") + " UTC"  # type: ignore[arg-type]


def _elapsed_s(started_at: object) -> float:
    return max(0.0, (utcnow() - pd.Timestamp(started_at)).total_seconds())  # type: ignore[arg-type]


def _error_text(error: object) -> html.Span:
    """An error's first line, shortened; the whole text is in the tooltip."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    short = first if len(first) <= ERROR_PREVIEW else first[: ERROR_PREVIEW - 1] + "…"
    return html.Span(short, title=text, className="text-danger error-text")


def _run_duration(run: pd.Series) -> str:
    if run["status"] == "running":
        return format_duration(_elapsed_s(run["started_at"])) + " so far"
    return format_duration(run["duration_s"])


def _step_or_error(run: pd.Series) -> Any:
    if run["status"] == "running":
        step = run["current_step"]
        return html.Span(["running ", html.Strong(step)]) if not is_missing(step) else "starting"
    if not is_missing(run["error"]):
        return _error_text(run["error"])
    return html.Span("—", className="text-muted")


# -- building blocks -------------------------------------------------------------------------


def history_table(runs: pd.DataFrame) -> Any:
    """The run history, newest first; each id opens that run's steps."""
    if runs.empty:
        return empty_state(
            "No runs yet",
            "The pipeline has not run in this data directory yet.",
            "The scheduler starts runs on its own; “Retrain now” starts one immediately.",
            tone="secondary",
        )
    header = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Run", "Trigger", "By", "Status", "Started", "Duration", "Step / error")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(f"#{int(r['run_id'])}", href=f"/runs?run={int(r['run_id'])}")),
                html.Td(r["trigger"]),
                html.Td("—" if is_missing(r["triggered_by"]) else r["triggered_by"]),
                html.Td(status_badge(r["status"])),
                html.Td(_timestamp(r["started_at"]), className="text-nowrap"),
                html.Td(_run_duration(r), className="text-nowrap"),
                html.Td(_step_or_error(r)),
            ]
        )
        for _, r in runs.iterrows()
    ]
    return dbc.Table(
        [header, html.Tbody(rows)],
        hover=True,
        size="sm",
        responsive=True,
        class_name="mb-0 align-middle",
    )


def live_progress(runs: pd.DataFrame, steps: pd.DataFrame) -> dbc.Card:
    """The active run's progress (finished steps out of five), or what happened last."""
    active = runs[runs["status"] == "running"]
    if active.empty:
        if runs.empty:
            text: Any = "No run has started yet."
        else:
            last = runs.iloc[0]
            when = _timestamp(
                last["finished_at"] if not is_missing(last["finished_at"]) else last["started_at"]
            )
            text = [
                "No run in progress. Last run ",
                html.Strong(f"#{int(last['run_id'])}"),
                " ",
                status_badge(last["status"]),
                f" at {when}, took {format_duration(last['duration_s'])}.",
            ]
        return dbc.Card(dbc.CardBody(html.Div(text, className="mb-0")), class_name="live-card")
    run = active.iloc[0]
    run_id = int(run["run_id"])
    mine = steps[steps["run_id"] == run_id] if len(steps) else steps
    done = int(mine["status"].isin(FINISHED).sum()) if len(mine) else 0
    # A promotion or rollback is one step; a pipeline run has all of them.
    planned = 1 if run["trigger"] in ("promotion", "rollback") else len(PIPELINE_STEPS)
    total = max(planned, len(mine))
    step = "starting" if is_missing(run["current_step"]) else str(run["current_step"])
    who = "" if is_missing(run["triggered_by"]) else f" by {run['triggered_by']}"
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Strong(f"Run #{run_id} in progress"),
                        html.Span(
                            f" · {run['trigger']}{who} · started {_timestamp(run['started_at'])}",
                            className="text-muted",
                        ),
                    ],
                    className="mb-2",
                ),
                dbc.Progress(
                    value=done,
                    max=total,
                    label=f"{done} of {total} steps",
                    striped=True,
                    animated=True,
                    color="info",
                    class_name="mb-2",
                    style={"height": "1.4rem"},
                ),
                html.Div(
                    [
                        "Current step: ",
                        html.Strong(step),
                        f" · {int(_elapsed_s(run['started_at']))} s elapsed",
                    ]
                ),
            ]
        ),
        class_name="live-card border-info",
    )


def with_elapsed(steps: pd.DataFrame) -> pd.DataFrame:
    """Steps with ``duration_s`` filled in for running steps (seconds elapsed so far)."""
    out = steps.copy()
    running = out["status"] == "running"
    if running.any():
        out["duration_s"] = out["duration_s"].astype("float64")
        out.loc[running, "duration_s"] = [_elapsed_s(s) for s in out.loc[running, "started_at"]]
    return out


def step_note(detail: object) -> str:
    """What a step says about itself in words, from its recorded detail JSON."""
    if is_missing(detail):
        return ""
    try:
        d = json.loads(str(detail))
    except ValueError:
        return ""
    if d.get("skipped"):
        return f"skipped: {d['skipped']}"
    if d.get("monitoring_failed"):
        return f"monitoring failed (predictions published): {d['monitoring_failed']}"
    if "policy" in d:  # the retrain policy's reason, the new version and the gate's decision
        return str(d["policy"])
    if "drift_cells" in d:
        return _monitor_note(d)
    if "decision" in d:
        return f"v{d.get('version')}: {d['decision']}"
    if "quarantined" in d:
        return (
            f"{d.get('accepted', 0):,} accepted, {d['quarantined']:,} quarantined, "
            f"{d.get('duplicates_removed', 0):,} duplicates, "
            f"{d.get('labels', 0):,} labels"
        )
    if "new_batches" in d:
        return f"{d['new_batches']} new file(s), {d.get('already_ingested', 0)} already ingested"
    if d.get("rejected"):
        return f"{d['rejected']} file(s) rejected"
    if "model_version" in d:
        return f"scored {', '.join(d.get('periods', []))} with v{d['model_version']}"
    return ""


def _monitor_note(d: dict) -> str:
    months = ", ".join(d.get("periods", [])) or "no new month"
    drifted = list(d.get("drifted", []))
    text = f"monitored {months}: {len(drifted)} drifted column/segment pair(s)"
    if drifted:
        text += f" ({', '.join(drifted[:3])}{', ...' if len(drifted) > 3 else ''})"
    fired = len(d.get("alerts", []))
    return text + (f"; {fired} alert rule(s) fired" if fired else "")


def steps_table(steps: pd.DataFrame) -> dbc.Table:
    """Rows in, rows out, duration, status, and the note or error of each step."""
    header = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Step", "Status", "Rows in", "Rows out", "Duration", "Notes / error")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(s["step"]),
                html.Td(status_badge(s["status"])),
                html.Td(format_count(s["rows_in"]), className="text-end"),
                html.Td(format_count(s["rows_out"]), className="text-end"),
                html.Td(
                    format_duration(s["duration_s"])
                    + (" so far" if s["status"] == "running" else ""),
                    className="text-nowrap",
                ),
                html.Td(
                    _error_text(s["error"])
                    if not is_missing(s["error"])
                    else html.Span(step_note(s.get("detail")), className="small text-muted")
                ),
            ]
        )
        for _, s in steps.sort_values("position").iterrows()
    ]
    return dbc.Table(
        [header, html.Tbody(rows)], size="sm", responsive=True, class_name="mb-0 align-middle"
    )


def _run_options(runs: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "label": f"Run #{int(r['run_id'])} · {r['status']} · {_timestamp(r['started_at'])}",
            "value": str(int(r["run_id"])),
        }
        for _, r in runs.iterrows()
    ]


def _signature(runs: pd.DataFrame, steps: pd.DataFrame) -> str:
    parts = [f"{r.run_id}:{r.status}:{r.current_step}:{r.finished_at}" for r in runs.itertuples()]
    parts += [f"{s.run_id}/{s.step}:{s.status}" for s in steps.itertuples()]
    return "|".join(parts)


def _active_steps(runs: pd.DataFrame) -> pd.DataFrame:
    active = [int(r) for r in runs.loc[runs["status"] == "running", "run_id"]]
    return run_steps(services().warehouse, active)


def _selected(requested: object, runs: pd.DataFrame) -> str | None:
    ids = [str(int(r)) for r in runs["run_id"]]
    if isinstance(requested, str) and requested.strip() in ids:
        return requested.strip()
    return ids[0] if ids else None


# -- layout ----------------------------------------------------------------------------------


def layout(run: object = None, **kwargs: Any) -> html.Div:
    """The page; ``run`` (from ``?run=12``) picks the run whose steps are shown, else the latest."""
    runs = recent_runs(services().warehouse, HISTORY_LIMIT)
    steps = _active_steps(runs)
    selected = _selected(run, runs)
    latest = str(int(runs["run_id"].iloc[0])) if len(runs) else None
    return html.Div(
        [
            dcc.Interval(id=Ids.TICK, interval=TICK_MS),
            dcc.Store(
                id=Ids.VERSION, data={"signature": _signature(runs, steps), "latest": latest}
            ),
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
                        dbc.Button("Retrain now", id=Ids.RETRAIN, color="primary"),
                        width="auto",
                        class_name="align-self-center",
                    ),
                ],
                class_name="mb-3",
            ),
            html.Div(id=Ids.RETRAIN_ALERT),
            html.Div(live_progress(runs, steps), id=Ids.LIVE, className="mb-4"),
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
                                                    options=_run_options(runs),
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


@callback(
    Output(Ids.RETRAIN_ALERT, "children"),
    Input(Ids.RETRAIN, "n_clicks"),
    prevent_initial_call=True,
)
def retrain(n_clicks: int | None) -> dbc.Alert:
    """Ask the owner process for a manual run and say what it answered."""
    answer = services().start_run("manual", None)
    return dbc.Alert(
        answer.message,
        color="success" if answer.started else "warning",
        dismissable=True,
        class_name="retrain-alert",
    )


@callback(
    output={
        "live": Output(Ids.LIVE, "children"),
        "history": Output(Ids.HISTORY, "children"),
        "options": Output(Ids.SELECT, "options"),
        "selected": Output(Ids.SELECT, "value"),
        "version": Output(Ids.VERSION, "data"),
    },
    inputs={
        "tick": Input(Ids.TICK, "n_intervals"),
        "known": State(Ids.VERSION, "data"),
        "selected": State(Ids.SELECT, "value"),
    },
    prevent_initial_call=True,
)
def refresh(tick: int | None, known: dict | None, selected: str | None) -> dict[str, Any]:
    """Live progress every tick; history and selection only when a run or step changed."""
    runs = recent_runs(services().warehouse, HISTORY_LIMIT)
    steps = _active_steps(runs)
    signature = _signature(runs, steps)
    known = known or {}
    busy = bool((runs["status"] == "running").any())
    if known.get("signature") == signature:
        live = live_progress(runs, steps) if busy else no_update
        return {
            "live": live,
            "history": no_update,
            "options": no_update,
            "selected": no_update,
            "version": no_update,
        }
    latest = str(int(runs["run_id"].iloc[0])) if len(runs) else None
    # Someone watching the latest run follows the next one; a chosen older run stays.
    follow = selected is None or selected == known.get("latest")
    new_selected = latest if follow and latest != selected else no_update
    return {
        "live": live_progress(runs, steps),
        "history": history_table(runs),
        "options": _run_options(runs),
        "selected": new_selected,
        "version": {"signature": signature, "latest": latest},
    }


@callback(
    Output(Ids.STEPS_FIGURE, "children"),
    Output(Ids.STEPS_TABLE, "children"),
    Input(Ids.SELECT, "value"),
    Input(Ids.VERSION, "data"),
)
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
    steps = with_elapsed(steps)
    figure = dcc.Graph(
        figure=step_durations_figure(steps, run_id),
        config={"displaylogo": False, "displayModeBar": False},
    )
    return figure, steps_table(steps)
