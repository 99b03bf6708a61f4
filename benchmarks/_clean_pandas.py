"""Plumbline's validate and clean steps written in plain pandas, the reference for bench_clean.py.

This is how a competent data scientist would write the same steps without DuckDB: vectorised
pandas on string columns, no row loops, one file at a time. It follows
``pipeline/warehouse/cleaning.py`` step by step so that both do the same work and give the same
outputs:

* validate: read every file as text (``dtype=str, keep_default_na=False``), keep them all in
  memory like the flow keeps its ``raw_<batch>`` tables, profile the first one, and scan each
  file's first ``pii_scan.SAMPLE_ROWS`` rows for columns that look like e-mails, phone numbers
  or names (the flow's PII suspects: each distinct value cleaned and matched once);
* clean, per file: trim (spaces only, as DuckDB's ``trim``) and NFC-normalise text, turn
  ``cleaning.NULL_TOKENS`` into missing, give each categorical value one spelling per
  lower-case key (contract categories first, then the file's most frequent spelling), parse
  the event time and the numbers (thousands separators removed), quarantine with the same rule
  names and precedence (``missing_key``, ``invalid_time``, ``invalid_number``,
  ``exact_duplicate``, ``duplicate_key`` keeping the copy that appears last), null outliers
  outside the contract range and drop every column the contract does not keep (PII included).

Scope: the demo's customers files. They carry no target column and no malformed lines, so the
label branch and DuckDB's ``store_rejects`` are not reproduced; :func:`clean_batch` refuses a
file with the target column rather than silently doing less work than Plumbline.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.contract import ColumnProfile, Contract, infer_contract
from pipeline.settings import DatasetSettings
from pipeline.warehouse.cleaning import NULL_TOKENS
from pipeline.warehouse.pii_scan import FLAG_SHARE, PATTERNS, SAMPLE_ROWS

PROFILE_FIELDS = {f.name for f in fields(ColumnProfile)}
REPORT_FIELDS = (
    "rows_in",
    "rows_accepted",
    "rows_quarantined",
    "duplicates_removed",
    "text_normalised",
    "nulls_found",
    "outliers_nulled",
)


@dataclass
class CleanResult:
    """What one file became: accepted rows, quarantined rows and the counts."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, int]


def read_raw(path: Path) -> pd.DataFrame:
    """The file as text columns plus ``_row``, its 1-based data line number."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw["_row"] = np.arange(1, len(raw) + 1)
    return raw


def clean_text(values: pd.Series) -> pd.Series:
    """Trimmed, NFC-normalised text; null tokens (any case) become missing."""
    text = values.str.strip(" ").str.normalize("NFC")
    return text.mask(text.str.lower().isin(NULL_TOKENS))


def profile(raw: pd.DataFrame) -> list[ColumnProfile]:
    """Measure each column as ``cleaning.profile`` does: counts, 1-99% quantiles, spellings."""
    out = []
    for col in raw.columns.drop("_row"):
        text = clean_text(raw[col])
        numbers = pd.to_numeric(text, errors="coerce")
        parsed = numbers.dropna()
        q_low, median, q_high = (
            (None, None, None) if parsed.empty else parsed.quantile([0.01, 0.5, 0.99]).tolist()
        )
        counts = text.value_counts()
        spellings = pd.DataFrame(
            {"v": counts.index, "n": counts.to_numpy(), "k": counts.index.str.lower()}
        )
        by_key = spellings.groupby("k", sort=False).agg(n=("n", "sum"))
        best = spellings.drop_duplicates("k").set_index("k")["v"]  # counts are sorted desc
        categories = best[by_key.sort_values("n", ascending=False).index[:201]].tolist()
        # ColumnProfile.median (the contract's medians) is newer than some checkouts.
        extra = {"median": median} if "median" in PROFILE_FIELDS else {}
        out.append(
            ColumnProfile(
                col, int(text.notna().sum()), int(parsed.size), q_low, q_high, categories, **extra
            )
        )
    return out


# The cheap test a value must pass before its pattern runs, as pii_scan.NECESSARY.
NECESSARY = {
    "email": lambda v: v.str.contains("@", regex=False),
    "phone": lambda v: v.str.len() >= 8,
    # A capital first, then a space, an apostrophe or a hyphen somewhere.
    "name": lambda v: v.str.contains(r"^[A-Z][\s\S]*[ '-]", regex=True),
}


def pii_suspects(raw: pd.DataFrame, skip: set[str]) -> list[tuple[str, str, float]]:
    """(column, kind, share) for each column outside ``skip`` whose first ``SAMPLE_ROWS``
    values are mostly e-mails, phone numbers or names, as ``pii_scan.scan_staged`` finds them:
    each distinct value is cleaned and matched once, weighted by its count."""
    sample = raw.head(SAMPLE_ROWS)
    found = []
    for col in sample.columns.drop("_row"):
        if col in skip or col.startswith("_"):
            continue
        counts = sample[col].value_counts()
        text = clean_text(counts.index.to_series(index=None))
        valid = text.notna().to_numpy()
        values, weights = text[valid], counts.to_numpy()[valid]
        total = weights.sum()
        if not total:
            continue
        shares = []
        for kind, pattern in PATTERNS.items():
            candidates = NECESSARY[kind](values).fillna(False).to_numpy(dtype=bool)
            matched = np.zeros(len(values), dtype=bool)
            if candidates.any():
                matched[candidates] = values[candidates].str.fullmatch(pattern).to_numpy(bool)
            shares.append((kind, weights[matched].sum() / total))
        kind, share = max(shares, key=lambda pair: pair[1])
        if share >= FLAG_SHARE:
            found.append((col, kind, float(share)))
    return found


def canonical(text: pd.Series, known: list[str]) -> pd.Series:
    """One spelling per lower-case value: a contract category, else the most frequent one."""
    counts = text.value_counts()
    keys = counts.index.str.lower()
    # value_counts sorts by frequency, so the first spelling of each key is its most frequent.
    spelling = pd.Series(counts.index, index=keys)
    mapping = spelling[~keys.duplicated()].to_dict()
    mapping.update({v.lower(): v for v in known})
    return text.str.lower().map(mapping)


def clean_batch(raw: pd.DataFrame, batch_id: int, contract: Contract) -> CleanResult:
    """Clean one raw file; accepted rows in ``clean``, rejected ones in ``quarantine``."""
    present = set(raw.columns)
    for required in (contract.entity_id, contract.event_time):
        if required not in present:
            raise ValueError(f"the file has no column {required!r}")
    if contract.target in present:
        raise ValueError("the pandas reference covers data files only, not the target column")
    if raw.empty:
        raise ValueError("the file has a header but no rows")
    cats = [c for c in contract.categorical if c in present]
    nums = [c for c in contract.numeric if c in present]

    # 1. text normalisation and canonical category spelling
    entity = clean_text(raw[contract.entity_id])
    event_text = clean_text(raw[contract.event_time])
    norm = {c: canonical(clean_text(raw[c]), contract.categories.get(c, [])) for c in cats}
    num_text = {c: clean_text(raw[c]) for c in nums}
    changed = np.zeros(len(raw), dtype=bool)
    for c, value in [*norm.items(), *num_text.items()]:
        # DuckDB reads an empty field as NULL: only non-empty raw values can be "normalised".
        changed |= ((raw[c] != "") & (value != raw[c])).to_numpy()

    # 2. typed values and the first failing rule per row
    event_time = pd.to_datetime(event_text, errors="coerce", format="ISO8601")
    numbers = {
        c: pd.to_numeric(t.str.replace(",", "", regex=False), errors="coerce")
        for c, t in num_text.items()
    }
    bad_number = np.zeros(len(raw), dtype=bool)
    for c, t in num_text.items():
        bad_number |= (t.notna() & numbers[c].isna()).to_numpy()
    rule = np.select(
        [
            (entity.isna() | event_text.isna()).to_numpy(),
            event_time.isna().to_numpy(),
            bad_number,
        ],
        ["missing_key", "invalid_time", "invalid_number"],
        default="",
    )
    typed = pd.DataFrame(
        {"_entity": entity, "_event_time": event_time, **norm, **numbers, "_row": raw["_row"]}
    )[rule == ""]

    # 3. exact copies keep their first row; then each key keeps the group copied last
    dup_cols = ["_entity", "_event_time", *cats, *nums]
    exact = typed.duplicated(dup_cols, keep="first")
    last_copy = typed.groupby(dup_cols, dropna=False, sort=False)["_row"].transform("max")
    firsts = last_copy[~exact].sort_values()
    key_dup = typed.loc[firsts.index, ["_entity", "_event_time"]].duplicated(keep="last")
    dup_rule = pd.Series("", index=typed.index)
    dup_rule[exact] = "exact_duplicate"
    dup_rule[key_dup[key_dup].index] = "duplicate_key"
    kept = typed[dup_rule == ""]

    # 4. outliers beyond the contract range become missing
    outliers = 0
    features = {c: kept[c] for c in cats}
    for c in nums:
        values = kept[c]
        if c in contract.ranges:
            low, high = contract.ranges[c]
            outside = (values < low) | (values > high)
            outliers += int(outside.sum())
            values = values.mask(outside)
        features[c] = values
    clean = pd.DataFrame(
        {
            contract.entity_id: kept["_entity"],
            contract.event_time: kept["_event_time"],
            "_period": kept["_event_time"].dt.to_period("M").dt.start_time,
            "_batch_id": batch_id,
            **features,
        }
    ).reset_index(drop=True)

    rules = pd.Series(rule, index=raw.index)
    rules[dup_rule.index[dup_rule != ""]] = dup_rule[dup_rule != ""]
    quarantine = _quarantine(raw, rules[rules != ""], batch_id, contract, nums)
    report = {
        "rows_in": len(raw),
        "rows_accepted": len(clean),
        "rows_quarantined": len(quarantine),
        "duplicates_removed": int((dup_rule != "").sum()),
        "text_normalised": int(changed.sum()),
        "nulls_found": int(clean[[*cats, *nums]].isna().sum().sum()),
        "outliers_nulled": outliers,
    }
    return CleanResult(clean, quarantine, report)


def _quarantine(
    raw: pd.DataFrame, rules: pd.Series, batch_id: int, contract: Contract, nums: list[str]
) -> pd.DataFrame:
    """Rejected rows with their rule, a reason and a JSON record of allow-listed columns."""
    reasons = {
        "missing_key": (
            f"the entity id ({contract.entity_id}) or event time ({contract.event_time}) is "
            "missing; fill it in the source and re-send the row"
        ),
        "invalid_time": f"{contract.event_time} is not a date or timestamp (e.g. 2024-06-01)",
        "invalid_number": "a numeric column holds text that is not a number: " + ", ".join(nums),
        "exact_duplicate": "an identical row appears earlier in the file",
        "duplicate_key": (
            "a later row in the file has the same entity id and event time; the later one was kept"
        ),
    }
    # Only the keys and the contract's features, so PII never reaches the quarantine.
    allowed = {contract.entity_id, contract.event_time, contract.target, *contract.features}
    record_cols = [c for c in raw.columns if c in allowed]
    rows = raw.loc[rules.index]
    records = (
        rows[record_cols].to_json(orient="records", lines=True).splitlines() if len(rows) else []
    )
    return pd.DataFrame(
        {
            "batch_id": batch_id,
            "row_number": rows["_row"].to_numpy(),
            "rule": rules.to_numpy(),
            "reason": rules.map(reasons).to_numpy(),
            "record": records,
        }
    )


def run(
    paths: list[Path], dataset: DatasetSettings, contract: Contract
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], Contract, list[tuple[int, str, str]]]:
    """Validate then clean ``paths`` (batch ids 1..n) with ``contract``.

    Returns the accepted rows of every file, the quarantined rows, the summed report, the
    contract this implementation infers from the first file (the caller checks it matches) and
    the PII suspects as (batch id, column, kind).
    """
    raws: dict[int, pd.DataFrame] = {}
    inferred = None
    # Configured PII and the keys are not suspects (as the flow passes them to scan_staged).
    configured = {p.lower() for p in dataset.pii} | {
        dataset.entity_id,
        dataset.event_time,
        dataset.target,
    }
    suspects = []
    for batch_id, path in enumerate(paths, start=1):
        raw = read_raw(path)
        if inferred is None:
            inferred = infer_contract(profile(raw), dataset)
        skip = {c for c in raw.columns if c.lower() in configured}
        suspects += [(batch_id, col, kind) for col, kind, _ in pii_suspects(raw, skip)]
        raws[batch_id] = raw
    cleaned, quarantined = [], []
    totals = dict.fromkeys(REPORT_FIELDS, 0)
    for batch_id in list(raws):
        result = clean_batch(raws.pop(batch_id), batch_id, contract)
        cleaned.append(result.clean)
        quarantined.append(result.quarantine)
        for key, value in result.report.items():
            totals[key] += value
    return (
        pd.concat(cleaned, ignore_index=True),
        pd.concat(quarantined, ignore_index=True),
        totals,
        inferred,
        suspects,
    )
