"""The validation layout Dash sends to every browser, reduced to component ids and types.

Dash ships ``validation_layout`` (every page's layout) inside the index page so the browser
can check callback ids. Built from the real layouts it would carry their content to anyone
logged in, whatever their role, and built from guarded layouts it would lack the ids of pages
the first visitor may not open. So it is built once from the unguarded layouts and stripped
to what validation needs: each component that has an id, of the same type, with only its id
(and props its type requires).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import dash
from dash import html
from dash.development.base_component import Component


def _walk(node: Any) -> Iterator[Component]:
    if isinstance(node, Component):
        yield node
        for prop in ("children", *getattr(node, "_children_props", [])):
            yield from _walk(getattr(node, prop.split(".")[0].replace("[]", ""), None))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)


def _required(component: Component) -> dict[str, Any]:
    signature = inspect.signature(type(component).__init__)
    required = {}
    for name, parameter in signature.parameters.items():
        if name in ("self", "id", "children") or parameter.kind is parameter.VAR_KEYWORD:
            continue
        if parameter.default is inspect.Parameter.empty or name in getattr(
            component, "_required_props", ()
        ):
            required[name] = getattr(component, name, None)
    return required


def id_skeleton(layouts: list[Any]) -> html.Div:
    """Every component with an id in ``layouts``, as an empty component of the same type."""
    seen: set[str] = set()
    parts: list[Component] = []
    for layout in layouts:
        for component in _walk(layout):
            cid = getattr(component, "id", None)
            if cid is None:
                continue
            key = f"{type(component).__module__}.{type(component).__name__}:{cid!r}"
            if key in seen:
                continue
            seen.add(key)
            parts.append(type(component)(id=cid, **_required(component)))
    return html.Div(parts)


def install_skeleton(app: dash.Dash, layouts) -> None:
    """Replace Dash's validation layout, once, right after its page router sets it up."""
    done = {"set": False}

    def replace() -> None:
        if not done["set"]:
            app.validation_layout = id_skeleton(layouts())
            done["set"] = True

    app.server.before_request(replace)
