"""Shared fixtures: small demo settings and temporary warehouses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse

# Figures are checked against plotly's schema in every test (and in the servers tests start),
# so a wrong property name fails here; the app skips the check (app/figures/spec.py).
os.environ["PLUMBLINE_VALIDATE_FIGURES"] = "1"

SMALL_DEMO = {"customers": 2000, "months": 10, "initial_months": 5, "tick_seconds": 2.0}
# The registry tests want a new model from every labelled month (the old fixed schedule).
EVERY_MONTH = {"on": ["schedule"], "schedule_periods": 1}


# Durations of the slow load and soak suites (tests/slow), declared here so that
# `pytest -m slow --load-seconds 30` works from any path.
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("plumbline slow suites")
    group.addoption(
        "--load-seconds",
        type=float,
        default=300.0,
        help="seconds of load in each phase of tests/slow/test_load.py (default 300)",
    )
    group.addoption(
        "--soak-minutes",
        type=float,
        default=30.0,
        help="minutes of tests/slow/test_soak.py (default 30)",
    )


@pytest.fixture(scope="session", autouse=True)
def one_compute_thread():
    """Fits in the test process use one thread, as compute children do: on a busy 2-core
    machine unpinned OpenMP fits were seen to run ten times slower."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """argon2id at its production cost (64 MiB, ~0.1 s a hash) would make the hundreds of test
    logins slow; in this process hashes use the smallest cost. Commands run as subprocesses
    (tests/integration/test_cli*.py) keep the real one."""
    from argon2 import PasswordHasher

    from pipeline import accounts

    production = accounts.HASHER
    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts.HASHER = production


@pytest.fixture(scope="session")
def small_demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo world's month files, generated once per test session."""
    from pipeline.demo import build_demo_files

    out = tmp_path_factory.mktemp("demo-files")
    build_demo_files(out, seed=42, customers=SMALL_DEMO["customers"], months=SMALL_DEMO["months"])
    return out


@pytest.fixture
def small_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_demo_files: Path
) -> Settings:
    """Demo settings for a small world in a temporary data dir, demo files already built."""
    for key in list(os.environ):
        if key.startswith("PLUMBLINE_"):
            monkeypatch.delenv(key)
    settings = load_settings(data_dir=tmp_path / "data", demo=SMALL_DEMO, retrain=EVERY_MONTH)
    shutil.copytree(small_demo_files, settings.data_dir / "demo")
    return settings


@pytest.fixture
def warehouse(tmp_path: Path):
    """A migrated warehouse in a temporary file."""
    wh = Warehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


@pytest.fixture
def webhook_receiver():
    """A local webhook receiver (``tests/webhook.py``): ``.url``, ``.bodies``, ``.status``."""
    from tests.webhook import receiving

    with receiving() as receiver:
        yield receiver
