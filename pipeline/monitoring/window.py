"""Drift of whole windows, per period and segment value, from DuckDB counts.

:func:`build_reference` fixes each numeric column's bin edges once on the whole reference window
(``bins`` quantile bins; segments share them, so a segment's histogram is comparable with the
whole window's) and counts the reference for the whole window and every segment value.
:func:`drift_by_period` counts the current periods with the same edges and returns one
:class:`CellDrift` per period, column and segment value. Each count is one ``GROUP BY GROUPING
SETS`` per column covering every period and segment column at once
(:mod:`pipeline.warehouse.monitor_counts`); only counts leave DuckDB. Works on any table or view
with a ``_period`` column: clean data, a run's ``all_clean`` view, or scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pipeline.monitoring import ALL
from pipeline.monitoring.binning import DEFAULT_BINS, numeric_edges, quantile_levels
from pipeline.monitoring.drift import (
    METHODS,
    SMALL_SAMPLE,
    SMALL_SAMPLE_METHODS,
    DriftSpec,
    Histogram,
    compute,
)
from pipeline.monitoring.result import DEFAULT_THRESHOLDS, P_VALUE_METHODS, DriftResult
from pipeline.warehouse import monitor_counts

MISSING = "missing"  # the last histogram label when either side has missing values
#: p-value below which a test that did not reach its threshold is still worth watching.
WATCH_P_VALUE = 0.1
Key = tuple[str, str]  # (segment column, segment value)


def severity_of(result: DriftResult) -> str:
    """``"drift"`` when drifted; ``"watch"`` past half the threshold (distances) or at
    p < 0.1 (tests); else ``"ok"``."""
    if result.drifted:
        return "drift"
    if result.method in P_VALUE_METHODS:
        return "watch" if result.p_value is not None and result.p_value < WATCH_P_VALUE else "ok"
    return "watch" if result.statistic > result.threshold / 2 else "ok"


def numeric_labels(cuts: Sequence[float]) -> list[str]:
    """Bin labels for the cut points: ``"≤ 29.5"``, ``"29.5 – 31.2"``, ..., ``"> 118"``.

    Three significant digits, more where two cuts would otherwise read the same.
    """
    if not len(cuts):
        return ["all values"]
    for digits in range(3, 18):
        text = [_number(c, digits) for c in cuts]
        if len(set(text)) == len(text):
            break
    inner = [f"{a} – {b}" for a, b in zip(text, text[1:], strict=False)]
    return [f"≤ {text[0]}", *inner, f"> {text[-1]}"]


def _number(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude >= 15 or magnitude < -4:
        return f"{x:.{digits}g}"
    text = f"{x:,.{max(0, digits - 1 - magnitude)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ColumnReference:
    """One column of the reference window.

    ``spec`` holds the edges (numeric; None for categorical) and the configured method and
    threshold (None: chosen per cell, see :func:`drift_by_period`). ``histograms`` are keyed by
    ``(segment column, segment value)``, ``(ALL, ALL)`` for the whole window; numeric ones carry
    the whole reference window's standard deviation, the unit of Wasserstein in every segment.
    ``categories`` is the category order, most frequent in the reference first.
    """

    column: str
    kind: str
    spec: DriftSpec
    histograms: dict[Key, Histogram]
    categories: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WindowReference:
    """The reference window: its periods, segment columns, rows and each column's reference."""

    periods: list[date]
    segments: list[str]
    columns: dict[str, ColumnReference]
    rows: int
    source: str = monitor_counts.SOURCE
    thresholds: dict[str, float] = field(default_factory=dict)
    #: Quantiles were taken on every ``sampled_every``-th reference row (1: all rows).
    sampled_every: int = 1


@dataclass(frozen=True)
class CellDrift:
    """The drift of one column in one period, for the whole period or one segment value."""

    period: date
    column: str
    kind: str
    segment_column: str
    segment_value: str
    result: DriftResult
    severity: str
    rows_reference: int
    rows_current: int
    histogram: dict[str, list]  # {"labels": [...], "reference": [shares], "current": [shares]}
    sentence: str

    def as_row(self) -> dict[str, Any]:
        """The ``drift_results`` columns this cell fills (all but the reference and run ids)."""
        return {
            "period": self.period,
            "column_name": self.column,
            "kind": self.kind,
            "segment_column": self.segment_column,
            "segment_value": self.segment_value,
            "method": self.result.method,
            "statistic": self.result.statistic,
            "threshold": self.result.threshold,
            "p_value": self.result.p_value,
            "drifted": self.result.drifted,
            "severity": self.severity,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "histogram": self.histogram,
            "sentence": self.sentence,
        }


# -- counts -> histograms ---------------------------------------------------------------------
def _key(row: tuple, segments: Sequence[str]) -> tuple[date | None, str, str]:
    """(period, segment column, segment value) of a grouping-sets row."""
    for i, value in enumerate(row[1 : 1 + len(segments)]):
        if value is not None:
            return row[0], segments[i], value
    return row[0], ALL, ALL


def _numeric_histograms(
    rows: list[tuple], segments: Sequence[str], bins: int, std: float | None
) -> dict[tuple[date | None, str, str], Histogram]:
    parts: dict[tuple[date | None, str, str], list[tuple]] = {}
    for row in rows:
        parts.setdefault(_key(row, segments), []).append(row[1 + len(segments) :])
    out = {}
    for key, part in parts.items():
        counts, sums = [0] * bins, [0.0] * bins
        present = [p for p in part if p[0] >= 0]
        for b, n, total, *_ in present:
            counts[b], sums[b] = int(n), float(total)
        missing = sum(int(p[1]) for p in part if p[0] < 0)
        low = min((float(p[3]) for p in present), default=None)
        high = max((float(p[4]) for p in present), default=None)
        out[key] = Histogram(counts, missing, low, high, std, sums)
    return out


def _std(rows: list[tuple], segments: Sequence[str], center: float) -> float | None:
    """Sample std of the whole window from its bins' counts, sums and ``sum((x - center)^2)``."""
    n = total = squares = 0.0
    for row in rows:
        if _key(row, segments)[1] == ALL and row[1 + len(segments)] >= 0:
            n, total, squares = n + row[-5], total + row[-4], squares + row[-1]
    if n < 2:
        return None
    spread = squares - n * (total / n - center) ** 2  # sum of squared deviations from the mean
    return math.sqrt(max(spread, 0.0) / (n - 1))


def _category_histograms(
    rows: list[tuple], segments: Sequence[str], categories: list[str]
) -> dict[tuple[date | None, str, str], Histogram]:
    index = {c: i for i, c in enumerate(categories)}
    parts: dict[tuple[date | None, str, str], tuple[list[int], list[int]]] = {}
    for row in rows:
        counts, missing = parts.setdefault(_key(row, segments), ([0] * len(categories), [0]))
        value, n = row[-2], int(row[-1])
        if value is None:
            missing[0] += n
        else:
            counts[index[value]] += n
    return {key: Histogram(c, m[0]) for key, (c, m) in parts.items()}


def _category_order(rows: list[tuple], segments: Sequence[str]) -> list[str]:
    """Categories of the whole window, most frequent first (ties by name)."""
    totals: dict[str, int] = {}
    for row in rows:
        if _key(row, segments)[1] == ALL and row[-2] is not None:
            totals[row[-2]] = totals.get(row[-2], 0) + int(row[-1])
    return sorted(totals, key=lambda c: (-totals[c], c))


# -- reference --------------------------------------------------------------------------------
def _check_settings(
    numeric: list[str],
    categorical: list[str],
    numeric_method: str | None,
    categorical_method: str | None,
    thresholds: dict[str, float],
) -> None:
    both = set(numeric) & set(categorical)
    if both:
        raise ValueError(f"Columns {sorted(both)} are listed as both numeric and categorical.")
    for kind, method in (("numeric", numeric_method), ("categorical", categorical_method)):
        if method is not None and method not in METHODS[kind]:
            raise ValueError(
                f"{method!r} is not a {kind} drift method; use one of {', '.join(METHODS[kind])}."
            )
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise ValueError(
            f"Thresholds name unknown methods {unknown}; use {sorted(DEFAULT_THRESHOLDS)}."
        )


def build_reference(
    cur: duckdb.DuckDBPyConnection,
    numeric: list[str],
    categorical: list[str],
    periods: list[date],
    segments: Sequence[str] = (),
    source: str = monitor_counts.SOURCE,
    bins: int = DEFAULT_BINS,
    numeric_method: str | None = None,
    categorical_method: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> WindowReference:
    """Count the reference ``periods`` of ``source``: edges per numeric column, histograms for
    the whole window and every value of each of ``segments``.

    A count and one query for the quantiles of all numeric columns, then one ``GROUP BY`` per
    column, which also yields the reference standard deviation. ``numeric_method`` and
    ``categorical_method`` None leave the choice to each cell (see :func:`drift_by_period`);
    ``thresholds`` map a method to its threshold. Raises ``ValueError`` when the reference
    window has no rows.
    """
    thresholds = dict(thresholds or {})
    _check_settings(numeric, categorical, numeric_method, categorical_method, thresholds)
    segments = list(segments)
    stats = monitor_counts.reference_quantiles(
        cur, list(numeric), list(periods), quantile_levels(bins), source
    )
    if stats["rows"] == 0:
        shown = ", ".join(str(p) for p in list(periods)[:3]) + (", ..." if len(periods) > 3 else "")
        raise ValueError(
            f"The reference window ({shown}) has no rows in {source}: choose reference periods "
            "that hold data before computing drift."
        )
    columns: dict[str, ColumnReference] = {}
    for col in numeric:
        edges = numeric_edges(stats["quantiles"][col])
        cuts = edges[1:-1]
        center = cuts[len(cuts) // 2] if cuts else 0.0
        rows = monitor_counts.numeric_bins(
            cur, col, cuts, list(periods), segments, source, by_period=False, center=center
        )
        hists = _numeric_histograms(rows, segments, len(edges) - 1, _std(rows, segments, center))
        spec = DriftSpec(
            col, "numeric", tuple(edges), numeric_method, thresholds.get(numeric_method or "")
        )
        columns[col] = ColumnReference(col, "numeric", spec, {k[1:]: h for k, h in hists.items()})
    for col in categorical:
        rows = monitor_counts.category_counts(
            cur, col, list(periods), segments, source, by_period=False
        )
        order = _category_order(rows, segments)
        hists = _category_histograms(rows, segments, order)
        spec = DriftSpec(
            col, "categorical", None, categorical_method,
            thresholds.get(categorical_method or ""),
        )  # fmt: skip
        columns[col] = ColumnReference(
            col, "categorical", spec, {k[1:]: h for k, h in hists.items()}, order
        )
    return WindowReference(
        list(periods), segments, columns, stats["rows"], source, thresholds, stats["every"]
    )


# -- current periods --------------------------------------------------------------------------
def _rows(h: Histogram) -> int:
    return int(sum(h.counts) + h.missing)


def _shares(h: Histogram, with_missing: bool) -> list[float]:
    values = [*h.counts, h.missing] if with_missing else list(h.counts)
    total = sum(values)
    return [round(v / total, 6) if total else 0.0 for v in values]


def _result(
    col: ColumnReference, thresholds: dict[str, float], ref: Histogram, cur: Histogram
) -> tuple[DriftResult, str]:
    """The cell's result and a note for the sentence (empty unless PSI stood in)."""
    present = min(sum(ref.counts), sum(cur.counts))
    if col.kind == "numeric" and present == 0:
        # Every value missing on one side: nothing on the number line to compare, but the
        # missing share moved, and PSI counts missing values as a bin.
        result = compute(
            "numeric", "psi", ref, cur, edges=col.spec.edges, column=col.column,
            threshold=thresholds.get("psi"),
        )  # fmt: skip
        side = "reference" if sum(ref.counts) == 0 else "current"
        return result, f" (every value is missing in the {side} window, so PSI compares shares)"
    method = col.spec.method
    if method is None:
        small = present < SMALL_SAMPLE
        method = SMALL_SAMPLE_METHODS[col.kind] if small else METHODS[col.kind][0]
    threshold = col.spec.threshold if col.spec.method else thresholds.get(method)
    result = compute(
        col.kind, method, ref, cur, edges=col.spec.edges, column=col.column, threshold=threshold
    )
    return result, ""


def _cell(
    col: ColumnReference,
    thresholds: dict[str, float],
    key: tuple[date, str, str],
    ref: Histogram,
    cur: Histogram,
    labels: list[str],
) -> CellDrift:
    period, segment_column, segment_value = key
    result, note = _result(col, thresholds, ref, cur)
    with_missing = bool(ref.missing or cur.missing)
    histogram = {
        "labels": labels + ([MISSING] if with_missing else []),
        "reference": _shares(ref, with_missing),
        "current": _shares(cur, with_missing),
    }
    sentence = result.detail
    if segment_column != ALL:
        sentence += f" in {segment_column} {segment_value}"
    return CellDrift(
        period, col.column, col.kind, segment_column, segment_value, result,
        severity_of(result), _rows(ref), _rows(cur), histogram, sentence + note,
    )  # fmt: skip


def _pad(h: Histogram, size: int) -> Histogram:
    """A categorical histogram with zero counts for categories seen only in current periods."""
    return Histogram([*h.counts, *([0] * (size - len(h.counts)))], h.missing)


def drift_by_period(
    cur: duckdb.DuckDBPyConnection,
    reference: WindowReference,
    periods: list[date],
    source: str | None = None,
    min_rows: int = 500,
) -> list[CellDrift]:
    """Drift of every reference column in each of ``periods``: whole and per segment value.

    ``source`` defaults to the reference's. One ``GROUP BY`` per column covers all periods and
    segment columns. Cells come ordered by period, column (reference order), then the whole
    period before each segment column's values (sorted). Skipped: periods with no rows; segment
    values with fewer than ``min_rows`` rows in the reference or the current period; a column
    within segments of itself. The method is the column's configured one, else the kind's
    default distance, or its test when either side has fewer than ``SMALL_SAMPLE`` values
    (see :func:`pipeline.monitoring.drift.compute`); a numeric column with no value at all on
    one side is compared with PSI on its missing share.
    """
    if not periods:
        return []
    source = source or reference.source
    segments = reference.segments
    order = {ALL: -1, **{s: i for i, s in enumerate(segments)}}
    cells: list[tuple[tuple, CellDrift]] = []
    for position, col in enumerate(reference.columns.values()):
        if col.kind == "numeric":
            cuts = list(col.spec.edges[1:-1])
            rows = monitor_counts.numeric_bins(
                cur, col.column, cuts, list(periods), segments, source
            )
            current = _numeric_histograms(rows, segments, len(cuts) + 1, None)
            labels = numeric_labels(cuts)
            size = None
        else:
            rows = monitor_counts.category_counts(cur, col.column, list(periods), segments, source)
            seen = {r[-2] for r in rows if r[-2] is not None}
            labels = col.categories + sorted(seen - set(col.categories))
            current = _category_histograms(rows, segments, labels)
            size = len(labels)
        for key, c in current.items():
            period, segment_column, segment_value = key
            r = col.histograms.get((segment_column, segment_value))
            if r is None or segment_column == col.column:
                continue
            if segment_column != ALL and min(_rows(r), _rows(c)) < min_rows:
                continue
            r = _pad(r, size) if size else r
            cell = _cell(col, reference.thresholds, key, r, c, labels)
            rank = (period, position, order[segment_column], segment_value)
            cells.append((rank, cell))
    return [cell for _, cell in sorted(cells, key=lambda rc: rc[0])]
