"""KPI tiles: one number, what it measures, and how it moved since the previous month."""

from __future__ import annotations

from typing import Literal

import dash_bootstrap_components as dbc
from dash import html

Tone = Literal["good", "bad", "neutral"]

_TONE_CLASS = {"good": "text-success", "bad": "text-danger", "neutral": "text-muted"}


def change_tone(change: float | None, higher_is_better: bool | None) -> Tone:
    """Whether a change is good news: ``higher_is_better=None`` means neither (e.g. volume)."""
    if change is None or change == 0 or higher_is_better is None:
        return "neutral"
    return "good" if (change > 0) == higher_is_better else "bad"


def change_arrow(change: float | None) -> str:
    """▲, ▼ or ■ for a positive, negative or zero/unknown change."""
    if change is None or change == 0:
        return "■"
    return "▲" if change > 0 else "▼"


def kpi_tile(
    label: str,
    value: str,
    *,
    change: str | None = None,
    tone: Tone = "neutral",
    caption: str | None = None,
    tile_id: str | dict | None = None,
) -> dbc.Card:
    """A card with ``label`` on top, ``value`` large, then the change line and a caption.

    ``change`` is ready-made text such as "▲ 1.2 pp vs May 2024"; ``tone`` colours it.
    """
    body = [
        html.Div(label, className="kpi-label"),
        html.Div(value, className="kpi-value"),
    ]
    if change:
        body.append(html.Div(change, className=f"kpi-change {_TONE_CLASS[tone]}"))
    if caption:
        body.append(html.Div(caption, className="kpi-caption"))
    kwargs = {"id": tile_id} if tile_id is not None else {}
    return dbc.Card(dbc.CardBody(body), class_name="kpi-tile h-100", **kwargs)
