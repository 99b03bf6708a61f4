"""The served model's health as one badge (healthy, watch, degraded) with its reason.

Shown on the Overview, where it links to the Monitor page for people whose role may open it,
and on the Monitor page itself. The word is always written out, so the badge does not rely on
its colour.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from app.components.links import data_link
from pipeline.accounts import Role

# state -> (word, Bootstrap colour)
HEALTH_STYLE = {
    "healthy": ("Healthy", "success"),
    "watch": ("Watch", "warning"),
    "degraded": ("Degraded", "danger"),
    "unknown": ("Not monitored yet", "secondary"),
}


def health_badge(state: str, reason: str, href: str | None = "/monitor") -> html.Div:
    """A pill saying the state and, beside it, the one-sentence reason.

    A link to ``href`` (an analyst's page) when given and the acting user is an analyst or
    admin; plain text for an executive, who could not open it.
    """
    word, colour = HEALTH_STYLE.get(state, HEALTH_STYLE["unknown"])
    # Flatly's "dark" text is grey: amber needs near-black to be readable.
    badge = dbc.Badge(
        f"Model health: {word}",
        color=colour,
        pill=True,
        class_name="me-2 health-badge",
        style={"fontSize": "0.85rem"} | ({"color": "#212529"} if colour == "warning" else {}),
    )
    body = [badge, html.Span(reason, className="small text-body")]
    content = (
        data_link(
            body,
            href,
            needed=Role.ANALYST,
            className="text-decoration-none",
            title="Open the Monitor page",
        )
        if href
        else html.Span(body)
    )
    return html.Div(content, className=f"health health-{state} d-flex align-items-center")
