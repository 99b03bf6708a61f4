"""The Explain page's state: which version, scope, feature and customer are shown, and the URL.

Kept apart from the page module so the selection rules (defaults, URL parsing, labels) can be
read and tested on their own; the leading underscore keeps it out of the page list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from app.figures.formatting import format_count, format_month, format_pct, is_missing
from app.pages._models_state import parse_version
from app.services import Services
from pipeline.warehouse import reads_explain
from pipeline.warehouse import reads_models as reads

# Entity ids reach SQL only as bound parameters; this only keeps junk out of the URL and box.
ENTITY_PATTERN = re.compile(r"^[\w.:@/+-]{1,64}$")


@dataclass(frozen=True)
class ExplainState:
    """The registry as the page sees it: every version, newest first."""

    versions: pd.DataFrame

    @property
    def ready(self) -> bool:
        """True once a model version exists."""
        return not self.versions.empty

    @property
    def numbers(self) -> list[int]:
        """Version numbers, newest first."""
        return [int(v) for v in self.versions["version"]]

    @property
    def default(self) -> int | None:
        """The champion, else the newest version, else None."""
        if self.versions.empty:
            return None
        champion = self.versions.loc[self.versions["alias"] == "champion", "version"]
        return int(champion.iloc[0]) if len(champion) else self.numbers[0]

    def row(self, version: int | None) -> dict[str, Any]:
        """The registry row of ``version`` as a dict (empty when unknown)."""
        found = self.versions[self.versions["version"] == version]
        return {} if found.empty else found.iloc[0].to_dict()

    def signature(self, scopes: Sequence[str]) -> str:
        """Changes with a new version, an alias change or a new explanation of ``scopes``'
        version: what the page polls for."""
        parts = [
            f"{v}:{a}"
            for v, a in zip(self.versions["version"], self.versions["alias"], strict=True)
        ]
        return "|".join([*parts, *scopes])

    def as_store(self, scopes: Sequence[str]) -> dict[str, Any]:
        """What the page keeps in its ``dcc.Store``: versions, the default, and the signature
        (with ``scopes``, those of the version shown)."""
        return {
            "versions": self.numbers,
            "default": self.default,
            "signature": self.signature(scopes),
        }


def load_state(svc: Services) -> ExplainState:
    """Every registered version (see :func:`pipeline.warehouse.reads_models.versions`)."""
    return ExplainState(reads.versions(svc.warehouse))


def choose_version(value: object, store: Mapping[str, Any] | None) -> int | None:
    """A known version from a dropdown or URL value, else the default (the champion)."""
    store = store or {}
    known = store.get("versions") or []
    version = parse_version(value, known)
    return store.get("default") if version is None else version


def parse_choice(value: object, allowed: Sequence[str]) -> str | None:
    """``value`` when it is one of ``allowed``, else the first allowed value (or None)."""
    if isinstance(value, str) and value in allowed:
        return value
    return allowed[0] if allowed else None


def parse_entity(value: object) -> str | None:
    """An entity id typed or linked: trimmed, at most 64 word characters; else None."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text if ENTITY_PATTERN.match(text) else None


def query_string(
    version: int | None,
    scope: str | None,
    entity: str | None,
    feature: str | None,
    defaults: Mapping[str, Any],
) -> str:
    """``"?v=7&entity=C00042&feature=tenure_months"``; values at their default are left out,
    so a bare ``/explain`` keeps following the champion."""
    query = {}
    if version is not None and version != defaults.get("version"):
        query["v"] = version
    if scope and scope != defaults.get("scope"):
        query["scope"] = scope
    if entity:
        query["entity"] = entity
    if feature and feature != defaults.get("feature"):
        query["feature"] = feature
    return "?" + urlencode(query) if query else ""


def scope_label(scope: str, row: Mapping[str, Any]) -> str:
    """``"holdout"`` -> ``"Holdout month Apr 2024 (tested when trained)"``; ``"period:2024-06"``
    -> ``"Scored month Jun 2024"``."""
    if scope.startswith("period:"):
        return f"Scored month {format_month(scope.removeprefix('period:') + '-01')}"
    month = row.get("holdout_from")
    if scope == "holdout" and not is_missing(month):
        return f"Holdout month {format_month(month)} (tested when trained)"
    return "Holdout (tested when trained)" if scope == "holdout" else scope


def scope_options(scopes: Sequence[str], row: Mapping[str, Any]) -> list[dict[str, str]]:
    """Options of the scope picker, in :func:`reads_explain.scopes` order."""
    return [{"label": scope_label(s, row), "value": s} for s in scopes]


def version_label(row: Mapping[str, Any]) -> str:
    """``"v7 (champion)"``."""
    return f"v{int(row['version'])} ({row.get('alias', 'unknown')})"


def summary_text(svc: Services, version: int | None, scope: str | None, row: Mapping) -> str:
    """The line under the title: the version explained, on what, how many rows and when."""
    if version is None:
        return "No model version yet"
    parts = [f"Explaining {version_label(row)}"]
    if not is_missing(row.get("roc_auc")):
        parts[0] += f", ROC AUC {float(row['roc_auc']):.3f}"
    found = None if scope is None else reads_explain.meta(svc.warehouse, version, scope)
    if found is None:
        parts.append("no stored explanation for this version")
    else:
        parts.append(scope_label(scope, row))  # type: ignore[arg-type]
        parts.append(f"{format_count(found['rows'])} customers explained")
        parts.append(f"base rate {format_pct(found['base_proba'])}")
        at = pd.Timestamp(found["computed_at"]).strftime("%Y-%m-%d %H:%M")
        parts.append(f"computed {at} UTC")
    return " · ".join(parts)


def no_explanation_reason(version: int, row: Mapping[str, Any]) -> str:
    """Why a version has no stored global explanation, for the empty state."""
    trained = row.get("created_at")
    when = "" if is_missing(trained) else f" (trained {pd.Timestamp(trained):%Y-%m-%d})"
    return (
        f"No explanation is stored for v{version}{when}. Plumbline explains each version on "
        "its holdout month when it is trained, and the champion again on every month it "
        "scores; versions trained before explanations were added to Plumbline have none, and "
        "a run whose explanation step failed says why on the Runs page."
    )
