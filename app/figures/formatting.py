"""Number and date formats shared by figures, KPI tiles and tables, so they always agree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA/NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def floats(values: Sequence[Any] | None) -> list[float | None]:
    """Plain floats, None where a value is missing or not finite (plotly draws a gap); an empty
    list for None."""
    out: list[float | None] = []
    for value in values if values is not None else []:
        if is_missing(value):
            out.append(None)
            continue
        number = float(value)
        out.append(number if math.isfinite(number) else None)
    return out


def format_money(value: float | None, currency: str = "$") -> str:
    """``1234567 -> "$1.23M"``, ``45210 -> "$45.2k"``, ``812 -> "$812"``; missing -> ``"—"``."""
    if is_missing(value):
        return "—"
    value = float(value)  # type: ignore[arg-type]
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit * 0.9995:
            scaled = value / limit
            digits = 2 if scaled < 9.995 else 1 if scaled < 99.95 else 0
            return f"{sign}{currency}{scaled:.{digits}f}{suffix}"
    return f"{sign}{currency}{value:,.0f}"


def format_pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.1234 -> "12.3%"``; missing -> ``"—"``."""
    if is_missing(value):
        return "—"
    return f"{float(value):.{digits}%}"  # type: ignore[arg-type]


def format_count(value: float | None) -> str:
    """``42017 -> "42,017"``; missing -> ``"—"``."""
    if is_missing(value):
        return "—"
    return f"{round(float(value)):,}"  # type: ignore[arg-type]


def format_month(value: date | datetime | pd.Timestamp | str) -> str:
    """A period as a short month: ``2024-06-01 -> "Jun 2024"``."""
    return pd.Timestamp(value).strftime("%b %Y")


def format_duration(seconds: float | None) -> str:
    """``3.2 -> "3.2 s"``, ``75 -> "1 min 15 s"``, ``3700 -> "1 h 1 min"``; missing -> ``"—"``."""
    if is_missing(seconds):
        return "—"
    seconds = float(seconds)  # type: ignore[arg-type]
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
