"""The data contract: what a batch must look like, inferred from the first accepted batch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from pipeline.settings import DatasetSettings

NUMERIC_SHARE = 0.98  # a column is numeric when this share of its non-null values parse as numbers
MAX_CATEGORIES = 200


@dataclass(frozen=True)
class ColumnProfile:
    """What one staged text column looks like, measured in SQL."""

    name: str
    non_null: int
    numeric_ok: int
    q_low: float | None
    q_high: float | None
    categories: list[str]  # most frequent first
    median: float | None = None


@dataclass
class Contract:
    """Column roles and allowed values; serialised as JSON in the warehouse."""

    entity_id: str
    event_time: str
    target: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    ranges: dict[str, list[float]] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    medians: dict[str, float] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """Model input columns: categorical first, then numeric."""
        return [*self.categorical, *self.numeric]

    def to_json(self) -> str:
        """The contract as a JSON string."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Contract:
        """Read a contract written by :meth:`to_json` (older versions lack newer fields)."""
        return cls(**json.loads(text))

    def columns(self) -> set[str]:
        """Every column the contract knows: keys, target, features and dropped columns."""
        return {self.entity_id, self.event_time, self.target, *self.features, *self.dropped}


def plausible_range(q_low: float, q_high: float) -> list[float]:
    """Values outside this are absurd outliers: a wide band around the 1-99% quantiles.

    The 1% and 99% quantiles are used, not the extremes, so that a handful of absurd values
    in the first batch (a 99999 typed for a missing price) cannot widen the band to admit
    themselves.

    A column whose low quantile is non-negative stays non-negative (tenure, usage, money).
    """
    spread = max(q_high - q_low, abs(q_high), 1.0)
    low = 0.0 if q_low >= 0 else q_low - 3 * spread
    return [low, q_high + 3 * spread]


def infer_contract(profiles: list[ColumnProfile], dataset: DatasetSettings) -> Contract:
    """Decide each column's role from its profile and the dataset settings."""
    keys = {dataset.entity_id, dataset.event_time, dataset.target}
    pii = {name.lower() for name in dataset.pii}
    contract = Contract(dataset.entity_id, dataset.event_time, dataset.target)
    for p in profiles:
        if p.name in keys:
            continue
        if p.name.lower() in pii or p.name.startswith("_"):
            contract.dropped.append(p.name)
            continue
        is_numeric = p.non_null > 0 and p.numeric_ok >= NUMERIC_SHARE * p.non_null
        if is_numeric and p.q_low is not None and p.q_high is not None:
            contract.numeric.append(p.name)
            contract.ranges[p.name] = plausible_range(p.q_low, p.q_high)
            if p.median is not None:
                contract.medians[p.name] = p.median
        elif p.name in dataset.segments or len(p.categories) <= MAX_CATEGORIES:
            contract.categorical.append(p.name)
            contract.categories[p.name] = sorted(p.categories)
            if p.categories:
                contract.modes[p.name] = p.categories[0]
        else:
            # Free text with hundreds of values (ids, notes) is no use to the model.
            contract.dropped.append(p.name)
    return contract
