"""The Settings page: the settings in force by section, secrets shown only as set / not set."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import dash
import dash_bootstrap_components as dbc
import pytest

from app.auth import Role
from pipeline.settings import load_settings
from pipeline.settings_audit import record_settings_change
from pipeline.warehouse import Warehouse

SECRET = "a-session-key-nobody-may-see-0123456789"
TOKEN = "metrics-token-nobody-may-see"
HOOK = "https://hooks.example.com/services/T0/B0/hooktokenhooktoken"


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with secrets set and a few values away from the defaults."""
    return load_settings(
        data_dir=tmp_path,
        secret_key=SECRET,
        web={"metrics_token": TOKEN, "session_hours": 8},
        monitoring={"webhook_url": HOOK},
        port=8061,
    )


@pytest.fixture
def page(make_app, empty_warehouse: Warehouse) -> ModuleType:
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.settings")


def _rows(layout, ui) -> dict[str, str]:
    """'section.key' -> the value cell's text, read from every table of the accordion."""
    found = {}
    for item in ui.find_all(layout, lambda c: isinstance(c, dbc.AccordionItem)):
        for tr in ui.find_all(item, lambda c: type(c).__name__ == "Tr")[1:]:
            name, value, _ = tr.children
            key = ui.texts(name).replace(" changed", "")
            prefix = "" if item.item_id == "general" else f"{item.item_id}."
            found[prefix + key] = ui.texts(value)
    return found


def test_the_page_is_for_admins(page):
    entry = dash.page_registry["app.pages.settings"]
    assert (entry["path"], entry["order"], entry["role"]) == ("/settings", 22, Role.ADMIN)


def test_settings_are_shown_by_section(page, ui):
    layout = page.layout()
    rows = _rows(layout, ui)
    assert rows["port"] == "8061"
    assert rows["web.session_hours"] == "8.0"
    assert rows["dataset.segments"] == "region, plan, contract_type"
    assert rows["cleaning.aggregate.enabled"] == "false"
    assert rows["fairness.columns"] == "not set"
    assert "Drift on a top-5 feature" in rows["monitoring.rules"]
    (accordion,) = ui.find_all(layout, lambda c: isinstance(c, dbc.Accordion))
    assert accordion.children[0].item_id == "general"
    assert {"general", "web", "monitoring"} <= set(accordion.active_item)
    assert "dataset" not in accordion.active_item  # nothing changed there


def test_secrets_are_set_or_not_set_and_never_shown(page, ui):
    layout = page.layout()
    rows = _rows(layout, ui)
    assert rows["secret_key"] == "set"
    assert rows["web.metrics_token"] == "set"
    assert rows["monitoring.webhook_url"] == "set"
    assert rows["admin_password"] == "not set"
    whole = repr(layout) + ui.texts(layout)
    for secret in (SECRET, TOKEN, "hooktokenhooktoken"):
        assert secret not in whole


def test_the_page_says_how_settings_change_and_when_they_last_did(page, ui, settings):
    text = ui.texts(page.layout())
    assert "plumbline.toml" in text and "PLUMBLINE_*" in text
    assert "takes effect when Plumbline restarts" in text
    assert "Each start writes the settings that changed" in text
    assert "No settings change recorded yet" in text
    from app.services import services

    record_settings_change(settings, services().warehouse)
    assert "Last recorded change:" in ui.texts(page.layout())
    assert "(first start)" in ui.texts(page.layout())
