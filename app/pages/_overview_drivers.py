"""The Overview's "what drives churn this month": the champion's strongest drivers in words.

Read from the champion's stored global explanation of the latest batch it scored (its holdout
before that); for analysts and admins each driver links to its view on the Explain page. An
executive may read only the Overview, so they get the sentences without links.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import html

from app.components.empty import empty_state
from app.components.links import data_link, user_may_open
from app.services import Services
from pipeline.accounts import Role
from pipeline.explain.language import global_driver_sentence
from pipeline.warehouse import reads_explain


def _when(scope: str) -> str:
    if scope.startswith("period:"):
        year, month = scope.removeprefix("period:").split("-")
        names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        return f"on the customers scored for {names[int(month) - 1]} {year}"
    return "on the month it was tested on"


def drivers_card(svc: Services) -> dbc.Card:
    """A card listing the top drivers (count from ``explain.drivers``) with their direction."""
    found = reads_explain.champion_drivers(svc.warehouse, svc.settings.explain.drivers)
    if found is None or found["drivers"].empty:
        return empty_state(
            "What drives churn",
            "No explanation of the champion model is stored yet.",
            "It is computed when a model is trained or scores a new month.",
            tone="secondary",
        )
    # The Explain page is an analyst's page: no "explore" link for someone who cannot open it.
    linked = user_may_open(Role.ANALYST)
    items = []
    for d in found["drivers"].itertuples(index=False):
        sentence = global_driver_sentence(d.feature, d.direction or "", float(d.share))
        parts: list = [html.Span(sentence)]
        if linked:
            # The feature name is data: urlencode keeps it inside the query string.
            href = "/explain?" + urlencode({"v": found["version"], "feature": d.feature})
            parts += [" ", data_link("explore", href, needed=Role.ANALYST, className="small")]
        items.append(html.Li(parts, className="mb-1"))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5("What drives churn this month", className="card-title mb-1"),
                html.P(
                    f"The champion model v{found['version']}'s strongest drivers "
                    f"{_when(found['scope'])}, from its SHAP explanation.",
                    className="text-muted small mb-2",
                ),
                html.Ol(items, className="mb-0 ps-3", id="overview-drivers-list"),
            ]
        ),
        class_name="mb-4",
    )
