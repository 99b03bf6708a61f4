"""Promote and roll back on the Model review page: the buttons, the confirmation, the run.

The callbacks live here, apart from the page module, because they form one flow: the buttons
offered for B, a dialog asking for a comment, the promotion run started through the owner
process, and polling that run until it ends. ``models.py`` imports this module, which
registers them.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, no_update

from app.answer_cache import cached_answer
from app.audit import audit
from app.auth import Role, requires
from app.identity import current_actor
from app.pages import _models_actions as actions
from app.pages._models_layout import Ids
from app.pages._models_state import load_state, parse_version
from app.services import services


@callback(
    output={
        "promote": Output(Ids.PROMOTE, "children"),
        "promote_disabled": Output(Ids.PROMOTE, "disabled"),
        "note": Output(Ids.PROMOTE_NOTE, "children"),
        "rollback": Output(Ids.ROLLBACK, "children"),
        "rollback_style": Output(Ids.ROLLBACK, "style"),
        "history": Output(Ids.PROMOTIONS, "children"),
    },
    inputs={"b": Input(Ids.B, "value"), "data": Input(Ids.STORE, "data")},
)
@requires(Role.ANALYST)
@cached_answer
def update_actions(b: object, data: dict | None) -> dict[str, Any]:
    """ "Make vB champion" (disabled when B is champion), "Roll back to vN" (hidden when there
    is no former champion), and the history of people's promotions and rollbacks."""
    state = load_state(services())
    offered = actions.actions(parse_version(b, state.numbers), state.champion, state.history)
    hidden = offered.rollback_version is None
    return {
        "promote": offered.promote_label,
        "promote_disabled": offered.promote_disabled,
        "note": offered.promote_note,
        "rollback": offered.rollback_label or "Roll back",
        "rollback_style": {"display": "none"} if hidden else {},
        "history": actions.promotion_history(state.history),
    }


def _ask(action: str, version: int | None, champion: int | None) -> dict[str, Any]:
    if version is None:
        return dict.fromkeys(_ASK_OUTPUTS, no_update)
    title, body = actions.confirm_text(action, version, champion)
    return {
        "open": True,
        "action": {"action": action, "version": version},
        "title": title,
        "body": body,
        "comment": "",
        "invalid": False,
    }


_ASK_OUTPUTS = {
    "open": Output(Ids.CONFIRM_MODAL, "is_open", allow_duplicate=True),
    "action": Output(Ids.ACTION, "data", allow_duplicate=True),
    "title": Output(Ids.CONFIRM_TITLE, "children", allow_duplicate=True),
    "body": Output(Ids.CONFIRM_BODY, "children", allow_duplicate=True),
    "comment": Output(Ids.COMMENT, "value", allow_duplicate=True),
    "invalid": Output(Ids.COMMENT, "invalid", allow_duplicate=True),
}


@callback(
    output=_ASK_OUTPUTS,
    inputs={"n_clicks": Input(Ids.PROMOTE, "n_clicks"), "b": State(Ids.B, "value")},
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def ask_promote(n_clicks: int | None, b: object) -> dict[str, Any]:
    """Open the confirmation for making B champion."""
    state = load_state(services())
    version = parse_version(b, state.numbers)
    if version is None or version == state.champion:
        return dict.fromkeys(_ASK_OUTPUTS, no_update)
    return _ask("promote", version, state.champion)


@callback(
    output=_ASK_OUTPUTS,
    inputs={"n_clicks": Input(Ids.ROLLBACK, "n_clicks")},
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def ask_rollback(n_clicks: int | None) -> dict[str, Any]:
    """Open the confirmation for rolling back to the most recent former champion."""
    state = load_state(services())
    return _ask("rollback", actions.rollback_target(state.history, state.champion), state.champion)


@callback(
    Output(Ids.CONFIRM_MODAL, "is_open", allow_duplicate=True),
    Input(Ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def cancel(n_clicks: int | None) -> bool:
    """Close the confirmation without starting anything."""
    return False


_CONFIRM_OUTPUTS = {
    "open": Output(Ids.CONFIRM_MODAL, "is_open", allow_duplicate=True),
    "invalid": Output(Ids.COMMENT, "invalid", allow_duplicate=True),
    "feedback": Output(Ids.COMMENT_FEEDBACK, "children"),
    "alert": Output(Ids.ACTION_ALERT, "children", allow_duplicate=True),
    "run": Output(Ids.RUN, "data"),
    "poll_disabled": Output(Ids.RUN_POLL, "disabled", allow_duplicate=True),
}


@callback(
    output=_CONFIRM_OUTPUTS,
    inputs={
        "n_clicks": Input(Ids.CONFIRM, "n_clicks"),
        "action": State(Ids.ACTION, "data"),
        "comment": State(Ids.COMMENT, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="promote")
def confirm(n_clicks: int | None, action: dict | None, comment: str | None) -> dict[str, Any]:
    """Start the promotion or rollback run once a comment is given; say what happened."""
    unchanged = dict.fromkeys(_CONFIRM_OUTPUTS, no_update)
    if not action or action.get("action") not in actions.TRIGGER:
        return unchanged | {"open": False}
    problem = actions.comment_problem(comment)
    if problem is not None:
        return unchanged | {"invalid": True, "feedback": problem}
    kind, version = str(action["action"]), int(action["version"])
    answer = actions.request_promotion(services(), kind, version, current_actor(), str(comment))
    audit(
        "rollback" if kind == "rollback" else "promote",
        target=f"v{version}",
        outcome="ok" if answer.started else "refused",
        detail=f"{answer.message}. Comment: {str(comment).strip()}",
    )
    out = unchanged | {
        "open": False,
        "invalid": False,
        "alert": actions.started_alert(answer, kind, version),
    }
    if answer.started:
        out |= {
            "run": {"run_id": answer.run_id, "action": kind, "version": version},
            "poll_disabled": False,
        }
    return out


@callback(
    Output(Ids.ACTION_ALERT, "children", allow_duplicate=True),
    Output(Ids.RUN_POLL, "disabled", allow_duplicate=True),
    Output(Ids.REFRESH, "data"),
    Input(Ids.RUN_POLL, "n_intervals"),
    State(Ids.RUN, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def poll_run(tick: int | None, run: dict | None) -> tuple[Any, bool, Any]:
    """Follow the promotion run; when it ends, show the outcome and refresh the registry."""
    if not run:
        return no_update, True, no_update
    alert, finished = actions.run_outcome(services().warehouse, run)
    return alert, finished, (run["run_id"] if finished else no_update)
