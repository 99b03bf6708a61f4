"""Fixtures for integration tests: the owner process's objects on a small demo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse, models
from tests.conftest import EVERY_MONTH, SMALL_DEMO
from tests.integration._owner import run_ok


@pytest.fixture
def owner(small_settings: Settings):
    """The owner process's objects: warehouse, runner and demo clock."""
    wh = Warehouse(small_settings.warehouse_path)
    runner = Runner(small_settings, wh)
    yield small_settings, wh, runner, DemoClock(small_settings, wh)
    runner.shutdown()
    wh.close()


@pytest.fixture(scope="session")
def two_versions_data(tmp_path_factory, small_demo_files: Path) -> Path:
    """A data dir after two runs (months 1-5, then month 6): v1 and v2 exist. Built once."""
    data = tmp_path_factory.mktemp("two-versions") / "data"
    shutil.copytree(small_demo_files, data / "demo")
    settings = load_settings(data_dir=data, demo=SMALL_DEMO, retrain=EVERY_MONTH)
    wh = Warehouse(settings.warehouse_path)
    runner = Runner(settings, wh)
    clock = DemoClock(settings, wh)
    for _ in range(2):
        clock.advance()
        run_ok(runner)
    assert models.next_version(wh) == 3
    runner.shutdown()
    wh.close()
    return data


@pytest.fixture
def two_versions(tmp_path: Path, two_versions_data: Path, monkeypatch: pytest.MonkeyPatch):
    """Owner objects on a private copy of the two-version data dir."""
    for key in list(os.environ):
        if key.startswith("PLUMBLINE_"):
            monkeypatch.delenv(key)
    data = tmp_path / "data"
    shutil.copytree(two_versions_data, data)
    # artefact paths are absolute in the registry: point them at this copy
    settings = load_settings(data_dir=data, demo=SMALL_DEMO, retrain=EVERY_MONTH)
    wh = Warehouse(settings.warehouse_path)
    wh.execute(
        "UPDATE models SET artefact_path = replace(artefact_path, ?, ?)",
        [str(two_versions_data), str(data)],
    )
    runner = Runner(settings, wh)
    yield settings, wh, runner, DemoClock(settings, wh)
    runner.shutdown()
    wh.close()
