"""Named reads behind the web UI's Overview page; the only SQL the Overview runs.

``serving_facts`` is rebuilt by the flow in one transaction after every run: one row per scored
entity and month, with ``period, entity_id, probability, model_version, value, label`` plus one
VARCHAR column per configured segment. It does not exist before the first successful run, and
every read here then returns an empty frame with the documented columns.

Segment column names reach SQL only after :func:`checked_segment` has found them in both the
configured segments and the table's real columns; every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from pipeline.warehouse.connection import Warehouse, quote_ident

SERVING_TABLE = "serving_facts"

MONTHLY_COLUMNS = [
    "period",
    "customers",
    "predicted_rate",
    "at_risk",
    "revenue_at_risk",
    "labelled",
    "realised_rate",
    "model_version",
]
BREAKDOWN_COLUMNS = [
    "segment",
    "customers",
    "predicted_rate",
    "at_risk",
    "revenue_at_risk",
    "labelled",
    "realised_rate",
]


class UnknownSegmentError(ValueError):
    """A segment column that is not both configured and present in ``serving_facts``."""


def _serving_columns(wh: Warehouse) -> dict[str, str]:
    return wh.columns(SERVING_TABLE)


def segment_columns(wh: Warehouse, configured: Sequence[str]) -> list[str]:
    """The configured segment columns that ``serving_facts`` really has, in configured order.

    Empty before the first successful run.
    """
    actual = _serving_columns(wh)
    return [c for c in configured if c in actual]


def checked_segment(column: str, configured: Sequence[str], actual: dict[str, str]) -> str:
    """``column`` quoted for SQL, or :class:`UnknownSegmentError` if it is not allow-listed."""
    if column not in configured or column not in actual:
        raise UnknownSegmentError(
            f"{column!r} is not a segment column of {SERVING_TABLE}; "
            f"configured segments are {list(configured)}"
        )
    return quote_ident(column)


def serving_periods(wh: Warehouse) -> pd.DataFrame:
    """Months present in ``serving_facts``, oldest first.

    Columns: ``period`` (datetime64), ``customers`` (rows scored that month), ``labelled`` (rows
    whose realised label has arrived). Empty before the first successful run.
    """
    if not _serving_columns(wh):
        return pd.DataFrame(
            {
                "period": pd.Series(dtype="datetime64[us]"),
                "customers": pd.Series(dtype="int64"),
                "labelled": pd.Series(dtype="int64"),
            }
        )
    return wh.read(
        f"SELECT period, count(*) AS customers, count(label) AS labelled "
        f"FROM {SERVING_TABLE} GROUP BY period ORDER BY period"
    )


def _segment_filter(
    segment: str | None,
    segment_value: str | None,
    configured: Sequence[str],
    actual: dict[str, str],
) -> tuple[str, list[object]]:
    if segment is None:
        return "", []
    if segment_value is None:
        raise ValueError("a segment filter needs a value; pass segment=None for all customers")
    return f" AND {checked_segment(segment, configured, actual)} = ?", [segment_value]


def _empty(columns: list[str]) -> pd.DataFrame:
    # Same dtypes as a real result, so callers can filter and compare without special cases.
    dtypes = {
        "period": "datetime64[us]",
        "segment": "object",
        "customers": "int64",
        "at_risk": "int64",
        "labelled": "int64",
        "model_version": "int64",
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in columns})


def monthly_aggregates(
    wh: Warehouse,
    start: date,
    end: date,
    threshold: float,
    configured_segments: Sequence[str],
    segment: str | None = None,
    segment_value: str | None = None,
) -> pd.DataFrame:
    """Per-month aggregates of the scored customers, optionally for one segment value.

    One row per month from ``start`` to ``end`` (inclusive) that has rows, oldest first.
    Columns: ``period`` (datetime64), ``customers``, ``predicted_rate`` (mean probability),
    ``at_risk`` (customers with probability > ``threshold``), ``revenue_at_risk`` (sum of
    value x probability; NaN when no value is known), ``labelled`` (customers whose label has
    arrived), ``realised_rate`` (mean label of those; NaN before labels arrive),
    ``model_version`` (the newest model that scored the month).
    Raises :class:`UnknownSegmentError` for a segment column that is not allow-listed.
    """
    actual = _serving_columns(wh)
    if not actual:
        return _empty(MONTHLY_COLUMNS)
    extra, extra_params = _segment_filter(segment, segment_value, configured_segments, actual)
    return wh.read(
        "SELECT period, count(*) AS customers, avg(probability) AS predicted_rate, "
        "count(*) FILTER (WHERE probability > ?) AS at_risk, "
        "sum(value * probability) AS revenue_at_risk, count(label) AS labelled, "
        "avg(label) AS realised_rate, max(model_version) AS model_version "
        f"FROM {SERVING_TABLE} WHERE period BETWEEN ? AND ?{extra} "
        "GROUP BY period ORDER BY period",
        [threshold, start, end, *extra_params],
    )


def segment_breakdown(
    wh: Warehouse,
    period: date,
    by: str,
    threshold: float,
    configured_segments: Sequence[str],
    segment: str | None = None,
    segment_value: str | None = None,
) -> pd.DataFrame:
    """One month's aggregates per value of the segment column ``by``, largest first.

    Columns: ``segment`` (the value of ``by``; None where it is missing), ``customers``,
    ``predicted_rate``, ``at_risk``, ``revenue_at_risk``, ``labelled``, ``realised_rate``
    (same meanings as :func:`monthly_aggregates`).
    Raises :class:`UnknownSegmentError` for a column that is not allow-listed.
    """
    actual = _serving_columns(wh)
    if not actual:
        return _empty(BREAKDOWN_COLUMNS)
    by_sql = checked_segment(by, configured_segments, actual)
    extra, extra_params = _segment_filter(segment, segment_value, configured_segments, actual)
    return wh.read(
        f"SELECT {by_sql} AS segment, count(*) AS customers, "
        "avg(probability) AS predicted_rate, "
        "count(*) FILTER (WHERE probability > ?) AS at_risk, "
        "sum(value * probability) AS revenue_at_risk, count(label) AS labelled, "
        "avg(label) AS realised_rate "
        f"FROM {SERVING_TABLE} WHERE period = ?{extra} "
        "GROUP BY 1 ORDER BY customers DESC, segment",
        [threshold, period, *extra_params],
    )


def segment_values(wh: Warehouse, column: str, configured_segments: Sequence[str]) -> pd.DataFrame:
    """Distinct non-missing values of one segment column over all months, alphabetically.

    Columns: ``value``, ``customers`` (rows with that value).
    Raises :class:`UnknownSegmentError` for a column that is not allow-listed.
    """
    actual = _serving_columns(wh)
    if not actual:
        return pd.DataFrame(
            {"value": pd.Series(dtype="object"), "customers": pd.Series(dtype="int64")}
        )
    col = checked_segment(column, configured_segments, actual)
    return wh.read(
        f"SELECT {col} AS value, count(*) AS customers FROM {SERVING_TABLE} "
        f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )


def freshness(wh: Warehouse) -> pd.DataFrame:
    """One row describing how fresh the served numbers are.

    Columns: ``last_batch_at`` (latest ``raw_batches.arrived_at``, naive UTC, or NaT),
    ``champion_version`` (or NA when no champion), ``roc_auc``, ``pr_auc``,
    ``model_created_at``, ``train_to``.
    """
    found = wh.kept(
        "overview.freshness",
        ("intake",),
        lambda: wh.read(
            "SELECT (SELECT max(arrived_at) FROM raw_batches) AS last_batch_at, "
            "a.version AS champion_version, m.roc_auc, m.pr_auc, "
            "m.created_at AS model_created_at, m.train_to "
            "FROM (SELECT 1) AS one "
            "LEFT JOIN model_aliases AS a ON a.alias = 'champion' "
            "LEFT JOIN models AS m ON m.version = a.version"
        ),
    )
    return found.copy()


def champion_threshold(wh: Warehouse) -> float | None:
    """The champion's business decision threshold, or None (no champion, or an older model)."""
    value = wh.kept(
        "champion.threshold",
        (),
        lambda: wh.scalar(
            "SELECT m.threshold FROM model_aliases a JOIN models m USING (version) "
            "WHERE a.alias = 'champion'"
        ),
    )
    return None if value is None else float(value)
