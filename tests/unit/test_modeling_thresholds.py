"""Decision thresholds: the profit-maximising and the F1-maximising cut."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.modeling.thresholds import f1_threshold, profit_threshold


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    """2,000 calibrated-looking predictions with ties (rounded to 3 decimals)."""
    rng = np.random.default_rng(8)
    proba = np.round(rng.beta(1, 8, size=2_000), 3)
    y = (rng.random(2_000) < proba).astype(int)
    return y, proba


def _profit(y, proba, t, value=300.0, cost=20.0) -> float:
    flagged = proba >= t
    return value * (flagged & (y == 1)).sum() - cost * flagged.sum()


def _f1(y, proba, t) -> float:
    flagged = proba >= t
    tp = (flagged & (y == 1)).sum()
    return 2 * tp / (flagged.sum() + y.sum())


def _every_cut(proba: np.ndarray) -> np.ndarray:
    return np.r_[np.unique(proba), 1.0, np.linspace(0, 1, 1001)]


def test_profit_threshold_maximises_expected_profit(scored) -> None:
    y, proba = scored
    chosen = profit_threshold(y, proba, 300.0, 20.0)
    best = max(_profit(y, proba, t) for t in _every_cut(proba))
    assert _profit(y, proba, chosen) == best
    # Calibrated probabilities: contacting pays above cost/value = 1/15, roughly.
    assert 0.03 < chosen < 0.12


def test_f1_threshold_maximises_f1(scored) -> None:
    y, proba = scored
    chosen = f1_threshold(y, proba)
    best = max(_f1(y, proba, t) for t in _every_cut(proba))
    assert _f1(y, proba, chosen) == pytest.approx(best, abs=1e-12)


def test_the_threshold_lies_between_two_observed_scores(scored) -> None:
    y, proba = scored
    chosen = profit_threshold(y, proba, 300.0, 20.0)
    values = np.unique(proba)
    above = values[values >= chosen].min()
    below = values[values < chosen].max()
    assert chosen == pytest.approx((above + below) / 2)


def test_when_no_contact_pays_nobody_is_flagged(scored) -> None:
    y, proba = scored
    chosen = profit_threshold(y, proba, value_per_churner=10.0, contact_cost=20.0)
    assert chosen > proba.max()
    assert chosen <= 1.0


def test_equal_profit_goes_to_the_higher_threshold() -> None:
    # Flagging the 0.9 row earns 300 - 20; adding the 0.5 pair (one churner) earns 300 - 40 more.
    y = np.array([1, 1, 0, 0])
    proba = np.array([0.9, 0.5, 0.5, 0.1])
    assert profit_threshold(y, proba, 300.0, 20.0) == pytest.approx(0.3)
    # At value 40 the pair adds 40 - 40 = 0: the same profit for fewer contacts wins.
    assert profit_threshold(y, proba, 40.0, 20.0) == pytest.approx(0.7)


def test_no_churners_give_a_threshold_above_every_score() -> None:
    proba = np.array([0.2, 0.1, 0.4])
    assert profit_threshold(np.zeros(3), proba, 300.0, 20.0) > 0.4
    assert f1_threshold(np.zeros(3), proba) > 0.4
