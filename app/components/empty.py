"""Empty-state cards: say why there is nothing to show and what will make data appear."""

from __future__ import annotations

from typing import Literal

import dash_bootstrap_components as dbc
from dash import html

Tone = Literal["info", "warning", "danger", "secondary"]


def empty_state(
    title: str,
    reason: str,
    hint: str | None = None,
    *,
    tone: Tone = "info",
    busy: bool = False,
    card_id: str | dict | None = None,
) -> dbc.Card:
    """A card explaining an empty view.

    ``reason`` says why there is no data; ``hint`` what happens next or what to do. ``busy`` adds
    a spinner, for states that end by themselves (a run in progress).
    """
    heading = [html.Span(title)]
    if busy:
        heading.insert(0, dbc.Spinner(size="sm", color=tone, spinner_class_name="me-2"))
    body = [
        html.H5(heading, className="card-title d-flex align-items-center"),
        html.P(reason, className="card-text mb-1"),
    ]
    if hint:
        body.append(html.P(hint, className="card-text text-muted mb-0"))
    kwargs = {"id": card_id} if card_id is not None else {}
    return dbc.Card(
        dbc.CardBody(body),
        class_name=f"empty-state border-{tone}",
        **kwargs,
    )
