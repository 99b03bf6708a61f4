"""The Model review page's state: the registry as the page sees it, and the A/B selection.

Kept apart from the page module so the selection rules (defaults, URL parsing) can be read and
tested on their own; the leading underscore keeps it out of the page list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.components.waiting import Words, latest_run_card
from app.figures.formatting import is_missing
from app.services import Services
from pipeline.warehouse import reads_models as reads
from pipeline.warehouse.alerts import open_alerts
from pipeline.warehouse.runs import recent_runs, run_steps

REFUSED = ("artefact_refused",)


@dataclass(frozen=True)
class ModelsState:
    """What the registry holds right now: versions (newest first), alias history, alerts."""

    versions: pd.DataFrame
    history: pd.DataFrame
    alerts: pd.DataFrame

    @property
    def ready(self) -> bool:
        """True once a model version exists."""
        return not self.versions.empty

    @property
    def numbers(self) -> list[int]:
        """Version numbers, newest first."""
        return [int(v) for v in self.versions["version"]]

    def holder(self, alias: str) -> int | None:
        """The version holding ``alias`` (champion or challenger), or None."""
        found = self.versions.loc[self.versions["alias"] == alias, "version"]
        return int(found.iloc[0]) if len(found) else None

    @property
    def champion(self) -> int | None:
        """The champion's version, or None (e.g. after a refused artefact with no fallback)."""
        return self.holder("champion")

    @property
    def signature(self) -> str:
        """Changes when a version, an alias, the alias history or an open alert changes."""
        parts = [
            f"{v}:{a}"
            for v, a in zip(self.versions["version"], self.versions["alias"], strict=True)
        ]
        newest = "" if self.history.empty else str(self.history["set_at"].iloc[0])
        parts += [f"h{len(self.history)}@{newest}"]
        parts += [f"alert{int(i)}" for i in self.alerts["alert_id"]]
        return "|".join(parts)

    def defaults(self) -> tuple[int | None, int | None]:
        """The pair a bare ``/models`` compares; see :func:`default_pair`."""
        return default_pair(self.versions)

    def as_store(self) -> dict[str, Any]:
        """What the page keeps in its ``dcc.Store`` to notice changes and know the defaults."""
        a, b = self.defaults()
        return {"signature": self.signature, "versions": self.numbers, "a": a, "b": b}


def load_state(svc: Services) -> ModelsState:
    """The registry: every version, the alias history and open ``artefact_refused`` alerts."""
    wh = svc.warehouse
    return ModelsState(reads.versions(wh), reads.alias_history(wh), open_alerts(wh, REFUSED))


def default_pair(versions: pd.DataFrame) -> tuple[int | None, int | None]:
    """A = the champion (else the newest version); B = the challenger, else the newest other
    version, else A itself when only one version exists. ``versions`` is newest first."""
    if versions.empty:
        return None, None
    numbers = [int(v) for v in versions["version"]]
    aliases = dict(zip(numbers, versions["alias"], strict=True))
    champion = next((v for v in numbers if aliases[v] == "champion"), None)
    a = champion if champion is not None else numbers[0]
    challenger = next((v for v in numbers if aliases[v] == "challenger" and v != a), None)
    if challenger is not None:
        return a, challenger
    return a, next((v for v in numbers if v != a), a)


def parse_version(value: object, known: Sequence[int]) -> int | None:
    """A version number from a URL value or dropdown value, only if it is a known version."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("v").isdigit():
        number = int(value.strip().lstrip("v"))
    else:
        return None
    return number if number in known else None


def parse_pair(query: Mapping[str, Any], state: ModelsState) -> tuple[int | None, int | None]:
    """``a`` and ``b`` from the URL query; unknown or invalid values fall back to the default."""
    default_a, default_b = state.defaults()
    a = parse_version(query.get("a"), state.numbers)
    b = parse_version(query.get("b"), state.numbers)
    return (default_a if a is None else a), (default_b if b is None else b)


def query_string(a: object, b: object, store: Mapping[str, Any] | None) -> str:
    """``"?a=6&b=7"``, or ``""`` while both are the defaults so a bare link keeps following
    the champion and the challenger."""
    store = store or {}
    known = store.get("versions") or []
    a_, b_ = parse_version(a, known), parse_version(b, known)
    if a_ is None or b_ is None or (a_, b_) == (store.get("a"), store.get("b")):
        return ""
    return "?" + urlencode({"a": a_, "b": b_})


def _auc(value: object) -> str:
    return "ROC AUC n/a" if is_missing(value) else f"ROC AUC {float(value):.3f}"  # type: ignore[arg-type]


def version_options(versions: pd.DataFrame) -> list[dict[str, Any]]:
    """Dropdown options, newest first, labelled e.g. ``"v7 · champion · ROC AUC 0.812"``."""
    return [
        {"label": f"v{int(r.version)} · {r.alias} · {_auc(r.roc_auc)}", "value": int(r.version)}
        for r in versions.itertuples(index=False)
    ]


def summary_text(state: ModelsState) -> str:
    """The line under the page title: how many versions, who is champion and challenger."""
    if not state.ready:
        return "No model version yet"
    v = state.versions
    parts = [f"{len(v)} version{'s' if len(v) != 1 else ''}"]
    for alias in ("champion", "challenger"):
        row = v[v["alias"] == alias]
        if len(row):
            r = row.iloc[0]
            parts.append(f"{alias} v{int(r['version'])} ({_auc(r['roc_auc'])})")
        elif alias == "champion":
            parts.append("no champion")
    newest = v.iloc[0]
    when = pd.Timestamp(newest["created_at"]).strftime("%Y-%m-%d %H:%M")
    parts.append(f"newest v{int(newest['version'])} trained {when} UTC")
    return " · ".join(parts)


def label_of(version: int, state_versions: pd.DataFrame, side: str) -> str:
    """The chart and table label of one side, e.g. ``"A: v7 (champion)"``."""
    found = state_versions.loc[state_versions["version"] == version, "alias"]
    alias = str(found.iloc[0]) if len(found) else "unknown"
    return f"{side}: v{version} ({alias})"


def follow(current: object, old: object, new: object, valid: Sequence[int]) -> Any:
    """Keep a user's choice; move a value that sat on the old default to the new default.

    Returns the new value, or None for "leave the dropdown as it is".
    """
    if current is None or current == old or current not in valid:
        return new if new != current else None
    return None


def _train_note(wh: Any, run_id: int) -> str | None:
    """Why the train step of ``run_id`` trained nothing, in its own words, if it said so."""
    steps = run_steps(wh, [run_id])
    train = steps[steps["step"] == "train"]
    if train.empty or is_missing(train["detail"].iloc[0]):
        return None
    try:
        detail = json.loads(str(train["detail"].iloc[0]))
    except ValueError:
        return None
    return detail.get("skipped")


def waiting_card(svc: Services) -> dbc.Card:
    """Why there is no model yet: first run under way, labels not yet arrived, or a failure."""
    needed = svc.settings.holdout_periods + 1
    why = (
        f"No model yet: the first model is trained when {needed} months of labels have arrived "
        "(the latest labelled month is held out to measure it)."
    )

    def finished(run_id: int) -> Words:
        note = _train_note(svc.warehouse, run_id)
        return Words(
            "No model yet",
            why + (f" The last run's training step said: {note}." if note else ""),
            "Each run checks again; this page fills in by itself.",
        )

    return latest_run_card(
        recent_runs(svc.warehouse, 1),
        why=why,
        no_run=Words(
            "No model yet",
            "{why}",
            "The scheduler starts the first run shortly; this page fills in by itself.",
        ),
        running=Words(
            "A run is in progress",
            "{why} Run #{run_id} is {doing} ({elapsed} s so far).",
            "This page fills in by itself when a model has been trained.",
        ),
        failed=Words(
            "No model yet: the last run failed",
            "{why} Run #{run_id} stopped with: {error}.",
            "Open the Runs page to see which step failed.",
        ),
        finished=finished,
    )


def alert_banner(state: ModelsState) -> list[dbc.Alert]:
    """One red banner per open ``artefact_refused`` alert: which version was refused, why,
    and what the app serves instead."""
    champion = state.champion
    if champion is None:
        serving = (
            "No verified champion is being served: the predictions shown are the last ones "
            "published, and nothing new is scored until a model is trained or promoted."
        )
    else:
        serving = f"The app serves v{champion} (the current champion) instead."
    banners = []
    for alert in state.alerts.itertuples(index=False):
        subject = "a model" if is_missing(alert.subject) else f"model {alert.subject}"
        raised = pd.Timestamp(alert.raised_at).strftime("%Y-%m-%d %H:%M")
        banners.append(
            dbc.Alert(
                [
                    html.Strong(f"Artefact refused: {subject}. "),
                    html.Span(str(alert.message) + " "),
                    html.Span(serving, className="fw-semibold"),
                    html.Div(
                        f"Raised {raised} UTC"
                        + ("" if is_missing(alert.run_id) else f" by run #{int(alert.run_id)}")
                        + ". The file on disk does not match the checksum recorded at training, "
                        "so it was not loaded.",
                        className="small mt-1",
                    ),
                ],
                color="danger",
                class_name="refused-alert",
            )
        )
    return banners
