"""Live Plumbline apps in headless Debian Chromium (Playwright, never a downloaded browser)."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.ops.health import register_health
from app.ops.metrics import register_metrics
from app.services import Services, install
from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse
from tests.auth import ensure_users, session_cookie
from tests.conftest import EVERY_MONTH, SMALL_DEMO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Every app served in the e2e session signs cookies with this key and has the same accounts
# (tests.auth.USERS), so one admin cookie for 127.0.0.1 (cookies ignore ports) logs the
# browser in everywhere.
E2E_SECRET = "e2e-secret-key-for-tests-only-0123456789"


def e2e_settings(data_dir: Path, **overrides):
    """Settings of a served test app: the shared secret key, plus ``overrides``."""
    return load_settings(data_dir=data_dir, secret_key=E2E_SECRET, **overrides)


def cookie_for(username: str) -> dict:
    """A Playwright cookie that logs ``username`` in on every e2e app."""
    return {
        "name": "plumbline_session",
        "value": session_cookie(E2E_SECRET, username),
        "domain": "127.0.0.1",
        "path": "/",
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
        "expires": -1,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """pytest-playwright hook: every test's browser starts logged in as ``admin``."""
    return {**browser_context_args, "storage_state": {"cookies": [cookie_for("admin")]}}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright hook: drive Debian's Chromium; fail clearly when it is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


class _Recorder(logging.Handler):
    """Keeps every formatted log line (and its arguments) for the PII canary test."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def log_lines() -> Iterator[list[str]]:
    """Every log line written while the e2e session runs, from the first app on."""
    recorder = _Recorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    yield recorder.lines
    root.removeHandler(recorder)
    root.setLevel(previous)


class Served:
    """A Flask app served on a free port from a thread.

    ``stop()`` installs ``previous`` again: the services that were current before this app's
    ``create_app`` replaced them (the session's live app, when a test serves a second one).
    """

    def __init__(self, server, previous: Services | None = None) -> None:
        self._previous = previous
        self._server = make_server("127.0.0.1", 0, server, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        if self._previous is not None:
            install(self._previous)


class LiveApp:
    """A served app plus the objects behind it, so tests can check numbers in the warehouse."""

    def __init__(self, data_dir: Path, run_first: bool):
        self.settings = e2e_settings(data_dir, demo=SMALL_DEMO, retrain=EVERY_MONTH)
        self.wh = Warehouse(self.settings.warehouse_path)
        ensure_users(self.wh)
        self.runner = Runner(self.settings, self.wh)
        if run_first:
            DemoClock(self.settings, self.wh).advance()
            request, reason = self.runner.run_now("test")
            assert reason is None, reason
        app = create_app(self.settings, self.wh, self.runner.start_run, self.runner.cancel)
        register_health(app.server, self.settings, self.wh, lambda: True)
        register_metrics(app, self.settings, self.wh)
        self._served = Served(app.server)
        self.url = self._served.url

    def close(self) -> None:
        self._served.stop()
        self.runner.shutdown()
        self.wh.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, small_demo_files: Path) -> Iterator[LiveApp]:
    """An app whose first pipeline run has finished."""
    data = tmp_path_factory.mktemp("live") / "data"
    shutil.copytree(small_demo_files, data / "demo")
    live = LiveApp(data, run_first=True)
    yield live
    live.close()


@pytest.fixture
def console_errors(page) -> list[str]:
    """Browser console errors and page exceptions seen during the test."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors
