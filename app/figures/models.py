"""Figures of the Models page: quality per version, and a champion against a challenger.

The comparison builders take ``curves`` payloads (``pipeline.modeling.evaluation.curves``) keyed
by a label that names the version, e.g. ``{"v7 (champion)": {...}, "v9 (challenger)": {...}}``.
Every chart colours a label the same way (:func:`label_colours`): the first label gets the
champion colour, the second the challenger colour, so an analyst can read any chart on the page
without looking the legend up again.
"""

# The builders live in model_style, model_curves, model_threshold and model_trend; this
# module keeps the one import path the page and its tests use.
from app.figures.model_curves import (  # noqa: F401
    calibration_overlay,
    gain_overlay,
    pr_overlay,
    roc_overlay,
)
from app.figures.model_style import (  # noqa: F401
    CALIBRATION_TITLE,
    CHALLENGER_COLOUR,
    CHAMPION_COLOUR,
    CONFUSION_HEIGHT,
    CONFUSION_TITLE,
    CURVE_HEIGHT,
    GAIN_TITLE,
    LEGEND_BELOW,
    MARK_COLOURS,
    MAX_ANNOTATED_CHAMPIONS,
    MAX_MARKED_POINTS,
    MAX_VERSION_TICKS,
    METRIC_COLOURS,
    NO_CURVES,
    OTHER_COLOURS,
    PR_TITLE,
    PROFIT_HEIGHT,
    PROFIT_TITLE,
    PURPLE,
    REFERENCE_COLOUR,
    ROC_TITLE,
    TREND_HEIGHT,
    TREND_TITLE,
    UNIT_RANGE,
    label_colours,
)
from app.figures.model_threshold import (  # noqa: F401
    confusion_matrices,
    format_threshold,
    profit_curve,
    threshold_summary,
)
from app.figures.model_trend import (  # noqa: F401
    metric_trend,
)
