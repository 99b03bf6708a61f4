"""The flow: runs ingest -> validate -> clean -> train -> score and records every step.

Steps stage their results in TEMP tables on the run's own cursor; heavy compute runs in child
processes; the last step publishes everything in one transaction. A failure anywhere leaves
the published warehouse exactly as it was, and the run marked failed with a readable reason.

A run is cancelled through its :class:`~pipeline.flow_state.Cancellation`: the flow checks it
before each step and, through :func:`pipeline.compute.interruptible`, while a compute child
works. A cancelled run publishes nothing; once publication begins, cancelling is refused.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from pipeline import contract_file, faults, ingest
from pipeline.compute import ComputeFailed, interruptible
from pipeline.contract import infer_contract
from pipeline.flow_state import Cancellation, RunCancelled, RunFailed, RunState, StepResult
from pipeline.model_steps import ModelSteps, PromotionRequest
from pipeline.monitor_step import MonitorStep, deliver
from pipeline.pii import pii_salt
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, cleaning, models, pii_scan, runs
from pipeline.warehouse import batches as batch_store
from pipeline.warehouse.aggregate import aggregate_monthly
from pipeline.warehouse.publish import BatchOutcome, Publication, publish

log = logging.getLogger(__name__)

STEPS = ("ingest", "validate", "clean", "train", "score", "monitor")

ProgressHook = Callable[[str, str, dict[str, Any]], None]


__all__ = [
    "STEPS",
    "Cancellation",
    "ComputeFailed",
    "Flow",
    "ProgressHook",
    "PromotionRequest",
    "RunCancelled",
    "RunFailed",
]


class Flow(ModelSteps, MonitorStep):
    """Runs the pipeline once for a given run id."""

    def __init__(
        self,
        settings: Settings,
        wh: Warehouse,
        hook: ProgressHook | None = None,
        steps: tuple[str, ...] = STEPS,
        paths: list[Path] | None = None,
        promotion: PromotionRequest | None = None,
        trigger: str = "manual",
        user: str | None = None,
        cancel: Cancellation | None = None,
    ):
        self.settings = settings
        self.wh = wh
        self.hook = hook or (lambda step, status, detail: None)
        self.steps = steps
        self.paths = paths  # ingest exactly these files instead of scanning the source
        self.promotion = promotion  # for the "promote" step: a person's promotion or rollback
        self.trigger, self.user = trigger, user  # who started the run: the retrain policy asks
        self.cancel = cancel or Cancellation()  # flipped by the Runner when someone cancels

    def execute(self, run_id: int) -> dict[str, Any]:
        """Run the steps; returns the run summary.

        Raises :class:`RunFailed` on failure, and :class:`RunCancelled` when cancelled (the step
        it was in is then recorded as ``cancelled``).
        """
        state = RunState(run_id=run_id, pub=Publication(run_id=run_id))
        cur = self.wh.cursor()
        work = self.settings.work_dir / f"run-{run_id}"
        work.mkdir(parents=True, exist_ok=True)
        try:
            with interruptible(self.cancel.check):
                return self._run_steps(cur, state, work)
        except RunCancelled as stop:
            step = runs.cancel_open_step(self.wh, run_id, str(stop))
            if step is not None:
                self.hook(step, "cancelled", {"error": str(stop)})
            raise
        finally:
            cur.close()
            shutil.rmtree(work, ignore_errors=True)

    def _run_steps(
        self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Path
    ) -> dict[str, Any]:
        run_id = state.run_id
        summary: dict[str, Any] = {}
        cleaning.ensure_staging(cur)
        for position, name in enumerate(self.steps, start=1):
            self.cancel.check()
            step = getattr(self, f"_{name}")
            runs.start_step(self.wh, run_id, position, name)
            self.hook(name, "running", {})
            started = time.perf_counter()
            try:
                result: StepResult = step(cur, state, work)
            except Exception as error:
                reason = _reason(error)
                runs.finish_step(self.wh, run_id, name, "failed", error=reason)
                self.hook(name, "failed", {"error": reason})
                raise RunFailed(f"{name}: {reason}") from error
            result.detail["seconds"] = round(time.perf_counter() - started, 3)
            faults.point(f"step.{name}.done")
            summary[name] = result.detail
            closing = runs.finish_step_sql(
                run_id, name, "succeeded", result.rows_in, result.rows_out, result.detail, None
            )
            if name != self.steps[-1]:
                self.wh.execute(*closing, scope="progress")
                self.hook(name, "succeeded", result.detail)
                continue
            # The last step, the run's success and all its results commit together.
            state.pub.closing += [
                closing,
                runs.finish_run_sql(run_id, "succeeded", None, summary),
            ]
            self.cancel.begin_publishing()  # raises if cancelled; from here on cancel is refused
            try:
                publish(self.wh, cur, state.pub, self.settings.dataset)
            except Exception as error:
                reason = _reason(error)
                runs.finish_step(self.wh, run_id, name, "failed", error=f"publish: {reason}")
                self.hook(name, "failed", {"error": reason})
                raise RunFailed(f"publish: {reason}") from error
            self.hook(name, "succeeded", result.detail)
            deliver(self.settings, self.wh, state)
        if state.pub.contract_is_new or not self._contract_path().exists():
            self._write_contract_file()
        return summary

    def _salt(self) -> str | None:
        """The PII salt, only when PII columns are hashed rather than dropped."""
        if self.settings.cleaning.pii_mode != "hash":
            return None
        return pii_salt(self.settings.secrets_dir)

    # -- steps -----------------------------------------------------------------------------
    def _contract_path(self) -> Path:
        return self.settings.data_dir / contract_file.FILE_NAME

    def _apply_contract_edit(self) -> str | None:
        """Store an edited contract.toml as a new version; returns a note for the step."""
        try:
            edited = contract_file.edited(self._contract_path(), models.latest_contract(self.wh))
        except contract_file.ContractFileError as error:
            log.warning("contract.toml was not applied: %s", error)
            return f"contract.toml not applied: {error}"
        if edited is None:
            return None
        dataset = self.settings.dataset
        keys = (edited.entity_id, edited.event_time, edited.target)
        if keys != (dataset.entity_id, dataset.event_time, dataset.target):
            note = (
                "contract.toml not applied: its entity_id, event_time and target must match "
                "the settings dataset.entity_id, dataset.event_time and dataset.target"
            )
            log.warning(note)
            return note
        version = models.store_contract(self.wh, edited)
        self._write_contract_file()
        log.info("contract.toml stored as data contract v%s", version)
        return f"contract.toml stored as contract v{version}"

    def _write_contract_file(self) -> None:
        """Keep contract.toml in step with the newest stored contract."""
        latest = models.latest_contract_version(self.wh)
        contract = models.latest_contract(self.wh)
        if latest is None or contract is None:
            return
        contract_file.write(
            self._contract_path(), contract, latest[0], f"{latest[1]:%Y-%m-%d %H:%M} UTC"
        )

    def _ingest(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Any) -> StepResult:
        contract_note = self._apply_contract_edit()
        if self.paths is None:
            ingest.check_source(self.settings)
            found = ingest.scan(ingest.source_paths(self.settings))
            skipped = ingest.landing_leftovers(self.settings)
        else:
            skipped = ingest.unsupported(self.paths)
            found = ingest.scan([p for p in self.paths if p not in skipped])
        for path in skipped:
            log.warning("%s is not ingested: %s", path, ingest.unsupported_message(path))
        known = batch_store.known_hashes(self.wh)
        new, repeats = [], []
        for f in found:
            if f.content_hash in known:
                repeats.append(f.path.name)
                continue
            stored = ingest.keep_copy(f, self.settings.raw_dir)
            batch_id = batch_store.register(self.wh, state.run_id, f, stored)
            known.add(f.content_hash)
            new.append(batch_id)
        state.pending = batch_store.pending(self.wh)
        return StepResult(
            rows_in=len(found),
            rows_out=len(state.pending),
            detail={
                "files_seen": len(found),
                "new_batches": len(new),
                "already_ingested": len(repeats),
                "unsupported": [p.name for p in skipped],
                "pending_batches": len(state.pending),
                **({"contract": contract_note} if contract_note else {}),
            },
        )

    def _validate(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Any) -> StepResult:
        state.contract = models.latest_contract(self.wh)
        dataset = self.settings.dataset
        label_cols = {dataset.entity_id, dataset.event_time, dataset.target}
        rows, rejected = 0, 0
        # Configured PII that is dropped anyway (not hashed, not used by the contract) is not
        # even loaded.
        unread: set[str] = set()
        if self.settings.cleaning.pii_mode == "drop":
            used = label_cols | set(state.contract.features if state.contract else [])
            unread = {p.lower() for p in dataset.pii} - {u.lower() for u in used}
        staged, failed = cleaning.stage_batches(
            cur,
            [(b["batch_id"], b["stored_path"], b["suffix"]) for b in state.pending],
            self.settings.ingest.csv_encoding,
            self.settings.ingest.csv_delimiter,
            skip=unread,
        )
        holder = {b.batch_id: (unit, b) for unit in staged for b in unit.batches}
        usable: dict[str, list[int]] = {unit.table: [] for unit in staged}
        for batch in state.pending:
            bid = batch["batch_id"]
            if bid in failed:
                state.pub.batches.append(
                    BatchOutcome(bid, "rejected", f"{batch['file_name']}: {failed[bid]}")
                )
                rejected += 1
                continue
            unit, staged_batch = holder[bid]
            columns = unit.columns
            rows += staged_batch.rows + staged_batch.malformed
            kind = "labels" if set(columns) <= label_cols and dataset.target in columns else "data"
            problem = _unusable(columns, staged_batch.rows, staged_batch.malformed, dataset)
            if problem:
                # Rejected here, before a first batch could shape the data contract.
                state.pub.batches.append(
                    BatchOutcome(bid, "rejected", f"{batch['file_name']}: {problem}")
                )
                rejected += 1
                continue
            if kind == "data" and state.contract is None:
                # The keys' profiles would be ignored: the settings give their roles.
                measured = [c for c in columns if c not in label_cols]
                profiles = cleaning.profile(cur, measured, unit.table, staged_batch.file)
                state.contract = infer_contract(profiles, dataset)
                state.pub.contract_is_new = True
            usable[unit.table].append(bid)
            state.staged[bid] = (kind, columns)
        configured = {p.lower() for p in dataset.pii} | label_cols
        for unit in staged:
            if not usable[unit.table]:
                unit.drop(cur)
            elif state.staged[usable[unit.table][0]][0] == "data":
                skip = {c for c in unit.columns if c.lower() in configured}
                pii_scan.scan_staged(cur, unit, skip, usable[unit.table])
        state.pub.contract = state.contract
        return StepResult(
            rows_in=rows,
            rows_out=rows,
            detail={
                "batches": len(state.pending),
                "rejected": rejected,
                "contract": "inferred" if state.pub.contract_is_new else "existing",
            },
        )

    def _clean(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Any) -> StepResult:
        totals = {
            "rows_in": 0,
            "accepted": 0,
            "quarantined": 0,
            "duplicates_removed": 0,
            "text_normalised": 0,
            "outliers_nulled": 0,
            "labels": 0,
            "missing_imputed": 0,
        }
        names = {b["batch_id"]: b["file_name"] for b in state.pending}
        units = cleaning.staged_tables(cur, {bid: cols for bid, (_, cols) in state.staged.items()})
        # Data before labels, so labels in the same run find their rows.
        units.sort(
            key=lambda u: (
                state.staged[u.batches[0].batch_id][0] == "labels",
                u.batches[0].batch_id,
            )
        )
        outcomes: list[tuple[bool, BatchOutcome]] = []
        for unit in units:
            is_labels = state.staged[unit.batches[0].batch_id][0] == "labels"
            if state.contract is None:
                # Labels before any data stay pending for a later run.
                for b in unit.batches:
                    cleaning.discard_batch(cur, b.batch_id)
                unit.drop(cur)
                continue
            if is_labels:
                results = cleaning.clean_label_batches(cur, unit, state.contract)
            else:
                results = cleaning.clean_data_batches(
                    cur, unit, state.contract, self.settings.cleaning, self._salt()
                )
            # Cleaned: the raw rows are no longer needed (the raw file keeps every byte).
            unit.drop(cur)
            for bid, report in sorted(results.items()):
                name = names[bid]
                if isinstance(report, cleaning.BatchRejected):
                    cleaning.discard_batch(cur, bid)
                    outcomes.append((is_labels, BatchOutcome(bid, "rejected", f"{name}: {report}")))
                    continue
                if report.rows_in != report.rows_accepted + report.rows_quarantined:
                    raise RunFailed(
                        f"batch {bid} ({name}): rows in {report.rows_in} != accepted "
                        f"{report.rows_accepted} + quarantined {report.rows_quarantined}"
                    )
                outcomes.append((is_labels, BatchOutcome(bid, "accepted", None, report)))
                for key, value in (
                    ("rows_in", report.rows_in),
                    ("accepted", report.rows_accepted),
                    ("quarantined", report.rows_quarantined),
                    ("duplicates_removed", report.duplicates_removed),
                    ("text_normalised", report.text_normalised),
                    ("outliers_nulled", report.outliers_nulled),
                    ("labels", report.labels_applied),
                    ("missing_imputed", report.missing_imputed),
                ):
                    totals[key] += value
        cleaning.finish_clean(cur)
        outcomes.sort(key=lambda o: (o[0], o[1].batch_id))
        state.pub.batches += [outcome for _, outcome in outcomes]
        rows_out = totals["accepted"]
        spec = self.settings.cleaning.aggregate
        if spec.enabled and state.contract is not None:
            before, rows_out = aggregate_monthly(cur, state.contract, spec)
            totals["aggregated"] = f"{before:,} event rows to {rows_out:,} entity-months"
        return StepResult(rows_in=totals["rows_in"], rows_out=rows_out, detail=totals)


def _unusable(columns: list[str], rows: int, malformed: int, dataset: Any) -> str | None:
    """Why a staged file cannot be used at all, or None."""
    for key, name in (("entity_id", dataset.entity_id), ("event_time", dataset.event_time)):
        if name not in columns:
            return (
                f"the file has no column {name!r} (setting dataset.{key}); its columns are "
                f"{', '.join(columns[:12])}; rename the column in the file or change the setting"
            )
    if rows == 0 and malformed:
        return (
            f"none of its {malformed} lines could be parsed; check the delimiter, quoting and "
            "encoding (settings ingest.csv_delimiter, ingest.csv_encoding)"
        )
    if rows == 0:
        return "the file has a header but no rows; send it again with its rows"
    return None


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500]
