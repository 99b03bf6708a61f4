"""Clean staged data batches in SQL, every batch of a staged table at once, step by step.

Steps, per batch: parse (malformed lines), normalise text, type and validate (quarantine rules
and contract policy), de-duplicate, ranges (out-of-range values), missing values, row filters,
and select (PII dropped or hashed). Each step records rows in, rows out and rows changed in
TEMP ``stage_clean_steps``; every contract finding is written in words to TEMP
``stage_schema_changes``. Identifiers come only from the contract and the file header after
:func:`quote_ident`; values are bound parameters.

The work is set-based: a staged table (:class:`~pipeline.warehouse.clean_common.Staged`) holds
one or more batches, and each statement handles all of them, so many small files cost one set
of statements that can use every core. Each parsed row is typed once, straight into TEMP
``clean_work`` (:mod:`~pipeline.warehouse.clean_typed`): the columns of ``stage_clean`` plus
helper columns (``_row``, the first rule the row breaks ``_rule``, ...). Later steps mark rows
(``_rule``) or fix a few values in place (:mod:`~pipeline.warehouse.clean_marks`,
:mod:`~pipeline.warehouse.clean_outputs`); :func:`finish_clean` then drops the marked rows and
the helper columns and renames the table to ``stage_clean``, so accepted rows are never copied.
Raw rows are read again only for quarantined rows.
"""

from __future__ import annotations

import duckdb

from pipeline.contract import Contract
from pipeline.settings import CleaningSettings
from pipeline.warehouse import clean_marks, clean_outputs, clean_typed, schema_check
from pipeline.warehouse.clean_common import (
    DATE_FORMATS,
    FALSE_LABELS,
    NULL_TOKENS,
    TRUE_LABELS,
    BatchRejected,
    CleanReport,
    Staged,
    StagedBatch,
    no_rows_message,
    quarantined_counts,
    sql_params,
    temp_exists,
)
from pipeline.warehouse.connection import quote_ident
from pipeline.warehouse.staging import staged_single

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


def unit(alias: str = "", contiguous: bool = False) -> str:
    """SQL: the row (of table ``alias``) belongs to the batches being cleaned; the range lets
    DuckDB skip the row groups of batches cleaned before. When the batches are every id of
    their range (``contiguous``), the range alone says it."""
    b = f"{alias}_batch_id"
    if contiguous:
        return f"{b} BETWEEN $first_bid AND $last_bid"
    return f"{b} BETWEEN $first_bid AND $last_bid AND list_contains($unit, {b})"


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
        self.params: dict = {
            "tokens": NULL_TOKENS,
            "formats": DATE_FORMATS,
            "t": TRUE_LABELS,
            "f": FALSE_LABELS,
            **staged.file_params([]),
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

    def unit(self, alias: str = "") -> str:
        """SQL: the row (of table ``alias``) belongs to the batches being cleaned now."""
        ids = self.params["unit"]
        return unit(alias, contiguous=len(ids) == ids[-1] - ids[0] + 1 == len(set(ids)))

    def active_rows(self, alias: str = "") -> str:
        """SQL: a raw row (of table ``alias``) belongs to a batch being cleaned."""
        return ACTIVE.replace("_staged_file", f"{alias}_staged_file")

    def ranged_value(self, col: str, alias: str = "") -> str:
        """``col`` after out-of-range values became missing."""
        q = f"{alias}{quote_ident(col)}"
        if col not in self.ranged:
            return q
        return f"CASE WHEN {self.outside(col, alias)} THEN NULL ELSE {q} END"

    def imputed_value(self, col: str) -> str | None:
        """The parameter holding the value that replaces a missing ``col``, if it is imputed."""
        if self.policy.missing.get(col, "keep") != "impute":
            return None
        c = self.contract
        value = c.medians.get(col) if col in self.nums else c.modes.get(col)
        if value is None:
            return None
        name = f"impute_{[*self.cats, *self.nums].index(col)}"
        self.params[name] = float(value) if col in self.nums else str(value)
        return f"${name}"

    def final_value(self, col: str, alias: str = "") -> str:
        """``col`` as accepted: out-of-range values missing, missing values imputed."""
        value = self.imputed_value(col)
        ranged = self.ranged_value(col, alias)
        return f"coalesce({ranged}, {value})" if value else ranged

    def rejects_missing(self, cols: list[str], alias: str = "") -> str:
        """SQL: one of ``cols`` (set to 'reject' when missing) is missing once ranged."""
        return " OR ".join(f"{self.ranged_value(col, alias)} IS NULL" for col in cols) or "false"

    @property
    def reject_cols(self) -> list[str]:
        """The features whose missing values quarantine the row."""
        return [c for c in [*self.cats, *self.nums] if self.policy.missing.get(c) == "reject"]

    def hashed(self) -> list[str]:
        """The configured PII columns of the file that are kept as salted hashes."""
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
        self.params.update(self.staged.file_params(active))
        if active:
            try:
                self._clean(active)
            finally:
                self.cur.execute("DROP TABLE IF EXISTS clean_spelling")
        return self.results

    def _set_unit(self, active: list[StagedBatch]) -> None:
        ids = sorted(b.batch_id for b in active)
        self.params.update(unit=ids, first_bid=ids[0], last_bid=ids[-1])

    def _clean(self, active: list[StagedBatch]) -> None:
        self._set_unit(active)
        clean_typed.write_spellings(self)
        clean_typed.write_typed(self)
        clean_marks.deduplicate(self)
        stats = clean_marks.measure(self)
        findings = self._check(active, stats)
        active = [b for b in active if b.batch_id not in self.results]
        if not active:
            if self.created_work:
                # As if never started: no batch of the run was cleaned (yet).
                self.cur.execute(f"DROP TABLE {WORK}")
            return
        self._set_unit(active)
        if self.reject_cols:
            self.execute(
                f"UPDATE {WORK} SET _rule = {rule('missing_value')} WHERE {self.unit()} "
                "AND _rule IS NULL AND (" + self.rejects_missing(self.reject_cols) + ")"
            )
        clean_outputs.write_quarantine(self)
        clean_outputs.finalise_values(self, [stats[b.batch_id] for b in active])
        if self.has_target:
            self.execute(
                f"INSERT INTO stage_labels SELECT {self.entity}, {self.time}, _period, _label, "
                f"_batch_id, _row FROM {WORK} WHERE {self.unit()} AND _rule IS NULL "
                "AND _label IS NOT NULL"
            )
        clean_outputs.write_column_stats(self, active, stats)
        clean_outputs.write_steps(self, active, stats)
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
