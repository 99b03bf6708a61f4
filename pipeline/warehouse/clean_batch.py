"""Clean one staged data batch in SQL, step by step, reporting what each step did.

Steps, in order: parse (malformed lines), normalise text, type and validate (quarantine rules
and contract policy), de-duplicate, ranges (out-of-range values), missing values, row filters,
and select (PII dropped or hashed). Each step records rows in, rows out and rows changed in
TEMP ``stage_clean_steps``; every contract finding is written in words to TEMP
``stage_schema_changes``. Identifiers come only from the contract and the file header after
:func:`quote_ident`; values are bound parameters.
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
    _append_stage_clean,
    _canonical_map,
    _clean_text,
    _parsed_rows,
    _quarantine_malformed,
    _quarantine_rules,
    _quarantined,
    _stage_labels,
)
from pipeline.warehouse.connection import quote_ident


def _number(col: str) -> str:
    """SQL parsing a normalised text column as a number, thousands separators removed."""
    return f"TRY_CAST(replace({quote_ident('_txt_' + col)}, ',', '') AS DOUBLE)"


def event_time_sql(text: str) -> str:
    """SQL for an event time: ISO first, then the common day-first and other formats."""
    return f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, $formats))"


@dataclass
class _Step:
    name: str
    rows_in: int
    rows_out: int
    changed: int


class BatchCleaner:
    """Cleans ``stage_raw`` (one batch) into ``stage_clean`` on the run's cursor."""

    def __init__(
        self,
        cur: duckdb.DuckDBPyConnection,
        batch_id: int,
        columns: list[str],
        contract: Contract,
        policy: CleaningSettings,
        salt: str | None = None,
    ):
        self.cur, self.batch_id, self.contract, self.policy = cur, batch_id, contract, policy
        self.salt = salt
        present = set(columns)
        self.columns = columns
        self.cats = [c for c in contract.categorical if c in present]
        self.nums = [c for c in contract.numeric if c in present]
        self.has_target = contract.target in present
        self.steps: list[_Step] = []
        self.findings = schema_check.Findings(batch_id)

    def action(self, column: str, default: str) -> str:
        """What a violation in ``column`` does: reject_row, reject_batch or warn."""
        return self.policy.on_violation.get(column, default)

    def _count(self, table: str, where: str = "true") -> int:
        return self.cur.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]

    def _record(self, name: str, rows_in: int, rows_out: int, changed: int) -> None:
        self.steps.append(_Step(name, rows_in, rows_out, changed))

    def run(self) -> CleanReport:
        """Run every step; returns the batch's report."""
        cur, c = self.cur, self.contract
        for required, key in ((c.entity_id, "entity_id"), (c.event_time, "event_time")):
            if required not in self.columns:
                raise BatchRejected(
                    f"the file has no column {required!r} (setting dataset.{key}); "
                    "rename the column in the file or change the setting"
                )
        parsed = _parsed_rows(cur)
        malformed = _quarantine_malformed(cur, self.batch_id)
        rows_in = parsed + malformed
        self._record("parse", rows_in, parsed, 0)
        schema_check.compare_columns(self.findings, self.columns, c)
        text_normalised = self._normalise(parsed)
        self._type_and_validate(parsed)
        duplicates = self._deduplicate()
        outliers = self._ranges()
        imputed = self._missing()
        self._filters()
        accepted = self._select()
        labels = 0
        if self.has_target:
            labels = _stage_labels(cur, self.batch_id, "FROM stage_final WHERE _label IS NOT NULL")
        _append_stage_clean(cur)
        self._write_column_stats()
        self._write_steps()
        self.findings.stage(cur)
        quarantined = _quarantined(cur, self.batch_id)
        nulls = self._missing_total()
        return CleanReport(
            rows_in,
            accepted,
            quarantined,
            duplicates,
            text_normalised,
            nulls,
            outliers,
            labels,
            imputed,
        )

    # -- steps -----------------------------------------------------------------------------
    def _normalise(self, parsed: int) -> int:
        cur, c = self.cur, self.contract
        selects = [
            f"CAST({_clean_text(c.entity_id)} AS VARCHAR) AS entity",
            f"{_clean_text(c.event_time)} AS event_text",
            "_row",
        ]
        for i, col in enumerate(self.cats):
            _canonical_map(cur, col, c.categories.get(col, []))
            cur.execute(f"CREATE OR REPLACE TEMP TABLE canon_{i} AS SELECT * FROM canon")
            selects.append(
                f"(SELECT canonical FROM canon_{i} WHERE k = lower({_clean_text(col)})) "
                f"AS {quote_ident(col)}"
            )
        selects += [f"{_clean_text(n)} AS {quote_ident('_txt_' + n)}" for n in self.nums]
        if self.has_target:
            selects.append(f"lower({_clean_text(c.target)}) AS _target_text")
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE stage_norm AS SELECT {', '.join(selects)} "
            "FROM stage_raw",
            {"tokens": NULL_TOKENS},
        )
        differs = [
            f"(s.{quote_ident(col)} IS NOT NULL AND n.{quote_ident(col)} IS DISTINCT FROM "
            f"CAST(s.{quote_ident(col)} AS VARCHAR))"
            for col in self.cats
        ] + [
            f"(s.{quote_ident(col)} IS NOT NULL AND n.{quote_ident('_txt_' + col)} "
            f"IS DISTINCT FROM CAST(s.{quote_ident(col)} AS VARCHAR))"
            for col in self.nums
        ]
        changed = self._count(
            "stage_norm n JOIN stage_raw s USING (_row)", " OR ".join(differs) or "false"
        )
        self._record("normalise text", parsed, parsed, changed)
        return changed

    def _type_and_validate(self, parsed: int) -> None:
        cur, c = self.cur, self.contract
        schema_check.check_values(self.findings, cur, self)
        rules = [
            ("entity IS NULL OR event_text IS NULL", "missing_key"),
            (f"{event_time_sql('event_text')} IS NULL", "invalid_time"),
        ]
        typed = [
            "entity",
            f"{event_time_sql('event_text')} AS event_time",
            "event_text",
            "_row",
        ]
        for col in self.cats:
            typed.append(quote_ident(col))
            act = self.action(col, "warn")
            known = [v.lower() for v in c.categories.get(col, [])]
            if act == "reject_row" and known:
                rules.append(
                    (
                        f"{quote_ident(col)} IS NOT NULL AND lower({quote_ident(col)}) NOT IN "
                        f"(SELECT unnest({_list_literal(known)}))",
                        "unseen_category",
                    )
                )
        for col in self.nums:
            bad = f"({quote_ident('_txt_' + col)} IS NOT NULL AND {_number(col)} IS NULL)"
            if self.action(col, "reject_row") == "reject_row":
                rules.append((bad, "invalid_number"))
            typed.append(f"{_number(col)} AS {quote_ident(col)}")
            low, high = c.ranges.get(col, [None, None])
            if low is not None and self.action(col, "warn") == "reject_row":
                rules.append(
                    (
                        f"{_number(col)} < {float(low)!r} OR {_number(col)} > {float(high)!r}",
                        "out_of_range",
                    )
                )
        used_filters = {}
        for i, f in enumerate(self.policy.filters):
            if f.column in self.cats or f.column in self.nums:
                target = _number(f.column) if f.column in self.nums else quote_ident(f.column)
                rules.append((f"NOT coalesce({_filter_sql(f, i, target)}, false)", f"filter_{i}"))
                used_filters[i] = f
        if self.has_target:
            typed += [
                "CASE WHEN _target_text IN (SELECT unnest($t)) THEN 1 "
                "WHEN _target_text IN (SELECT unnest($f)) THEN 0 END AS _label",
                "_target_text",
            ]
        case = " ".join(f"WHEN {cond} THEN '{rule}'" for cond, rule in rules)
        params: dict = {"formats": DATE_FORMATS, "t": TRUE_LABELS, "f": FALSE_LABELS}
        params.update(_filter_params(used_filters))
        if not self.has_target:
            params.pop("t"), params.pop("f")
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE stage_typed AS SELECT {', '.join(typed)}, "
            f"CASE {case} END AS _rule FROM stage_norm",
            params,
        )
        valid = self._count("stage_typed", "_rule IS NULL")
        self._record("type and validate", parsed, valid, parsed - valid)

    def _deduplicate(self) -> int:
        cur = self.cur
        dup_cols = ", ".join(
            ["entity", "event_time", *[quote_ident(col) for col in [*self.cats, *self.nums]]]
            + (["_target_text"] if self.has_target else [])
        )
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE stage_exact AS SELECT *, "
            f"row_number() OVER (PARTITION BY {dup_cols} ORDER BY _row) AS _exact_rank, "
            f"max(_row) OVER (PARTITION BY {dup_cols}) AS _last_copy "
            "FROM stage_typed WHERE _rule IS NULL"
        )
        # Only rows that are not exact copies compete for their key, so a row and its copy
        # never knock each other out; the last copy's position decides "latest".
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE stage_ranked AS SELECT *, CASE WHEN _exact_rank = 1 "
            "THEN row_number() OVER (PARTITION BY entity, event_time, _exact_rank = 1 "
            "ORDER BY _last_copy DESC) ELSE 1 END AS _key_rank FROM stage_exact"
        )
        _quarantine_rules(cur, self.batch_id, self.contract, self.nums, self.policy.filters)
        before = self._count("stage_ranked")
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE stage_kept AS SELECT * EXCLUDE (_exact_rank, "
            "_last_copy, _key_rank) FROM stage_ranked WHERE _exact_rank = 1 AND _key_rank = 1"
        )
        after = self._count("stage_kept")
        self._record("de-duplicate", before, after, before - after)
        return before - after

    def _ranges(self) -> int:
        cur, c = self.cur, self.contract
        rows = self._count("stage_kept")
        terms, replace = [], []
        for col in self.nums:
            low, high = c.ranges.get(col, [None, None])
            if low is None:
                continue
            q = quote_ident(col)
            outside = f"({q} < {float(low)!r} OR {q} > {float(high)!r})"
            terms.append(f"CAST({outside} AS INTEGER)")
            replace.append(f"CASE WHEN {outside} THEN NULL ELSE {q} END AS {q}")
        changed = 0
        if terms:
            changed = cur.execute(
                f"SELECT coalesce(sum({' + '.join(terms)}), 0) FROM stage_kept"
            ).fetchone()[0]
            cur.execute(
                "CREATE OR REPLACE TEMP TABLE stage_kept AS SELECT * REPLACE ("
                + ", ".join(replace)
                + ") FROM stage_kept"
            )
        self._record("out-of-range values to missing", rows, rows, changed)
        return changed

    def _missing(self) -> int:
        cur, c = self.cur, self.contract
        rows = self._count("stage_kept")
        fills, imputed = [], 0
        for col in [*self.cats, *self.nums]:
            how = self.policy.missing.get(col, "keep")
            q = quote_ident(col)
            if how == "impute":
                value = c.medians.get(col) if col in self.nums else c.modes.get(col)
                if value is None:
                    continue
                imputed += self._count("stage_kept", f"{q} IS NULL")
                literal = repr(float(value)) if col in self.nums else _string_literal(str(value))
                fills.append(f"coalesce({q}, {literal}) AS {q}")
            elif how == "reject":
                cur.execute(
                    "INSERT INTO stage_quarantine SELECT ?, _row, 'missing_value', ?, NULL "
                    f"FROM stage_kept WHERE {q} IS NULL",
                    [self.batch_id, f"{col} is missing and cleaning.missing.{col} = 'reject'"],
                )
                cur.execute(f"DELETE FROM stage_kept WHERE {q} IS NULL")
        if fills:
            cur.execute(
                "CREATE OR REPLACE TEMP TABLE stage_kept AS SELECT * REPLACE ("
                + ", ".join(fills)
                + ") FROM stage_kept"
            )
        after = self._count("stage_kept")
        self._record("missing values", rows, after, imputed + rows - after)
        self.imputed = imputed
        return imputed

    def _filters(self) -> None:
        rows = self._count("stage_kept")
        # Filters already sent failing rows to quarantine while validating; count them here.
        filtered = self.cur.execute(
            "SELECT count(*) FROM stage_quarantine WHERE batch_id = ? AND rule LIKE 'filter_%'",
            [self.batch_id],
        ).fetchone()[0]
        self._record("row filters", rows + filtered, rows, filtered)

    def _select(self) -> int:
        cur, c = self.cur, self.contract
        hashed = [
            col for col in c.dropped if col in self.columns and self.policy.pii_mode == "hash"
        ]
        hash_sql = "".join(
            f", sha256($salt || coalesce(CAST(s.{quote_ident(col)} AS VARCHAR), '')) "
            f"AS {quote_ident(col)}"
            for col in hashed
        )
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE stage_final AS SELECT k.*"
            + (f"{hash_sql} " if hashed else " ")
            + "FROM stage_kept k"
            + (" JOIN stage_raw s USING (_row)" if hashed else ""),
            {"salt": self.salt or ""} if hashed else {},
        )
        select = [
            f"entity AS {quote_ident(c.entity_id)}",
            f"event_time AS {quote_ident(c.event_time)}",
            "CAST(date_trunc('month', event_time) AS DATE) AS _period",
            "CAST(? AS BIGINT) AS _batch_id",
            *[quote_ident(col) for col in [*self.cats, *self.nums, *hashed]],
        ]
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE stage_batch AS SELECT {', '.join(select)} "
            "FROM stage_final",
            [self.batch_id],
        )
        accepted = self._count("stage_batch")
        dropped = [col for col in c.dropped if col in self.columns and col not in hashed]
        self._record(
            f"select columns ({len(dropped)} PII dropped, {len(hashed)} hashed)",
            accepted,
            accepted,
            0,
        )
        return accepted

    # -- statistics ------------------------------------------------------------------------
    def _missing_total(self) -> int:
        cols = [*self.cats, *self.nums]
        if not cols:
            return 0
        return self.cur.execute(
            "SELECT "
            + " + ".join(f"count(*) - count({quote_ident(col)})" for col in cols)
            + " FROM stage_batch"
        ).fetchone()[0]

    def _write_column_stats(self) -> None:
        cur, c = self.cur, self.contract
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_column_stats (batch_id BIGINT, "
            "column_name VARCHAR, rows BIGINT, missing BIGINT, imputed BIGINT, outliers BIGINT)"
        )
        for col in [*c.categorical, *c.numeric]:
            if col not in self.columns:
                rows = self._count("stage_batch")
                cur.execute(
                    "INSERT INTO stage_column_stats VALUES (?, ?, ?, ?, 0, 0)",
                    [self.batch_id, col, rows, rows],
                )
                continue
            q = quote_ident(col)
            imputed = outliers = 0
            if col in self.nums:
                low, high = c.ranges.get(col, [None, None])
                if low is not None:
                    outliers = self._count(
                        "stage_ranked",
                        f"_exact_rank = 1 AND _key_rank = 1 AND "
                        f"({q} < {float(low)!r} OR {q} > {float(high)!r})",
                    )
            if self.policy.missing.get(col) == "impute":
                imputed = self._count(
                    "stage_ranked", f"_exact_rank = 1 AND _key_rank = 1 AND {q} IS NULL"
                )
            # Missing as received, among the rows that were kept (before any imputation).
            cur.execute(
                "INSERT INTO stage_column_stats SELECT ?, ?, count(*), count(*) - count("
                + q
                + "), ?, ? FROM stage_ranked WHERE _exact_rank = 1 AND _key_rank = 1",
                [self.batch_id, col, imputed, outliers],
            )

    def _write_steps(self) -> None:
        cur = self.cur
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_clean_steps (batch_id BIGINT, position "
            "INTEGER, step VARCHAR, rows_in BIGINT, rows_out BIGINT, rows_changed BIGINT)"
        )
        for i, s in enumerate(self.steps, start=1):
            cur.execute(
                "INSERT INTO stage_clean_steps VALUES (?, ?, ?, ?, ?, ?)",
                [self.batch_id, i, s.name, s.rows_in, s.rows_out, s.changed],
            )


def clean_data_batch(
    cur: duckdb.DuckDBPyConnection,
    batch_id: int,
    columns: list[str],
    contract: Contract,
    policy: CleaningSettings | None = None,
    salt: str | None = None,
) -> CleanReport:
    """Clean ``stage_raw`` into TEMP ``stage_clean``; rejected rows go to ``stage_quarantine``."""
    return BatchCleaner(cur, batch_id, columns, contract, policy or CleaningSettings(), salt).run()


def _list_literal(values: list[str]) -> str:
    return "[" + ", ".join(_string_literal(v) for v in values) + "]"


def _string_literal(value: str) -> str:
    """A SQL string literal of contract-derived text, quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _filter_sql(f, i: int, q: str) -> str:
    """SQL for one declarative row filter on the expression ``q``; values stay parameters."""
    if f.op == "is null":
        return f"{q} IS NULL"
    if f.op == "is not null":
        return f"{q} IS NOT NULL"
    if f.op in ("in", "not in"):
        return f"{q} {f.op.upper()} (SELECT unnest($filter_{i}))"
    return f"{q} {f.op} $filter_{i}"


def _filter_params(filters: dict) -> dict:
    return {
        f"filter_{i}": f.value for i, f in filters.items() if f.op not in ("is null", "is not null")
    }
