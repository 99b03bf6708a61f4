"""The marking steps of data cleaning on TEMP ``clean_work``: duplicates, then the counts every
later step, report and statistic needs (see :mod:`pipeline.warehouse.clean_batch`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.warehouse.connection import quote_ident

if TYPE_CHECKING:
    from pipeline.warehouse.clean_batch import BatchCleaner


def deduplicate(c: BatchCleaner) -> None:
    """Mark exact copies (the first stays) and earlier rows of a repeated key.

    Only rows whose entity id and event time repeat can be either, so the windows run on
    those few (kept rows never miss either, so the key's plain values can be grouped and
    joined on). Rows that are not exact copies compete for their key, so a row and its copy
    never knock each other out; the last copy's position decides "latest".
    """
    from pipeline.warehouse.clean_batch import WORK, rule

    e, t = c.entity, c.time
    part = ", ".join(
        ["_batch_id", e, t, *[quote_ident(col) for col in [*c.cats, *c.nums]]]
        + (["_target_text"] if c.has_target else [])
    )
    found = (
        f"WITH keys AS (SELECT _batch_id, {e} AS e, {t} AS t FROM {WORK} WHERE {c.unit()} "
        "AND _rule IS NULL GROUP BY ALL HAVING count(*) > 1), "
        f"candidates AS (SELECT w.* FROM {WORK} w SEMI JOIN keys k ON w._batch_id = "
        f"k._batch_id AND w.{e} = k.e AND w.{t} = k.t WHERE {c.unit('w.')} AND w._rule IS NULL), "
        f"exact AS (SELECT _batch_id, _row, {e}, {t}, row_number() OVER (PARTITION BY {part} "
        f"ORDER BY _row) AS _exact_rank, max(_row) OVER (PARTITION BY {part}) AS _last_copy "
        "FROM candidates), "
        "ranked AS (SELECT *, CASE WHEN _exact_rank = 1 THEN row_number() OVER (PARTITION BY "
        f"_batch_id, {e}, {t}, _exact_rank = 1 ORDER BY _last_copy DESC) ELSE 1 END "
        "AS _key_rank FROM exact) "
        f"SELECT _batch_id, _row, CASE WHEN _exact_rank > 1 THEN {rule('exact_duplicate')} "
        f"ELSE {rule('duplicate_key')} END AS rule FROM ranked "
        "WHERE _exact_rank > 1 OR _key_rank > 1"
    )
    c.execute(
        f"UPDATE {WORK} SET _rule = d.rule FROM ({found}) d WHERE {c.unit(WORK + '.')} AND "
        f"{WORK}._batch_id = d._batch_id AND {WORK}._row = d._row"
    )


def measure(c: BatchCleaner) -> dict[int, dict]:
    """Per batch, the counts every later step, report and statistic needs, in one pass
    (after de-duplication, before rows missing a 'reject' value are set aside).

    Rows are grouped by batch and rule, so the counts among the kept rows (no rule) need
    no filter of their own; the groups are added up here.
    """
    from pipeline.warehouse.clean_batch import RULES, WORK, rule

    rejected = c.rejects_missing(c.reject_cols)
    features = [*c.cats, *c.nums]
    # Counted in every group and added up: over all parsed rows, or (in the group of kept
    # rows, _rule NULL) over the kept ones.
    aggs = {"rows": "count(*)", "changed": "count(*) FILTER (WHERE _changed)"}
    for col in features:
        aggs[f"values {col}"] = f"count({quote_ident(col)})"
        if col in c.ranged:
            aggs[f"out {col}"] = f"count(*) FILTER (WHERE {c.outside(col)})"
            aggs[f"worst {col}"] = (
                f"list(DISTINCT {quote_ident(col)}) FILTER (WHERE {c.outside(col)})"
            )
    # A typed number (or time) always had text, and an ISO time always parsed, so texts and
    # ISO dates follow from cheaper counts: text = values + bad, ISO = times - other.
    for col in c.nums:
        flag = c.present_flag(col)
        aggs[f"bad {col}"] = f"count(*) FILTER (WHERE {flag} AND {quote_ident(col)} IS NULL)"
    aggs["times"] = f"count({c.time})"
    aggs["other dates"] = f"count(*) FILTER (WHERE NOT _iso AND {c.time} IS NOT NULL)"
    # Only read from the group of kept rows.
    kept_only = []
    if c.reject_cols:
        kept_only.append("missing_rejected")
        aggs["missing_rejected"] = f"count(*) FILTER (WHERE {rejected})"
    if c.has_target:
        kept_only.append("labels")
        aggs["labels"] = f"count(*) FILTER (WHERE NOT ({rejected}) AND _label IS NOT NULL)"
    imputed = []
    for pos, col in enumerate(features):
        if c.reject_cols or c.imputed_value(col):
            kept_only.append(f"final null {col}")
            aggs[f"final null {col}"] = (
                f"count(*) FILTER (WHERE NOT ({rejected}) AND {c.final_value(col)} IS NULL)"
            )
        if c.imputed_value(col):
            # As the old step counted it: the rows missing it once rows missing a value of
            # an earlier 'reject' column were set aside.
            earlier = [r for r in c.reject_cols if features.index(r) < pos]
            kept_only.append(f"imputed {col}")
            imputed.append(f"imputed {col}")
            aggs[f"imputed {col}"] = (
                f"count(*) FILTER (WHERE {c.ranged_value(col)} IS NULL AND NOT "
                f"({c.rejects_missing(earlier)}))"
            )
    names = list(aggs)
    rows = c.query(
        f"SELECT _batch_id, _rule, {', '.join(aggs.values())} FROM {WORK} WHERE {c.unit()} "
        "GROUP BY _batch_id, _rule"
    )
    duplicates = {int(rule("exact_duplicate")), int(rule("duplicate_key"))}
    stats: dict[int, dict] = {}
    for batch_id, code, *values in rows:
        group = dict(zip(names, values, strict=True))
        s = stats.setdefault(batch_id, {"kept": 0, "valid": 0, "filtered": 0, "parsed": 0})
        s["parsed"] += group["rows"]
        if code is None:
            s["kept"] = group["rows"]
            s.update({name: group[name] for name in kept_only})
            for col in features:
                s[f"null {col}"] = group["rows"] - group[f"values {col}"]
                if col in c.ranged:
                    s[f"kept out {col}"] = group[f"out {col}"]
        if code is None or code in duplicates:
            s["valid"] += group["rows"]
        if code is not None and code > len(RULES):
            s["filtered"] += group["rows"]
        group["iso dates"] = group["times"] - group["other dates"]
        for name in ("changed", "iso dates", "other dates"):
            s[name] = s.get(name, 0) + group[name]
        for col in c.nums:
            group[f"text {col}"] = group[f"values {col}"] + group[f"bad {col}"]
            for name in (f"text {col}", f"bad {col}"):
                s[name] = s.get(name, 0) + group[name]
        for col in c.ranged:
            s[f"outside {col}"] = s.get(f"outside {col}", 0) + group[f"out {col}"]
            s[f"worst {col}"] = s.get(f"worst {col}", []) + (group[f"worst {col}"] or [])
    for s in stats.values():
        s.setdefault("missing_rejected", 0)
        s.setdefault("labels", 0)
        for col in features:
            s.setdefault(f"null {col}", 0)
            s.setdefault(f"kept out {col}", 0)
            s.setdefault(f"final null {col}", s[f"null {col}"] + s[f"kept out {col}"])
        for name in imputed:
            s.setdefault(name, 0)
        s["outliers"] = sum(s[f"kept out {col}"] for col in c.ranged)
        # Missing once cleaned: as received or out of range (unless imputed, or the row was
        # set aside for a missing value; such columns are counted in the statement).
        s["nulls"] = sum(s[f"final null {col}"] for col in features)
        s["imputed"] = sum(s[name] for name in imputed)
    return stats
