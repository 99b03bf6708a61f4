"""The Overview page's state: filters from and to the URL, and what the warehouse holds.

Kept apart from the page module so the parsing rules can be read (and tested) on their own; the
leading underscore keeps it out of the page list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd

from app.components.freshness import freshness_text
from app.components.waiting import Words, latest_run_card
from app.services import Services
from pipeline.warehouse import reads_overview as reads
from pipeline.warehouse.runs import recent_runs

DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    """The page's filter state. Months are ``"YYYY-MM"``; ``segment=None`` means all customers."""

    start: str | None
    end: str | None
    segment: str | None
    value: str | None
    by: str | None


def month_key(value: object) -> str:
    """A period as the ``"YYYY-MM"`` key used in selects and URLs."""
    return pd.Timestamp(value).strftime("%Y-%m")  # type: ignore[arg-type]


def month_start(key: str) -> date:
    """``"2024-06" -> date(2024, 6, 1)``."""
    return pd.Timestamp(f"{key}-01").date()


def default_filters(months: Sequence[str], segments: Sequence[str]) -> Filters:
    """The view a bare ``/`` shows: the latest twelve months, all customers, first segment."""
    if not months:
        return Filters(None, None, None, None, segments[0] if segments else None)
    end = months[-1]
    earliest = pd.Timestamp(month_start(end)) - pd.DateOffset(months=DEFAULT_MONTHS - 1)
    start = next(m for m in months if month_start(m) >= earliest.date())
    return Filters(start, end, None, None, segments[0] if segments else None)


def _text(query: Mapping[str, Any], key: str) -> str | None:
    # Repeated keys arrive as lists from Dash's query parser: treated as invalid, not guessed.
    value = query.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_filters(
    query: Mapping[str, Any],
    months: Sequence[str],
    segments: Sequence[str],
    values_of: Callable[[str], Sequence[str]],
) -> Filters:
    """Filters from URL query values; anything unknown or invalid falls back to the default.

    ``months`` are the available ``"YYYY-MM"`` keys (oldest first), ``segments`` the allowed
    segment columns, ``values_of(column)`` the known values of one of them. Nothing from the
    query reaches SQL unless it matched one of these lists.
    """
    default = default_filters(months, segments)
    start = _text(query, "from")
    end = _text(query, "to")
    start = start if start in months else default.start
    end = end if end in months else default.end
    if start and end and start > end:
        start, end = end, start
    segment = _text(query, "segment")
    value = _text(query, "value")
    if segment not in segments:
        segment, value = None, None
    elif value not in values_of(segment):  # type: ignore[arg-type]
        segment, value = None, None
    by = _text(query, "by")
    by = by if by in segments else default.by
    return Filters(start, end, segment, value, by)


def query_string(filters: Filters, months: Sequence[str], segments: Sequence[str]) -> str:
    """The URL search part for ``filters``: only values that differ from the defaults.

    ``""`` for the default view, so a bare ``/`` keeps following the latest month.
    """
    default = default_filters(months, segments)
    params: dict[str, str] = {}
    if filters.start and filters.start != default.start:
        params["from"] = filters.start
    if filters.end and filters.end != default.end:
        params["to"] = filters.end
    if filters.segment and filters.value is not None:
        params["segment"] = filters.segment
        params["value"] = filters.value
    if filters.by and filters.by != default.by:
        params["by"] = filters.by
    return "?" + urlencode(params) if params else ""


@dataclass(frozen=True)
class DataState:
    """What the warehouse holds for this page right now."""

    months: list[str]
    segments: list[str]
    freshness: str
    signature: str

    @property
    def ready(self) -> bool:
        """True once scored months exist."""
        return bool(self.months)

    def as_store(self) -> dict[str, Any]:
        """What the page keeps in its ``dcc.Store`` to notice changes and know the defaults."""
        return {"signature": self.signature, "months": self.months, "segments": self.segments}


def load_data_state(svc: Services) -> DataState:
    """Available months, segment columns, the freshness line and a signature of the data."""
    wh = svc.warehouse
    periods = reads.serving_periods(wh)
    segments = reads.segment_columns(wh, svc.settings.dataset.segments) if len(periods) else []
    fresh = reads.freshness(wh).iloc[0]
    latest = periods["period"].iloc[-1] if len(periods) else None
    text = freshness_text(
        latest, fresh["last_batch_at"], fresh["champion_version"], fresh["roc_auc"]
    )
    months = [month_key(p) for p in periods["period"]]
    # Labels arriving for old months change realised churn, so they are part of the signature.
    signature = "|".join(
        [
            ",".join(
                f"{m}:{c}:{lab}"
                for m, c, lab in zip(months, periods["customers"], periods["labelled"], strict=True)
            ),
            ",".join(segments),
            text,
        ]
    )
    return DataState(months, segments, text, signature)


def waiting_card(svc: Services) -> dbc.Card:
    """Why there is nothing to show yet: first run under way, failed, or not started."""
    return latest_run_card(
        recent_runs(svc.warehouse, 1),
        step_verb="running step",
        no_run=Words(
            "No results yet",
            "The pipeline has not run yet, so no customers have been scored.",
            "The scheduler starts the first run shortly; operators can also start one from the "
            "Runs page with “Retrain now”.",
        ),
        running=Words(
            "The first results are being computed",
            "Run #{run_id} is {doing} ({elapsed} s so far). Customers appear here once it has "
            "ingested, cleaned, trained on and scored the data.",
            "This page fills in by itself when the run finishes.",
        ),
        failed=Words(
            "No results yet: the last run failed",
            "Run #{run_id} stopped with: {error}.",
            "Open the Runs page to see which step failed, fix the cause and retrain.",
        ),
        finished=Words(
            "No scored customers yet",
            "Run #{run_id} finished but published no scores (no champion model or no data).",
            "Check the Runs page for the run's steps and row counts.",
            tone="warning",
        ),
    )


def previous_month(key: str) -> str:
    """``"2024-06" -> "2024-05"``."""
    return month_key(pd.Timestamp(month_start(key)) - pd.DateOffset(months=1))
