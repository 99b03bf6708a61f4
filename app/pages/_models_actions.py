"""Promote and roll back: which actions are offered, the confirmation, and the run's outcome.

A promotion is a pipeline run (``steps=("promote",)``) started through the owner process; the
page only asks for it and then polls the run record, so the re-scoring never runs in a callback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.figures.formatting import is_missing
from app.services import Services
from pipeline.model_steps import PromotionRequest
from pipeline.runner import RunRequest
from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse.runs import recent_runs

MIN_COMMENT = 5
MAX_COMMENT = 500
RUN_LOOKBACK = 50  # runs searched for the promotion run; it is normally the newest
TRIGGER = {"promote": "promotion", "rollback": "rollback"}


@dataclass(frozen=True)
class Actions:
    """What the two buttons say and whether they are offered."""

    promote_label: str
    promote_disabled: bool
    promote_note: str
    rollback_label: str
    rollback_version: int | None


def rollback_target(history: pd.DataFrame, champion: int | None) -> int | None:
    """The most recent former champion other than the current one, from the alias history
    (newest first); None when there is none."""
    former = history[(history["alias"] == "champion") & (history["version"] != champion)]
    return None if former.empty else int(former["version"].iloc[0])


def actions(b: int | None, champion: int | None, history: pd.DataFrame) -> Actions:
    """The promote button for B and the rollback button, from the current aliases."""
    target = rollback_target(history, champion)
    rollback = f"Roll back to v{target}" if target is not None else ""
    if b is None:
        return Actions("Make B champion", True, "Choose a version B.", rollback, target)
    if b == champion:
        return Actions(
            f"Make v{b} champion", True, f"v{b} is already the champion.", rollback, target
        )
    note = f"Re-scores the served month with v{b} and makes it champion" + (
        f"; v{champion} is archived." if champion is not None else "."
    )
    return Actions(f"Make v{b} champion", False, note, rollback, target)


def confirm_text(action: str, version: int, champion: int | None) -> tuple[str, str]:
    """The confirmation dialog's title and explanation."""
    was = f" v{champion} is archived (it can be rolled back to later)." if champion else ""
    if action == "rollback":
        title = f"Roll back to v{version}?"
        verb = f"v{version} becomes champion again."
    else:
        title = f"Make v{version} champion?"
        verb = f"v{version} becomes champion."
    body = (
        f"{verb}{was} The month being served is re-scored with v{version} and the aliases "
        "change in the same transaction, so the Overview never mixes two models. Your name and "
        "comment are recorded in the alias history."
    )
    return title, body


def comment_problem(comment: object) -> str | None:
    """Why a comment cannot be accepted, or None when it can."""
    text = comment.strip() if isinstance(comment, str) else ""
    if len(text) < MIN_COMMENT:
        return f"Say why in at least {MIN_COMMENT} characters; the comment is kept in the history."
    if len(text) > MAX_COMMENT:
        return f"Keep the comment under {MAX_COMMENT} characters."
    return None


def request_promotion(
    svc: Services, action: str, version: int, actor: str, comment: str
) -> RunRequest:
    """Ask the owner process for a promotion (or rollback) run of ``version``."""
    request = PromotionRequest(version=version, actor=actor, comment=comment.strip(), action=action)
    return svc.start_run(TRIGGER[action], actor, steps=("promote",), promotion=request)


def _what(action: str, version: int) -> str:
    return f"rolling back to v{version}" if action == "rollback" else f"making v{version} champion"


def started_alert(answer: RunRequest, action: str, version: int) -> dbc.Alert:
    """What the owner process answered: started, or refused (another run is active)."""
    if answer.started:
        return dbc.Alert(
            [
                dbc.Spinner(size="sm", spinner_class_name="me-2"),
                f"{answer.message}: {_what(action, version)}. The outcome appears here when "
                "the run finishes.",
            ],
            color="info",
            class_name="d-flex align-items-center promotion-alert",
        )
    return dbc.Alert(
        f"Not started: {answer.message}. Try again when that run has finished.",
        color="warning",
        dismissable=True,
        class_name="promotion-alert",
    )


def _reason(summary: object) -> str | None:
    if is_missing(summary):
        return None
    try:
        detail = json.loads(str(summary)).get("promote") or {}
    except (ValueError, AttributeError):
        return None
    reason = detail.get("reason")
    rescored = detail.get("rescored")
    if reason and rescored:
        return f"{reason} (re-scored {rescored[:7]})"
    return reason


def run_outcome(wh: Warehouse, run: dict[str, Any]) -> tuple[dbc.Alert, bool]:
    """The promotion run's state as an alert, and whether it has finished."""
    run_id = int(run["run_id"])
    what = _what(str(run.get("action")), int(run.get("version") or 0))
    runs = recent_runs(wh, RUN_LOOKBACK)
    found = runs[runs["run_id"] == run_id]
    if found.empty:
        return dbc.Alert(
            f"Run #{run_id} ({what}) is no longer in the recent history; see the Runs page.",
            color="secondary",
            class_name="promotion-alert",
        ), True
    r = found.iloc[0]
    if r["status"] == "running":
        elapsed = max(0, int((utcnow() - pd.Timestamp(r["started_at"])).total_seconds()))
        return dbc.Alert(
            [
                dbc.Spinner(size="sm", spinner_class_name="me-2"),
                f"Run #{run_id} is {what} ({elapsed} s so far).",
            ],
            color="info",
            class_name="d-flex align-items-center promotion-alert",
        ), False
    if r["status"] == "succeeded":
        reason = _reason(r["summary"]) or f"done: {what}"
        return dbc.Alert(
            [html.Strong(f"Run #{run_id} succeeded. "), reason],
            color="success",
            dismissable=True,
            class_name="promotion-alert",
        ), True
    error = "no error recorded" if is_missing(r["error"]) else str(r["error"])
    if r["status"] == "cancelled":
        return dbc.Alert(
            [html.Strong(f"Run #{run_id} was cancelled ({what}): "), f"{error}; nothing changed."],
            color="warning",
            dismissable=True,
            class_name="promotion-alert",
        ), True
    return dbc.Alert(
        [html.Strong(f"Run #{run_id} failed ({what}): "), error],
        color="danger",
        dismissable=True,
        class_name="promotion-alert",
    ), True


def promotion_history(history: pd.DataFrame) -> Any:
    """People's promotions and rollbacks, newest first: when, version, who, why."""
    people = history[(history["alias"] == "champion") & history["actor"].notna()]
    if people.empty:
        return html.Div(
            "No one has promoted or rolled back a version by hand yet; every champion so far "
            "was chosen by the gate.",
            className="small text-muted",
        )
    rows = [
        html.Tr(
            [
                html.Td(f"{pd.Timestamp(h.set_at):%Y-%m-%d %H:%M}", className="text-nowrap"),
                html.Td(f"v{int(h.version)}"),
                html.Td(str(h.actor)),
                html.Td("—" if is_missing(h.comment) else str(h.comment)),
            ],
            title=str(h.reason),
        )
        for h in people.itertuples(index=False)
    ]
    head = html.Thead(html.Tr([html.Th(x) for x in ("When (UTC)", "Champion", "By", "Comment")]))
    return html.Div(
        dbc.Table([head, html.Tbody(rows)], size="sm", class_name="mb-0 align-middle"),
        style={"maxHeight": "240px", "overflowY": "auto"},
    )
