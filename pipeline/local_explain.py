"""Local explanations on demand, in the web process: one customer, one model version.

One row through TreeExplainer takes milliseconds, so it runs in the web process; loading a
model and building its explainer does not, so both are cached per version (the artefact is
verified before it is loaded). Results are cached per (version, entity, period, edits).
What-if edits are checked against the data contract before they reach the model.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.contract import Contract
from pipeline.explain.language import format_value, local_story
from pipeline.explain.shap_values import Explainer, probability_points
from pipeline.registry import ArtefactRefused, load_model
from pipeline.train import TrainSpec, prepare_features
from pipeline.warehouse import Warehouse, models, reads_explain


class ExplainError(ValueError):
    """The explanation cannot be given; the message says why and what to do."""


@dataclass(frozen=True)
class LocalResult:
    """One customer's prediction, from the base rate to the prediction, in points."""

    version: int
    entity_id: str
    period: date
    features: list[str]
    inputs: dict[str, Any]  # the feature values explained (after what-if edits)
    shown: list[str]  # the same values as text (as the sentences write them), in order
    points: list[float]  # contributions in probability points, in ``features`` order
    base_proba: float
    proba: float
    sentences: list[str] = field(default_factory=list)


def validate_whatif(contract: Contract, edits: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Typed what-if values and one problem sentence per value the contract refuses."""
    typed: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in edits.items():
        text = "" if raw is None else str(raw).strip()
        if name in contract.numeric:
            if text == "":
                typed[name] = np.nan
                continue
            try:
                number = float(text.replace(",", ""))
            except ValueError:
                problems.append(f"{name}: {text!r} is not a number")
                continue
            low, high = contract.ranges.get(name, [-math.inf, math.inf])
            if not low <= number <= high:
                problems.append(
                    f"{name}: {number:g} is outside the contract's range {low:g} to {high:g}"
                )
                continue
            typed[name] = number
        elif name in contract.categorical:
            allowed = contract.categories.get(name, [])
            if text == "":
                typed[name] = None
            elif allowed and text not in allowed:
                problems.append(f"{name}: {text!r} is not one of {', '.join(allowed[:12])}")
            else:
                typed[name] = text
        else:
            problems.append(f"{name} is not a feature of the model")
    return typed, problems


class LocalExplanations:
    """Per-process caches of explainers (per model version) and of explanations."""

    def __init__(self, wh: Warehouse, max_models: int = 3, max_results: int = 2048):
        self.wh = wh
        self.max_models = max_models
        self.max_results = max_results
        self._models: OrderedDict[int, tuple[Any, TrainSpec, Explainer]] = OrderedDict()
        self._results: OrderedDict[tuple, LocalResult] = OrderedDict()
        self._lock = threading.Lock()

    def _explainer(self, version: int, period: date) -> tuple[Any, TrainSpec, Explainer]:
        with self._lock:
            if version in self._models:
                self._models.move_to_end(version)
                return self._models[version]
        record = models.model(self.wh, version)
        if record is None:
            raise ExplainError(f"there is no model v{version}")
        try:
            pipe = load_model(Path(record["artefact_path"]), record["sha256"])
        except ArtefactRefused as error:
            raise ExplainError(f"model v{version} cannot be explained: {error}") from None
        spec = TrainSpec(record["features"]["categorical"], record["features"]["numeric"])
        contract = self._contract()
        background = prepare_features(reads_explain.background(self.wh, contract, period), spec)
        explainer = Explainer(pipe, spec, background)
        with self._lock:
            self._models[version] = (pipe, spec, explainer)
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
        return pipe, spec, explainer

    def _contract(self) -> Contract:
        contract = models.latest_contract(self.wh)
        if contract is None:
            raise ExplainError("there is no data contract yet: no data has been accepted")
        return contract

    def explain(
        self,
        version: int,
        entity_id: str,
        period: date | None = None,
        edits: dict[str, Any] | None = None,
    ) -> LocalResult:
        """Explain one customer (with optional what-if ``edits``); raises :class:`ExplainError`."""
        if period is None:
            served = reads_explain.served(self.wh, entity_id)
            if served is None:
                raise ExplainError(f"customer {entity_id!r} has not been scored; check the id")
            period = served["period"]
        key = (version, entity_id, period, tuple(sorted((edits or {}).items())))
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        contract = self._contract()
        row = reads_explain.entity_features(self.wh, contract, entity_id, period)
        if row.empty:
            raise ExplainError(f"customer {entity_id!r} has no clean row in {period:%Y-%m}")
        if edits:
            typed, problems = validate_whatif(contract, edits)
            if problems:
                raise ExplainError("; ".join(problems))
            for name, value in typed.items():
                row[name] = pd.Series(
                    [value], dtype=object if name in contract.categorical else float
                )
        _, spec, explainer = self._explainer(version, period)
        features = prepare_features(row, spec)
        expl = explainer.explain(features)
        pts = probability_points(expl)[0]
        values = features.iloc[0].to_dict()
        result = LocalResult(
            version=version,
            entity_id=entity_id,
            period=period,
            features=list(expl.features),
            inputs=values,
            shown=[format_value(values[f]) for f in expl.features],
            points=[float(p) for p in pts],
            base_proba=float(expl.base_proba),
            proba=float(expl.proba[0]),
            sentences=local_story(expl.features, [values[f] for f in expl.features], pts),
        )
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.max_results:
                self._results.popitem(last=False)
        return result
