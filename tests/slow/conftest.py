"""A real `plumbline serve` on a small demo data dir, and the slow suites' duration options.

``served_demo(...)`` starts the command in its own process group on a free port with
PLUMBLINE_ADMIN_PASSWORD set (so the first start creates ``admin``), waits until the first
run has succeeded (read from /api/status with the data dir's API token) and returns a
:class:`Served`; every server it started is stopped at teardown. The server's log goes to a
file beside the data dir (a pipe nobody reads would fill and block the server in a long soak).

Durations are options so that a quick check is possible:
``pytest -m slow tests/slow/test_load.py --load-seconds 30``,
``pytest -m slow tests/slow/test_soak.py --soak-minutes 3``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.served import free_port, read_status, serve_command
from tests.conftest import SMALL_DEMO
from tests.integration.test_cli import _wait_for as wait_for

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "load-and-soak-admin-pw"
RESULTS = ROOT / "benchmarks" / "results"


def _option(config: pytest.Config, name: str, default: float) -> float:
    # Declared in tests/conftest.py; the default applies if a run does not know them.
    try:
        return float(config.getoption(name))
    except ValueError:
        return default


@pytest.fixture
def load_seconds(request: pytest.FixtureRequest) -> float:
    return _option(request.config, "--load-seconds", 300.0)


@pytest.fixture
def soak_minutes(request: pytest.FixtureRequest) -> float:
    return _option(request.config, "--soak-minutes", 30.0)


@dataclass
class Served:
    """A running `plumbline serve`: its URL, data dir, process, admin password and log file."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen
    admin_password: str
    log_path: Path

    def token(self) -> str:
        """The bearer token of /api/status (data_dir/secrets/api_token)."""
        return (self.data_dir / "secrets" / "api_token").read_text().strip()

    def status(self) -> dict[str, Any] | None:
        """/api/status, or None while the server does not answer."""
        return read_status(self.port, self.data_dir)

    def cache_lookups(self) -> dict[str, float]:
        """The answer cache's lookups so far by outcome ("hit", "miss"), from /metrics."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        return {
            sample.labels["outcome"]: sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "plumbline_answer_cache_lookups"
            for sample in family.samples
            if sample.name.endswith("_total")
        }

    def running_run(self) -> int | None:
        """The id of the run in progress, None when none is (or the server does not answer)."""
        for run in (self.status() or {}).get("runs", []):
            if run["status"] == "running":
                return int(run["run_id"])
        return None

    def wait_idle(self, timeout: float = 900) -> dict[str, Any]:
        """Wait until the server answers with no run in progress; its last status."""

        def idle() -> dict[str, Any] | None:
            status = self.status()
            if status is None or any(r["status"] == "running" for r in status["runs"]):
                return None
            return status

        return wait_for(idle, timeout, "no run in progress", every=2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 30 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _toml(sections: dict[str, dict[str, Any]]) -> str:
    # Values are numbers, strings and lists of strings: their JSON spelling is valid TOML.
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        for name, values in sections.items()
        if values
    )


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, "PLUMBLINE_ADMIN_PASSWORD": ADMIN_PASSWORD, **extra}


@pytest.fixture
def served_demo(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Served]]:
    """A factory: ``served_demo(demo=..., retrain=..., settings=..., env=...)`` -> Served.

    ``demo`` overrides keys of the small demo (tests/conftest.py SMALL_DEMO: 2000 customers,
    10 months, 5 released at once, a 2 s tick), ``retrain`` the [retrain] section, ``settings``
    adds other TOML sections ({"section": {...}}), ``env`` extra environment variables (e.g.
    PLUMBLINE_FAULT_POINT). ``wait_first_run=False`` returns as soon as the process started.
    """
    started: list[Served] = []

    def start(
        demo: dict[str, Any] | None = None,
        retrain: dict[str, Any] | None = None,
        settings: dict[str, dict[str, Any]] | None = None,
        env: dict[str, str] | None = None,
        wait_first_run: bool = True,
        timeout: float = 600,
    ) -> Served:
        base = tmp_path_factory.mktemp("served")
        data = base / "data"
        data.mkdir()
        world = {**SMALL_DEMO, **(demo or {})}
        if (world["customers"], world["months"], world.get("seed", 42)) == (
            SMALL_DEMO["customers"],
            SMALL_DEMO["months"],
            42,
        ):
            # The session's small demo files: the server then skips generating them.
            shutil.copytree(request.getfixturevalue("small_demo_files"), data / "demo")
        sections = {"demo": world, "retrain": retrain or {}, **(settings or {})}
        (data / "plumbline.toml").write_text(_toml(sections))
        port = free_port()
        log_path = base / "serve.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                serve_command(data, port),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=_env(env or {}),
                start_new_session=True,
                cwd=ROOT,
            )
        served = Served(f"http://127.0.0.1:{port}", port, data, process, ADMIN_PASSWORD, log_path)
        started.append(served)
        if wait_first_run:

            def first_run_succeeded() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"serve exited ({process.returncode}):\n{served.log()}")
                runs = (served.status() or {}).get("runs", [])
                return any(r["status"] == "succeeded" for r in runs)

            wait_for(first_run_succeeded, timeout, "the first run to succeed", every=1)
        return served

    yield start
    for served in started:
        served.stop()


def write_result(prefix: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` to benchmarks/results/<prefix>-<UTC date>.json; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{prefix}-{time.strftime('%Y-%m-%d', time.gmtime())}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path
