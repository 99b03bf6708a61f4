"""The Monitor page's state: what has been monitored, the chosen view, and the URL.

Kept apart from the page module so the selection rules (defaults, URL parsing and writing) can
be read and tested on their own; the leading underscore keeps it out of the page list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd

from app.components.waiting import Words, latest_run_card
from app.figures.formatting import format_month, is_missing
from app.figures.monitor import period_key
from app.figures.monitor_style import METRIC_NAMES
from app.services import Services
from pipeline.warehouse import reads_monitor as reads
from pipeline.warehouse.reads_monitor import Segment
from pipeline.warehouse.runs import recent_runs

DEFAULT_METRIC = "roc_auc"
WHOLE = Segment()


@dataclass(frozen=True)
class MonitorState:
    """What monitoring has published: months with drift results, segments, features."""

    periods: list[str]  # "YYYY-MM", oldest first
    segments: list[str]  # Segment keys, the whole batch first
    features: list[str]  # the champion's most important first
    default_feature: str | None
    ready: bool
    signature: str

    @property
    def default_period(self) -> str | None:
        """The latest monitored month."""
        return self.periods[-1] if self.periods else None

    def defaults(self) -> dict[str, Any]:
        """The view a bare ``/monitor`` shows."""
        return {
            "period": self.default_period,
            "segment": WHOLE.key,
            "feature": self.default_feature,
            "metric": DEFAULT_METRIC,
        }

    def as_store(self) -> dict[str, Any]:
        """What the page keeps in its ``dcc.Store`` to notice changes and know the defaults."""
        return {
            "signature": self.signature,
            "periods": self.periods,
            "segments": self.segments,
            "features": self.features,
            "defaults": self.defaults(),
        }


def load_state(svc: Services) -> MonitorState:
    """Months, segments and features with results, and the page's signature (five queries)."""
    wh = svc.warehouse
    periods = reads.drift_periods(wh)
    latest = periods[-1] if periods else None
    return MonitorState(
        periods=[period_key(p) for p in periods],
        segments=[s.key for s in reads.segments(wh)],
        features=reads.features(wh),
        default_feature=reads.default_feature(wh, latest, WHOLE),
        ready=reads.has_results(wh),
        signature=reads.signature(wh),
    )


# -- choices from the URL and the controls ---------------------------------------------------


def _text(value: object) -> str | None:
    # Repeated keys arrive as lists from Dash's query parser: treated as invalid, not guessed.
    return value.strip() if isinstance(value, str) and value.strip() else None


def choose(value: object, allowed: Sequence[str], default: str | None) -> str | None:
    """``value`` when it is one of ``allowed``, else ``default``."""
    text = _text(value)
    return text if text is not None and text in allowed else default


def choose_metric(value: object) -> str:
    """A known performance metric, else ROC AUC."""
    return choose(value, list(METRIC_NAMES), DEFAULT_METRIC) or DEFAULT_METRIC


def segment_of(value: object, store: Mapping[str, Any] | None) -> Segment:
    """The chosen segment when it is one with results, else the whole batch."""
    key = choose(value, (store or {}).get("segments") or [], WHOLE.key)
    return Segment.parse(key) or WHOLE


def period_of(value: object, store: Mapping[str, Any] | None) -> str | None:
    """The chosen ``"YYYY-MM"`` when it was monitored, else the latest month."""
    store = store or {}
    return choose(value, store.get("periods") or [], (store.get("defaults") or {}).get("period"))


def feature_of(value: object, store: Mapping[str, Any] | None) -> str | None:
    """The chosen feature when it was monitored, else the default (the worst of the latest
    month)."""
    store = store or {}
    default = (store.get("defaults") or {}).get("feature")
    return choose(value, store.get("features") or [], default)


def month_date(key: str) -> pd.Timestamp:
    """``"2024-06"`` -> the period's first day."""
    return pd.Timestamp(f"{key}-01")


def query_string(
    period: object, segment: object, feature: object, metric: object, store: Mapping[str, Any]
) -> str:
    """``"?period=2024-05&segment=region%3DSouth&feature=tenure_months"``; values at their
    default are left out, so a bare ``/monitor`` keeps following the latest month."""
    defaults = store.get("defaults") or {}
    chosen = {
        "period": period_of(period, store),
        "segment": segment_of(segment, store).key,
        "feature": feature_of(feature, store),
        "metric": choose_metric(metric),
    }
    query = {k: v for k, v in chosen.items() if v is not None and v != defaults.get(k)}
    return "?" + urlencode(query) if query else ""


# -- options and words -----------------------------------------------------------------------


def segment_options(keys: Sequence[str]) -> list[dict[str, str]]:
    """Select options: "Whole batch", then "region = South" ..."""
    options = []
    for key in keys:
        segment = Segment.parse(key)
        if segment is not None:
            options.append({"label": segment.label, "value": key})
    return options


def period_options(periods: Sequence[str]) -> list[dict[str, str]]:
    """Months newest first, labelled "Jun 2024"."""
    return [{"label": format_month(month_date(p)), "value": p} for p in reversed(periods)]


def feature_options(features: Sequence[str]) -> list[dict[str, str]]:
    """Features in the heatmap's order."""
    return [{"label": f, "value": f} for f in features]


def metric_options() -> list[dict[str, str]]:
    """ROC AUC, precision, recall, F1."""
    return [{"label": name, "value": key} for key, name in METRIC_NAMES.items()]


def summary_text(svc: Services) -> str:
    """The line under the title: champion, months monitored, the reference and the run."""
    found = reads.summary(svc.warehouse)
    if not found["months"]:
        champion = found["champion"]
        return "Nothing monitored yet" + ("" if champion is None else f" · champion v{champion}")
    parts = [] if found["champion"] is None else [f"Champion v{found['champion']}"]
    months = int(found["months"])
    parts.append(
        f"{months} month{'s' if months != 1 else ''} monitored "
        f"({format_month(found['first'])}–{format_month(found['last'])})"
    )
    if is_missing(found["reference_version"]):
        parts.append("reference: the months before each batch (rolling)")
    elif not is_missing(found["reference_from"]):
        parts.append(
            f"reference: v{found['reference_version']}'s training window "
            f"{format_month(found['reference_from'])}–{format_month(found['reference_to'])}"
        )
    if not is_missing(found["run_id"]):
        parts.append(f"latest by run #{found['run_id']}")
    return " · ".join(parts)


def waiting_card(svc: Services) -> dbc.Card:
    """Why nothing is monitored yet: no run, a run under way, a failure, or no scored month."""
    return latest_run_card(
        recent_runs(svc.warehouse, 1),
        why=(
            "Monitoring starts after the first model scores a month: each run then compares the "
            "month's customers and scores with the model's training data, and its estimated "
            "performance with the realised one once labels arrive."
        ),
        no_run=Words(
            "Nothing monitored yet",
            "{why}",
            "The scheduler starts the first run shortly; this page fills in by itself.",
        ),
        running=Words(
            "A run is in progress",
            "{why} Run #{run_id} is {doing} ({elapsed} s so far).",
            "This page fills in by itself when the run has monitored its month.",
        ),
        failed=Words(
            "Nothing monitored yet: the last run failed",
            "{why} Run #{run_id} stopped with: {error}.",
            "Open the Runs page to see which step failed.",
        ),
        finished=Words(
            "Nothing monitored yet",
            "{why} Run #{run_id} finished without monitoring a month (no model had scored one).",
            "Each run checks again; this page fills in by itself.",
        ),
    )
