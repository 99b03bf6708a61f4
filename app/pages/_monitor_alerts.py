"""Alerts on the Monitor page: the list, acknowledging or muting one with a comment, and the
retrain policy's decisions in words.

The callbacks live here, apart from the page module, because they form one flow: choose an
alert in the table, write why, acknowledge or mute it, and see the list refresh. ``monitor.py``
imports this module, which registers them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, html, no_update

from app.answer_cache import cached_answer
from app.audit import audit
from app.auth import Role, requires
from app.figures.formatting import format_month, is_missing
from app.identity import current_actor
from app.pages._monitor_layout import Ids
from app.services import services
from pipeline.warehouse import reads_monitor as reads
from pipeline.warehouse import utcnow
from pipeline.warehouse.alerts import (
    ACTIVE,
    AlertActionError,
    acknowledge,
    list_alerts,
    mute,
)

EVERY_STATUS = (*ACTIVE, "resolved")
ACTIONS = {
    "retrain": ("Retrained", "primary"),
    "wait": ("Waited", "secondary"),
    "cooldown": ("Held back: cooldown", "warning"),
    "none": ("Nothing to do", "light"),
}
TRIGGERS = {
    "schedule": "the schedule (the champion's newest labels are getting old)",
    "drift": "drift in the champion's top features",
    "performance": "a drop in ROC AUC",
    "manual": "a person's request",
    "first": "no model yet",
}


def _stamp(value: object) -> str:
    return "—" if is_missing(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"  # type: ignore[arg-type]


def _status(row: Any) -> str:
    if row.status != "muted":
        return str(row.status)
    if is_missing(row.muted_until):
        return "muted until resolved"
    return f"muted until {_stamp(row.muted_until)}"


def _handled(row: Any) -> str:
    if is_missing(row.handled_by):
        return ""
    text = f"{row.handled_by}, {_stamp(row.handled_at)}"
    return text + ("" if is_missing(row.comment) else f": {row.comment}")


def alert_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid rows of :func:`pipeline.warehouse.alerts.list_alerts`, with readable dates."""
    return [
        {
            "row_id": str(int(r.alert_id)),
            "alert_id": int(r.alert_id),
            "severity": str(r.severity),
            "raised": _stamp(r.raised_at),
            "period": "—" if is_missing(r.period) else format_month(r.period),
            "subject": "" if is_missing(r.subject) else str(r.subject),
            "message": str(r.message),
            "status": _status(r),
            "handled": _handled(r),
        }
        for r in frame.itertuples(index=False)
    ]


def selected_alert(rows: object) -> dict[str, Any] | None:
    """The alert chosen in the grid (its row), or None."""
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return None
    row = rows[0]
    return row if isinstance(row.get("alert_id"), int) else None


def mute_until(choice: object) -> Any:
    """The end of a mute chosen as "1", "7" or "30" days from now; None until resolved."""
    if isinstance(choice, str) and choice.isdigit():
        return utcnow().replace(microsecond=0) + timedelta(days=int(choice))
    return None


@callback(
    Output(Ids.ALERTS, "rowData"),
    Input(Ids.SHOW_ALL, "value"),
    Input(Ids.REFRESH, "data"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_alerts(show_all: object, refresh: object, data: dict | None) -> list[dict[str, Any]]:
    """Active alerts (open, acknowledged, muted), newest first; resolved ones too on request."""
    statuses = EVERY_STATUS if show_all is True else ACTIVE
    return alert_rows(list_alerts(services().warehouse, statuses, limit=200))


@callback(Output(Ids.SELECTED, "children"), Input(Ids.ALERTS, "selectedRows"))
@requires(Role.ANALYST)
@cached_answer
def describe_selection(rows: object) -> str:
    """Which alert the form acts on."""
    row = selected_alert(rows)
    if row is None:
        return "Click an alert in the table to acknowledge or mute it."
    return f"Alert #{row['alert_id']} ({row['severity']}, {row['status']}): {row['subject']}"


_ACTION_OUTPUTS = {
    "feedback": Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    "invalid": Output(Ids.COMMENT, "invalid", allow_duplicate=True),
    "comment": Output(Ids.COMMENT, "value", allow_duplicate=True),
    "refresh": Output(Ids.REFRESH, "data", allow_duplicate=True),
}


def _refused(verb: str, why: str, comment_problem: bool) -> dict[str, Any]:
    return {
        "feedback": dbc.Alert(f"Not {verb}: {why}.", color="danger", class_name="py-2 mb-0"),
        "invalid": comment_problem,
        "comment": no_update,
        "refresh": no_update,
    }


def _done(text: str, alert_id: int) -> dict[str, Any]:
    return {
        "feedback": dbc.Alert(text, color="success", dismissable=True, class_name="py-2 mb-0"),
        "invalid": False,
        "comment": "",
        "refresh": {"alert": alert_id, "at": utcnow().isoformat()},
    }


def _act(verb: str, rows: object, comment: object, do: Any) -> dict[str, Any]:
    row = selected_alert(rows)
    if row is None:
        return _refused(verb, "choose an alert in the table first", False)
    text = comment if isinstance(comment, str) else ""
    action = "alert.acknowledge" if verb == "acknowledged" else "alert.mute"
    target = f"alert #{int(row['alert_id'])}"
    try:
        message = do(row["alert_id"], text)
    except AlertActionError as error:
        audit(action, target=target, outcome="refused", detail=str(error))
        return _refused(verb, str(error), "comment" in str(error))
    audit(action, target=target, detail=f"{message} Comment: {text.strip()}")
    return _done(message, row["alert_id"])


@callback(
    output=_ACTION_OUTPUTS,
    inputs={
        "n_clicks": Input(Ids.ACKNOWLEDGE, "n_clicks"),
        "rows": State(Ids.ALERTS, "selectedRows"),
        "comment": State(Ids.COMMENT, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="alert.acknowledge")
def acknowledge_alert(n_clicks: int | None, rows: object, comment: object) -> dict[str, Any]:
    """Acknowledge the chosen alert in the visitor's name with their comment."""
    actor = current_actor()

    def do(alert_id: int, text: str) -> str:
        acknowledge(services().warehouse, alert_id, actor, text)
        return f"Alert #{alert_id} acknowledged by {actor}."

    return _act("acknowledged", rows, comment, do)


@callback(
    output=_ACTION_OUTPUTS,
    inputs={
        "n_clicks": Input(Ids.MUTE, "n_clicks"),
        "rows": State(Ids.ALERTS, "selectedRows"),
        "comment": State(Ids.COMMENT, "value"),
        "mute_for": State(Ids.MUTE_FOR, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="alert.mute")
def mute_alert(
    n_clicks: int | None, rows: object, comment: object, mute_for: object
) -> dict[str, Any]:
    """Mute the chosen alert for the chosen time (or until resolved) with a comment."""
    actor = current_actor()
    until = mute_until(mute_for)

    def do(alert_id: int, text: str) -> str:
        mute(services().warehouse, alert_id, actor, text, until)
        end = "until it is resolved" if until is None else f"until {_stamp(until)} UTC"
        return f"Alert #{alert_id} muted {end} by {actor}."

    return _act("muted", rows, comment, do)


# -- retrain decisions -----------------------------------------------------------------------


def decision_items(frame: pd.DataFrame) -> Any:
    """The policy's decisions, newest first, each in words: what, why, and how it ended."""
    if frame.empty:
        return html.Div(
            "No retrain decision yet: the policy decides once a champion is being monitored.",
            className="small text-muted",
        )
    items = []
    for d in frame.itertuples(index=False):
        word, colour = ACTIONS.get(str(d.action), (str(d.action), "secondary"))
        about = "" if is_missing(d.period) else f" on {format_month(d.period)}"
        head = [
            dbc.Badge(
                word,
                color=colour,
                class_name="me-2",
                # Flatly's "dark" text is grey: light badges need near-black to be readable.
                style={"color": "#212529"} if colour in ("warning", "light") else None,
            ),
            html.Span(
                f"Triggered by {TRIGGERS.get(str(d.trigger), str(d.trigger))}{about}",
                className="fw-semibold",
            ),
            html.Span(
                f" · {_stamp(d.decided_at)} UTC · run #{int(d.run_id)}",
                className="small text-muted",
            ),
        ]
        body = [html.Div(head), html.Div(str(d.reason), className="small mt-1")]
        result = []
        if d.action == "retrain" and not is_missing(d.model_version):
            promoted = d.promoted is True or (not is_missing(d.promoted) and bool(d.promoted))
            result.append(
                f"Trained v{int(d.model_version)}"
                + (", promoted to champion" if promoted else ", not promoted")
            )
        if not is_missing(d.outcome) and str(d.outcome) not in str(d.reason):
            result.append(str(d.outcome))  # the policy's own words already hold the gate's
        if result:
            body.append(html.Div("→ " + ". ".join(result), className="small text-muted"))
        items.append(html.Li(body, className="list-group-item"))
    return html.Ul(
        items,
        className="list-group list-group-flush monitor-decisions",
        style={"maxHeight": "420px", "overflowY": "auto"},
    )


@callback(Output(Ids.DECISIONS, "children"), Input(Ids.STORE, "data"))
@requires(Role.ANALYST)
@cached_answer
def update_decisions(data: dict | None) -> Any:
    """The latest retrain decisions (runs that decided nothing are left out)."""
    return decision_items(reads.decisions(services().warehouse, limit=12))
