"""Compare staged batches with the data contract and say what changed, in words.

Findings: a new column, a missing column, a likely renamed column, a type change, unseen
categories, values out of range, and event times in other date formats. Each carries the
action the cleaning policy takes (``warned``, ``rows_rejected``, ``batch_rejected``); a
``reject_batch`` policy raises :class:`BatchRejected` with the finding's sentence.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from pipeline.contract import Contract
from pipeline.warehouse.cleaning import BatchRejected, clean_text_sql
from pipeline.warehouse.connection import quote_ident, utcnow

if TYPE_CHECKING:
    from pipeline.warehouse.clean_batch import BatchCleaner

RENAME_SIMILARITY = 0.75
TYPE_CHANGE_SHARE = 0.02  # above this share of unparsable values a column "changed type"
EXAMPLES = 3

ACTION_WORDS = {"reject_row": "rows_rejected", "reject_batch": "batch_rejected", "warn": "warned"}


@dataclass
class Findings:
    """Schema findings of one batch."""

    batch_id: int
    items: list[tuple[str, str | None, str, str]] = field(default_factory=list)

    def add(self, kind: str, column: str | None, message: str, action: str) -> None:
        """Record a finding; ``action`` is a policy action or already an outcome word."""
        outcome = ACTION_WORDS.get(action, action)
        self.items.append((kind, column, message, outcome))
        if outcome == "batch_rejected":
            raise BatchRejected(f"{message} (cleaning.on_violation.{column} = 'reject_batch')")

    def stage(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Append the findings to TEMP ``stage_schema_changes`` for the publish transaction."""
        stage_findings(cur, [self])


def stage_findings(cur: duckdb.DuckDBPyConnection, batches: list[Findings]) -> None:
    """Append the findings of ``batches``, in order, to TEMP ``stage_schema_changes``."""
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_schema_changes (batch_id BIGINT, "
        "detected_at TIMESTAMP, kind VARCHAR, column_name VARCHAR, message VARCHAR, "
        "action VARCHAR)"
    )
    now = utcnow()
    rows = [[f.batch_id, now, *item] for f in batches for item in f.items]
    if rows:
        cur.execute(
            "INSERT INTO stage_schema_changes VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(rows)),
            [v for row in rows for v in row],
        )


def compare_columns(findings: Findings, columns: list[str], contract: Contract) -> None:
    """New, missing and likely renamed columns."""
    known = contract.columns()
    new = [c for c in columns if c not in known]
    missing = [c for c in contract.features if c not in columns]
    renamed: dict[str, str] = {}
    for m in missing:
        best = max(
            new,
            key=lambda n: difflib.SequenceMatcher(None, m.lower(), n.lower()).ratio(),
            default=None,
        )
        if (
            best
            and difflib.SequenceMatcher(None, m.lower(), best.lower()).ratio()
            >= (RENAME_SIMILARITY)
            and best not in renamed.values()
        ):
            renamed[m] = best
    for old, now in renamed.items():
        findings.add(
            "renamed_column",
            old,
            f"column {now!r} looks like {old!r} renamed: {old!r} is missing and {now!r} is new; "
            f"rename it back in the source (or edit the contract) so its values are used",
            "warn",
        )
    for m in missing:
        if m not in renamed:
            findings.add(
                "missing_column",
                m,
                f"column {m!r} of the contract is missing from this file; its values are "
                "treated as missing; add it back in the source, or set cleaning.missing."
                f"{m} = 'impute' to fill it",
                "warn",
            )
    for n in new:
        if n not in renamed.values():
            findings.add(
                "new_column",
                n,
                f"column {n!r} is new: it is not in the data contract, so it is kept in the raw "
                "file but not used; add it to the contract to use it",
                "warn",
            )


@dataclass
class ValueStats:
    """What one batch's values look like against the contract, measured in SQL."""

    # column -> (non-empty values, values that are not numbers, examples of those)
    numbers: dict[str, tuple[int, int, list[str]]] = field(default_factory=dict)
    # column -> (values outside the range, the worst of them)
    outside: dict[str, tuple[int, list[float]]] = field(default_factory=dict)
    unseen: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # most rows first
    iso_dates: int = 0
    other_dates: int = 0
    date_examples: list[str] = field(default_factory=list)


def measure_values(cleaner: BatchCleaner, counts: dict[int, dict]) -> dict[int, ValueStats]:
    """:class:`ValueStats` of every batch being cleaned, by batch id.

    ``counts`` are the per-batch statistics of the cleaner's one pass over the typed rows;
    example values are read only for the few rows that need them, and unseen categories from
    the small table of distinct spellings.
    """
    from pipeline.warehouse.clean_batch import WORK

    nums, time = cleaner.nums, quote_ident(cleaner.contract.event_time)
    stats: dict[int, ValueStats] = {}
    for batch_id, c in counts.items():
        s = stats[batch_id] = ValueStats()
        for i, col in enumerate(nums):
            s.numbers[col] = (c[f"text {col}"], c[f"bad {col}"], [])
            if col in cleaner.ranged:
                low, high = cleaner.params[f"low_{i}"], cleaner.params[f"high_{i}"]
                # The worst first: furthest outside the range.
                worst = sorted(set(c[f"worst {col}"]), key=lambda v: (-max(low - v, v - high), v))
                s.outside[col] = (c[f"outside {col}"], worst)
        s.iso_dates, s.other_dates = c["iso dates"], c["other dates"]
    typed = f"FROM (SELECT * FROM {WORK} WHERE {cleaner.unit()}) t {cleaner.raw_join('t')}"
    for col in nums:
        if any(s.numbers[col][1] for s in stats.values()):
            for batch_id, examples in _examples_by_batch(
                cleaner,
                f"SELECT DISTINCT t._batch_id, {clean_text_sql('s.' + quote_ident(col))} AS v "
                f"{typed} WHERE t.{cleaner.present_flag(col)} AND t.{quote_ident(col)} IS NULL",
            ):
                stats[batch_id].numbers[col][2].extend(examples)
    if any(s.other_dates for s in stats.values()):
        text = clean_text_sql("s." + time)
        for batch_id, examples in _examples_by_batch(
            cleaner,
            f"SELECT DISTINCT t._batch_id, {text} AS v {typed} "
            f"WHERE NOT t._iso AND t.{time} IS NOT NULL",
        ):
            stats[batch_id].date_examples.extend(examples)
    known = [(i, col) for i, col in enumerate(cleaner.cats) if cleaner.known_lower[col]]
    if known:
        unseen = " ".join(
            f"WHEN {i} THEN NOT list_contains($known_lower_{i}, lower(canonical))" for i, _ in known
        )
        for batch_id, c, value, n in cleaner.query(
            "SELECT list_extract($bids, file + 1), c, canonical, sum(n) AS n FROM "
            f"clean_spelling WHERE canonical IS NOT NULL AND CASE c {unseen} ELSE false END "
            "GROUP BY ALL ORDER BY n DESC, canonical"
        ):
            if batch_id in stats:
                stats[batch_id].unseen.setdefault(cleaner.cats[c], []).append((value, int(n)))
    return stats


def _examples_by_batch(cleaner: BatchCleaner, distinct: str) -> list[tuple[int, list]]:
    """(batch id, the first few values of ``distinct``, sorted) per batch."""
    return cleaner.query(
        f"SELECT _batch_id, list(v ORDER BY v)[1:{EXAMPLES}] FROM ({distinct}) GROUP BY _batch_id"
    )


def check_values(findings: Findings, stats: ValueStats, cleaner: BatchCleaner) -> None:
    """Type changes, unseen categories, out-of-range values and non-ISO dates of one batch."""
    contract = cleaner.contract
    for col in cleaner.nums:
        total, bad, examples = stats.numbers[col]
        if bad and total and bad / total > TYPE_CHANGE_SHARE:
            findings.add(
                "type_change",
                col,
                f"column {col!r} was numeric but {bad / total:.0%} of its values in this file "
                f"are not numbers (e.g. {_examples(examples)})",
                cleaner.action(col, "reject_row"),
            )
        elif bad and cleaner.action(col, "reject_row") == "reject_batch":
            findings.add(
                "type_change",
                col,
                f"column {col!r} has {bad} values that are not "
                f"numbers (e.g. {_examples(examples)})",
                "reject_batch",
            )
        low, high = contract.ranges.get(col, [None, None])
        if low is None:
            continue
        outside, worst = stats.outside[col]
        if outside:
            action = cleaner.action(col, "warn")
            what = (
                "those rows are quarantined"
                if action == "reject_row"
                else ("they are treated as missing")
            )
            findings.add(
                "out_of_range",
                col,
                f"column {col!r} has {outside} values outside the expected range {low:g} to "
                f"{high:g} (e.g. {_examples(worst)}); {what}",
                action,
            )
    for col in cleaner.cats:
        if not contract.categories.get(col):
            continue
        rows = stats.unseen.get(col, [])
        if rows:
            listed = ", ".join(f"{v!r} ({n} rows)" for v, n in rows[:EXAMPLES])
            more = f" and {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else ""
            findings.add(
                "unseen_category",
                col,
                f"column {col!r} has {len(rows)} value(s) not seen before: {listed}{more}; "
                f"if valid, add them to the contract's categories, or set "
                f"cleaning.on_violation.{col} = 'reject_row' to quarantine such rows",
                cleaner.action(col, "warn"),
            )
    if stats.other_dates:
        findings.add(
            "mixed_date_formats",
            contract.event_time,
            f"column {contract.event_time!r} mixes date formats: {stats.iso_dates} ISO dates and "
            f"{stats.other_dates} in other formats (e.g. {_examples(stats.date_examples)}), read "
            "day first (31/01/2024); send ISO dates (2024-01-31) to avoid ambiguity",
            "warn",
        )


def _examples(values: list | None) -> str:
    shown = [
        repr(v if not isinstance(v, float) else round(v, 4)) for v in (values or [])[:EXAMPLES]
    ]
    return ", ".join(shown) or "none"
