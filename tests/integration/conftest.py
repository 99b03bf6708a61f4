"""Fixtures for integration tests: the owner process's objects on a small demo."""

from __future__ import annotations

import pytest

from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse


@pytest.fixture
def owner(small_settings: Settings):
    """The owner process's objects: warehouse, runner and demo clock."""
    wh = Warehouse(small_settings.warehouse_path)
    runner = Runner(small_settings, wh)
    yield small_settings, wh, runner, DemoClock(small_settings, wh)
    runner.shutdown()
    wh.close()
