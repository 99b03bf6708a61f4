"""Figures written as plain dicts and sent as they are.

Plotly's incremental API (``make_subplots``, ``add_trace(row=, col=)``, ``update_layout``,
``update_xaxes``) walks and validates the whole figure at every call: building the Overview's
trend that way took ~25 ms. The builders write the figure as dicts with these helpers instead,
and :func:`figure` returns those dicts (a :class:`Figure`) for Dash to send: the JSON plotly.js
reads, in Plumbline's template. Building plotly's objects from them, even unchecked, and copying
them again to send cost 2-4 ms more per chart on every answer the cache does not hold.

The test suite checks every figure against plotly's schema (``PLUMBLINE_VALIDATE_FIGURES=1``,
set by ``tests/conftest.py``), so a typo in a property fails there; the running app skips it.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from _plotly_utils.utils import to_typed_array_spec
from plotly.subplots import make_subplots

from app.figures.theme import TEMPLATE

_AXIS = re.compile(r"^([xy])axis(\d*)$")
VALIDATE = os.environ.get("PLUMBLINE_VALIDATE_FIGURES") == "1"  # read once: tests clear env vars
_LAYOUT_ARRAYS = ("annotations", "images", "shapes", "selections")


class Figure(dict):
    """A figure as plotly.js reads it: ``{"data": [trace, ...], "layout": {...}}``.

    Dash sends it as it is. ``.data`` and ``.layout`` are plotly's objects for reading it
    (tests, a chart's height), built on first use: change a figure through its dicts only,
    before reading them.
    """

    @property
    def data(self) -> tuple[Any, ...]:
        return self._plotly().data

    @property
    def layout(self) -> go.Layout:
        return self._plotly().layout

    def _plotly(self) -> go.Figure:
        built = self.__dict__.get("_plotly_figure")
        if built is None:
            # From the arrays as the builder gave them (what is sent has them in base64).
            source = self.__dict__.get("_source", self)
            built = self.__dict__["_plotly_figure"] = go.Figure(dict(source), _validate=False)
        return built


def figure(data: Iterable[Mapping[str, Any]], layout: Mapping[str, Any]) -> Figure:
    """A figure of ``data`` (trace dicts with a ``type``) in Plumbline's template, its
    properties checked against plotly's schema when :data:`VALIDATE` is set."""
    traces, layout = [_unset(dict(t)) for t in data], _unset(dict(layout))
    for name in _LAYOUT_ARRAYS:
        if layout.get(name) == []:
            del layout[name]  # as validation drops them
    template = layout.pop("template", TEMPLATE)
    layout = {"template": _template_json() if template is TEMPLATE else template, **layout}
    built = Figure(data=[_typed(t) for t in traces], layout=layout)
    built.__dict__["_source"] = {"data": traces, "layout": layout}
    if VALIDATE:
        go.Figure(built.__dict__["_source"])  # raises on a property plotly does not know
    return built


def height(fig: Figure) -> int | None:
    """The height a figure's layout sets, or None."""
    return fig["layout"].get("height")


@functools.cache
def _template_json() -> dict[str, Any]:
    """Plumbline's template as JSON, made once and shared by every figure (read-only)."""
    return TEMPLATE.to_plotly_json()


def _typed(properties: dict[str, Any]) -> dict[str, Any]:
    """A copy of a trace with its numpy arrays and pandas columns as plotly.js typed arrays
    (base64), at every depth of its objects: the compact form plotly's own figures send."""
    typed = {}
    for key, value in properties.items():
        if isinstance(value, np.ndarray | pd.Series | pd.Index):
            value = to_typed_array_spec(value)
        elif isinstance(value, dict):
            value = _typed(value)
        typed[key] = value
    return typed


def _unset(properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` without the keys set to None and without empty objects, at every depth
    (validation drops both: None means "not set"); values inside lists (data with gaps) stay
    as they are."""
    for key, value in list(properties.items()):
        if value is None:
            del properties[key]
        elif isinstance(value, dict):
            properties[key] = _unset(dict(value))
            if not properties[key]:
                del properties[key]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            # lists of objects (shapes, annotations) are all objects; data lists are left alone
            properties[key] = [_unset(dict(v)) if isinstance(v, dict) else v for v in value]
    return properties


@functools.lru_cache(maxsize=64)
def _grid(arguments: str) -> str:
    layout = make_subplots(**json.loads(arguments)).to_plotly_json()["layout"]
    layout.pop("template", None)
    return json.dumps(layout)


def subplots(**arguments: Any) -> dict[str, Any]:
    """The layout ``make_subplots(**arguments)`` draws (axes, domains, subplot titles), as a dict.

    Computed once per distinct arguments (they are few: one or two grids per figure); each call
    gets its own copy to fill in. Arguments must be JSON values (tuples become lists).
    """
    return json.loads(_grid(json.dumps(arguments, sort_keys=True)))


def merge(target: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Update ``target`` in place with ``changes``, merging nested dicts; returns ``target``."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
    return target


def axis_name(letter: str, row: int = 1, col: int = 1, cols: int = 1) -> str:
    """The layout key of the ``letter`` axis of the subplot at (row, col): xaxis, xaxis2, ..."""
    number = (row - 1) * cols + col
    return f"{letter}axis{number if number > 1 else ''}"


def trace_axes(row: int = 1, col: int = 1, cols: int = 1) -> dict[str, str]:
    """The ``xaxis``/``yaxis`` references a trace in the subplot at (row, col) carries."""
    number = (row - 1) * cols + col
    suffix = str(number) if number > 1 else ""
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def update_axes(layout: dict[str, Any], letter: str, **changes: Any) -> None:
    """Merge ``changes`` into every ``letter`` axis of ``layout`` (``update_xaxes``, all rows)."""
    names = [k for k in layout if (m := _AXIS.match(k)) and m.group(1) == letter]
    for name in names or [f"{letter}axis"]:
        merge(layout.setdefault(name, {}), changes)


def update_annotations(layout: dict[str, Any], **changes: Any) -> None:
    """Merge ``changes`` into every annotation of ``layout`` (subplot titles included)."""
    for annotation in layout.get("annotations", []):
        merge(annotation, changes)


def reference_line(
    axis: str, at: Any, line: Mapping[str, Any], refs: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What ``add_hline(y=at)`` (``axis="y"``) or ``add_vline(x=at)`` (``"x"``) draws: a line at
    ``at`` across the whole plot, or across the subplot whose :func:`trace_axes` are ``refs``."""
    refs = refs or trace_axes()
    across = "y" if axis == "x" else "x"
    return {
        "type": "line",
        "line": dict(line),
        f"{axis}ref": refs[f"{axis}axis"],
        f"{axis}0": at,
        f"{axis}1": at,
        f"{across}ref": f"{refs[f'{across}axis']} domain",
        f"{across}0": 0,
        f"{across}1": 1,
    }
