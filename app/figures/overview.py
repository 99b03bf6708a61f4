"""Figures of the executive Overview page: monthly churn trend and the segment breakdown."""

from __future__ import annotations

import pandas as pd

from app.figures.formatting import format_money, format_pct, is_missing
from app.figures.spec import (
    Figure,
    figure,
    merge,
    subplots,
    trace_axes,
    update_annotations,
    update_axes,
)
from app.figures.theme import INFO, MUTED, PRIMARY, WARNING, empty_figure

TREND_TITLE = "Churn per month: predicted vs realised, and revenue at risk"


def _has_values(series: pd.Series | None) -> bool:
    return series is not None and bool(series.notna().any())


def money_tick_format(currency: str = "$") -> dict:
    """Axis settings that print money as ``$12.3k`` with the currency as prefix."""
    return {"tickprefix": currency, "tickformat": "~s"}


def trend_figure(monthly: pd.DataFrame, currency: str = "$") -> Figure:
    """Predicted vs realised churn rate per month (top) and revenue at risk per month (bottom).

    ``monthly`` has one row per month with columns ``period`` (date), ``predicted_rate`` and
    ``realised_rate`` (fractions, realised NaN until labels arrive) and ``revenue_at_risk``
    (NaN when no business value is configured).
    """
    if monthly.empty:
        return empty_figure("No scored customers in the selected months", TREND_TITLE)
    data = monthly.sort_values("period")
    x = pd.to_datetime(data["period"])
    with_money = _has_values(data.get("revenue_at_risk"))
    if with_money:
        layout = subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            row_heights=[0.66, 0.34],
            vertical_spacing=0.14,
            subplot_titles=["Churn rate (% of scored customers)", "Revenue at risk per month"],
        )
    else:
        layout = subplots(rows=1, cols=1, subplot_titles=["Churn rate (% of scored customers)"])
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": data["predicted_rate"],
            "name": "Predicted churn rate",
            "mode": "lines+markers",
            "line": {"color": INFO, "width": 3},
            "hovertemplate": "%{x|%b %Y}: %{y:.1%} predicted<extra></extra>",
            **trace_axes(1, 1),
        }
    ]
    if _has_values(data.get("realised_rate")):
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": data["realised_rate"],
                "name": "Realised churn rate",
                "mode": "lines+markers",
                "line": {"color": PRIMARY, "width": 3, "dash": "dot"},
                "hovertemplate": "%{x|%b %Y}: %{y:.1%} realised<extra></extra>",
                **trace_axes(1, 1),
            }
        )
    merge(
        layout["yaxis"],
        {"tickformat": ".0%", "rangemode": "tozero", "title": {"text": "Churn rate"}},
    )
    if with_money:
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": data["revenue_at_risk"],
                "name": "Revenue at risk",
                "marker": {"color": WARNING},
                "hovertemplate": f"%{{x|%b %Y}}: {currency}%{{y:,.0f}} at risk<extra></extra>",
                **trace_axes(2, 1),
            }
        )
        merge(
            layout["yaxis2"],
            {
                "title": {"text": f"{currency} per month"},
                "rangemode": "tozero",
                **money_tick_format(currency),
            },
        )
    # One tick per month up to a year, then quarterly, so month labels never overlap.
    dtick = "M1" if len(data) <= 12 else "M3"
    update_axes(layout, "x", type="date", tickformat="%b %Y", dtick=dtick, ticklabelmode="instant")
    update_annotations(layout, font={"size": 13, "color": MUTED}, xanchor="left", x=0.0)
    layout.update(
        title={"text": TREND_TITLE},
        height=470 if with_money else 360,
        hovermode="x unified",
        bargap=0.35,
    )
    return figure(traces, layout)


def _pct_text(values: pd.Series) -> list[str]:
    return [format_pct(v) if not is_missing(v) else "" for v in values]


def _money_text(values: pd.Series, currency: str) -> list[str]:
    return [format_money(v, currency) if not is_missing(v) else "" for v in values]


def breakdown_figure(
    segments: pd.DataFrame,
    segment_label: str,
    period_label: str,
    currency: str = "$",
    max_bars: int = 20,
) -> Figure:
    """Predicted churn rate and revenue at risk per segment value, for one month.

    ``segments`` has columns ``segment`` (the value), ``customers``, ``predicted_rate``
    (fraction) and ``revenue_at_risk``; the ``max_bars`` largest segments by customers are shown.
    """
    title = f"Churn risk by {segment_label}, {period_label}"
    if segments.empty:
        return empty_figure("No scored customers in this month and segment", title)
    shown = segments.nlargest(max_bars, "customers") if len(segments) > max_bars else segments
    # Highest risk on top: plotly draws the first category at the bottom.
    shown = shown.sort_values("predicted_rate", ascending=True)
    labels = ["(missing)" if is_missing(s) else str(s) for s in shown["segment"]]
    if len(segments) > max_bars:
        title += f" (largest {max_bars} of {len(segments)})"
    with_money = _has_values(shown.get("revenue_at_risk"))
    cols = 2 if with_money else 1
    layout = subplots(
        rows=1,
        cols=cols,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=["Predicted churn rate", "Revenue at risk per month"][:cols],
    )
    customers = shown["customers"].to_numpy()
    traces = [
        {
            "type": "bar",
            "y": labels,
            "x": shown["predicted_rate"],
            "orientation": "h",
            "name": "Predicted churn rate",
            "marker": {"color": INFO},
            "text": _pct_text(shown["predicted_rate"]),
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": customers,
            "hovertemplate": "%{y}: %{x:.1%} of %{customdata:,} customers<extra></extra>",
            **trace_axes(1, 1, cols),
        }
    ]
    top_rate = float(shown["predicted_rate"].max() or 0)
    merge(layout["xaxis"], {"tickformat": ".0%", "range": [0, max(top_rate * 1.25, 0.01)]})
    if with_money:
        traces.append(
            {
                "type": "bar",
                "y": labels,
                "x": shown["revenue_at_risk"],
                "orientation": "h",
                "name": "Revenue at risk",
                "marker": {"color": WARNING},
                "text": _money_text(shown["revenue_at_risk"], currency),
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": f"%{{y}}: {currency}%{{x:,.0f}} at risk<extra></extra>",
                **trace_axes(1, 2, cols),
            }
        )
        top_money = float(shown["revenue_at_risk"].max() or 0)
        merge(
            layout["xaxis2"],
            {"range": [0, max(top_money * 1.3, 1.0)], **money_tick_format(currency)},
        )
    update_annotations(layout, font={"size": 13, "color": MUTED})
    layout.update(
        title={"text": title},
        height=max(300, 130 + 34 * len(shown)),
        showlegend=False,
        bargap=0.3,
    )
    return figure(traces, layout)
