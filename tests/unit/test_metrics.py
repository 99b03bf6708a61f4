"""/metrics: warehouse facts read at scrape time, request latency by bounded page labels."""

from __future__ import annotations

import inspect
import os
from datetime import datetime, timedelta

import dash
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.ops.metrics import owning_page, register_metrics
from pipeline.runner import RunRequest
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse

T0 = datetime(2024, 7, 1, 9, 0)
TOKEN = "scrape-me-please"


def seed(wh: Warehouse) -> None:
    """Runs 1-3 succeeded, 4 failed, 5 running; steps with known durations; six alerts;
    v3 champion."""
    with wh.transaction() as cur:
        for run_id, status in enumerate(
            ["succeeded", "succeeded", "succeeded", "failed", "running"], start=1
        ):
            at = T0 + timedelta(hours=run_id)
            cur.execute(
                "INSERT INTO runs (run_id, trigger, status, started_at, finished_at) "
                "VALUES (?, 'schedule', ?, ?, ?)",
                [run_id, status, at, None if status == "running" else at + timedelta(minutes=1)],
            )
        steps = [
            # run, step, status, seconds, rows_in
            (1, "ingest", "succeeded", 2.0, 100),
            (2, "ingest", "succeeded", 4.0, 200),
            (3, "ingest", "succeeded", 3.0, 300),
            (1, "train", "succeeded", 40.0, 90),
            (4, "train", "failed", 5.0, 95),
            (5, "ingest", "running", None, None),
        ]
        for position, (run_id, step, status, seconds, rows_in) in enumerate(steps):
            at = T0 + timedelta(hours=run_id, seconds=position)
            cur.execute(
                "INSERT INTO run_steps (run_id, position, step, status, started_at, finished_at, "
                "duration_s, rows_in) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, position, step, status, at, at if seconds else None, seconds, rows_in],
            )
        alerts = [
            ("critical", "open"),
            ("critical", "acknowledged"),
            ("warning", "muted"),
            ("warning", "resolved"),
            ("info", "resolved"),
            ("warning", "open"),
        ]
        for alert_id, (severity, status) in enumerate(alerts, start=1):
            cur.execute(
                "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, "
                "status) VALUES (?, ?, ?, 'drift', ?, 'm', ?)",
                [alert_id, T0, severity, f"s{alert_id}", status],
            )
        cur.execute("INSERT INTO model_aliases VALUES ('champion', 3, ?, 'test')", [T0])


def start_run(trigger: str, user: str | None) -> RunRequest:
    return RunRequest(True, 1, "started")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Default settings in a temporary data dir, free of the environment's PLUMBLINE_*."""
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def served(settings, warehouse):
    """The Dash app with the metrics registered, over the temporary warehouse."""
    app = create_app(settings, warehouse, start_run)
    register_metrics(app, settings, warehouse)
    return app


def scrape(app: dash.Dash, **headers: str) -> dict[str, dict[tuple, float]]:
    """Metric samples by name, then by sorted label items."""
    response = app.server.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_warehouse_metrics_count_runs_steps_alerts_and_the_champion(served, warehouse):
    seed(warehouse)
    m = scrape(served)
    assert m["plumbline_warehouse_up"] == {(): 1.0}
    assert m["plumbline_runs"] == {
        (("status", "cancelled"),): 0.0,
        (("status", "failed"),): 1.0,
        (("status", "running"),): 1.0,
        (("status", "succeeded"),): 3.0,
    }
    assert m["plumbline_step_duration_seconds_count"] == {
        (("step", "ingest"),): 3.0,
        (("step", "train"),): 2.0,
    }
    assert m["plumbline_step_duration_seconds_sum"] == {
        (("step", "ingest"),): 9.0,
        (("step", "train"),): 45.0,
    }
    assert m["plumbline_step_last_duration_seconds"] == {
        (("step", "ingest"),): 3.0,
        (("step", "train"),): 5.0,
    }
    assert m["plumbline_step_rows_in_total"] == {
        (("step", "ingest"),): 600.0,
        (("step", "train"),): 185.0,
    }
    assert m["plumbline_alerts_active"] == {
        (("severity", "critical"),): 2.0,
        (("severity", "info"),): 0.0,
        (("severity", "warning"),): 2.0,
    }
    assert m["plumbline_champion_version"] == {(): 3.0}


def test_an_empty_warehouse_reports_zeros_and_no_champion(served):
    m = scrape(served)
    assert set(m["plumbline_runs"].values()) == {0.0}
    assert m["plumbline_champion_version"] == {(): 0.0}
    assert "plumbline_step_duration_seconds_count" not in m


def test_an_unreadable_warehouse_is_reported_not_raised(settings, tmp_path):
    wh = Warehouse(tmp_path / "closing.duckdb")
    app = create_app(settings, wh, start_run)
    register_metrics(app, settings, wh)
    wh.close()
    m = scrape(app)
    assert m["plumbline_warehouse_up"] == {(): 0.0}
    assert "plumbline_runs" not in m


def _latency_counts(app: dash.Dash) -> dict[tuple[str, str], float]:
    counts = scrape(app)["plumbline_request_duration_seconds_count"]
    return {(dict(k)["kind"], dict(k)["page"]): v for k, v in counts.items()}


def _output_defined_in(app: dash.Dash, module: str) -> str:
    return next(
        output
        for output, entry in app.callback_map.items()
        if inspect.unwrap(entry["callback"]).__module__ == module
    )


def test_callback_latency_is_labelled_with_the_page_that_defines_the_callback(served):
    client = served.server.test_client()
    helper = _output_defined_in(served, "app.pages._models_promotion")
    page = _output_defined_in(served, "app.pages.runs")
    for output in (helper, page, "no-such-output.children"):
        client.post("/_dash-update-component", json={"output": output, "inputs": []})
    counts = _latency_counts(served)
    assert counts[("callback", "/models")] == 1
    assert counts[("callback", "/runs")] == 1
    assert counts[("callback", "other")] == 1


def test_the_page_routing_callback_is_labelled_with_the_page_asked_for(served):
    client = served.server.test_client()
    client.get("/_dash-dependencies")  # Dash adds its routing callback on the first request
    router = next(o for o in served.callback_map if o.startswith(".._pages_content."))
    for pathname in ("/monitor", "/nowhere/../secret?x=1"):
        body = {
            "output": router,
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": ""},
            ],
        }
        client.post("/_dash-update-component", json=body)
    counts = _latency_counts(served)
    assert counts[("layout", "/monitor")] == 1
    assert counts[("layout", "other")] == 1


def test_the_answer_cache_reports_its_hits_misses_and_size(served, warehouse):
    from tests.auth import callback_request, ensure_users, logged_in_client

    ensure_users(warehouse)
    client = logged_in_client(served.server, "erin")
    body = callback_request(served, "update_value_options", {"overview-segment.value": "plan"})
    for _ in range(3):
        assert client.post("/_dash-update-component", json=body).status_code == 200
    samples = scrape(served)
    lookups = samples["plumbline_answer_cache_lookups_total"]
    assert lookups[(("outcome", "hit"),)] == 2
    assert lookups[(("outcome", "miss"),)] == 1
    assert samples["plumbline_answer_cache_answers"][()] == 1
    assert samples["plumbline_answer_cache_bytes"][()] > 0


def test_page_gets_are_labelled_with_registered_paths_or_other(served):
    client = served.server.test_client()
    client.get("/models?version=3")
    client.get("/")
    client.get("/customers/C001/jane@example.com?utm=x")
    counts = _latency_counts(served)
    assert counts[("page", "/models")] == 1
    assert counts[("page", "/")] == 1
    assert counts[("page", "other")] == 1
    pages = {page for _kind, page in counts}
    registered = {p["path"] for p in dash.page_registry.values()}
    assert pages <= registered | {"other"}


def test_each_app_has_its_own_registry(settings, warehouse, served):
    second = create_app(settings, warehouse, start_run)
    register_metrics(second, settings, warehouse)  # no duplicate-series error
    served.server.test_client().get("/runs")
    assert ("page", "/runs") in _latency_counts(served)
    second_counts = scrape(second).get("plumbline_request_duration_seconds_count", {})
    assert not any(("page", "/runs") in key for key in second_counts)


def test_a_metrics_token_is_required_when_set(tmp_path, warehouse, monkeypatch):
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    settings = load_settings(data_dir=tmp_path / "data", web={"metrics_token": TOKEN})
    app = create_app(settings, warehouse, start_run)
    register_metrics(app, settings, warehouse)
    client = app.server.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in wrong.get_data(as_text=True)
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    m = scrape(app, Authorization=f"Bearer {TOKEN}")
    assert m["plumbline_warehouse_up"] == {(): 1.0}


def test_helper_modules_belong_to_the_page_their_name_starts_with():
    pages = {"app.pages.models": "/models", "app.pages.model": "/model", "app.pages.data": "/d"}
    assert owning_page("app.pages.models", pages) == "/models"
    assert owning_page("app.pages._models_actions", pages) == "/models"
    assert owning_page("app.pages._model_card", pages) == "/model"
    assert owning_page("app.pages._data_layout", pages) == "/d"
    assert owning_page("app.pages._datasets_x", pages) is None
    assert owning_page("app.components.navbar", pages) is None
    assert owning_page("other.pkg._models_actions", pages) is None
