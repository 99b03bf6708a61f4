"""Pages that wait for data: an empty-state card until the first results exist, then the body.

Overview, Data, Model review and Explain each poll the warehouse with a ``dcc.Interval``: fast
while there is nothing to show, slowly once there is. Their poll callbacks share four outputs,
built here so the pages agree on what "waiting" and "shown" mean.
"""

from __future__ import annotations

from typing import Any

from dash import Output

POLL_WAITING_MS = 4_000  # nothing to show yet: notice the first results quickly
POLL_READY_MS = 60_000  # results shown: new ones arrive at most once per run


def visibility_outputs(empty: str, body: str, poll: str) -> dict[str, Output]:
    """The outputs every waiting page's poll callback sets: the empty card, whether it and the
    body are hidden, and the poll interval."""
    return {
        "empty": Output(empty, "children"),
        "empty_hidden": Output(empty, "hidden"),
        "body_hidden": Output(body, "hidden"),
        "interval": Output(poll, "interval"),
    }


def waiting(card: Any) -> dict[str, Any]:
    """Values for :func:`visibility_outputs` while there is nothing to show: ``card`` says why."""
    return {"empty": card, "empty_hidden": False, "body_hidden": True, "interval": POLL_WAITING_MS}


def shown() -> dict[str, Any]:
    """Values for :func:`visibility_outputs` once the page has data."""
    return {"empty": None, "empty_hidden": True, "body_hidden": False, "interval": POLL_READY_MS}
