"""Explanations in words, built from the same probability points the charts plot.

Every number in a sentence goes through :func:`format_points` (contributions) or
:func:`format_value` (feature values); a chart that labels its bars with the same functions shows
exactly the numbers the sentences say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# Contributions smaller than this (probability points) are "barely changed it": rounding them
# would print "by 0 points".
BARELY = 0.5
MISSING = "missing"


def pretty_name(feature: str) -> str:
    """A column name for people: ``"contract_type"`` -> ``"Contract type"``."""
    text = str(feature).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_value(value: Any) -> str:
    """A feature value as text: categories as they are, ``"missing"`` for a missing value,
    whole numbers without decimals, others with at most two decimals (thousands separated)."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if number.is_integer():
            return f"{int(number):,}"
        if abs(number) >= 1000:
            return f"{number:,.0f}"
        if abs(number) >= 0.01:
            return f"{number:.2f}".rstrip("0").rstrip(".")
        return f"{number:.2g}"
    return str(value)


def format_points(points: float) -> str:
    """The size of a contribution in probability points: one decimal under 10, whole above."""
    size = abs(float(points))
    if size >= 10:
        return f"{size:.0f}"
    return f"{size:.1f}".removesuffix(".0")


def format_share(share: float) -> str:
    """A share (0..1) as a whole percentage; ``"under 1%"`` for a small non-zero share."""
    if 0 < share < 0.005:
        return "under 1%"
    return f"{share:.0%}"


def driver_sentence(feature: str, value: Any, points: float) -> str:
    """One contribution in words, e.g. "Contract type month-to-month raised churn risk by 12
    points" or "Tenure months 30 lowered churn risk by 7 points".

    ``points`` is the contribution in probability points (:func:`probability_points`); under
    0.5 in size it "barely changed churn risk". Each sentence names churn risk, so it stands
    alone as a list item.
    """
    subject = f"{pretty_name(feature)} {format_value(value)}"
    if abs(points) < BARELY:
        return f"{subject} barely changed churn risk"
    size = format_points(points)
    unit = "point" if size == "1" else "points"
    verb = "raised" if points > 0 else "lowered"
    return f"{subject} {verb} churn risk by {size} {unit}"


def top_drivers(
    features: Sequence[str], values_row: Any, points_row: Sequence[float], top: int = 5
) -> list[tuple[str, Any, float]]:
    """The ``top`` biggest contributions as ``(feature, value, points)``, biggest ``|points|``
    first (ties in column order): the bars of the local chart and the lines of its story."""
    points = np.asarray(points_row, dtype=float)
    values = _row_values(features, values_row)
    order = sorted(range(len(features)), key=lambda j: (-abs(points[j]), j))[: max(top, 0)]
    return [(features[j], values[j], float(points[j])) for j in order]


def local_story(
    features: Sequence[str], values_row: Any, points_row: Sequence[float], top: int = 5
) -> list[str]:
    """One sentence per driver of a single prediction, biggest ``|points|`` first.

    ``values_row`` holds the row's feature values (a Series or mapping keyed by feature, or a
    sequence in ``features`` order); ``points_row`` its probability points.
    """
    return [
        driver_sentence(feature, value, points)
        for feature, value, points in top_drivers(features, values_row, points_row, top)
    ]


def global_driver_sentence(feature: str, direction_text: str, share: float) -> str:
    """A model-wide driver for the Overview, e.g. "Contract type: month-to-month raises risk
    most (32% of the model's attention)"; ``share`` is the column's share (0..1) of the total
    mean |SHAP| and ``direction_text`` the importance table's ``direction``."""
    return (
        f"{pretty_name(feature)}: {direction_text} ({format_share(share)} of the model's attention)"
    )


def _row_values(features: Sequence[str], values_row: Any) -> list[Any]:
    if isinstance(values_row, (pd.Series, Mapping)):
        return [values_row[feature] for feature in features]
    values = list(values_row)
    if len(values) != len(features):
        raise ValueError(f"{len(values)} values for {len(features)} features")
    return values


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return isinstance(value, float) and math.isnan(value)
