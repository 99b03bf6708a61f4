"""Figures of the Monitor page: drift (heatmap, one cell's distributions, the score), data
quality and performance over time, with promotions, retrains and alerts on the time axis.

The builders live in monitor_style, monitor_drift, monitor_trends and monitor_quality; this
module keeps the one import path the page and its tests use.
"""

from app.figures.monitor_drift import (  # noqa: F401
    DISTRIBUTION_TITLE,
    HEATMAP_TITLE,
    distribution_figure,
    drift_heatmap,
    feature_order,
    period_key,
)
from app.figures.monitor_quality import (  # noqa: F401
    QUALITY_TITLE,
    quality_figure,
)
from app.figures.monitor_style import (  # noqa: F401
    ALERT_COLOURS,
    SEVERITIES,
    SEVERITY_FILL,
    SEVERITY_LABEL,
    SEVERITY_MARKER,
    event_label,
)
from app.figures.monitor_trends import (  # noqa: F401
    PERFORMANCE_TITLE,
    PREDICTION_TITLE,
    performance_figure,
    prediction_drift_figure,
)
