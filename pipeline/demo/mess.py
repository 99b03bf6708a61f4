"""Realistic mess for the demo's monthly customer files.

Real exports are never clean: fields go missing, rows are exported twice, a region is typed
'north ' by one system and 'NORTH' by another, and the odd test account bills 99,999. ``add_mess``
adds that mess to one month's clean snapshot so the validate and clean steps have work to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Shares of rows affected, per month.
MISSING_RATE = 0.02  # each of MISSING_COLUMNS, independently
MISSING_COLUMNS: tuple[str, ...] = ("usage_gb", "payment_method", "monthly_charges")
EXACT_DUPLICATE_RATE = 0.005
NEAR_DUPLICATE_RATE = 0.003
TEXT_VARIANT_RATE = 0.03  # each of TEXT_COLUMNS: 'North ', 'north', 'NORTH', ' North'
NULL_TOKEN_RATE = 0.01  # each of TEXT_COLUMNS: a placeholder typed instead of leaving it empty
TEXT_COLUMNS: tuple[str, ...] = ("region", "plan")
NULL_TOKENS: tuple[str, ...] = ("N/A", "-", "")
OUTLIERS_PER_MONTH = (5, 10)  # inclusive range

OUTLIER_CHARGE = 99999.0
OUTLIER_TENURE = 999


def _variant(value: str, kind: int) -> str:
    """Return ``value`` spelt differently: 0 trailing space, 1 lower, 2 upper, 3 leading space."""
    if kind == 0:
        return f"{value} "
    if kind == 1:
        return value.lower()
    if kind == 2:
        return value.upper()
    return f" {value}"


def _has_distinct_variants(value: object) -> bool:
    """Return whether every ``_variant`` of ``value`` differs from it (e.g. 'North' but not 'n')."""
    return (
        isinstance(value, str)
        and value.strip() == value
        and value.lower() != value
        and value.upper() != value
    )


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    """Return about ``rate`` of ``candidates`` (row positions), drawn without replacement."""
    count = min(int(rng.binomial(candidates.size, rate)), candidates.size)
    return rng.choice(candidates, size=count, replace=False)


def _messy_text(rng: np.random.Generator, values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Return a copy of the object array ``values`` with text variants and null tokens."""
    out = values.copy()
    for row in _pick(rng, candidates, TEXT_VARIANT_RATE):
        if isinstance(out[row], str):
            out[row] = _variant(out[row], int(rng.integers(4)))
    for row in _pick(rng, candidates, NULL_TOKEN_RATE):
        out[row] = NULL_TOKENS[int(rng.integers(len(NULL_TOKENS)))]
    return out


def add_mess(month_frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return a messy copy of one month's customer rows; ``month_frame`` is left untouched.

    The result has the same columns and customer ids as the input plus about 0.5% exact
    duplicate rows and 0.3% near duplicates (same customer and month, region spelt
    differently); about 2% of ``usage_gb``, ``payment_method`` and ``monthly_charges`` are
    missing; a few percent of ``region`` and ``plan`` are spelt inconsistently or hold a null
    token ('N/A', '-', ''); five to ten rows carry absurd outliers (charges 99999, negative
    usage, tenure 999). Rows are shuffled and the index is 0..n-1.
    """
    frame = month_frame.reset_index(drop=True)
    n = len(frame)
    if n == 0:
        return frame.copy()
    rows = np.arange(n)

    # Outliers first, so that blanks and typos never hide them.
    count = min(n, int(rng.integers(*OUTLIERS_PER_MONTH, endpoint=True)))
    outliers = np.sort(rng.choice(rows, size=count, replace=False))
    kinds = rng.permutation(outliers.size) % 3
    ordinary = np.setdiff1d(rows, outliers)

    changed: dict[str, pd.Series] = {}
    charges = frame["monthly_charges"].to_numpy(dtype=np.float64, copy=True)
    charges[outliers[kinds == 0]] = OUTLIER_CHARGE
    usage = frame["usage_gb"].to_numpy(dtype=np.float64, copy=True)
    bad_usage = outliers[kinds == 1]
    usage[bad_usage] = -np.round(rng.uniform(1.0, 500.0, bad_usage.size), 2)
    tenure = frame["tenure_months"].to_numpy(copy=True)
    tenure[outliers[kinds == 2]] = OUTLIER_TENURE
    changed["tenure_months"] = pd.Series(tenure, dtype=frame["tenure_months"].dtype)

    numeric = {"monthly_charges": charges, "usage_gb": usage}
    for column in MISSING_COLUMNS:
        gaps = _pick(rng, ordinary, MISSING_RATE)
        if column in numeric:
            numeric[column][gaps] = np.nan
            changed[column] = pd.Series(numeric[column], dtype=frame[column].dtype)
        else:
            values = frame[column].to_numpy(dtype=object, copy=True)
            values[gaps] = np.nan
            changed[column] = pd.Series(values, dtype=frame[column].dtype)
    for column in TEXT_COLUMNS:
        values = _messy_text(rng, frame[column].to_numpy(dtype=object), rows)
        changed[column] = pd.Series(values, dtype=frame[column].dtype)
    messy = frame.assign(**changed)

    # Near duplicates: the same record exported again by a system that spells regions its own
    # way. Taken from rows whose region has a single clean spelling, so the copy always differs.
    region = messy["region"].to_numpy(dtype=object)
    spelt_once = np.flatnonzero([_has_distinct_variants(v) for v in region])
    near_rows = _pick(rng, np.intersect1d(spelt_once, ordinary), NEAR_DUPLICATE_RATE)
    kinds = rng.integers(3, size=near_rows.size)
    respelt = [_variant(v, int(k)) for v, k in zip(region[near_rows], kinds, strict=True)]
    near = messy.iloc[near_rows].assign(
        region=pd.Series(respelt, index=near_rows, dtype=messy["region"].dtype)
    )
    exact = messy.iloc[_pick(rng, rows, EXACT_DUPLICATE_RATE)]

    combined = pd.concat([messy, near, exact], ignore_index=True)
    return combined.iloc[rng.permutation(len(combined))].reset_index(drop=True)
