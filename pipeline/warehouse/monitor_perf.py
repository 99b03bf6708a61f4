"""Realised performance per period and segment, computed in DuckDB from served predictions.

Predictions are matched to their labels by entity and period, so each period is judged on the
scores that were actually served, by the model version that served them. ROC AUC comes from
ranks (Mann-Whitney U, ties at their average rank, as ``sklearn.metrics.roc_auc_score``);
precision and recall count rows flagged at ``probability >= threshold``; calibration error is
the expected calibration error over 10 equal-width probability bins. No row leaves DuckDB.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipeline.contract import Contract
from pipeline.monitoring import ALL
from pipeline.warehouse.connection import quote_ident

REALISED = (
    "roc_auc",
    "precision",
    "recall",
    "f1",
    "positive_rate",
    "mean_probability",
    "calibration_error",
)


def _long(contract: Contract, segments: list[str], predictions: str) -> str:
    """SQL for (period, segment_column, segment_value, p, y, model_version), one row per
    labelled prediction and segment view (the whole period included). Parameters: ``$periods``
    and ``$seg0``, ``$seg1``, ... naming the segment columns."""
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    seg_cols = "".join(f", {quote_ident(s)}" for s in segments)
    views = [f"SELECT period, '{ALL}' AS segment_column, '{ALL}' AS segment_value, p, y, v FROM b"]
    for i, s in enumerate(segments):
        views.append(
            f"SELECT period, $seg{i} AS segment_column, "
            f"coalesce(CAST({quote_ident(s)} AS VARCHAR), '(missing)'), p, y, v FROM b"
        )
    return (
        "WITH l AS (SELECT entity_id, period, max(label) AS y FROM all_labels "
        "  WHERE list_contains($periods, period) GROUP BY ALL), "
        f"c AS (SELECT CAST({e} AS VARCHAR) AS entity_id, _period{seg_cols} FROM all_clean "
        "  WHERE list_contains($periods, _period) "
        f"  QUALIFY row_number() OVER (PARTITION BY {e}, _period ORDER BY {t} DESC) = 1), "
        "b AS (SELECT p.period, p.probability AS p, p.model_version AS v, l.y"
        f"{''.join(f', c.{quote_ident(s)}' for s in segments)} "
        f"  FROM {quote_ident(predictions)} p "
        "  JOIN l ON l.entity_id = p.entity_id AND l.period = p.period "
        "  LEFT JOIN c ON c.entity_id = p.entity_id AND c._period = p.period), "
        f"long AS ({' UNION ALL '.join(views)}) "
    )


def realised(
    cur: duckdb.DuckDBPyConnection,
    contract: Contract,
    segments: list[str],
    periods: list[date],
    threshold: float,
    predictions: str = "predictions",
) -> pd.DataFrame:
    """Realised metrics of the served predictions of ``periods`` that have labels.

    Needs the TEMP views ``all_clean`` and ``all_labels`` (``datasets.create_work_views``).
    Columns: period, segment_column, segment_value, metric, value, rows, model_version.
    """
    if not periods:
        return pd.DataFrame(
            columns=[
                "period",
                "segment_column",
                "segment_value",
                "metric",
                "value",
                "rows",
                "model_version",
            ]
        )
    head = _long(contract, segments, predictions)
    params = {"periods": periods, "threshold": threshold}
    params.update({f"seg{i}": s for i, s in enumerate(segments)})
    frame = cur.execute(
        head + ", ranked AS (SELECT *, "
        "  rank() OVER (PARTITION BY period, segment_column, segment_value ORDER BY p) AS r, "
        "  count(*) OVER (PARTITION BY period, segment_column, segment_value, p) AS ties "
        "  FROM long), "
        "cal AS (SELECT period, segment_column, segment_value, "
        "  sum(abs(ps - ys)) / sum(n) AS ece FROM ("
        "    SELECT period, segment_column, segment_value, count(*) AS n, "
        "      sum(p) AS ps, sum(y) AS ys FROM long "
        "    GROUP BY period, segment_column, segment_value, least(floor(p * 10), 9)) "
        "  GROUP BY ALL), "
        "agg AS (SELECT period, segment_column, segment_value, count(*) AS n, "
        "  sum(y) AS pos, max(v) AS model_version, avg(p) AS mean_p, "
        "  sum(CASE WHEN y = 1 THEN r + (ties - 1) / 2.0 END) AS rank_sum, "
        "  count(*) FILTER (WHERE p >= $threshold) AS flagged, "
        "  count(*) FILTER (WHERE p >= $threshold AND y = 1) AS tp "
        "  FROM ranked GROUP BY ALL) "
        "SELECT a.*, c.ece FROM agg a JOIN cal c USING (period, segment_column, segment_value) "
        "ORDER BY period, segment_column, segment_value",
        params,
    ).df()
    return _metrics(frame)


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _metrics(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in frame.itertuples(index=False):
        n, pos = int(r.n), int(r.pos)
        neg = n - pos
        auc = None
        if pos and neg:
            auc = (float(r.rank_sum) - pos * (pos + 1) / 2.0) / (pos * neg)
        precision = _ratio(r.tp, r.flagged)
        recall = _ratio(r.tp, pos)
        both = precision is not None and recall is not None
        f1 = _ratio(2 * r.tp, int(r.flagged) + pos) if both else None
        values = {
            "roc_auc": auc,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "positive_rate": pos / n,
            "mean_probability": float(r.mean_p),
            "calibration_error": float(r.ece),
        }
        for metric in REALISED:
            rows.append(
                {
                    "period": pd.Timestamp(r.period).date(),
                    "segment_column": r.segment_column,
                    "segment_value": r.segment_value,
                    "metric": metric,
                    "value": values[metric],
                    "rows": n,
                    "model_version": int(r.model_version),
                }
            )
    return pd.DataFrame(rows)
