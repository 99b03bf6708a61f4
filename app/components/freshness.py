"""The freshness line every business page shows: data month, last batch and serving model."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from dash import html

from app.figures.formatting import format_month, is_missing


def freshness_text(
    latest_period: object,
    last_batch_at: object,
    model_version: object,
    roc_auc: object,
    *,
    alias: str = "champion",
    now: datetime | None = None,
) -> str:
    """E.g. "Data as of Jun 2024 · last batch 12:03 UTC · model v3 (champion, ROC AUC 0.81)".

    Missing parts are said plainly ("no model yet"). ``last_batch_at`` is naive UTC; its date is
    shown unless it is today (``now``, naive UTC, defaults to the current time).
    """
    parts = [
        "No data yet" if is_missing(latest_period) else f"Data as of {format_month(latest_period)}"
    ]
    if is_missing(last_batch_at):
        parts.append("no batch received yet")
    else:
        at = pd.Timestamp(last_batch_at)
        today = (pd.Timestamp(now) if now else pd.Timestamp.now(tz="UTC").tz_localize(None)).date()
        stamp = at.strftime("%H:%M") if at.date() == today else at.strftime("%-d %b %Y %H:%M")
        parts.append(f"last batch {stamp} UTC")
    if is_missing(model_version):
        parts.append("no model yet")
    else:
        quality = "" if is_missing(roc_auc) else f", ROC AUC {float(roc_auc):.2f}"  # type: ignore[arg-type]
        parts.append(f"model v{int(model_version)} ({alias}{quality})")  # type: ignore[call-overload]
    return " · ".join(parts)


def freshness_line(text: str, line_id: str | dict | None = None) -> html.Div:
    """The freshness text as a small muted line under a page title."""
    kwargs = {"id": line_id} if line_id is not None else {}
    return html.Div(text, className="freshness small text-muted", **kwargs)
