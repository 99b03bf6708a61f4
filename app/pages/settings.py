"""Settings: the settings in force, by section. For admins; read-only.

Secret values (the session key, the first admin's password, the metrics token, the webhook
address) are shown only as "set" or "not set". Settings are changed in ``plumbline.toml`` or
``PLUMBLINE_*`` variables and take effect on restart; each start records what changed in the
audit trail (:mod:`pipeline.settings_audit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from app.auth import Role
from app.services import services
from pipeline.settings import CONFIG_FILE_NAME, Settings
from pipeline.settings_audit import ACTION as SETTINGS_CHANGE
from pipeline.settings_audit import Entry, entries
from pipeline.warehouse import audit as audit_store

dash.register_page(
    __name__,
    path="/settings",
    name="Settings",
    title="Plumbline · Settings",
    order=22,
    role=Role.ADMIN,
)

GENERAL = "general"
EMPTY = "(none)"


def _section(key: str) -> str:
    return key.split(".", 1)[0] if "." in key else GENERAL


def _short(key: str) -> str:
    return key.split(".", 1)[1] if "." in key else key


def show(entry: Entry) -> Any:
    """A setting's value for people: secrets only as set / not set, lists and tables in words."""
    value = entry.value
    if entry.secret:
        return "set" if value is not None else "not set"
    if value is None:
        return html.Span("not set", className="text-muted")
    plain = to_jsonable_python(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, list) and any(isinstance(v, dict) for v in plain):
        return html.Ul(
            [html.Li(json.dumps(v, ensure_ascii=False), className="font-monospace") for v in plain],
            className="small mb-0 ps-3",
        )
    if isinstance(plain, list):
        return ", ".join(str(v) for v in plain) or EMPTY
    if isinstance(plain, dict):
        return "; ".join(f"{k} = {v}" for k, v in plain.items()) or EMPTY
    return str(plain)


def _changed_from_default(entry: Entry, default: Entry | None) -> bool:
    if default is None:
        return True
    if entry.secret:
        return (entry.value is None) != (default.value is None)
    return to_jsonable_python(entry.value) != to_jsonable_python(default.value)


def _table(items: Iterable[tuple[Entry, bool]]) -> dbc.Table:
    rows = []
    for entry, changed in items:
        name = [html.Code(_short(entry.key))]
        if changed:
            name += [" ", dbc.Badge("changed", color="info", class_name="ms-1")]
        rows.append(
            html.Tr(
                [
                    html.Td(name, style={"width": "28%"}),
                    html.Td(show(entry), style={"width": "32%", "wordBreak": "break-word"}),
                    html.Td(entry.description or "", className="small text-muted"),
                ]
            )
        )
    head = html.Thead(html.Tr([html.Th("Setting"), html.Th("Value"), html.Th("What it does")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, class_name="mb-0")


def _title(settings: Settings, section: str) -> str:
    if section == GENERAL:
        return "General: where Plumbline keeps its data, how it serves, how often it runs"
    model = getattr(settings, section)
    doc = (type(model).__doc__ or "").strip().splitlines()
    return f"{section}: {doc[0]}" if isinstance(model, BaseModel) and doc else section


def sections(settings: Settings) -> dbc.Accordion:
    """One accordion item per section; the sections that differ from the defaults are open."""
    defaults = {e.key: e for e in entries(Settings.model_construct())}
    grouped: dict[str, list[tuple[Entry, bool]]] = {}
    for entry in entries(settings):
        changed = _changed_from_default(entry, defaults.get(entry.key))
        grouped.setdefault(_section(entry.key), []).append((entry, changed))
    order = [GENERAL] + [s for s in grouped if s != GENERAL]
    items = [
        dbc.AccordionItem(_table(grouped[s]), title=_title(settings, s), item_id=s) for s in order
    ]
    opened = [s for s in order if any(changed for _, changed in grouped[s])]
    return dbc.Accordion(items, always_open=True, active_item=opened, class_name="mb-4")


def how_to_change(settings: Settings) -> dbc.Alert:
    """Where settings come from and when a change takes effect."""
    return dbc.Alert(
        [
            html.Div(
                [
                    "Settings are changed in ",
                    html.Code(str(settings.data_dir / CONFIG_FILE_NAME)),
                    " (or the file given with ",
                    html.Code("--config"),
                    ") or in ",
                    html.Code("PLUMBLINE_*"),
                    " environment variables, nested keys joined by ",
                    html.Code("__"),
                    " (e.g. ",
                    html.Code("PLUMBLINE_WEB__SESSION_HOURS=8"),
                    "). Environment variables win over the file. A change takes effect when "
                    "Plumbline restarts.",
                ]
            ),
            html.Div(
                [
                    "Each start writes the settings that changed since the previous start to ",
                    dcc.Link("the audit trail", href="/audit"),
                    f" ({SETTINGS_CHANGE}). Secret values are never shown here nor stored "
                    "there: only whether they are set.",
                ],
                className="mt-1",
            ),
        ],
        color="info",
        class_name="small",
    )


def last_change_line() -> str:
    """When the settings last changed, and which keys, from the audit trail."""
    events = audit_store.list_events(services().warehouse, action=SETTINGS_CHANGE, limit=1)
    if events.empty:
        return "No settings change recorded yet: each start of plumbline serve records them."
    at, target = events["at"].iloc[0], events["target"].iloc[0]
    return f"Last recorded change: {pd.Timestamp(at):%Y-%m-%d %H:%M} UTC ({target})."


def layout(**kwargs: Any) -> html.Div:
    """The page; query values are ignored."""
    settings = services().settings
    return html.Div(
        [
            html.H2("Settings", className="h4 mt-3"),
            html.Div(
                "The settings in force in this Plumbline process; sections marked changed "
                "differ from the built-in defaults and are opened.",
                className="small text-muted mb-1",
            ),
            html.Div(last_change_line(), className="small text-muted mb-3"),
            how_to_change(settings),
            sections(settings),
        ],
        className="settings-page",
    )
