"""Model training: candidate pipelines, time-ordered search, calibration, thresholds, metrics.

``fit_candidates`` is the entry point; ``evaluate``, ``segment_metrics`` and ``curves`` turn
labels and probabilities into JSON-able results.
"""

from pipeline.modeling.calibration import fitted_estimator
from pipeline.modeling.evaluation import curves, evaluate, segment_metrics
from pipeline.modeling.fit import TrainOutcome, fit_candidates

__all__ = [
    "TrainOutcome",
    "curves",
    "evaluate",
    "fit_candidates",
    "fitted_estimator",
    "segment_metrics",
]
