"""Settings changes in the audit trail: one event per start that changed something, with the
changed keys named and secrets only as keyed fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.settings import load_settings
from pipeline.settings_audit import (
    ACTION,
    ACTOR,
    FIRST_START,
    entries,
    record_settings_change,
    snapshot,
)
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store

SECRET = "correct-horse-battery-staple-0123456789"


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.close()


def _events(wh: Warehouse):
    return audit_store.list_events(wh, action=ACTION)


def _whole_trail(wh: Warehouse) -> str:
    return json.dumps([list(map(str, row)) for row in wh.rows("SELECT * FROM audit_log")])


def test_the_first_start_records_every_setting(wh, tmp_path):
    settings = load_settings(data_dir=tmp_path)
    changed = record_settings_change(settings, wh)
    events = _events(wh)
    assert len(events) == 1
    event = events.iloc[0]
    assert (event.actor, event.target, event.outcome) == (ACTOR, FIRST_START, "ok")
    stored = json.loads(event.detail)
    assert stored["dataset.target"] == "churned"
    assert stored["web.session_hours"] == 12.0
    assert stored["secret_key"] is None
    assert set(changed) == set(stored)


def test_an_unchanged_start_writes_nothing(wh, tmp_path):
    record_settings_change(load_settings(data_dir=tmp_path), wh)
    assert record_settings_change(load_settings(data_dir=tmp_path), wh) == []
    assert len(_events(wh)) == 1


def test_a_changed_setting_is_named_in_the_target(wh, tmp_path):
    record_settings_change(load_settings(data_dir=tmp_path), wh)
    changed = record_settings_change(
        load_settings(data_dir=tmp_path, port=8060, promotion={"min_auc_gain": 0.01}), wh
    )
    assert changed == ["port", "promotion.min_auc_gain"]
    newest = _events(wh).iloc[0]
    assert newest.target == "port, promotion.min_auc_gain"
    assert json.loads(newest.detail)["port"] == 8060
    # the next start compares with the newest snapshot, not the first
    assert (
        record_settings_change(
            load_settings(data_dir=tmp_path, port=8060, promotion={"min_auc_gain": 0.01}), wh
        )
        == []
    )
    assert len(_events(wh)) == 2


def test_a_changed_secret_is_named_but_its_value_is_nowhere_in_the_trail(wh, tmp_path):
    record_settings_change(load_settings(data_dir=tmp_path), wh)
    first = load_settings(data_dir=tmp_path, secret_key=SECRET, web={"metrics_token": SECRET})
    assert record_settings_change(first, wh) == ["secret_key", "web.metrics_token"]
    again = load_settings(data_dir=tmp_path, secret_key=SECRET, web={"metrics_token": SECRET})
    assert record_settings_change(again, wh) == []
    other = load_settings(data_dir=tmp_path, secret_key=SECRET + "!", web={"metrics_token": SECRET})
    assert record_settings_change(other, wh) == ["secret_key"]
    trail = _whole_trail(wh)
    assert SECRET not in trail
    stored = json.loads(_events(wh).iloc[0].detail)
    assert stored["secret_key"].startswith("hmac-sha256:")
    assert stored["web.metrics_token"] != stored["secret_key"]


def test_a_webhook_address_counts_as_secret(wh, tmp_path):
    url = "https://hooks.example.com/services/T000/B000/tokentokentoken"
    record_settings_change(load_settings(data_dir=tmp_path), wh)
    changed = record_settings_change(
        load_settings(data_dir=tmp_path, monitoring={"webhook_url": url}), wh
    )
    assert changed == ["monitoring.webhook_url"]
    assert "tokentokentoken" not in _whole_trail(wh)


def test_fingerprints_are_keyed_per_data_dir(tmp_path):
    a = load_settings(data_dir=tmp_path / "a", secret_key=SECRET)
    b = load_settings(data_dir=tmp_path / "b", secret_key=SECRET)
    assert snapshot(a, b"a" * 32)["secret_key"] != snapshot(b, b"b" * 32)["secret_key"]
    assert snapshot(a, b"a" * 32)["secret_key"] == snapshot(b, b"a" * 32)["secret_key"]


def test_entries_flatten_nested_sections_and_mark_secrets(tmp_path):
    found = {e.key: e for e in entries(load_settings(data_dir=tmp_path))}
    assert "cleaning.aggregate.enabled" in found
    assert found["secret_key"].secret and found["web.metrics_token"].secret
    assert not found["dataset.target"].secret
    assert found["training.search_trials"].description == "trials per candidate"
