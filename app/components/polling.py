"""Pages that wait for data: an empty-state card until the first results exist, then the body.

Overview, Data, Model review, Explain and Monitor each poll the warehouse with a
``dcc.Interval``: fast while there is nothing to show, slowly once there is. Their layout frame
and the four outputs their poll callbacks share are built here, so the pages agree on what
"waiting" and "shown" mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from dash import Output, dcc, html

POLL_WAITING_MS = 4_000  # nothing to show yet: notice the first results quickly
POLL_READY_MS = 60_000  # results shown: new ones arrive at most once per run


class WaitingIds(Protocol):
    """The ids a waiting page's frame uses (a page's ``Ids`` enum has them)."""

    URL: str
    POLL: str
    EMPTY: str
    BODY: str


def waiting_page(
    ids: WaitingIds,
    ready: bool,
    *,
    title: str,
    lines: Sequence[Any],
    stores: Sequence[Any],
    waiting_card: Callable[[], Any],
    body: Any,
    notices: Sequence[Any] = (),
    after: Sequence[Any] = (),
    class_name: str,
) -> html.Div:
    """A waiting page's layout: address, poll (fast until ``ready``), ``stores``, the title
    with ``lines`` under it, ``notices``, the card from ``waiting_card`` (called only while not
    ``ready``), ``body`` (hidden until ``ready``), then ``after`` (e.g. modals)."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Interval(id=ids.POLL, interval=POLL_READY_MS if ready else POLL_WAITING_MS),
            *stores,
            html.Div([html.H2(title, className="mb-1"), *lines], className="mb-3"),
            *notices,
            html.Div(None if ready else waiting_card(), id=ids.EMPTY, hidden=ready),
            html.Div(body, id=ids.BODY, hidden=not ready),
            *after,
        ],
        className=class_name,
    )


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
