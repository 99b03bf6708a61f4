"""Small synthetic training frames for the modeling tests (not a test module)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from pipeline.settings import TrainingSettings
from pipeline.train import LABEL, PERIOD, TrainSpec

MONTHS = [date(2024, m, 1) for m in range(1, 9)]
SPEC = TrainSpec(categorical=["plan", "region"], numeric=["usage", "tenure"])
# The smallest search that still exercises every step: two trials per candidate, two folds.
FAST = TrainingSettings(search_trials=2, search_folds=2, search_sample_rows=1_000, seed=3)


def churn_frame(months: list[date] = MONTHS, rows: int = 500, seed: int = 0) -> pd.DataFrame:
    """``rows`` customers per month; about 10% churn, driven by usage, plan and region.

    ``region`` is missing for about 5% of rows and ``tenure`` for about 5%.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for month in months:
        usage = rng.normal(size=rows)
        tenure = rng.integers(1, 60, size=rows).astype(float)
        plan = rng.choice(["basic", "plus", "premium"], size=rows)
        region = rng.choice(["north", "south", "east", "west"], size=rows).astype(object)
        region[rng.random(rows) < 0.05] = None
        logit = (
            -2.8
            - 1.3 * usage
            + np.where(plan == "basic", 0.8, -0.3)
            + np.where(region == "south", 0.5, 0.0)
            - 0.01 * tenure
        )
        tenure[rng.random(rows) < 0.05] = np.nan
        label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "plan": plan,
                    "region": region,
                    "usage": usage,
                    "tenure": tenure,
                    PERIOD: month,
                    LABEL: label,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Fit at one thread, as compute children do: OpenMP threads on a busy two-core machine
    make small HistGradientBoosting fits ten times slower, and results do not depend on it."""
    with threadpool_limits(1):
        yield
