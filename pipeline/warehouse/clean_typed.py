"""The typing pass of data cleaning: every parsed row normalised and typed once into TEMP
``clean_work``, with the first quarantine rule it breaks.

``clean_spelling`` first holds each batch's distinct categorical spellings with their canonical
form, so the typing pass only looks spellings up. Both work on all batches of a staged table at
once; see :mod:`pipeline.warehouse.clean_batch` for the steps around them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.warehouse.clean_common import (
    clean_text_sql,
    cleaned_text_sql,
    event_time_sql,
    plain_text_sql,
    temp_exists,
)
from pipeline.warehouse.connection import quote_ident

if TYPE_CHECKING:
    from pipeline.warehouse.clean_batch import BatchCleaner


def write_spellings(c: BatchCleaner) -> None:
    """``clean_spelling``: per batch and categorical column, each raw spelling, its count,
    its canonical form and whether normalising changed it.

    The canonical form of a lower-case value is the contract's category, else the batch's
    most frequent spelling (ties: the one seen first).
    """
    if not c.cats:
        return
    raw = c.staged.table
    spelt = " UNION ALL ".join(
        f"SELECT _staged_file AS file, {i} AS c, CAST({quote_ident(col)} AS VARCHAR) AS raw, "
        f"count(*) AS n, min(rowid) AS first FROM {raw} WHERE {c.active_rows()} GROUP BY ALL"
        for i, col in enumerate(c.cats)
    )
    known = " UNION ALL ".join(
        f"SELECT {i} AS c, unnest($known_{i}) AS v"
        for i, col in enumerate(c.cats)
        if c.known_lower[col]
    )
    c.execute(
        "CREATE OR REPLACE TEMP TABLE clean_spelling AS "
        f"WITH raw AS ({spelt}), "
        f"texts AS (SELECT *, {clean_text_sql('raw')} AS v FROM raw), "
        "spelt AS (SELECT file, c, v, sum(n) AS w, min(first) AS first FROM texts "
        "WHERE v IS NOT NULL GROUP BY ALL), "
        "best AS (SELECT file, c, lower(v) AS k, arg_max(v, {'w': w, 'first': -first}) AS v "
        "FROM spelt GROUP BY ALL), "
        "known AS (SELECT c, lower(v) AS k, min(v) AS v FROM ("
        + (known or "SELECT NULL::INTEGER AS c, NULL::VARCHAR AS v WHERE false")
        + ") GROUP BY ALL), "
        "canon AS (SELECT b.file, b.c, b.k, coalesce(kn.v, b.v) AS canonical FROM best b "
        "LEFT JOIN known kn ON kn.c = b.c AND kn.k = b.k) "
        "SELECT t.file, t.c, t.raw, t.n, cn.canonical, "
        "t.raw IS NOT NULL AND cn.canonical IS DISTINCT FROM t.raw AS changed FROM texts t "
        "LEFT JOIN canon cn ON cn.file = t.file AND cn.c = t.c AND cn.k = lower(t.v)"
    )


def ensure_work(c: BatchCleaner) -> None:
    """``clean_work`` with the columns these batches fill: ``stage_clean``'s first (as the
    first batches have them), helper columns after; columns a later table adds go last."""
    from pipeline.warehouse.clean_batch import WORK

    q = quote_ident
    columns = [
        (c.entity, "VARCHAR"),
        (c.time, "TIMESTAMP"),
        ("_period", "DATE"),
        ("_batch_id", "BIGINT"),
        *[(q(col), "VARCHAR") for col in c.cats],
        *[(q(col), "DOUBLE") for col in c.nums],
        *[(q(col), "VARCHAR") for col in c.hashed()],
        ("_row", "UINTEGER"),
        ("_rule", "USMALLINT"),
        ("_iso", "BOOLEAN"),
        ("_changed", "BOOLEAN"),
        *[(c.present_flag(col), "BOOLEAN") for col in c.nums],
    ]
    if c.has_target:
        columns += [("_target_text", "VARCHAR"), ("_label", "INTEGER")]
    c.created_work = not temp_exists(c.cur, WORK)
    if c.created_work:
        c.cur.execute(f"CREATE TEMP TABLE {WORK} ({', '.join(f'{n} {t}' for n, t in columns)})")
        return
    have = {r[0] for r in c.cur.execute(f"DESCRIBE {WORK}").fetchall()}
    for name, kind in columns:
        if name.strip('"') not in have:
            c.cur.execute(f"ALTER TABLE {WORK} ADD COLUMN {name} {kind}")


def write_typed(c: BatchCleaner) -> None:
    """Each parsed row normalised and typed into ``clean_work``, with the first rule it
    breaks (``_rule``; the precedence is the order of :func:`_rules`)."""
    from pipeline.warehouse.clean_batch import WORK

    q = quote_ident
    ensure_work(c)
    # Thousands separators are removed only from the few values that need it.
    number = {
        col: f"coalesce(TRY_CAST(_t{i} AS DOUBLE), TRY_CAST(replace(_t{i}, ',', '') AS DOUBLE))"
        for i, col in enumerate(c.nums)
    }
    event_time = event_time_sql("_event_text")
    outer = [
        f"_entity AS {c.entity}",
        f"{event_time} AS {c.time}",
        f"CAST(date_trunc('month', {event_time}) AS DATE) AS _period",
        "list_extract($bids, _staged_file + 1) AS _batch_id",
        *[q(col) for col in c.cats],
        *[f"{number[col]} AS {q(col)}" for col in c.nums],
        *[q(col) for col in c.hashed()],
        "_row",
        "TRY_CAST(_event_text AS TIMESTAMP) IS NOT NULL AS _iso",
        f"{_changed(c)} AS _changed",
        *[f"_t{i} IS NOT NULL AS {c.present_flag(col)}" for i, col in enumerate(c.nums)],
    ]
    if c.has_target:
        outer += [
            "_target_text",
            "CASE WHEN list_contains($t, _target_text) THEN 1 "
            "WHEN list_contains($f, _target_text) THEN 0 END AS _label",
        ]
    c.execute(
        f"INSERT INTO {WORK} BY NAME SELECT {', '.join(outer)}, "
        f"CASE {_rules(c, number, event_time)} END AS _rule FROM ({_typed_inputs(c)})"
    )


def _typed_inputs(c: BatchCleaner) -> str:
    """SQL: per raw row of the batches, its position, clean texts and canonical categories.

    Numbers come as raw text ``_r``, whether it is plain ``_pl`` (then it is its own clean
    text, unchanged), and the clean text ``_t``, one level up so that the full cleaning only
    runs on the few values that are not plain.
    """
    q = quote_ident
    inner = [
        "r._staged_file",
        "r.rowid - list_extract($offsets, r._staged_file + 1) + 1 AS _row",
        f"CAST({clean_text_sql('r.' + c.entity)} AS VARCHAR) AS _entity",
        f"{clean_text_sql('r.' + c.time)} AS _event_text",
    ]
    joins = []
    for i, col in enumerate(c.cats):
        inner += [f"m{i}.canonical AS {q(col)}", f"coalesce(m{i}.changed, false) AS _c{i}"]
        joins.append(
            f"LEFT JOIN clean_spelling m{i} ON m{i}.c = {i} AND m{i}.file = r._staged_file "
            f"AND m{i}.raw = CAST(r.{q(col)} AS VARCHAR)"
        )
    for i, col in enumerate(c.nums):
        raw = f"CAST(r.{q(col)} AS VARCHAR)"
        inner += [f"{raw} AS _r{i}", f"coalesce({plain_text_sql(raw)}, true) AS _pl{i}"]
    inner += [
        f"sha256($salt || coalesce(CAST(r.{q(col)} AS VARCHAR), '')) AS {q(col)}"
        for col in c.hashed()
    ]
    if c.has_target:
        inner.append(f"lower({clean_text_sql('r.' + q(c.contract.target))}) AS _target_text")
    base = (
        f"SELECT {', '.join(inner)} FROM {c.staged.table} r {' '.join(joins)} "
        f"WHERE {c.active_rows('r.')}"
    )
    if not c.nums:
        return base
    texts = ", ".join(
        f"CASE WHEN _pl{i} THEN _r{i} ELSE {cleaned_text_sql(f'_r{i}')} END AS _t{i}"
        for i in range(len(c.nums))
    )
    return f"SELECT *, {texts} FROM ({base})"


def _rules(c: BatchCleaner, number: dict[str, str], event_time: str) -> str:
    """SQL ``WHEN`` clauses giving a typed row the code of the first rule it breaks."""
    from pipeline.warehouse.clean_batch import rule

    q = quote_ident
    rules = [
        ("_entity IS NULL OR _event_text IS NULL", "missing_key"),
        (f"{event_time} IS NULL", "invalid_time"),
    ]
    for i, col in enumerate(c.cats):
        if c.action(col, "warn") == "reject_row" and c.known_lower[col]:
            rules.append(
                (
                    f"{q(col)} IS NOT NULL AND NOT list_contains($known_lower_{i}, "
                    f"lower({q(col)}))",
                    "unseen_category",
                )
            )
    for i, col in enumerate(c.nums):
        if c.action(col, "reject_row") == "reject_row":
            rules.append((f"_t{i} IS NOT NULL AND {number[col]} IS NULL", "invalid_number"))
        if col in c.ranged and c.action(col, "warn") == "reject_row":
            rules.append((f"{number[col]} < $low_{i} OR {number[col]} > $high_{i}", "out_of_range"))
    for i, f in enumerate(c.policy.filters):
        if f.column in c.cats or f.column in c.nums:
            target = number[f.column] if f.column in c.nums else q(f.column)
            rules.append((f"NOT coalesce({filter_sql(f, i, target)}, false)", f"filter_{i}"))
    return " ".join(f"WHEN {cond} THEN {rule(name)}" for cond, name in rules)


def _changed(c: BatchCleaner) -> str:
    """SQL: normalising changed one of the row's categories or numbers."""
    changed = [f"_c{i}" for i in range(len(c.cats))]
    if c.nums:
        # A plain number is unchanged; only the others are compared with their raw text.
        plain = " AND ".join(f"_pl{i}" for i in range(len(c.nums)))
        compared = " OR ".join(
            f"(NOT _pl{i} AND _r{i} IS NOT NULL AND _t{i} IS DISTINCT FROM _r{i})"
            for i in range(len(c.nums))
        )
        changed.append(f"(NOT ({plain}) AND ({compared}))")
    return " OR ".join(changed) or "false"


def filter_sql(f, i: int, q: str) -> str:
    """SQL for one declarative row filter on the expression ``q``; values stay parameters."""
    if f.op == "is null":
        return f"{q} IS NULL"
    if f.op == "is not null":
        return f"{q} IS NOT NULL"
    if f.op in ("in", "not in"):
        return f"{q} {f.op.upper()} (SELECT unnest($filter_{i}))"
    return f"{q} {f.op} $filter_{i}"
