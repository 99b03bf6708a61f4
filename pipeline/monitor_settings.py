"""Settings for monitoring, alert rules and the self-healing retrain policy.

Kept apart from :mod:`pipeline.settings` (which nests them as ``monitoring`` and ``retrain``)
because they are read by the monitor step, the policy and the Monitor page alone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

Severity = Literal["info", "warning", "critical"]
RuleKind = Literal[
    "feature_drift",  # a drift result past its method's threshold (or ``threshold`` if set)
    "prediction_drift",  # the score distribution moved
    "estimated_drop",  # estimated ROC AUC below the champion's holdout ROC AUC by > threshold
    "realised_drop",  # realised ROC AUC below the champion's holdout ROC AUC by > threshold
    "missing_rate",  # share of missing values in a column above threshold
    "new_category_rate",  # share of values outside the contract's categories above threshold
    "out_of_range_rate",  # share of values outside the contract's range above threshold
    "duplicate_rate",  # share of a batch's rows removed as duplicates above threshold
]


class AlertRule(BaseModel):
    """One alert rule: what is watched, past which value, and how loud.

    ``threshold`` None means the drift method's own threshold (drift kinds only). ``top_features``
    limits feature drift to the champion's most important features (None: every feature).
    ``segments`` also looks inside each segment value (e.g. region South), not only the batch.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    kind: RuleKind
    severity: Severity = "warning"
    threshold: float | None = Field(None, ge=0.0)
    top_features: int | None = Field(None, ge=1, le=200)
    segments: bool = True

    @model_validator(mode="after")
    def _threshold_needed(self) -> AlertRule:
        if self.threshold is None and self.kind not in ("feature_drift", "prediction_drift"):
            raise ValueError(f"rule {self.name!r} ({self.kind}) needs a threshold")
        return self


DEFAULT_RULES: list[AlertRule] = [
    AlertRule(name="Drift on a top-5 feature", kind="feature_drift", top_features=5),
    AlertRule(name="Score distribution moved", kind="prediction_drift", segments=False),
    AlertRule(
        name="Estimated ROC AUC down > 0.03", kind="estimated_drop", threshold=0.03, segments=False
    ),
    AlertRule(
        name="Realised ROC AUC down > 0.03",
        kind="realised_drop",
        severity="critical",
        threshold=0.03,
        segments=False,
    ),
    AlertRule(name="Missing rate > 10%", kind="missing_rate", threshold=0.10, segments=False),
    AlertRule(name="New categories > 1%", kind="new_category_rate", threshold=0.01, segments=False),
    AlertRule(
        name="Duplicates > 5%",
        kind="duplicate_rate",
        severity="info",
        threshold=0.05,
        segments=False,
    ),
]


class MonitoringSettings(BaseModel):
    """What monitoring compares, with which methods, and who hears about it.

    ``reference`` "training" compares each batch with the champion's training window (train
    and holdout periods); "rolling" with the ``rolling_periods`` periods before it. Methods and
    thresholds default per column kind (see docs/monitoring-drift.md); set them to override.
    """

    model_config = ConfigDict(extra="forbid")

    reference: Literal["training", "rolling"] = "training"
    rolling_periods: int = Field(6, ge=1, le=60)
    bins: int = Field(20, ge=5, le=100)
    numeric_method: Literal["wasserstein", "psi", "ks"] | None = None
    categorical_method: Literal["jensen_shannon", "psi", "chi_square"] | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)
    segment_min_rows: int = Field(500, ge=1, description="smaller segment values are skipped")
    estimate_bootstrap: int = Field(100, ge=10, le=2000)
    rules: list[AlertRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    webhook_url: AnyHttpUrl | None = None
    webhook_timeout_seconds: float = Field(5.0, gt=0.0, le=60.0)

    @model_validator(mode="after")
    def _known_thresholds(self) -> MonitoringSettings:
        known = {"wasserstein", "psi", "ks", "jensen_shannon", "chi_square"}
        unknown = set(self.thresholds) - known
        if unknown:
            raise ValueError(
                f"thresholds name unknown methods {sorted(unknown)}; use {sorted(known)}"
            )
        return self


class RetrainSettings(BaseModel):
    """When Plumbline retrains by itself.

    ``on`` lists the triggers: "schedule" (the champion's newest labelled data is
    ``schedule_periods`` periods old), "drift" (at least ``drift_features`` of the champion's
    top features drifted by ``drift_margin`` times their method's threshold, in the batch or a
    segment), "performance" (estimated or realised ROC AUC below the champion's holdout ROC AUC
    by more than ``performance_drop``). An empty list means never automatically (the Retrain
    button still works). After an automatic retrain, no other fires for ``cooldown_periods``
    periods of data, and only evidence from after it counts.
    """

    model_config = ConfigDict(extra="forbid")

    on: list[Literal["schedule", "drift", "performance"]] = ["schedule", "drift", "performance"]
    schedule_periods: int = Field(3, ge=1, le=120)
    drift_features: int = Field(1, ge=1, le=50)
    drift_margin: float = Field(2.0, ge=1.0, le=20.0)
    top_features: int = Field(5, ge=1, le=200)
    performance_drop: float = Field(0.03, gt=0.0, le=0.5)
    cooldown_periods: int = Field(2, ge=0, le=60)
