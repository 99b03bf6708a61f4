"""Compare a staged batch with the data contract and say what changed, in words.

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
from pipeline.warehouse.cleaning import DATE_FORMATS, BatchRejected
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
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_schema_changes (batch_id BIGINT, "
            "detected_at TIMESTAMP, kind VARCHAR, column_name VARCHAR, message VARCHAR, "
            "action VARCHAR)"
        )
        now = utcnow()
        for kind, column, message, action in self.items:
            cur.execute(
                "INSERT INTO stage_schema_changes VALUES (?, ?, ?, ?, ?, ?)",
                [self.batch_id, now, kind, column, message, action],
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


def check_values(findings: Findings, cur: duckdb.DuckDBPyConnection, cleaner: BatchCleaner) -> None:
    """Type changes, unseen categories, out-of-range values and non-ISO dates in ``stage_norm``."""
    contract = cleaner.contract
    for col in cleaner.nums:
        txt = quote_ident("_txt_" + col)
        number = f"TRY_CAST(replace({txt}, ',', '') AS DOUBLE)"
        total, bad, examples = cur.execute(
            f"SELECT count({txt}), count({txt}) - count({number}), "
            f"list(DISTINCT {txt}) FILTER (WHERE {txt} IS NOT NULL AND {number} IS NULL) "
            "FROM stage_norm"
        ).fetchone()
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
        outside, worst = cur.execute(
            f"SELECT count(*), list(DISTINCT {number}) FROM stage_norm "
            f"WHERE {number} < ? OR {number} > ?",
            [low, high],
        ).fetchone()
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
        known = [v.lower() for v in contract.categories.get(col, [])]
        if not known:
            continue
        q = quote_ident(col)
        rows = cur.execute(
            f"SELECT {q}, count(*) FROM stage_norm WHERE {q} IS NOT NULL AND lower({q}) NOT IN "
            "(SELECT unnest(?)) GROUP BY 1 ORDER BY 2 DESC",
            [known],
        ).fetchall()
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
    iso, other, examples = cur.execute(
        "SELECT count(TRY_CAST(event_text AS TIMESTAMP)), "
        "count(*) FILTER (WHERE TRY_CAST(event_text AS TIMESTAMP) IS NULL AND "
        "try_strptime(event_text, $formats) IS NOT NULL), "
        "list(DISTINCT event_text) FILTER (WHERE TRY_CAST(event_text AS TIMESTAMP) IS NULL AND "
        "try_strptime(event_text, $formats) IS NOT NULL) FROM stage_norm",
        {"formats": DATE_FORMATS},
    ).fetchone()
    if other:
        findings.add(
            "mixed_date_formats",
            contract.event_time,
            f"column {contract.event_time!r} mixes date formats: {iso} ISO dates and {other} in "
            f"other formats (e.g. {_examples(examples)}), read day first (31/01/2024); send ISO "
            "dates (2024-01-31) to avoid ambiguity",
            "warn",
        )


def _examples(values: list | None) -> str:
    shown = [
        repr(v if not isinstance(v, float) else round(v, 4)) for v in (values or [])[:EXAMPLES]
    ]
    return ", ".join(shown) or "none"
