"""The Overview page's KPI tiles: five numbers for one month, each against the month before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd

from app.components.kpi import change_arrow, change_tone, kpi_tile
from app.figures.formatting import format_count, format_money, format_month, format_pct, is_missing
from app.pages._overview_state import month_key, month_start, previous_month

CURRENCY = "$"


Month = dict[str, Any]  # one row of the monthly aggregates, with its "month" key (YYYY-MM)


def _row_for(months: list[Month], key: str) -> Month | None:
    return next((row for row in months if row["month"] == key), None)


def _change_line(
    current: float | None,
    previous: float | None,
    kind: str,
    since: str,
    higher_is_better: bool | None,
) -> tuple[str | None, str]:
    if is_missing(current) or is_missing(previous):
        return None, "neutral"
    change = float(current) - float(previous)  # type: ignore[arg-type]
    if kind == "pct":
        shown = f"{abs(change) * 100:.1f} pp"
        change = round(change * 1000) / 1000  # a 0.04 pp wobble is "no change"
    elif kind == "money":
        shown = format_money(abs(change), CURRENCY)
    else:
        shown = format_count(abs(change))
    return f"{change_arrow(change)} {shown} vs {since}", change_tone(change, higher_is_better)


def kpi_tiles(
    monthly: pd.DataFrame, start: str, end: str, threshold: float, has_value: bool
) -> list[dbc.Col]:
    """The five tiles for month ``end``, each with its change against the month before.

    ``monthly`` is :func:`reads.monthly_aggregates` from the month before ``start`` to ``end``.
    """
    # A dozen rows at most: plain dicts are read ~10x faster than pandas selections.
    data = monthly.assign(month=[month_key(p) for p in monthly["period"]]).to_dict("records")
    now, before = _row_for(data, end), _row_for(data, previous_month(end))
    since = format_month(month_start(previous_month(end)))

    def get(row: Month | None, col: str) -> float | None:
        return None if row is None or is_missing(row[col]) else float(row[col])

    formats: dict[str, Callable[[float | None], str]] = {
        "count": format_count,
        "pct": format_pct,
        "money": lambda v: format_money(v, CURRENCY),
    }
    tiles = []
    for label, col, kind, better, caption in (
        ("Customers scored", "customers", "count", None, None),
        ("Predicted churn rate", "predicted_rate", "pct", False, "mean predicted probability"),
        (
            "Customers at risk",
            "at_risk",
            "count",
            False,
            f"churn probability above {threshold:.0%}",
        ),
        (
            "Revenue at risk",
            "revenue_at_risk",
            "money",
            False,
            "expected monthly value lost (value × probability)",
        ),
    ):
        value = get(now, col)
        if col == "revenue_at_risk" and (not has_value or value is None):
            why = "no values recorded this month" if has_value else "no business value configured"
            tiles.append(kpi_tile(label, "—", caption=why))
            continue
        change, tone = _change_line(value, get(before, col), kind, since, better)
        tiles.append(
            kpi_tile(label, formats[kind](value), change=change, tone=tone, caption=caption)
        )
    tiles.append(_realised_tile(data, start, end))
    return [dbc.Col(t, xs=12, sm=6, lg=True) for t in tiles]


def _realised_tile(data: list[Month], start: str, end: str) -> dbc.Card:
    in_range = [r for r in data if start <= r["month"] <= end and r["labelled"] > 0]
    if not in_range:
        return kpi_tile(
            "Realised churn",
            "—",
            caption="no labels yet in these months: churn is known a month later",
        )
    latest = in_range[-1]
    key = latest["month"]
    earlier = [r for r in data if r["month"] < key and r["labelled"] > 0]
    previous = earlier[-1] if earlier else None
    change, tone = (None, "neutral")
    if previous is not None and previous["month"] == previous_month(key):
        change, tone = _change_line(
            latest["realised_rate"],
            previous["realised_rate"],
            "pct",
            format_month(month_start(previous["month"])),
            False,
        )
    return kpi_tile(
        "Realised churn",
        format_pct(latest["realised_rate"]),
        change=change,
        tone=tone,
        caption=f"in {format_month(month_start(key))}, the latest month with labels",
    )
