"""The output steps of data cleaning: quarantined rows with reasons, accepted values made final,
and the per-column and per-step statistics (see :mod:`pipeline.warehouse.clean_batch`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from pipeline.warehouse.clean_common import (
    StagedBatch,
    clean_text_sql,
    offenders_sql,
    quarantine_malformed,
    record_sql,
)
from pipeline.warehouse.connection import quote_ident

if TYPE_CHECKING:
    from pipeline.warehouse.clean_batch import BatchCleaner


@dataclass
class _Step:
    name: str
    rows_in: int
    rows_out: int
    changed: int


def finalise_values(cl: BatchCleaner, counts: list[dict]) -> None:
    """Accepted rows lose out-of-range values and get imputed ones, in place (few rows).

    ``counts`` are the batches' statistics: a column none of whose kept rows is out of range
    (or, when imputed, missing) needs no update.
    """
    from pipeline.warehouse.clean_batch import WORK

    def needs_update(col: str) -> bool:
        if cl.imputed_value(col):
            return any(s[f"null {col}"] or s[f"kept out {col}"] for s in counts)
        return col in cl.ranged and any(s[f"kept out {col}"] for s in counts)

    cols = [c for c in [*cl.cats, *cl.nums] if needs_update(c)]
    if not cols:
        return
    sets = ", ".join(f"{quote_ident(c)} = {cl.final_value(c)}" for c in cols)
    needed = " OR ".join(
        cl.outside(c)
        if c in cl.ranged and not cl.imputed_value(c)
        else f"{cl.final_value(c)} IS DISTINCT FROM {quote_ident(c)}"
        for c in cols
    )
    cl.execute(f"UPDATE {WORK} SET {sets} WHERE {cl.unit()} AND _rule IS NULL AND ({needed})")


def write_quarantine(cl: BatchCleaner) -> None:
    """Every set-aside row into ``stage_quarantine`` with its rule, a reason for people
    and a record of its allow-listed raw values."""
    from pipeline.warehouse.clean_batch import WORK, rule

    c, q, raw = cl.contract, quote_ident, cl.staged.table
    quarantine_malformed(cl.cur, cl.staged, cl.params)
    text = {col: clean_text_sql(f"s.{q(col)}") for col in [*cl.nums, c.event_time]}
    bad_numbers = offenders_sql(
        [(col, f"t.{cl.present_flag(col)} AND t.{q(col)} IS NULL", text[col]) for col in cl.nums]
    )
    unseen = offenders_sql(
        [
            (
                col,
                f"t.{q(col)} IS NOT NULL AND NOT list_contains($known_lower_{i}, "
                f"lower(t.{q(col)}))",
                f"t.{q(col)}",
            )
            for i, col in enumerate(cl.cats)
            if cl.known_lower[col]
        ]
    )
    outside = offenders_sql(
        [
            (col, f"t.{q(col)} NOT BETWEEN $low_{i} AND $high_{i}", text[col])
            for i, col in enumerate(cl.nums)
            if col in cl.ranged
        ]
    )
    cl.params.update(
        {
            "missing_key": f"the entity id ({c.entity_id}) or event time ({c.event_time}) "
            "is missing; fill it in the source and send the row again",
            "time_is": f"{c.event_time} = ",
            "exact_duplicate": "an identical row appears earlier in the file",
            "duplicate_key": "a later row in the file has the same entity id and event time; "
            "the later one was kept",
        }
    )
    reasons = {
        "missing_key": "$missing_key",
        "invalid_time": f"$time_is || coalesce({text[c.event_time]}, 'empty') || "
        "' is not a date; use ISO dates such as 2024-06-01'",
        "invalid_number": f"'not a number: ' || {bad_numbers} || "
        "'; fix the value in the source and send the row again'",
        "unseen_category": f"'a category not in the data contract: ' || {unseen} || "
        "'; fix the value, or add the category to the contract'",
        "out_of_range": f"'outside the contract''s range: ' || {outside} || "
        "'; fix the value or widen the range in the contract'",
        "exact_duplicate": "$exact_duplicate",
        "duplicate_key": "$duplicate_key",
    }
    for i, f in enumerate(cl.policy.filters):
        cl.params[f"filter_reason_{i}"] = (
            f"filtered out by cleaning.filters: {f.describe()} does not hold for this row"
        )
        reasons[f"filter_{i}"] = f"$filter_reason_{i}"
    if cl.reject_cols:
        missing = []
        for i, col in enumerate(cl.reject_cols):
            cl.params[f"missing_reason_{i}"] = (
                f"{col} is missing and cleaning.missing.{col} = 'reject'"
            )
            missing.append(f"WHEN {cl.ranged_value(col, 't.')} IS NULL THEN $missing_reason_{i}")
        reasons["missing_value"] = f"CASE {' '.join(missing)} END"
    case = " ".join(f"WHEN {rule(name)} THEN {sql}" for name, sql in reasons.items())
    # Rows set aside for a missing value carry no record (as ever).
    record = (
        f"CASE WHEN t._rule = {rule('missing_value')} THEN NULL ELSE "
        f"{record_sql(cl.cur, c, raw, cl.staged.loaded)} "
        "END"
    )
    cl.execute(
        "INSERT INTO stage_quarantine SELECT t._batch_id, t._row, "
        "list_extract($rule_names, t._rule), "
        f"CASE t._rule {case} END, {record} FROM (SELECT * FROM {WORK} WHERE {cl.unit()} "
        f"AND _rule IS NOT NULL) t {cl.raw_join()}"
    )


def write_column_stats(cl: BatchCleaner, active: list[StagedBatch], stats: dict) -> None:
    c = cl.contract
    cl.cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_column_stats (batch_id BIGINT, "
        "column_name VARCHAR, rows BIGINT, missing BIGINT, imputed BIGINT, outliers BIGINT)"
    )
    rows = []
    for b in active:
        s = stats[b.batch_id]
        accepted = s["kept"] - s["missing_rejected"]
        for col in [*c.categorical, *c.numeric]:
            if col not in cl.staged.columns:
                rows.append([b.batch_id, col, accepted, accepted, 0, 0])
                continue
            # Missing as received, among the rows that were kept (before any imputation).
            missing = s[f"null {col}"]
            imputed = missing if cl.policy.missing.get(col) == "impute" else 0
            rows.append([b.batch_id, col, s["kept"], missing, imputed, s[f"kept out {col}"]])
    _insert(cl.cur, "stage_column_stats", rows)


def write_steps(cl: BatchCleaner, active: list[StagedBatch], stats: dict) -> None:
    c = cl.contract
    cl.cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_clean_steps (batch_id BIGINT, position "
        "INTEGER, step VARCHAR, rows_in BIGINT, rows_out BIGINT, rows_changed BIGINT)"
    )
    hashed = cl.hashed()
    dropped = [col for col in c.dropped if col in cl.staged.columns and col not in hashed]
    rows = []
    for b in active:
        s = stats[b.batch_id]
        parsed, valid, kept = s["parsed"], s["valid"], s["kept"]
        after = kept - s["missing_rejected"]
        steps = [
            _Step("parse", parsed + b.malformed, parsed, 0),
            _Step("normalise text", parsed, parsed, s["changed"]),
            _Step("type and validate", parsed, valid, parsed - valid),
            _Step("de-duplicate", valid, kept, valid - kept),
            _Step("out-of-range values to missing", kept, kept, s["outliers"]),
            _Step("missing values", kept, after, s["imputed"] + kept - after),
            _Step("row filters", after + s["filtered"], after, s["filtered"]),
            _Step(
                f"select columns ({len(dropped)} PII dropped, {len(hashed)} hashed)",
                after,
                after,
                0,
            ),
        ]
        rows += [
            [b.batch_id, i, st.name, st.rows_in, st.rows_out, st.changed]
            for i, st in enumerate(steps, start=1)
        ]
    _insert(cl.cur, "stage_clean_steps", rows)


def _insert(cur: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    if rows:
        marks = "(" + ", ".join("?" * len(rows[0])) + ")"
        cur.execute(
            f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(rows)),
            [v for row in rows for v in row],
        )
