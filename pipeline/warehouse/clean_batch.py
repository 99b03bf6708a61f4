"""Clean staged data batches in SQL, every batch of a staged table at once, step by step.

Steps, per batch: parse (malformed lines), normalise text, type and validate (quarantine rules
and contract policy), de-duplicate, ranges (out-of-range values), missing values, row filters,
and select (PII dropped or hashed). Each step records rows in, rows out and rows changed in
TEMP ``stage_clean_steps``; every contract finding is written in words to TEMP
``stage_schema_changes``. Identifiers come only from the contract and the file header after
:func:`quote_ident`; values are bound parameters.

The work is set-based: a staged table (:class:`~pipeline.warehouse.cleaning.Staged`) holds one
or more batches, and each statement handles all of them, so many small files cost one set of
statements that can use every core. Each parsed row is typed once, straight into TEMP
``clean_work``: the columns of ``stage_clean`` plus helper columns (``_row``, the first rule
the row breaks ``_rule``, ...). Later steps mark rows (``_rule``) or fix a few values in place;
:func:`finish_clean` then drops the marked rows and the helper columns and renames the table
to ``stage_clean``, so accepted rows are never copied. Raw rows are read again only for
quarantined rows. ``clean_spelling`` holds each batch's distinct categorical spellings with
their canonical form.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.contract import Contract
from pipeline.settings import CleaningSettings
from pipeline.warehouse import schema_check
from pipeline.warehouse.cleaning import (
    DATE_FORMATS,
    FALSE_LABELS,
    NULL_TOKENS,
    TRUE_LABELS,
    BatchRejected,
    CleanReport,
    Staged,
    StagedBatch,
    _offenders,
    _record_expr,
    clean_text_sql,
    event_time_sql,
    no_rows_message,
    quarantine_malformed,
    quarantined_counts,
    sql_params,
    staged_single,
    temp_exists,
)
from pipeline.warehouse.connection import quote_ident

WORK = "clean_work"
HELPERS = ("_row", "_rule", "_iso", "_changed", "_target_text", "_label")
# Quarantine rules, stored in ``_rule`` as their position (1-based); row filters follow.
RULES = (
    "missing_key",
    "invalid_time",
    "unseen_category",
    "invalid_number",
    "out_of_range",
    "exact_duplicate",
    "duplicate_key",
    "missing_value",
)


def rule(name: str) -> str:
    """SQL literal of the ``_rule`` code of quarantine rule ``name`` (filters: filter_<i>)."""
    if name.startswith("filter_"):
        return str(len(RULES) + 1 + int(name.removeprefix("filter_")))
    return str(RULES.index(name) + 1)


ACTIVE = "list_extract($bids, _staged_file + 1) IS NOT NULL"


def unit(alias: str = "") -> str:
    """SQL: the row (of table ``alias``) belongs to the batches being cleaned; the range lets
    DuckDB skip the row groups of batches cleaned before."""
    b = f"{alias}_batch_id"
    return f"{b} BETWEEN $first_bid AND $last_bid AND list_contains($unit, {b})"


@dataclass
class _Step:
    name: str
    rows_in: int
    rows_out: int
    changed: int


class BatchCleaner:
    """Cleans the data batches of one staged table into ``clean_work`` on the run's cursor."""

    def __init__(
        self,
        cur: duckdb.DuckDBPyConnection,
        staged: Staged,
        contract: Contract,
        policy: CleaningSettings,
        salt: str | None = None,
    ):
        self.cur, self.staged, self.contract, self.policy = cur, staged, contract, policy
        present = set(staged.columns)
        self.cats = [c for c in contract.categorical if c in present]
        self.nums = [c for c in contract.numeric if c in present]
        self.has_target = contract.target in present
        self.known_lower = {
            c: [v.lower() for v in contract.categories.get(c, [])] for c in self.cats
        }
        self.ranged = [c for c in self.nums if contract.ranges.get(c, [None])[0] is not None]
        self.entity, self.time = quote_ident(contract.entity_id), quote_ident(contract.event_time)
        files = 1 + max(b.file for b in staged.batches)
        self.params: dict = {
            "tokens": NULL_TOKENS,
            "formats": DATE_FORMATS,
            "t": TRUE_LABELS,
            "f": FALSE_LABELS,
            "bids": [None] * files,
            "offsets": [0] * files,
            "salt": salt or "",
            "rule_names": [*RULES, *(f"filter_{i}" for i in range(len(policy.filters)))],
        }
        for i, col in enumerate(self.cats):
            self.params[f"known_{i}"] = contract.categories.get(col, [])
            self.params[f"known_lower_{i}"] = self.known_lower[col]
        for i, col in enumerate(self.nums):
            if col in self.ranged:
                low, high = contract.ranges[col]
                self.params[f"low_{i}"], self.params[f"high_{i}"] = float(low), float(high)
        for i, f in enumerate(policy.filters):
            if f.op not in ("is null", "is not null"):
                self.params[f"filter_{i}"] = f.value
        self.results: dict[int, CleanReport | BatchRejected] = {}
        self.created_work = False

    # -- helpers ---------------------------------------------------------------------------
    def action(self, column: str, default: str) -> str:
        """What a violation in ``column`` does: reject_row, reject_batch or warn."""
        return self.policy.on_violation.get(column, default)

    def query(self, sql: str) -> list[tuple]:
        """Run ``sql`` with the parameters it names; returns its rows."""
        return self.cur.execute(sql, sql_params(sql, self.params)).fetchall()

    def execute(self, sql: str) -> None:
        """Run ``sql`` with the parameters it names."""
        self.cur.execute(sql, sql_params(sql, self.params))

    def present_flag(self, col: str) -> str:
        """The helper column saying numeric ``col`` held text (after null tokens)."""
        return f"_p{self.contract.numeric.index(col)}"

    def outside(self, col: str, alias: str = "") -> str:
        """SQL: the typed number ``col`` lies outside the contract's range."""
        i, q = self.nums.index(col), f"{alias}{quote_ident(col)}"
        return f"({q} < $low_{i} OR {q} > $high_{i})"

    def raw_join(self, alias: str = "t") -> str:
        """SQL joining the staged raw rows ``s`` to typed rows ``alias`` of this table."""
        return (
            f"JOIN {self.staged.table} s ON s.rowid = {alias}._row - 1 + "
            f"list_extract($offsets, list_position($bids, {alias}._batch_id))"
        )

    def _ranged(self, col: str, alias: str = "") -> str:
        """``col`` after out-of-range values became missing."""
        q = f"{alias}{quote_ident(col)}"
        if col not in self.ranged:
            return q
        return f"CASE WHEN {self.outside(col, alias)} THEN NULL ELSE {q} END"

    def _imputed_value(self, col: str) -> str | None:
        if self.policy.missing.get(col, "keep") != "impute":
            return None
        c = self.contract
        value = c.medians.get(col) if col in self.nums else c.modes.get(col)
        if value is None:
            return None
        name = f"impute_{[*self.cats, *self.nums].index(col)}"
        self.params[name] = float(value) if col in self.nums else str(value)
        return f"${name}"

    def _final(self, col: str, alias: str = "") -> str:
        """``col`` as accepted: out-of-range values missing, missing values imputed."""
        value = self._imputed_value(col)
        ranged = self._ranged(col, alias)
        return f"coalesce({ranged}, {value})" if value else ranged

    def _rejects_missing(self, cols: list[str], alias: str = "") -> str:
        """SQL: one of ``cols`` (set to 'reject' when missing) is missing once ranged."""
        return " OR ".join(f"{self._ranged(col, alias)} IS NULL" for col in cols) or "false"

    @property
    def _reject_cols(self) -> list[str]:
        return [c for c in [*self.cats, *self.nums] if self.policy.missing.get(c) == "reject"]

    def _hashed(self) -> list[str]:
        if self.policy.pii_mode != "hash":
            return []
        return [col for col in self.contract.dropped if col in self.staged.columns]

    # -- run -------------------------------------------------------------------------------
    def run(self) -> dict[int, CleanReport | BatchRejected]:
        """Clean every batch into ``clean_work``; returns per batch its report, or why it was
        rejected (then nothing of that batch is staged)."""
        c = self.contract
        for required, key in ((c.entity_id, "entity_id"), (c.event_time, "event_time")):
            if required not in self.staged.columns:
                error = BatchRejected(
                    f"the file has no column {required!r} (setting dataset.{key}); "
                    "rename the column in the file or change the setting"
                )
                return {b.batch_id: error for b in self.staged.batches}
        active = []
        for b in self.staged.batches:
            if b.rows == 0:
                self.results[b.batch_id] = BatchRejected(no_rows_message(self.cur, self.staged, b))
            else:
                active.append(b)
                self.params["bids"][b.file], self.params["offsets"][b.file] = b.batch_id, b.offset
        if active:
            try:
                self._clean(active)
            finally:
                self.cur.execute("DROP TABLE IF EXISTS clean_spelling")
                self.cur.execute("DROP TABLE IF EXISTS clean_dups")
        return self.results

    def _set_unit(self, active: list[StagedBatch]) -> None:
        ids = [b.batch_id for b in active]
        self.params.update(unit=ids, first_bid=min(ids), last_bid=max(ids))

    def _clean(self, active: list[StagedBatch]) -> None:
        self._set_unit(active)
        self._spellings()
        self._typed()
        self._deduplicate()
        stats = self._stats()
        findings = self._check(active, stats)
        active = [b for b in active if b.batch_id not in self.results]
        if not active:
            if self.created_work:
                # As if never started: no batch of the run was cleaned (yet).
                self.cur.execute(f"DROP TABLE {WORK}")
            return
        self._set_unit(active)
        if self._reject_cols:
            self.execute(
                f"UPDATE {WORK} SET _rule = {rule('missing_value')} WHERE {unit()} "
                "AND _rule IS NULL AND (" + self._rejects_missing(self._reject_cols) + ")"
            )
        self._write_quarantine()
        self._finalise_values()
        if self.has_target:
            self.execute(
                f"INSERT INTO stage_labels SELECT {self.entity}, {self.time}, _period, _label, "
                f"_batch_id, _row FROM {WORK} WHERE {unit()} AND _rule IS NULL "
                "AND _label IS NOT NULL"
            )
        self._write_column_stats(active, stats)
        self._write_steps(active, stats)
        schema_check.stage_findings(self.cur, [findings[b.batch_id] for b in active])
        quarantined = quarantined_counts(self.cur, [b.batch_id for b in active])
        for b in active:
            s = stats[b.batch_id]
            self.results[b.batch_id] = CleanReport(
                s["parsed"] + b.malformed,
                s["kept"] - s["missing_rejected"],
                quarantined.get(b.batch_id, 0),
                s["valid"] - s["kept"],
                s["changed"],
                s["nulls"],
                s["outliers"],
                s["labels"],
                s["imputed"],
            )

    # -- steps -----------------------------------------------------------------------------
    def _spellings(self) -> None:
        """``clean_spelling``: per batch and categorical column, each raw spelling, its count,
        its canonical form and whether normalising changed it.

        The canonical form of a lower-case value is the contract's category, else the batch's
        most frequent spelling (ties: the one seen first).
        """
        if not self.cats:
            return
        raw = self.staged.table
        spelt = " UNION ALL ".join(
            f"SELECT _staged_file AS file, {i} AS c, CAST({quote_ident(col)} AS VARCHAR) AS raw, "
            f"count(*) AS n, min(rowid) AS first FROM {raw} WHERE {ACTIVE} GROUP BY ALL"
            for i, col in enumerate(self.cats)
        )
        known = " UNION ALL ".join(
            f"SELECT {i} AS c, unnest($known_{i}) AS v"
            for i, col in enumerate(self.cats)
            if self.known_lower[col]
        )
        self.execute(
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

    def _ensure_work(self) -> None:
        """``clean_work`` with the columns these batches fill: ``stage_clean``'s first (as the
        first batches have them), helper columns after; columns a later table adds go last."""
        q = quote_ident
        columns = [
            (self.entity, "VARCHAR"),
            (self.time, "TIMESTAMP"),
            ("_period", "DATE"),
            ("_batch_id", "BIGINT"),
            *[(q(col), "VARCHAR") for col in self.cats],
            *[(q(col), "DOUBLE") for col in self.nums],
            *[(q(col), "VARCHAR") for col in self._hashed()],
            ("_row", "UINTEGER"),
            ("_rule", "USMALLINT"),
            ("_iso", "BOOLEAN"),
            ("_changed", "BOOLEAN"),
            *[(self.present_flag(col), "BOOLEAN") for col in self.nums],
        ]
        if self.has_target:
            columns += [("_target_text", "VARCHAR"), ("_label", "INTEGER")]
        self.created_work = not temp_exists(self.cur, WORK)
        if self.created_work:
            self.cur.execute(
                f"CREATE TEMP TABLE {WORK} ({', '.join(f'{n} {t}' for n, t in columns)})"
            )
            return
        have = {r[0] for r in self.cur.execute(f"DESCRIBE {WORK}").fetchall()}
        for name, kind in columns:
            if name.strip('"') not in have:
                self.cur.execute(f"ALTER TABLE {WORK} ADD COLUMN {name} {kind}")

    def _typed(self) -> None:
        """Each parsed row normalised and typed into ``clean_work``, with the first rule it
        breaks (``_rule``; the precedence is the order below)."""
        c, q = self.contract, quote_ident
        self._ensure_work()
        inner = [
            "r._staged_file",
            "r.rowid - list_extract($offsets, r._staged_file + 1) + 1 AS _row",
            f"CAST({clean_text_sql('r.' + self.entity)} AS VARCHAR) AS _entity",
            f"{clean_text_sql('r.' + self.time)} AS _event_text",
        ]
        joins = []
        for i, col in enumerate(self.cats):
            inner += [f"m{i}.canonical AS {q(col)}", f"coalesce(m{i}.changed, false) AS _c{i}"]
            joins.append(
                f"LEFT JOIN clean_spelling m{i} ON m{i}.c = {i} AND m{i}.file = r._staged_file "
                f"AND m{i}.raw = CAST(r.{q(col)} AS VARCHAR)"
            )
        for i, col in enumerate(self.nums):
            inner += [
                f"{clean_text_sql('r.' + q(col))} AS _t{i}",
                f"CAST(r.{q(col)} AS VARCHAR) AS _r{i}",
            ]
        hashed = self._hashed()
        inner += [
            f"sha256($salt || coalesce(CAST(r.{q(col)} AS VARCHAR), '')) AS {q(col)}"
            for col in hashed
        ]
        if self.has_target:
            inner.append(f"lower({clean_text_sql('r.' + q(c.target))}) AS _target_text")
        # Thousands separators are removed only from the few values that need it.
        number = {
            col: f"coalesce(TRY_CAST(_t{i} AS DOUBLE), TRY_CAST(replace(_t{i}, ',', '') AS DOUBLE))"
            for i, col in enumerate(self.nums)
        }
        event_time = event_time_sql("_event_text")
        rules = [
            ("_entity IS NULL OR _event_text IS NULL", "missing_key"),
            (f"{event_time} IS NULL", "invalid_time"),
        ]
        for i, col in enumerate(self.cats):
            if self.action(col, "warn") == "reject_row" and self.known_lower[col]:
                rules.append(
                    (
                        f"{q(col)} IS NOT NULL AND NOT list_contains($known_lower_{i}, "
                        f"lower({q(col)}))",
                        "unseen_category",
                    )
                )
        for i, col in enumerate(self.nums):
            if self.action(col, "reject_row") == "reject_row":
                rules.append((f"_t{i} IS NOT NULL AND {number[col]} IS NULL", "invalid_number"))
            if col in self.ranged and self.action(col, "warn") == "reject_row":
                rules.append(
                    (f"{number[col]} < $low_{i} OR {number[col]} > $high_{i}", "out_of_range")
                )
        for i, f in enumerate(self.policy.filters):
            if f.column in self.cats or f.column in self.nums:
                target = number[f.column] if f.column in self.nums else q(f.column)
                rules.append((f"NOT coalesce({_filter_sql(f, i, target)}, false)", f"filter_{i}"))
        changed = [f"_c{i}" for i in range(len(self.cats))] + [
            f"(_r{i} IS NOT NULL AND _t{i} IS DISTINCT FROM _r{i})" for i in range(len(self.nums))
        ]
        outer = [
            f"_entity AS {self.entity}",
            f"{event_time} AS {self.time}",
            f"CAST(date_trunc('month', {event_time}) AS DATE) AS _period",
            "list_extract($bids, _staged_file + 1) AS _batch_id",
            *[q(col) for col in self.cats],
            *[f"{number[col]} AS {q(col)}" for col in self.nums],
            *[q(col) for col in hashed],
            "_row",
            "TRY_CAST(_event_text AS TIMESTAMP) IS NOT NULL AS _iso",
            f"{' OR '.join(changed) or 'false'} AS _changed",
            *[f"_t{i} IS NOT NULL AS {self.present_flag(col)}" for i, col in enumerate(self.nums)],
        ]
        if self.has_target:
            outer += [
                "_target_text",
                "CASE WHEN list_contains($t, _target_text) THEN 1 "
                "WHEN list_contains($f, _target_text) THEN 0 END AS _label",
            ]
        case = " ".join(f"WHEN {cond} THEN {rule(name)}" for cond, name in rules)
        self.execute(
            f"INSERT INTO {WORK} BY NAME SELECT {', '.join(outer)}, CASE {case} END AS _rule "
            f"FROM (SELECT {', '.join(inner)} FROM {self.staged.table} r {' '.join(joins)} "
            f"WHERE {ACTIVE.replace('_staged_file', 'r._staged_file')})"
        )

    def _check(
        self, active: list[StagedBatch], counts: dict[int, dict]
    ) -> dict[int, schema_check.Findings]:
        """Each batch's findings; a batch whose policy says reject_batch is rejected here (and
        its rows dropped)."""
        stats = schema_check.measure_values(self, counts)
        findings = {}
        for b in active:
            found = schema_check.Findings(b.batch_id)
            try:
                schema_check.compare_columns(found, self.staged.columns, self.contract)
                schema_check.check_values(found, stats[b.batch_id], self)
            except BatchRejected as error:
                self.results[b.batch_id] = error
                continue
            findings[b.batch_id] = found
        rejected = [b.batch_id for b in active if b.batch_id in self.results]
        if rejected:
            self.cur.execute(
                f"DELETE FROM {WORK} WHERE list_contains($ids, _batch_id)", {"ids": rejected}
            )
        return findings

    def _deduplicate(self) -> None:
        """Mark exact copies (the first stays) and earlier rows of a repeated key.

        Only rows whose entity id and event time repeat can be either, so the windows run on
        those few (found by a hash of the key: a collision only adds a candidate). Rows that are
        not exact copies compete for their key, so a row and its copy never knock each other
        out; the last copy's position decides "latest".
        """
        e, t = self.entity, self.time
        part = ", ".join(
            ["_batch_id", e, t, *[quote_ident(c) for c in [*self.cats, *self.nums]]]
            + (["_target_text"] if self.has_target else [])
        )
        self.execute(
            "CREATE OR REPLACE TEMP TABLE clean_dups AS "
            f"WITH keys AS (SELECT _batch_id, hash({e}, {t}) AS h FROM {WORK} WHERE {unit()} "
            "AND _rule IS NULL GROUP BY ALL HAVING count(*) > 1), "
            f"candidates AS (SELECT w.* FROM {WORK} w SEMI JOIN keys k ON w._batch_id = "
            f"k._batch_id AND hash(w.{e}, w.{t}) = k.h WHERE {unit('w.')} AND w._rule IS NULL), "
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
        self.execute(
            f"UPDATE {WORK} SET _rule = d.rule FROM clean_dups d WHERE {unit(WORK + '.')} AND "
            f"{WORK}._batch_id = d._batch_id AND {WORK}._row = d._row"
        )

    def _stats(self) -> dict[int, dict]:
        """Per batch, the counts every later step, report and statistic needs, in one pass
        (after de-duplication, before rows missing a 'reject' value are set aside).

        Rows are grouped by batch and rule, so the counts among the kept rows (no rule) need
        no filter of their own; the groups are added up here.
        """
        rejected = self._rejects_missing(self._reject_cols)
        features = [*self.cats, *self.nums]
        # Counted in every group and added up: over all parsed rows, or (in the group of kept
        # rows, _rule NULL) over the kept ones.
        aggs = {"rows": "count(*)", "changed": "count(*) FILTER (WHERE _changed)"}
        for col in features:
            aggs[f"values {col}"] = f"count({quote_ident(col)})"
            if col in self.ranged:
                aggs[f"out {col}"] = f"count(*) FILTER (WHERE {self.outside(col)})"
                aggs[f"worst {col}"] = (
                    f"list(DISTINCT {quote_ident(col)}) FILTER (WHERE {self.outside(col)})"
                )
        for col in self.nums:
            flag = self.present_flag(col)
            aggs[f"text {col}"] = f"count(*) FILTER (WHERE {flag})"
            aggs[f"bad {col}"] = f"count(*) FILTER (WHERE {flag} AND {quote_ident(col)} IS NULL)"
        aggs["iso dates"] = "count(*) FILTER (WHERE _iso)"
        aggs["other dates"] = f"count(*) FILTER (WHERE NOT _iso AND {self.time} IS NOT NULL)"
        # Only read from the group of kept rows.
        kept_only = []
        if self._reject_cols:
            kept_only.append("missing_rejected")
            aggs["missing_rejected"] = f"count(*) FILTER (WHERE {rejected})"
        if self.has_target:
            kept_only.append("labels")
            aggs["labels"] = f"count(*) FILTER (WHERE NOT ({rejected}) AND _label IS NOT NULL)"
        imputed = []
        for pos, col in enumerate(features):
            if self._reject_cols or self._imputed_value(col):
                kept_only.append(f"final null {col}")
                aggs[f"final null {col}"] = (
                    f"count(*) FILTER (WHERE NOT ({rejected}) AND {self._final(col)} IS NULL)"
                )
            if self._imputed_value(col):
                # As the old step counted it: the rows missing it once rows missing a value of
                # an earlier 'reject' column were set aside.
                earlier = [r for r in self._reject_cols if features.index(r) < pos]
                kept_only.append(f"imputed {col}")
                imputed.append(f"imputed {col}")
                aggs[f"imputed {col}"] = (
                    f"count(*) FILTER (WHERE {self._ranged(col)} IS NULL AND NOT "
                    f"({self._rejects_missing(earlier)}))"
                )
        names = list(aggs)
        rows = self.query(
            f"SELECT _batch_id, _rule, {', '.join(aggs.values())} FROM {WORK} WHERE {unit()} "
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
                    if col in self.ranged:
                        s[f"kept out {col}"] = group[f"out {col}"]
            if code is None or code in duplicates:
                s["valid"] += group["rows"]
            if code is not None and code > len(RULES):
                s["filtered"] += group["rows"]
            for name in ("changed", "iso dates", "other dates"):
                s[name] = s.get(name, 0) + group[name]
            for col in self.nums:
                for name in (f"text {col}", f"bad {col}"):
                    s[name] = s.get(name, 0) + group[name]
            for col in self.ranged:
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
            s["outliers"] = sum(s[f"kept out {c}"] for c in self.ranged)
            # Missing once cleaned: as received or out of range (unless imputed, or the row was
            # set aside for a missing value; such columns are counted in the statement).
            s["nulls"] = sum(s[f"final null {c}"] for c in features)
            s["imputed"] = sum(s[name] for name in imputed)
        return stats

    def _finalise_values(self) -> None:
        """Accepted rows lose out-of-range values and get imputed ones, in place (few rows)."""
        cols = [c for c in [*self.cats, *self.nums] if c in self.ranged or self._imputed_value(c)]
        if not cols:
            return
        sets = ", ".join(f"{quote_ident(c)} = {self._final(c)}" for c in cols)
        needed = " OR ".join(
            self.outside(c)
            if c in self.ranged and not self._imputed_value(c)
            else f"{self._final(c)} IS DISTINCT FROM {quote_ident(c)}"
            for c in cols
        )
        self.execute(f"UPDATE {WORK} SET {sets} WHERE {unit()} AND _rule IS NULL AND ({needed})")

    # -- outputs ---------------------------------------------------------------------------
    def _write_quarantine(self) -> None:
        """Every set-aside row into ``stage_quarantine`` with its rule, a reason for people
        and a record of its allow-listed raw values."""
        c, q, raw = self.contract, quote_ident, self.staged.table
        quarantine_malformed(self.cur, self.staged, self.params)
        text = {col: clean_text_sql(f"s.{q(col)}") for col in [*self.nums, c.event_time]}
        bad_numbers = _offenders(
            [
                (col, f"t.{self.present_flag(col)} AND t.{q(col)} IS NULL", text[col])
                for col in self.nums
            ]
        )
        unseen = _offenders(
            [
                (
                    col,
                    f"t.{q(col)} IS NOT NULL AND NOT list_contains($known_lower_{i}, "
                    f"lower(t.{q(col)}))",
                    f"t.{q(col)}",
                )
                for i, col in enumerate(self.cats)
                if self.known_lower[col]
            ]
        )
        outside = _offenders(
            [
                (col, f"t.{q(col)} NOT BETWEEN $low_{i} AND $high_{i}", text[col])
                for i, col in enumerate(self.nums)
                if col in self.ranged
            ]
        )
        self.params.update(
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
        for i, f in enumerate(self.policy.filters):
            self.params[f"filter_reason_{i}"] = (
                f"filtered out by cleaning.filters: {f.describe()} does not hold for this row"
            )
            reasons[f"filter_{i}"] = f"$filter_reason_{i}"
        if self._reject_cols:
            missing = []
            for i, col in enumerate(self._reject_cols):
                self.params[f"missing_reason_{i}"] = (
                    f"{col} is missing and cleaning.missing.{col} = 'reject'"
                )
                missing.append(f"WHEN {self._ranged(col, 't.')} IS NULL THEN $missing_reason_{i}")
            reasons["missing_value"] = f"CASE {' '.join(missing)} END"
        case = " ".join(f"WHEN {rule(name)} THEN {sql}" for name, sql in reasons.items())
        # Rows set aside for a missing value carry no record (as ever).
        record = (
            f"CASE WHEN t._rule = {rule('missing_value')} THEN NULL ELSE "
            f"{_record_expr(self.cur, c, raw)} "
            "END"
        )
        self.execute(
            "INSERT INTO stage_quarantine SELECT t._batch_id, t._row, "
            "list_extract($rule_names, t._rule), "
            f"CASE t._rule {case} END, {record} FROM (SELECT * FROM {WORK} WHERE {unit()} "
            f"AND _rule IS NOT NULL) t {self.raw_join()}"
        )

    def _write_column_stats(self, active: list[StagedBatch], stats: dict) -> None:
        c = self.contract
        self.cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_column_stats (batch_id BIGINT, "
            "column_name VARCHAR, rows BIGINT, missing BIGINT, imputed BIGINT, outliers BIGINT)"
        )
        rows = []
        for b in active:
            s = stats[b.batch_id]
            accepted = s["kept"] - s["missing_rejected"]
            for col in [*c.categorical, *c.numeric]:
                if col not in self.staged.columns:
                    rows.append([b.batch_id, col, accepted, accepted, 0, 0])
                    continue
                # Missing as received, among the rows that were kept (before any imputation).
                missing = s[f"null {col}"]
                imputed = missing if self.policy.missing.get(col) == "impute" else 0
                rows.append([b.batch_id, col, s["kept"], missing, imputed, s[f"kept out {col}"]])
        _insert(self.cur, "stage_column_stats", rows)

    def _write_steps(self, active: list[StagedBatch], stats: dict) -> None:
        c = self.contract
        self.cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_clean_steps (batch_id BIGINT, position "
            "INTEGER, step VARCHAR, rows_in BIGINT, rows_out BIGINT, rows_changed BIGINT)"
        )
        hashed = self._hashed()
        dropped = [col for col in c.dropped if col in self.staged.columns and col not in hashed]
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
        _insert(self.cur, "stage_clean_steps", rows)


def finish_clean(cur: duckdb.DuckDBPyConnection) -> None:
    """Turn the rows cleaned so far into TEMP ``stage_clean``: the accepted rows, without the
    helper columns."""
    if not temp_exists(cur, WORK):
        return
    cur.execute(f"DELETE FROM {WORK} WHERE _rule IS NOT NULL")
    for (col,) in cur.execute(f"SELECT column_name FROM (DESCRIBE {WORK})").fetchall():
        if col in HELPERS or (col.startswith("_p") and col[2:].isdigit()):
            cur.execute(f"ALTER TABLE {WORK} DROP COLUMN {col}")
    if temp_exists(cur, "stage_clean"):
        cur.execute(f"INSERT INTO stage_clean BY NAME SELECT * FROM {WORK}")
        cur.execute(f"DROP TABLE {WORK}")
    else:
        cur.execute(f"ALTER TABLE {WORK} RENAME TO stage_clean")


def clean_data_batches(
    cur: duckdb.DuckDBPyConnection,
    staged: Staged,
    contract: Contract,
    policy: CleaningSettings | None = None,
    salt: str | None = None,
) -> dict[int, CleanReport | BatchRejected]:
    """Clean every batch of ``staged``; rejected rows go to ``stage_quarantine``. Returns per
    batch its report, or why it was rejected. Call :func:`finish_clean` after the last
    staged table to get the accepted rows in TEMP ``stage_clean``."""
    return BatchCleaner(cur, staged, contract, policy or CleaningSettings(), salt).run()


def clean_data_batch(
    cur: duckdb.DuckDBPyConnection,
    batch_id: int,
    columns: list[str],
    contract: Contract,
    policy: CleaningSettings | None = None,
    salt: str | None = None,
) -> CleanReport:
    """Clean ``stage_raw`` into TEMP ``stage_clean``; rejected rows go to ``stage_quarantine``."""
    staged = staged_single(cur, batch_id, columns)
    result = clean_data_batches(cur, staged, contract, policy, salt)[batch_id]
    finish_clean(cur)
    if isinstance(result, BatchRejected):
        raise result
    return result


def _insert(cur: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    if rows:
        marks = "(" + ", ".join("?" * len(rows[0])) + ")"
        cur.execute(
            f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(rows)),
            [v for row in rows for v in row],
        )


def _filter_sql(f, i: int, q: str) -> str:
    """SQL for one declarative row filter on the expression ``q``; values stay parameters."""
    if f.op == "is null":
        return f"{q} IS NULL"
    if f.op == "is not null":
        return f"{q} IS NOT NULL"
    if f.op in ("in", "not in"):
        return f"{q} {f.op.upper()} (SELECT unnest($filter_{i}))"
    return f"{q} {f.op} $filter_{i}"
