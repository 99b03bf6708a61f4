"""Twenty people press Retrain at once: exactly one run starts, nineteen hear who has it."""

from __future__ import annotations

import threading
import time

import pytest

from app import create_app
from pipeline import runner as runner_module
from pipeline.runner import Runner
from pipeline.warehouse import Warehouse, runs
from pipeline.warehouse import audit as audit_store
from tests.auth import callback_request, ensure_users, logged_in_client

CLICKS = 20


class SlowFlow:
    """Stands in for the pipeline: holds the run slot for a few seconds, then succeeds."""

    def __init__(self, settings, wh, hook=None, **flow):
        self.wh = wh

    def execute(self, run_id: int) -> dict:
        time.sleep(3)
        runs.finish_run(self.wh, run_id, "succeeded", None, {})
        return {}


@pytest.fixture
def owner(small_settings, monkeypatch):
    monkeypatch.setattr(runner_module, "Flow", SlowFlow)
    wh = Warehouse(small_settings.warehouse_path)
    runner = Runner(small_settings, wh)
    app = create_app(small_settings, wh, runner.start_run)
    ensure_users(wh)
    yield app, wh
    runner.shutdown()
    wh.close()


def test_twenty_concurrent_retrain_posts_start_exactly_one_run(owner):
    app, wh = owner
    clients = [logged_in_client(app.server, name) for name in ["ana", "admin"] * (CLICKS // 2)]
    body = callback_request(app, "retrain", {"runs-retrain.n_clicks": 1})
    start = threading.Barrier(CLICKS)
    answers: list[tuple[int, str]] = [(0, "")] * CLICKS

    def click(i: int) -> None:
        start.wait()
        response = clients[i].post("/_dash-update-component", json=body)
        answers[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert [status for status, _ in answers] == [200] * CLICKS
    started = [text for _, text in answers if "Run #1 started" in text]
    refused = [text for _, text in answers if "already running (run #1, started by" in text]
    assert (len(started), len(refused)) == (1, CLICKS - 1)
    assert int(wh.scalar("SELECT count(*) FROM runs")) == 1
    events = audit_store.list_events(wh, action="retrain")
    assert sorted(events["outcome"].value_counts().items()) == [("ok", 1), ("refused", 19)]
