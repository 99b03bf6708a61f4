"""The one plotly template and colour palette every Plumbline figure uses.

Colours are Bootswatch Flatly's, so charts match the cards and badges around them. The template
is registered once under ``"plumbline"`` in ``plotly.io.templates`` (idempotent) and made the
default, for any figure plotly builds; the app's figures carry :data:`TEMPLATE` themselves
(``spec.figure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
import plotly.io as pio

if TYPE_CHECKING:
    from app.figures.spec import Figure

TEMPLATE_NAME = "plumbline"

# Flatly's theme colours (assets/00-bootstrap-flatly.min.css).
PRIMARY = "#2c3e50"
SUCCESS = "#18bc9c"
INFO = "#3498db"
WARNING = "#f39c12"
DANGER = "#e74c3c"
SECONDARY = "#95a5a6"
MUTED = "#7b8a8b"
GRID = "#e5e8e8"

# Order of series colours: distinct for colour-blind readers in the first three.
COLORWAY = [INFO, WARNING, SUCCESS, PRIMARY, DANGER, SECONDARY, "#9b59b6", "#1abc9c"]

# Run and step statuses, shared by the Runs figure and its badges.
STATUS_COLOURS = {
    "succeeded": SUCCESS,
    "running": INFO,
    "failed": DANGER,
    "skipped": SECONDARY,
}

# A legend under the plot, at the bottom of the figure (container coordinates, so its place does
# not depend on the plot area), below the x axis title: long labels never hit the title.
LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "y": 0.01,
    "yanchor": "bottom",
    "x": 0.0,
    "xanchor": "left",
    "bgcolor": "rgba(255,255,255,0)",
}

FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", '
    '"Liberation Sans", Arial, sans-serif'
)


def _build_template() -> go.layout.Template:
    axis = {
        "gridcolor": GRID,
        "zerolinecolor": GRID,
        "linecolor": "#cfd6d6",
        "ticks": "outside",
        "tickcolor": "#cfd6d6",
        "title": {"standoff": 8},
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "size": 13, "color": "#212529"},
            "title": {"font": {"size": 16, "color": PRIMARY}, "x": 0.0, "xanchor": "left"},
            "colorway": COLORWAY,
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "xaxis": axis,
            "yaxis": axis,
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.02,
                "xanchor": "right",
                "x": 1.0,
                "bgcolor": "rgba(255,255,255,0)",
            },
            "hoverlabel": {"font": {"family": FONT_FAMILY}},
            "margin": {"l": 64, "r": 24, "t": 72, "b": 48},
            "separators": ".,",
        }
    )


TEMPLATE = _build_template()

if TEMPLATE_NAME not in pio.templates:
    pio.templates[TEMPLATE_NAME] = TEMPLATE
pio.templates.default = TEMPLATE_NAME


def empty_figure(message: str, title: str | None = None) -> Figure:
    """A figure with no axes and one centred annotation saying why there is nothing to plot."""
    from app.figures.spec import figure  # spec builds on this module

    return figure(
        [],
        {
            "title": {"text": title} if title else None,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "height": 320,
            "annotations": [
                {
                    "text": message,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 15, "color": MUTED},
                }
            ],
        },
    )
