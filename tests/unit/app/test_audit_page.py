"""The Audit page: filters, the grid, the formula-safe CSV export, and the hash-chain verdict."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import timedelta
from types import ModuleType

import dash
import pytest

from app.auth import Role, needed_role
from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse import audit as audit_store
from pipeline.warehouse.audit import AuditEvent

HOSTILE = "=cmd|' /C calc'!A0"


@pytest.fixture
def wh(empty_warehouse: Warehouse) -> Warehouse:
    """Five events by three actors, one with a comment a spreadsheet would run."""
    for event in (
        AuditEvent("root", "login", "ok", None, None, "admin", "10.0.0.7"),
        AuditEvent("mallory", "login", "failed", None, None, None, "10.0.0.9"),
        AuditEvent("root", "user.add", "ok", "ann", "role analyst", "admin", "10.0.0.7"),
        AuditEvent("ann", "alert.acknowledge", "ok", "alert 3", HOSTILE, "analyst", "10.0.0.8"),
        AuditEvent("ann", "retrain", "denied", None, None, "analyst", "10.0.0.8"),
    ):
        audit_store.record(empty_warehouse, event)
    return empty_warehouse


@pytest.fixture
def page(make_app, wh) -> ModuleType:
    make_app(wh)
    return importlib.import_module("app.pages.audit")


def _all(page: ModuleType, **filters) -> tuple[list[dict], str]:
    args = {"actor": "*", "action": "*", "outcome": "*", "start": None, "end": None} | filters
    return page.update_events(*args.values(), None)


def _verdict(page: ModuleType, ui) -> str:
    return ui.texts(page.refresh_trail(None)[0])


def test_the_page_is_for_admins_and_every_callback_says_so(page):
    entry = dash.page_registry["app.pages.audit"]
    assert (entry["path"], entry["order"], entry["role"]) == ("/audit", 21, Role.ADMIN)
    assert entry["title"].startswith("Plumbline · ")
    for name in ("update_events", "refresh_trail", "download_events"):
        assert needed_role(getattr(page, name)) == (Role.ADMIN, None)


def test_the_filter_menus_offer_the_values_in_the_trail(page):
    layout = page.layout()
    actors = [o["value"] for o in layout[page.Ids.ACTOR].options]
    assert actors == ["*", "ann", "mallory", "root"]
    outcomes = [o["value"] for o in layout[page.Ids.OUTCOME].options]
    assert outcomes == ["*", "denied", "failed", "ok"]
    _, actor_options, action_options, _ = page.refresh_trail(1)
    assert "alert.acknowledge" in [o["value"] for o in action_options]
    assert actor_options == layout[page.Ids.ACTOR].options


def test_the_grid_shows_every_event_newest_first_in_utc(page):
    rows, note = _all(page)
    assert [r["event_id"] for r in rows] == [5, 4, 3, 2, 1]
    assert note.startswith("Showing 5 events.")
    first = rows[-1]
    assert (first["actor"], first["action"], first["outcome"], first["address"]) == (
        "root",
        "login",
        "ok",
        "10.0.0.7",
    )
    assert first["at"].startswith(f"{utcnow():%Y-%m-%d}")
    layout = importlib.import_module("app.pages._audit_layout")
    assert next(c for c in layout.COLUMNS if c["field"] == "at")["headerName"] == "Time (UTC)"


def test_filters_narrow_the_events(page):
    assert [r["event_id"] for r in _all(page, actor="ann")[0]] == [5, 4]
    assert [r["event_id"] for r in _all(page, action="login")[0]] == [2, 1]
    assert [r["event_id"] for r in _all(page, outcome="denied")[0]] == [5]
    assert _all(page, actor="root", outcome="failed") == (
        [],
        "No audit event matches these filters.",
    )


def test_the_date_range_includes_both_days(page):
    today = utcnow().date()
    assert len(_all(page, start=today.isoformat(), end=today.isoformat())[0]) == 5
    assert len(_all(page, start=f"{today}T00:00:00")[0]) == 5
    yesterday = (today - timedelta(days=1)).isoformat()
    assert _all(page, end=yesterday)[0] == []
    assert len(_all(page, start="not a date", end=None)[0]) == 5


def test_a_long_detail_is_shortened_in_the_grid_but_whole_in_the_csv(page, wh):
    audit_store.record(wh, AuditEvent("plumbline (start)", "settings.change", detail="x" * 5000))
    rows, _ = _all(page, action="settings.change")
    assert len(rows[0]["detail"]) < 500 and rows[0]["detail"].endswith("(whole text in the CSV)")
    sent = page.download_events(1, "*", "settings.change", "*", None, None)
    assert "x" * 5000 in sent["content"]


def test_the_csv_export_holds_the_filtered_events_with_formulas_neutralised(page):
    sent = page.download_events(1, "ann", "*", "*", None, None)
    assert sent["filename"].startswith("plumbline_audit_") and sent["filename"].endswith("Z.csv")
    assert sent["type"] == "text/csv"
    records = list(csv.DictReader(io.StringIO(sent["content"])))
    assert [r["#"] for r in records] == ["5", "4"]
    assert records[1]["Detail"] == "'" + HOSTILE
    assert records[1]["Time (UTC)"].startswith(f"{utcnow():%Y-%m-%d}")
    assert not any(v.startswith("=") for r in records for v in r.values())


def test_an_intact_chain_is_said_so(page, ui):
    assert _verdict(page, ui).startswith(
        "Audit trail intact: 5 events, each chained to the one before."
    )


def test_an_edited_event_breaks_the_chain(page, wh, ui):
    wh.execute("UPDATE audit_log SET outcome = 'ok' WHERE event_id = 2")
    verdict = _verdict(page, ui)
    assert verdict.startswith(
        "Event #2 does not match its recorded hash: the trail was edited outside Plumbline."
    )


def test_an_empty_trail_is_said_so(make_app, empty_warehouse, ui):
    make_app(empty_warehouse)
    page = importlib.import_module("app.pages.audit")
    assert _verdict(page, ui) == "The audit trail is empty."
    assert _all(page) == ([], "No audit event matches these filters.")
