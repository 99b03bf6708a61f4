"""Fairness by group: decision rates and calibration per group, and the gaps between groups.

A customer is *flagged* when their churn probability is at or above the decision threshold.
For each group (one value of a sensitive or segment column):

* **selection rate**: share of the group's rows that are flagged;
* **true positive rate (TPR)**: share of the group's actual churners that are flagged;
* **false positive rate (FPR)**: share of the group's actual stayers that are flagged;
* **precision**: share of the group's flagged rows that are actual churners;
* **calibration**: the group's mean predicted probability next to its observed churn rate.

Per column, over the groups that are compared:

* **demographic parity difference** = largest minus smallest selection rate;
* **equalised odds difference** = the larger of the TPR range and the FPR range (the
  ``agg="worst_case"`` convention of fairlearn's ``equalized_odds_difference``).

Groups with fewer than ``min_group_rows`` rows are reported (``small=True``) but left out of the
differences: their rates are too noisy to call a gap. A rate that is undefined (TPR of a group
without churners, FPR of a group without stayers, precision when nobody is flagged) is ``None``
and left out of its range, never counted as zero. A column with fewer than two comparable groups
has ``None`` differences, no breach, and a sentence saying why.

Every function is pure and returns plain Python numbers (JSON-able). Rows whose probability is
not finite count in ``rows`` and ``positives`` only, as in :mod:`pipeline.modeling.evaluation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.settings import FairnessSettings

MISSING = "(missing)"
# Differences are compared to their limits with this slack, so that a gap equal to its limit up
# to floating-point noise (0.3 - 0.2 = 0.09999999999999998) is read as at the limit, not above.
_TOLERANCE = 1e-9


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(numerator / denominator) if denominator else None


def _plain(value: Any) -> Any:
    """A group value as a plain Python value (NumPy scalars unwrapped)."""
    return value.item() if isinstance(value, np.generic) else value


def group_metrics(
    groups: pd.DataFrame, y: Any, proba: Any, threshold: float, min_group_rows: int
) -> list[dict[str, Any]]:
    """Decision rates and calibration per (column, value) of ``groups``.

    ``groups`` has one column per sensitive or segment column, rows aligned with the labels
    ``y`` (1 = churned) and probabilities ``proba``. Returns one dict per group, columns in
    their order and values sorted, a missing value last as ``value=None``, with keys:
    ``column, value, rows, positives, selection_rate, tpr, fpr, precision, mean_predicted,
    observed_rate, small`` (``small`` is ``rows < min_group_rows``). Rates are ``None`` when
    undefined (see the module docstring).
    """
    labels = np.asarray(y, dtype=np.int64).ravel()
    scores = np.asarray(proba, dtype=np.float64).ravel()
    if not len(groups) == len(labels) == len(scores):
        raise ValueError(
            f"groups have {len(groups)} rows, labels {len(labels)}, probabilities {len(scores)}"
        )
    out = []
    for column in groups.columns:
        values = groups[column].reset_index(drop=True)
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        members = [(code, _plain(v)) for code, v in enumerate(uniques)]
        if (codes == -1).any():
            members.append((-1, None))
        for code, value in members:
            mask = codes == code
            rows = int(mask.sum())
            out.append(
                {
                    "column": str(column),
                    "value": value,
                    "rows": rows,
                    "positives": int(labels[mask].sum()),
                    **_rates(labels[mask], scores[mask], threshold),
                    "small": rows < min_group_rows,
                }
            )
    return out


def _rates(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float | None]:
    finite = np.isfinite(proba)
    y, proba = y[finite], proba[finite]
    flagged = proba >= threshold
    churners = y == 1
    n, positives = len(y), int(churners.sum())
    tp = int((flagged & churners).sum())
    return {
        "selection_rate": _ratio(int(flagged.sum()), n),
        "tpr": _ratio(tp, positives),
        "fpr": _ratio(int((flagged & ~churners).sum()), n - positives),
        "precision": _ratio(tp, int(flagged.sum())),
        "mean_predicted": float(proba.mean()) if n else None,
        "observed_rate": _ratio(positives, n),
    }


def group_label(value: Any) -> str:
    """A group value as text for sentences: ``None`` (missing) reads ``"(missing)"``."""
    return MISSING if value is None else str(value)


def _pretty(column: str) -> str:
    return column.replace("_", " ")


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _spread(groups: Sequence[dict[str, Any]], key: str) -> tuple[dict, dict] | None:
    """The groups with the lowest and highest defined ``key``, or None under two such groups."""
    defined = [g for g in groups if g[key] is not None]
    if len(defined) < 2:
        return None
    # min/max keep the first of equal values, i.e. the first in the groups' sorted order.
    return min(defined, key=lambda g: g[key]), max(defined, key=lambda g: g[key])


def _range_text(name: str, spread: tuple[dict, dict], key: str, verb: str = "ranges from") -> str:
    low, high = spread
    if high[key] - low[key] <= _TOLERANCE:
        return f"{name} is {_pct(low[key])} in every compared group"
    return (
        f"{name} {verb} {_pct(low[key])} ({group_label(low['value'])}) "
        f"to {_pct(high[key])} ({group_label(high['value'])})"
    )


def _verdict(difference: float, limit: float) -> str:
    side = "above" if difference > limit + _TOLERANCE else "within"
    return f"{side} the limit {limit:.3f}"


def _not_compared(column: str, groups: list[dict], small: list[dict], min_rows: int) -> str:
    listed = ", ".join(f"{group_label(g['value'])}: {_rows(g['rows'])}" for g in groups)
    if len(groups) - len(small) < 2 and small:
        why = f"fewer than two groups have at least {min_rows:,} rows"
    elif len(groups) < 2:
        why = "it has fewer than two groups"
    else:
        why = "fewer than two groups have scored rows"
    return f"Fairness by {_pretty(column)} not compared: {why} ({listed})."


def _parity_sentence(column: str, spread: tuple[dict, dict], dpd: float, limit: float) -> str:
    rates = _range_text(f"Selection rate by {_pretty(column)}", spread, "selection_rate")
    return f"{rates}: a demographic parity difference of {dpd:.3f}, {_verdict(dpd, limit)}."


def _odds_sentence(
    column: str,
    tpr: tuple[dict, dict] | None,
    fpr: tuple[dict, dict] | None,
    tpr_range: float | None,
    fpr_range: float | None,
    limit: float,
) -> str:
    by = _pretty(column)
    if tpr is None and fpr is None:
        return (
            f"Equalised odds by {by} not compared: fewer than two compared groups have "
            "churners, and fewer than two have stayers."
        )
    parts = []
    if tpr is not None:
        parts.append(_range_text(f"True positive rate by {by} (churners flagged)", tpr, "tpr"))
    if fpr is not None:
        name = "false positive rate (stayers flagged)"
        if tpr is None:
            parts.append(_range_text(f"False positive rate by {by} (stayers flagged)", fpr, "fpr"))
        else:
            parts.append(_range_text(name, fpr, "fpr", verb="from"))
    eod = max(r for r in (tpr_range, fpr_range) if r is not None)
    if tpr_range is None:
        driver = "the false positive rate alone (fewer than two compared groups have churners)"
    elif fpr_range is None:
        driver = "the true positive rate alone (fewer than two compared groups have stayers)"
    elif abs(tpr_range - fpr_range) <= _TOLERANCE:
        driver = "the true and false positive rates equally"
    elif tpr_range > fpr_range:
        driver = "the true positive rate"
    else:
        driver = "the false positive rate"
    rates = ", ".join(parts)
    return (
        f"{rates}: an equalised odds difference of {eod:.3f}, driven by {driver}, "
        f"{_verdict(eod, limit)}."
    )


def _difference(spread: tuple[dict, dict] | None, key: str) -> float | None:
    return None if spread is None else float(spread[1][key] - spread[0][key])


def fairness_summary(
    group_rows: list[dict[str, Any]], fairness: FairnessSettings
) -> list[dict[str, Any]]:
    """Per column of ``group_rows`` (from :func:`group_metrics`), the gaps between its groups.

    Returns one dict per column, in first-seen order, with keys ``column,
    demographic_parity_difference, equalised_odds_difference, tpr_difference, fpr_difference,
    dpd_limit, eod_limit, breach, small_groups, sentence``. Differences are over the groups
    that are not small and ``None`` when fewer than two of them have the rate defined;
    ``equalised_odds_difference`` is the larger of ``tpr_difference`` and ``fpr_difference``.
    ``breach`` is True when either difference is above its limit
    (``fairness.max_demographic_parity_difference``, ``fairness.max_equalised_odds_difference``).
    ``small_groups`` lists the values left out for having fewer than ``fairness.min_group_rows``
    rows. ``sentence`` says the same in words, naming the groups at the extremes and the limits.
    """
    by_column: dict[str, list[dict[str, Any]]] = {}
    for row in group_rows:
        by_column.setdefault(str(row["column"]), []).append(row)
    dpd_limit = float(fairness.max_demographic_parity_difference)
    eod_limit = float(fairness.max_equalised_odds_difference)
    out = []
    for column, groups in by_column.items():
        small = [g for g in groups if g["small"]]
        compared = [g for g in groups if not g["small"]]
        selection = _spread(compared, "selection_rate")
        tpr, fpr = _spread(compared, "tpr"), _spread(compared, "fpr")
        dpd = _difference(selection, "selection_rate")
        tpr_range, fpr_range = _difference(tpr, "tpr"), _difference(fpr, "fpr")
        ranges = [r for r in (tpr_range, fpr_range) if r is not None]
        eod = max(ranges) if ranges else None
        if selection is None:
            sentences = [_not_compared(column, groups, small, fairness.min_group_rows)]
        else:
            sentences = [
                _parity_sentence(column, selection, dpd, dpd_limit),
                _odds_sentence(column, tpr, fpr, tpr_range, fpr_range, eod_limit),
            ]
            if small:
                listed = ", ".join(f"{group_label(g['value'])} ({_rows(g['rows'])})" for g in small)
                sentences.append(
                    "Left out of the comparison for having fewer than "
                    f"{fairness.min_group_rows:,} rows: {listed}."
                )
        breach = (dpd is not None and dpd > dpd_limit + _TOLERANCE) or (
            eod is not None and eod > eod_limit + _TOLERANCE
        )
        out.append(
            {
                "column": column,
                "demographic_parity_difference": dpd,
                "equalised_odds_difference": eod,
                "tpr_difference": tpr_range,
                "fpr_difference": fpr_range,
                "dpd_limit": dpd_limit,
                "eod_limit": eod_limit,
                "breach": bool(breach),
                "small_groups": [g["value"] for g in small],
                "sentence": " ".join(sentences),
            }
        )
    return out


def _breach_words(row: dict[str, Any]) -> str:
    found = []
    for key, limit, name in (
        ("demographic_parity_difference", "dpd_limit", "demographic parity difference"),
        ("equalised_odds_difference", "eod_limit", "equalised odds difference"),
    ):
        value = row.get(key)
        if value is not None and value > row[limit] + _TOLERANCE:
            found.append(f"{name} {value:.3f} above the limit {row[limit]:.3f}")
    return f"{_pretty(str(row['column']))} ({' and '.join(found)})"


def _was_compared(row: dict[str, Any]) -> bool:
    return (
        row.get("demographic_parity_difference") is not None
        or row.get("equalised_odds_difference") is not None
    )


def fairness_check(summary: list[dict[str, Any]], block: bool) -> tuple[bool, str]:
    """The promotion gate's fairness check on ``summary`` (from :func:`fairness_summary`).

    Returns ``(passes, sentence)``: ``passes`` is False only when ``block`` is True
    (setting ``fairness.block_promotion``) and some column breaches a limit. The sentence is a
    lower-case clause for the gate's summary: each breaching column with its difference and
    limit, then whether that blocks promotion or is a warning only; without a breach,
    ``"no fairness limit exceeded (<columns compared>; not compared: <columns>)"``.
    """
    breaches = [row for row in summary if row.get("breach")]
    if not breaches:
        compared = [_pretty(str(r["column"])) for r in summary if _was_compared(r)]
        skipped = [_pretty(str(r["column"])) for r in summary if not _was_compared(r)]
        checked = ", ".join(compared)
        if skipped:
            checked += f"{'; ' if compared else ''}not compared: {', '.join(skipped)}"
        return True, f"no fairness limit exceeded ({checked or 'no fairness column to check'})"
    listed = "; ".join(_breach_words(row) for row in breaches)
    if block:
        return False, f"fairness limit exceeded for {listed}; blocked by fairness.block_promotion"
    return True, (
        f"fairness limit exceeded for {listed}; a warning only, as fairness.block_promotion is off"
    )
