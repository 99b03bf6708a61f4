"""/healthz: 200 when the warehouse, the scheduler and the champion artefact are fine, else 503."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import flask
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import app.ops.health as health
from app.ops.health import STUCK_AFTER, register_health
from pipeline.registry import save_model
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from pipeline.warehouse.connection import utcnow

T0 = datetime(2024, 7, 1, 9, 0)


def add_champion(wh: Warehouse, directory: Path, version: int = 1) -> Path:
    """A real (tiny) skops model registered as ``version`` and made champion."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 2)), np.arange(30) % 2
    model = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(x, y)
    saved = save_model(model, directory, f"v{version}")
    with wh.transaction() as cur:
        cur.execute(
            "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, sha256, "
            "size_bytes, train_rows, holdout_rows, features, params) "
            "VALUES (?, 1, ?, 'logistic', ?, ?, ?, 30, 0, '[\"a\", \"b\"]', '{}')",
            [version, T0, str(saved.path), saved.sha256, saved.size_bytes],
        )
        cur.execute(
            "INSERT OR REPLACE INTO model_aliases VALUES ('champion', ?, ?, 'test')", [version, T0]
        )
    return saved.path


def add_run(
    wh: Warehouse,
    run_id: int,
    status: str,
    started: datetime,
    finished: datetime | None = None,
    error: str | None = None,
) -> None:
    """One run row."""
    wh.execute(
        "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, error) "
        "VALUES (?, 'manual', 'alice', ?, ?, ?, ?)",
        [run_id, status, started, finished, error],
    )


class Probe:
    """A client for /healthz on a bare Flask app, with a switchable scheduler."""

    def __init__(self, wh: Warehouse, tmp_path: Path) -> None:
        self.alive = True
        server = flask.Flask(__name__)
        settings = load_settings(data_dir=tmp_path / "data")
        register_health(server, settings, wh, lambda: self.alive)
        self.client = server.test_client()

    def get(self) -> tuple[int, dict]:
        response = self.client.get("/healthz")
        assert response.headers["Cache-Control"] == "no-store"
        return response.status_code, response.get_json()


@pytest.fixture
def probe(warehouse: Warehouse, tmp_path: Path) -> Probe:
    """/healthz over the temporary warehouse."""
    return Probe(warehouse, tmp_path)


def test_a_healthy_process_answers_200_with_every_check(warehouse, tmp_path, probe):
    add_champion(warehouse, tmp_path / "models")
    add_run(warehouse, 1, "succeeded", T0, T0 + timedelta(minutes=2))
    status, body = probe.get()
    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["warehouse"] == {"ok": True}
    assert checks["scheduler"] == {"ok": True}
    assert checks["champion"] == {"ok": True, "version": 1}
    assert checks["last_run"] == {
        "ok": True,
        "id": 1,
        "status": "succeeded",
        "finished_at": "2024-07-01T09:02:00+00:00",
        "error": None,
    }
    assert "warnings" not in body


def test_no_champion_and_no_run_yet_is_healthy(probe):
    status, body = probe.get()
    assert status == 200
    assert body["checks"]["champion"] == {"ok": True, "version": None, "detail": "no champion yet"}
    assert body["checks"]["last_run"] == {"ok": True, "detail": "no finished run yet"}


def test_a_dead_scheduler_answers_503_with_the_reason(probe):
    probe.alive = False
    status, body = probe.get()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["scheduler"] == {"ok": False, "error": "the scheduler is not running"}
    assert body["checks"]["warehouse"]["ok"] is True


def test_a_scheduler_probe_that_raises_counts_as_dead(warehouse, tmp_path):
    server = flask.Flask(__name__)

    def broken() -> bool:
        raise RuntimeError("no scheduler")

    register_health(server, load_settings(data_dir=tmp_path), warehouse, broken)
    response = server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"] == {
        "ok": False,
        "error": "RuntimeError: no scheduler",
    }


def test_a_tampered_champion_artefact_answers_503(warehouse, tmp_path, probe):
    path = add_champion(warehouse, tmp_path / "models")
    assert probe.get()[0] == 200
    with path.open("ab") as handle:
        handle.write(b"\0")
    status, body = probe.get()
    assert status == 503
    champion = body["checks"]["champion"]
    assert champion["ok"] is False and champion["version"] == 1
    assert "SHA-256" in champion["error"] and "v1.skops" in champion["error"]
    assert str(tmp_path) not in json.dumps(body)  # file names, never full paths


def test_a_missing_champion_artefact_answers_503(warehouse, tmp_path, probe):
    add_champion(warehouse, tmp_path / "models").unlink()
    status, body = probe.get()
    assert status == 503
    assert body["checks"]["champion"]["error"] == "model artefact v1.skops is missing"


def test_the_champion_is_hashed_again_only_when_its_file_changes(
    warehouse, tmp_path, probe, monkeypatch
):
    path = add_champion(warehouse, tmp_path / "models")
    calls = []
    real = health.verify_artefact
    monkeypatch.setattr(health, "verify_artefact", lambda p, sha: calls.append(p) or real(p, sha))
    for _ in range(3):
        assert probe.get()[0] == 200
    assert len(calls) == 1
    path.write_bytes(path.read_bytes() + b"\0")
    assert probe.get()[0] == 503
    assert probe.get()[0] == 503
    assert len(calls) == 2


def test_a_closed_warehouse_answers_503_without_a_traceback(tmp_path):
    wh = Warehouse(tmp_path / "closed.duckdb")
    probe = Probe(wh, tmp_path)
    wh.close()
    status, body = probe.get()
    assert status == 503
    warehouse = body["checks"]["warehouse"]
    assert warehouse["ok"] is False and "closed" in warehouse["error"].lower()
    assert "Traceback" not in json.dumps(body)
    skipped = {"ok": None, "skipped": "the warehouse is unreachable"}
    assert body["checks"]["champion"] == skipped and body["checks"]["last_run"] == skipped


def test_a_failed_last_run_is_reported_redacted_but_healthy(warehouse, probe):
    add_run(warehouse, 1, "succeeded", T0, T0 + timedelta(minutes=1))
    add_run(
        warehouse,
        2,
        "failed",
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1, minutes=1),
        "clean: row of jane@example.com has phone +44 20 7946 0958\nsecond line",
    )
    status, body = probe.get()
    assert status == 200
    last = body["checks"]["last_run"]
    assert (last["id"], last["status"]) == (2, "failed")
    assert last["error"] == "clean: row of [redacted] has phone [redacted]"
    assert "alice" not in json.dumps(body)  # who started a run is not for an open endpoint


def test_a_run_running_for_hours_is_a_warning_not_a_failure(warehouse, probe):
    add_run(warehouse, 1, "succeeded", T0, T0 + timedelta(minutes=1))
    started = utcnow() - STUCK_AFTER - timedelta(hours=1)
    add_run(warehouse, 2, "running", started)
    status, body = probe.get()
    assert status == 200
    last = body["checks"]["last_run"]
    assert last["id"] == 1 and last["running"]["id"] == 2
    assert "run #2 has been running for 7.0 h" in last["warning"]
    assert body["warnings"] == [last["warning"]]


def test_a_recent_running_run_is_no_warning(warehouse, probe):
    add_run(warehouse, 1, "running", utcnow() - timedelta(minutes=5))
    status, body = probe.get()
    assert status == 200
    assert "warning" not in body["checks"]["last_run"] and "warnings" not in body


def test_the_probe_answers_before_the_apps_other_hooks(tmp_path, monkeypatch):
    """On the real app, a closed warehouse is a 503 even on the very first request, although
    the app's first-request set-up and login gate would fail on it."""
    from app import create_app
    from pipeline.runner import RunRequest

    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    settings = load_settings(data_dir=tmp_path / "data")
    wh = Warehouse(tmp_path / "app.duckdb")
    app = create_app(settings, wh, lambda trigger, user: RunRequest(True, 1, "started"))
    register_health(app.server, settings, wh, lambda: True)
    wh.close()
    response = app.server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["warehouse"]["ok"] is False
