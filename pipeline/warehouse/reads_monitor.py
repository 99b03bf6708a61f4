"""Named reads behind the Monitor page and the Overview's health badge; the only SQL they run.

The monitor step publishes drift, data quality, performance and retrain decisions per period
(see ``docs`` and :mod:`pipeline.warehouse.monitor_store`); these reads only select. Each
returns a small frame with the documented columns: the heatmap is one query of at most
periods x features rows, and a cell's histogram JSON is read only for the clicked cell.
Every value is a bound parameter; the only names spliced into SQL come from this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import pandas as pd

from pipeline.monitoring import ALL, SCORE
from pipeline.warehouse.connection import Warehouse

METRICS = ("roc_auc", "precision", "recall", "f1")
# The champion's holdout importance rank of drift_results row ``d`` as ``i.rank`` (NULL when
# the champion's explanation does not rank that feature): the order features are shown in.
_CHAMPION_RANK = (
    "LEFT JOIN explain_importance i ON i.feature = d.column_name AND i.scope = 'holdout' "
    "AND i.model_version = (SELECT version FROM model_aliases WHERE alias = 'champion') "
)


@dataclass(frozen=True)
class Segment:
    """A view of each batch: the whole batch, or the rows with ``column`` = ``value``."""

    column: str = ALL
    value: str = ALL

    @property
    def whole(self) -> bool:
        """True for the whole batch."""
        return self.column == ALL

    @property
    def key(self) -> str:
        """``"(all)"`` or ``"region=South"``: the form kept in selects and the URL."""
        return ALL if self.whole else f"{self.column}={self.value}"

    @property
    def label(self) -> str:
        """``"Whole batch"`` or ``"region = South"``."""
        return "Whole batch" if self.whole else f"{self.column} = {self.value}"

    @classmethod
    def parse(cls, key: object) -> Segment | None:
        """The segment of ``key`` (see :attr:`key`), or None when it is not of that form."""
        if not isinstance(key, str) or not key:
            return None
        if key == ALL:
            return cls()
        column, sep, value = key.partition("=")
        if not sep or not column or not value or column == ALL:
            return None
        return cls(column, value)


# -- what exists -----------------------------------------------------------------------------


def signature(wh: Warehouse) -> str:
    """Changes whenever a run publishes monitoring, an alert is raised or handled, or the
    champion changes: what the page polls for. One query, made again only after a write to
    the results or the alerts."""
    row = wh.kept(
        "monitor.signature",
        ("alerts",),
        lambda: wh.rows(
            "SELECT (SELECT count(*) || ':' || coalesce(max(run_id), 0) FROM drift_results), "
            "(SELECT count(*) || ':' || coalesce(max(run_id), 0) FROM performance), "
            "(SELECT count(*) || ':' || coalesce(max(run_id), 0) FROM data_quality), "
            "(SELECT coalesce(max(decision_id), 0) FROM retrain_decisions), "
            "(SELECT count(*) || ':' || coalesce(max(alert_id), 0) || ':' "
            "  || coalesce(CAST(max(handled_at) AS VARCHAR), '') || ':' "
            "  || count(*) FILTER (WHERE status = 'resolved') FROM alerts), "
            "(SELECT coalesce(max(version), 0) FROM model_aliases WHERE alias = 'champion')"
        )[0],
    )
    return "|".join(str(part) for part in row)


def drift_periods(wh: Warehouse) -> list[date]:
    """Periods with drift results, oldest first."""
    return [r[0] for r in wh.rows("SELECT DISTINCT period FROM drift_results ORDER BY period")]


def has_results(wh: Warehouse) -> bool:
    """True once any drift, performance or data-quality row exists."""
    return bool(
        wh.scalar(
            "SELECT EXISTS (SELECT 1 FROM drift_results) OR EXISTS (SELECT 1 FROM performance) "
            "OR EXISTS (SELECT 1 FROM data_quality)"
        )
    )


def segments(wh: Warehouse) -> list[Segment]:
    """Every segment with drift or performance results: the whole batch first, then by
    column and value."""
    rows = wh.rows(
        "SELECT segment_column, segment_value FROM ("
        "  SELECT segment_column, segment_value FROM drift_results "
        "  UNION SELECT segment_column, segment_value FROM performance) "
        "ORDER BY segment_column <> ?, segment_column, segment_value",
        [ALL],
    )
    found = [Segment(c, v) for c, v in rows]
    return found if found and found[0].whole else [Segment(), *found]


def summary(wh: Warehouse) -> dict[str, Any]:
    """What the page's first line says, from the latest monitored period of the whole batch.

    Keys: champion (version or None), first, last (periods with drift results, or None),
    months (how many), reference_version (None for a rolling reference), reference_from,
    reference_to, run_id (the run that monitored the latest period).
    """
    row = wh.rows(
        "WITH p AS (SELECT min(period) AS first, max(period) AS last, count(DISTINCT period) "
        "  AS months FROM drift_results) "
        "SELECT (SELECT version FROM model_aliases WHERE alias = 'champion'), p.first, p.last, "
        "p.months, d.reference_version, d.reference_from, d.reference_to, d.run_id "
        "FROM p LEFT JOIN drift_results d ON d.period = p.last AND d.segment_column = ? "
        "ORDER BY d.column_name = ? LIMIT 1",  # a feature's reference window, not the scores'
        [ALL, SCORE],
    )[0]
    keys = (
        "champion",
        "first",
        "last",
        "months",
        "reference_version",
        "reference_from",
        "reference_to",
        "run_id",
    )
    return dict(zip(keys, row, strict=True))


def default_feature(wh: Warehouse, period: date | None, segment: Segment) -> str | None:
    """The feature a bare page shows first: the worst of ``period`` (drift before watch
    before ok), the champion's most important first among equals; None without results."""
    if period is None:
        return None
    return wh.scalar(
        f"SELECT d.column_name FROM drift_results d {_CHAMPION_RANK}"
        "WHERE d.period = ? AND d.segment_column = ? AND d.segment_value = ? "
        "AND d.column_name <> ? "
        "ORDER BY CASE d.severity WHEN 'drift' THEN 0 WHEN 'watch' THEN 1 ELSE 2 END, "
        "i.rank NULLS LAST, d.column_name LIMIT 1",
        [period, segment.column, segment.value, SCORE],
    )


def features(wh: Warehouse) -> list[str]:
    """Monitored features, the champion's most important first (its holdout explanation);
    features it did not explain, or every feature when there is no explanation, follow
    alphabetically."""
    rows = wh.rows(
        "WITH f AS (SELECT DISTINCT column_name FROM drift_results WHERE column_name <> ?) "
        f"SELECT d.column_name FROM f d {_CHAMPION_RANK}"
        "ORDER BY i.rank NULLS LAST, d.column_name",
        [SCORE],
    )
    return [r[0] for r in rows]


# -- drift -----------------------------------------------------------------------------------

# What every drift result says about its comparison, feature or score alike.
_VERDICT_COLUMNS = ["method", "statistic", "threshold", "p_value", "severity", "sentence"]
HEATMAP_COLUMNS = ["period", "column_name", "kind", *_VERDICT_COLUMNS, "rank"]


def heatmap(wh: Warehouse, segment: Segment) -> pd.DataFrame:
    """Feature drift of one segment: one row per period and feature (no histograms).

    Columns: period (datetime64), column_name, kind, method, statistic, threshold, p_value,
    severity (ok | watch | drift), sentence, rank (the feature's importance rank for the
    champion's holdout explanation, NaN when it has none). Ordered by period, rank, name.
    """
    return wh.read(
        "SELECT d.period, d.column_name, d.kind, d.method, d.statistic, d.threshold, d.p_value, "
        f"d.severity, d.sentence, i.rank FROM drift_results d {_CHAMPION_RANK}"
        "WHERE d.segment_column = ? AND d.segment_value = ? AND d.column_name <> ? "
        "ORDER BY d.period, i.rank NULLS LAST, d.column_name",
        [segment.column, segment.value, SCORE],
    )


def cell(wh: Warehouse, period: date, column: str, segment: Segment) -> dict[str, Any] | None:
    """One drift result with its histogram parsed, or None when it was not measured.

    Keys: period, column_name, kind, segment_column, segment_value, reference_version,
    reference_from, reference_to, method, statistic, threshold, p_value, drifted, severity,
    rows_reference, rows_current, sentence, run_id, histogram (``{"labels", "reference",
    "current"}``: shares per bin, a final "missing" entry when either side has any).
    """
    frame = wh.read(
        "SELECT period, column_name, kind, segment_column, segment_value, reference_version, "
        "reference_from, reference_to, method, statistic, threshold, p_value, drifted, "
        "severity, rows_reference, rows_current, sentence, run_id, histogram "
        "FROM drift_results WHERE period = ? AND column_name = ? AND segment_column = ? "
        "AND segment_value = ?",
        [period, column, segment.column, segment.value],
    )
    if frame.empty:
        return None
    record = frame.iloc[0].to_dict()
    try:
        record["histogram"] = json.loads(record["histogram"])
    except (TypeError, ValueError):
        record["histogram"] = None
    return {k: (None if _missing(v) else v) for k, v in record.items()}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


PREDICTION_COLUMNS = ["period", *_VERDICT_COLUMNS, "rows_current"]


def prediction_drift(wh: Warehouse, segment: Segment) -> pd.DataFrame:
    """Drift of the score distribution per period, oldest first.

    Columns: period (datetime64), method, statistic, threshold, p_value, severity, sentence,
    rows_current.
    """
    return wh.read(
        f"SELECT {', '.join(PREDICTION_COLUMNS)} FROM drift_results "
        "WHERE column_name = ? AND segment_column = ? AND segment_value = ? ORDER BY period",
        [SCORE, segment.column, segment.value],
    )


# -- data quality and performance ------------------------------------------------------------


def quality(wh: Warehouse) -> pd.DataFrame:
    """Data-quality metrics per period, oldest first.

    Columns: period (datetime64), column_name ("(all)" for the row-level duplicate_rate and
    quarantine_rate), metric (missing_rate | new_category_rate | out_of_range_rate |
    duplicate_rate | quarantine_rate), value (a share, 0..1), rows.
    """
    return wh.read(
        "SELECT period, column_name, metric, value, rows FROM data_quality "
        "ORDER BY period, metric, column_name"
    )


def performance(wh: Warehouse, metric: str, segment: Segment) -> pd.DataFrame:
    """Estimated and realised ``metric`` of one segment per period, oldest first.

    Columns: period (datetime64), kind (estimated | realised), value, low, high (the band of
    an estimate; NaN for realised), rows, model_version. Raises ``ValueError`` for a metric
    not in :data:`METRICS`.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown performance metric {metric!r}; use one of {list(METRICS)}")
    return wh.read(
        "SELECT period, kind, value, low, high, rows, model_version FROM performance "
        "WHERE metric = ? AND segment_column = ? AND segment_value = ? ORDER BY period, kind",
        [metric, segment.column, segment.value],
    )


def champion_reference(wh: Warehouse, metric: str) -> tuple[int, float] | None:
    """The champion's version and its ``metric`` on its holdout, or None (no champion, or the
    metric was not recorded). Raises ``ValueError`` for a metric not in :data:`METRICS`."""
    if metric not in METRICS:
        raise ValueError(f"unknown performance metric {metric!r}; use one of {list(METRICS)}")
    rows = wh.kept(
        ("champion.reference", metric),
        (),
        lambda: wh.rows(
            "SELECT a.version, CASE WHEN ? = 'roc_auc' THEN m.roc_auc "
            "  ELSE TRY_CAST(json_extract_string(m.metrics, '$.' || ?) AS DOUBLE) END "
            "FROM model_aliases a JOIN models m USING (version) WHERE a.alias = 'champion'",
            [metric, metric],
        ),
    )
    if not rows or rows[0][1] is None:
        return None
    return int(rows[0][0]), float(rows[0][1])


EVENT_COLUMNS = ["happened_at", "kind", "period", "version", "severity", "text"]
EVENT_SCOPES = ("data", "alerts")  # only runs with published results are joined


def events(wh: Warehouse) -> pd.DataFrame:
    """What happened on the time axis, oldest first: promotions, retrains and alerts.

    Columns: happened_at (timestamp), kind (promotion | retrain | alert), period (datetime64; the
    month it belongs to, NaT when it cannot be placed), version (the new champion or the
    retrained model; NA for alerts), severity (alerts only), text (reason or message).
    A promotion belongs to the latest period its run (else the runs before it) monitored:
    from that month on, the new champion serves. A retrain belongs to its evidence period,
    an alert to the period it is about.
    """
    # The same for every segment, metric and month: read once per change, shared (a copy
    # each, as callers may change it).
    return wh.kept("monitor.events", EVENT_SCOPES, lambda: _events(wh)).copy()


def _events(wh: Warehouse) -> pd.DataFrame:
    return wh.read(
        "WITH rp AS (SELECT run_id, max(period) AS period FROM ("
        "    SELECT run_id, period FROM drift_results "
        "    UNION ALL SELECT run_id, period FROM performance WHERE kind = 'estimated') "
        "  GROUP BY run_id), "
        "timed AS (SELECT r.started_at, rp.period FROM rp JOIN runs r USING (run_id)) "
        "SELECT h.set_at AS happened_at, 'promotion' AS kind, "
        "  coalesce((SELECT period FROM rp WHERE rp.run_id = h.run_id), "
        "    (SELECT max(period) FROM timed WHERE timed.started_at <= h.set_at)) AS period, "
        "  h.version, NULL AS severity, h.reason AS text "
        "FROM alias_history h WHERE h.alias = 'champion' "
        "UNION ALL SELECT decided_at, 'retrain', period, model_version, NULL, reason "
        "FROM retrain_decisions WHERE action = 'retrain' "
        "UNION ALL SELECT raised_at, 'alert', period, NULL, severity, message FROM alerts "
        "ORDER BY happened_at",
        # Only runs with published results are joined: a run starting or stepping changes none.
        scopes=EVENT_SCOPES,
    )


DECISION_COLUMNS = [
    "decided_at",
    "run_id",
    "period",
    "trigger",
    "action",
    "reason",
    "model_version",
    "promoted",
    "outcome",
]


def decisions(wh: Warehouse, limit: int = 30, include_none: bool = False) -> pd.DataFrame:
    """The retrain policy's decisions, newest first (``action = 'none'`` left out unless
    ``include_none``: most runs decide nothing).

    Columns: decided_at, run_id, period, trigger (schedule | drift | performance | manual |
    first), action (retrain | wait | cooldown | none), reason, model_version, promoted,
    outcome.
    """
    where = "" if include_none else "WHERE action <> 'none' "
    return wh.read(
        f"SELECT {', '.join(DECISION_COLUMNS)} FROM retrain_decisions {where}"
        "ORDER BY decided_at DESC, decision_id DESC LIMIT ?",
        [limit],
    )


# -- health ----------------------------------------------------------------------------------


class Health(NamedTuple):
    """The state of the served model in one word, and why in one sentence."""

    state: str  # healthy | watch | degraded | unknown (nothing monitored yet)
    reason: str


def _month(value: Any) -> str:
    return pd.Timestamp(value).strftime("%b %Y")


def _shorten(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _columns_text(columns: list[str], limit: int = 3) -> str:
    ordered = sorted(columns, key=lambda c: (c == SCORE, c))  # features first, the score last
    names = ["the score distribution" if c == SCORE else c for c in ordered]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def health(wh: Warehouse, performance_drop: float) -> Health:
    """The served model's health (see :class:`Health`).

    ``degraded``: an active (open or acknowledged; muted ones are silenced) critical alert, or
    the latest realised or estimated ROC AUC of the whole batch is more than
    ``performance_drop`` (``settings.retrain.performance_drop``) below the holdout ROC AUC of
    the model that scored that period (the champion, except for months scored before a
    promotion). ``watch``: an active warning alert, or any drifted cell (feature or score, any
    segment) in the latest monitored period. ``healthy`` otherwise; ``unknown`` while nothing
    has been monitored and no alert is active. Two queries, read again only after a write to
    the results or the alerts (every page load of the Overview and the Monitor asks).
    """
    return wh.kept(
        ("monitor.health", performance_drop), ("alerts",), lambda: _health(wh, performance_drop)
    )


def _health(wh: Warehouse, performance_drop: float) -> Health:
    (
        critical,
        critical_text,
        warnings,
        warning_text,
        latest,
        drifted,
        has_any,
    ) = wh.rows(
        "WITH active AS (SELECT severity, subject, message, raised_at, alert_id FROM alerts "
        "  WHERE status IN ('open', 'acknowledged')), "
        "latest AS (SELECT max(period) AS period FROM drift_results) "
        "SELECT (SELECT count(*) FROM active WHERE severity = 'critical'), "
        "(SELECT arg_max(message, alert_id) FROM active WHERE severity = 'critical'), "
        "(SELECT count(*) FROM active WHERE severity = 'warning'), "
        "(SELECT arg_max(message, alert_id) FROM active WHERE severity = 'warning'), "
        "(SELECT period FROM latest), "
        "(SELECT list(DISTINCT column_name ORDER BY column_name) FROM drift_results "
        "  WHERE period = (SELECT period FROM latest) AND severity = 'drift'), "
        "(SELECT EXISTS (SELECT 1 FROM performance) OR EXISTS (SELECT 1 FROM drift_results))"
    )[0]
    if critical:
        plural = "s" if critical > 1 else ""
        return Health(
            "degraded",
            f"{critical} critical alert{plural} open; newest: {_shorten(critical_text)}",
        )
    drop = _performance_drop(wh, performance_drop)
    if drop is not None:
        return Health("degraded", drop)
    if warnings:
        plural = "s" if warnings > 1 else ""
        return Health(
            "watch", f"{warnings} warning alert{plural} open; newest: {_shorten(warning_text)}"
        )
    if drifted:
        return Health("watch", f"Drift in {_month(latest)}: {_columns_text(list(drifted))}.")
    if not has_any:
        return Health("unknown", "No month has been monitored yet.")
    if latest is None:
        return Health("healthy", "No open warning or critical alert; ROC AUC on track.")
    return Health("healthy", f"No drift in {_month(latest)}, no open warning or critical alert.")


def _performance_drop(wh: Warehouse, allowed: float) -> str | None:
    """The sentence saying the latest ROC AUC fell too far, or None."""
    rows = wh.rows(
        "SELECT p.kind, p.period, p.value, p.model_version, m.roc_auc FROM performance p "
        "JOIN models m ON m.version = p.model_version "
        "WHERE p.metric = 'roc_auc' AND p.segment_column = ? AND p.segment_value = ? "
        "AND p.value IS NOT NULL AND m.roc_auc IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY p.kind ORDER BY p.period DESC) = 1 "
        "ORDER BY p.kind DESC",  # realised first: it is measured, not estimated
        [ALL, ALL],
    )
    for kind, period, value, version, holdout in rows:
        if holdout - value > allowed:
            return (
                f"{kind.capitalize()} ROC AUC {value:.3f} in {_month(period)} is "
                f"{holdout - value:.3f} below v{version}'s holdout {holdout:.3f}."
            )
    return None
