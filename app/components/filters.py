"""Filter bars: the card of pickers at the top of a page, and a select with its label."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc


def labelled_select(
    label: str, control_id: str, options: list, value: Any, **extra: Any
) -> list[Any]:
    """A small muted label tied to a ``dbc.Select`` (``extra`` goes to the select, e.g.
    ``size="sm"``); put it in a ``dbc.Col``."""
    return [
        dbc.Label(label, html_for=control_id, class_name="small text-muted mb-1"),
        dbc.Select(id=control_id, options=options, value=value, **extra),
    ]


def filter_card(columns: list[Any], margin: str = "mb-4") -> dbc.Card:
    """The columns (``dbc.Col``) of pickers and notes in one row of a filter-bar card;
    ``margin`` is the space below it."""
    return dbc.Card(
        dbc.CardBody(dbc.Row(columns, class_name="g-3"), class_name="py-3"),
        class_name=f"{margin} filter-bar",
    )
