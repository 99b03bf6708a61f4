"""The Runs page's two actions, Retrain and Cancel: ask the owner process, audit, answer.

Both are written to the audit trail under the acting user's name, whether the owner process
accepted them or refused them (a run already active, a run no longer running, a run publishing).
"""

from __future__ import annotations

from collections.abc import Callable

import dash_bootstrap_components as dbc

from app.audit import audit
from app.identity import current_actor
from app.services import services
from pipeline.runner import CancelRequest

CancelRun = Callable[[int, str], CancelRequest]


def retrain() -> dbc.Alert:
    """Start a manual run for the acting user; the alert says what the owner process answered."""
    answer = services().start_run("manual", current_actor())
    target = f"run #{answer.run_id}"
    if answer.started:
        audit("retrain", target=target, outcome="ok")
    else:
        audit("retrain", target=target, outcome="refused", detail=answer.message)
    return _alert(answer.message, "success" if answer.started else "warning", "retrain-alert")


def cancel(run_id: int | None) -> dbc.Alert:
    """Ask the owner process to cancel run ``run_id`` (the active run the page showed)."""
    if run_id is None:
        message = "No run is in progress, so there is nothing to cancel."
        audit("cancel", outcome="refused", detail=message)
        return _alert(message, "secondary", "cancel-alert")
    target = f"run #{run_id}"
    cancel_run = _cancel_run()
    if cancel_run is None:
        message = "This server cannot cancel runs: its owner process offers no cancel."
        audit("cancel", target=target, outcome="refused", detail=message)
        return _alert(message, "warning", "cancel-alert")
    answer = cancel_run(run_id, current_actor())
    if answer.accepted:
        audit("cancel", target=target, outcome="ok", detail=answer.message)
    else:
        audit("cancel", target=target, outcome="refused", detail=answer.message)
    return _alert(answer.message, "info" if answer.accepted else "warning", "cancel-alert")


def _cancel_run() -> CancelRun | None:
    """The owner process's ``Runner.cancel`` (None when the services offer no cancel)."""
    return services().cancel_run


def _alert(message: str, color: str, kind: str) -> dbc.Alert:
    return dbc.Alert(message, color=color, dismissable=True, class_name=kind)
