"""The Data page's state: what the warehouse holds, the URL's choices, and the waiting card.

Kept apart from the page module so the rules can be read and tested on their own; the leading
underscore keeps it out of the page list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd

from app.components.freshness import freshness_text
from app.components.waiting import Words, latest_run_card
from app.figures.formatting import format_month, is_missing
from app.services import Services
from pipeline.warehouse import reads_data as reads
from pipeline.warehouse import reads_overview
from pipeline.warehouse.runs import recent_runs

ALL = "*"  # "every batch" / "every rule" in the quarantine selects; never a batch id or rule


@dataclass(frozen=True)
class DataState:
    """What the warehouse holds for this page right now."""

    batches: int
    features: list[str]
    quarantine_batches: list[tuple[str, str]]  # (value, label)
    rules: list[tuple[str, str]]
    freshness: str
    signature: str

    @property
    def ready(self) -> bool:
        """True once any file has arrived."""
        return self.batches > 0

    def as_store(self) -> dict[str, Any]:
        """What the page keeps in its ``dcc.Store`` to notice changes."""
        return {"signature": self.signature, "features": self.features}


def load_data_state(svc: Services) -> DataState:
    """Batch count, contract features, quarantine filters, freshness line and a signature."""
    wh = svc.warehouse
    signature = reads.data_signature(wh)
    batches = reads.batch_count(wh)
    info = reads.latest_contract(wh)
    actual = reads.clean_columns(wh)
    # Columns that look like personal data are never explored: their values would show.
    hidden = reads.masked_fields(wh, svc.settings.dataset.pii)
    features = (
        [c for c in info.contract.features if c in actual and c.lower() not in hidden]
        if info
        else []
    )
    q_batches = reads.quarantine_batches(wh)
    rules = reads.quarantine_rules(wh)
    fresh = reads_overview.freshness(wh).iloc[0]
    windows = reads.comparison_windows(wh)
    text = freshness_text(
        windows.latest if windows else None,
        fresh["last_batch_at"],
        fresh["champion_version"],
        fresh["roc_auc"],
    )
    return DataState(
        batches=batches,
        features=features,
        quarantine_batches=[
            (str(int(b)), f"#{int(b)} {'' if is_missing(f) else f} ({int(n):,} rows)")
            for b, f, n in zip(
                q_batches["batch_id"], q_batches["file_name"], q_batches["rows"], strict=True
            )
        ],
        rules=[
            (str(r), f"{r} ({int(n):,} rows)")
            for r, n in zip(rules["rule"], rules["rows"], strict=True)
        ],
        freshness=text,
        signature=f"{signature}|{text}",
    )


def default_feature(features: Sequence[str], preferred: str | None) -> str | None:
    """The feature shown first: the business value column if it is a feature, else the first."""
    if preferred in features:
        return preferred
    return features[0] if features else None


def _text(query: Mapping[str, Any], key: str) -> str | None:
    # Repeated keys arrive as lists from Dash's query parser: treated as invalid.
    value = query.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Choices:
    """The page's URL state: the explored feature and the quarantine filters."""

    feature: str | None
    batch: str
    rule: str


def parse_choices(query: Mapping[str, Any], state: DataState, preferred: str | None) -> Choices:
    """Choices from URL query values; anything unknown falls back to the default."""
    feature = _text(query, "feature")
    if feature not in state.features:
        feature = default_feature(state.features, preferred)
    batch = _text(query, "batch")
    batch = batch if batch in {v for v, _ in state.quarantine_batches} else ALL
    rule = _text(query, "rule")
    rule = rule if rule in {v for v, _ in state.rules} else ALL
    return Choices(feature, batch, rule)  # type: ignore[arg-type]


def query_string(choices: Choices, features: Sequence[str], preferred: str | None) -> str:
    """The URL search part for ``choices``: only values that differ from the defaults."""
    params: dict[str, str] = {}
    if choices.feature and choices.feature != default_feature(features, preferred):
        params["feature"] = choices.feature
    if choices.batch and choices.batch != ALL:
        params["batch"] = choices.batch
    if choices.rule and choices.rule != ALL:
        params["rule"] = choices.rule
    return "?" + urlencode(params) if params else ""


def period_text(start: object, end: object | None = None) -> str:
    """``"Jan 2024"`` or ``"Jan 2024 – May 2024"``."""
    first = format_month(pd.Timestamp(start))  # type: ignore[arg-type]
    if end is None or pd.Timestamp(end) == pd.Timestamp(start):  # type: ignore[arg-type]
        return first
    return f"{first} – {format_month(pd.Timestamp(end))}"  # type: ignore[arg-type]


def windows_text(windows: reads.Windows) -> str:
    """Which periods the exploration compares, in words."""
    reference = period_text(windows.reference_from, windows.reference_to)
    why = (
        f"the training window of model v{windows.model_version} (champion)"
        if windows.model_version is not None
        else "the first period; no model has been trained yet"
    )
    return (
        f"Reference: {reference} ({why}). Latest period: {period_text(windows.latest)}. "
        "Target rates and correlations use the reference window, where labels have arrived."
    )


def waiting_card(svc: Services) -> dbc.Card:
    """Why no file has arrived yet: first run under way, failed, or not started."""
    return latest_run_card(
        recent_runs(svc.warehouse, 1),
        no_run=Words(
            "No data yet",
            "No file has been ingested yet, so there are no batches, statistics or quarantined "
            "rows to show.",
            "Files dropped in the landing folder are picked up by the next pipeline run; "
            "operators can start one from the Runs page with “Retrain now”.",
        ),
        running=Words(
            "The first files are being ingested",
            "Run #{run_id} is in progress ({elapsed} s so far).",
            "This page fills in by itself when the run publishes its batches.",
        ),
        failed=Words(
            "No data yet: the last run failed",
            "Run #{run_id} stopped with: {error}.",
            "Open the Runs page to see which step failed, fix the cause and retrain.",
        ),
        finished=Words(
            "No files found",
            "Run #{run_id} finished without finding any file to ingest.",
            "Drop CSV, Parquet or JSON-lines files in the landing folder (or check "
            "dataset.source), then start a run.",
            tone="warning",
        ),
    )
