"""The monitor step of a run: drift, prediction drift, data quality and realised performance
of the new data, alert rules, and the webhook once the run is published.

Mixed into :class:`pipeline.flow.Flow`; runs last, after scoring, so it sees this run's clean
rows, labels and predictions through TEMP work views. Counts and metrics come from DuckDB;
only the small results are staged on the publication, written with the rest of the run.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.flow_state import RunState, StepResult
from pipeline.monitoring import ALL, SCORE, reference_store, rules, webhook, where
from pipeline.monitoring.drift import Histogram, compute
from pipeline.monitoring.window import (
    WindowReference,
    build_reference,
    drift_by_period,
    severity_of,
)
from pipeline.settings import Settings
from pipeline.warehouse import (
    Warehouse,
    alerts,
    datasets,
    models,
    monitor_counts,
    monitor_perf,
    monitor_quality,
    monitor_work,
)
from pipeline.warehouse import monitor_evidence as evidence
from pipeline.warehouse.monitor_store import MonitorRecord

log = logging.getLogger(__name__)

FAILED = ("monitoring_failed", "monitoring")  # kind and subject of a failed monitor step


def _percent(x: float) -> str:
    return f"{x:.1%}"


def score_labels(cuts: list[float]) -> list[str]:
    """Bin labels of a score histogram: "≤ 1.2%", "1.2% – 2.5%", ..., "> 40.0%"."""
    if not cuts:
        return ["all scores"]
    inner = [f"{_percent(a)} – {_percent(b)}" for a, b in zip(cuts, cuts[1:], strict=False)]
    return [f"≤ {_percent(cuts[0])}", *inner, f"> {_percent(cuts[-1])}"]


class MonitorStep:
    """The ``monitor`` step; expects ``settings`` and ``wh`` on the instance."""

    settings: Settings
    wh: Warehouse

    def _monitor(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Path) -> StepResult:
        contract = state.contract or models.latest_contract(self.wh)
        if contract is None or not datasets.create_work_views(cur):
            return StepResult(0, 0, {"skipped": "no clean data yet"})
        try:
            return self._measure(cur, state, contract)
        except Exception as error:  # monitoring must never hold back the predictions
            log.exception("monitoring failed in run #%s", state.run_id)
            reason = f"{type(error).__name__}: {error}"
            message = (
                f"Monitoring failed in run #{state.run_id}: {reason}. The run's predictions "
                "were published; its months are monitored again by the next run."
            )
            state.pub.monitoring = MonitorRecord(
                drafts=[alerts.AlertDraft("critical", *FAILED, message)]
            )
            return StepResult(0, 0, {"monitoring_failed": reason})

    def _measure(self, cur: duckdb.DuckDBPyConnection, state: RunState, contract) -> StepResult:
        record = MonitorRecord()
        monitor_work.create_prediction_view(
            cur,
            state.pub.predictions_path,
            state.pub.predictions_version,
            state.pub.replace_periods,
        )
        reports = [
            (b.batch_id, b.report.rows_in, b.report.rows_quarantined, b.report.duplicates_removed)
            for b in state.pub.batches
            if b.status == "accepted" and b.report is not None and b.report.labels_applied == 0
        ]
        monitor_quality.create_quality_views(cur, reports)
        record.quality = monitor_quality.quality(cur, contract)
        model = self._monitored_model(state)
        new_periods = monitor_work.unmonitored_periods(cur)
        detail: dict[str, Any] = {"periods": [f"{p:%Y-%m}" for p in new_periods]}
        if model is not None and new_periods:
            record.drift = self._feature_drift(cur, contract, model, new_periods, record)
            record.drift += self._score_drift(cur, model, new_periods)
        threshold = (model or {}).get("threshold") or self.settings.dataset.decision_threshold
        touched = monitor_work.realised_periods_to_refresh(cur, state.pub.replace_periods)
        segments = [s for s in self.settings.dataset.segments if s in contract.categorical]
        record.realised = monitor_perf.realised(
            cur, contract, segments, touched, threshold, predictions="work_predictions"
        )
        record.realised_periods = touched
        ev = rules.Evidence(
            drift=record.drift,
            estimated=[{**r, "kind": "estimated"} for r in state.pub.estimates],
            realised=record.realised,
            quality=record.quality,
            baseline_auc=None if model is None else model.get("roc_auc"),
            baseline_version=None if model is None else model["version"],
            top_features=[] if model is None else evidence.top_features(self.wh, model["version"]),
        )
        if model is not None and not ev.top_features and state.pub.model is not None:
            ev.top_features = _new_model_top_features(state)
        active = alerts.active_subjects(self.wh, (*rules.RULE_KINDS, FAILED[0]))
        record.drafts, record.clears = rules.evaluate(self.settings.monitoring.rules, ev, active)
        if FAILED in active:
            record.clears.append((*FAILED, f"monitoring worked again in run #{state.run_id}"))
        state.pub.monitoring = record
        drifted = sorted(
            {f"{r['column_name']}{where(r['segment_column'], r['segment_value'])}"
             for r in record.drift if r["drifted"]}
        )  # fmt: skip
        detail.update(
            {
                "drift_cells": len(record.drift),
                "drifted": drifted[:10],
                "realised_periods": [f"{p:%Y-%m}" for p in touched],
                "alerts": [d.message for d in record.drafts][:10],
            }
        )
        return StepResult(len(record.drift), len(record.drafts), detail)

    # -- the model whose reference and baseline apply --------------------------------------
    def _monitored_model(self, state: RunState) -> dict[str, Any] | None:
        """The model serving after this run (a new champion, else the champion)."""
        new = state.pub.model
        if new is not None and new.gate.get("promote"):
            i = new.info
            return {
                "version": new.version,
                "train_from": i["train_from"],
                "holdout_from": i["holdout_from"],
                "holdout_to": i["holdout_to"],
                "roc_auc": i["metrics"].get("roc_auc"),
                "threshold": i.get("threshold"),
                "score_reference": i.get("score_reference"),
            }
        champion = state.champion if state.champion_checked else models.champion(self.wh)
        if champion is None:
            return None
        ref = evidence.score_reference(self.wh, champion["version"])
        return {
            "version": champion["version"],
            "train_from": champion["train_from"],
            "holdout_from": champion["holdout_from"],
            "holdout_to": champion["holdout_to"],
            "roc_auc": champion.get("roc_auc"),
            "threshold": champion.get("threshold"),
            "score_reference": json.loads(ref) if ref else None,
        }

    def _reference_periods(
        self, all_periods: list[date], model: dict[str, Any], period: date
    ) -> list[date]:
        m = self.settings.monitoring
        if m.reference == "rolling":
            return [p for p in all_periods if p < period][-m.rolling_periods :]
        return [p for p in all_periods if model["train_from"] <= p <= model["holdout_to"]]

    def _reference(
        self,
        cur: duckdb.DuckDBPyConnection,
        contract,
        model: dict,
        periods: list[date],
        segments: list[str],
        record: MonitorRecord,
    ) -> WindowReference:
        """The reference window's counts: stored ones when the same window was counted before
        (a champion's training window), else counted now and stored with the run."""
        m = self.settings.monitoring
        counting = {
            "numeric": contract.numeric,
            "categorical": contract.categorical,
            "periods": list(periods),
            "segments": segments,
            "bins": m.bins,
            "numeric_method": m.numeric_method,
            "categorical_method": m.categorical_method,
            "thresholds": m.thresholds or None,
        }
        key = reference_store.cache_key(
            version=model["version"], rows=monitor_work.rows_in(cur, periods), **counting
        )
        cached = evidence.cached_reference(self.wh, key)
        if cached is not None:
            return reference_store.from_json(cached, source="all_clean")
        reference = build_reference(cur, source="all_clean", **counting)
        if m.reference == "training":
            record.references.append((key, model["version"], reference_store.to_json(reference)))
        return reference

    def _feature_drift(
        self,
        cur: duckdb.DuckDBPyConnection,
        contract,
        model: dict,
        periods: list[date],
        record: MonitorRecord,
    ) -> list[dict[str, Any]]:
        m = self.settings.monitoring
        segments = [s for s in self.settings.dataset.segments if s in contract.categorical]
        all_periods = monitor_work.clean_periods(cur)
        groups: dict[tuple[date, ...], list[date]] = {}
        for period in periods:
            reference = tuple(self._reference_periods(all_periods, model, period))
            groups.setdefault(reference, []).append(period)
        rows = []
        for ref_periods, current in groups.items():
            if not ref_periods:
                continue
            reference = self._reference(cur, contract, model, list(ref_periods), segments, record)
            for cell in drift_by_period(
                cur, reference, current, source="all_clean", min_rows=m.segment_min_rows
            ):
                rows.append(
                    {
                        **cell.as_row(),
                        "reference_version": None if m.reference == "rolling" else model["version"],
                        "reference_from": ref_periods[0],
                        "reference_to": ref_periods[-1],
                    }
                )
        return rows

    def _score_drift(
        self, cur: duckdb.DuckDBPyConnection, model: dict, periods: list[date]
    ) -> list[dict[str, Any]]:
        ref = model.get("score_reference")
        if not ref:
            return []
        cuts = list(ref["cuts"])
        edges = [float("-inf"), *cuts, float("inf")]
        reference = Histogram(
            ref["counts"], ref["missing"], ref["minimum"], ref["maximum"], ref["std"], ref["sums"]
        )
        counts = monitor_counts.numeric_counts(
            cur, "probability", cuts, periods, source="work_predictions_by_period"
        )
        labels = score_labels(cuts)
        rows = []
        for period, part in counts.groupby("period"):
            present = part[part["bin"] >= 0]
            bins = [0] * len(reference.counts)
            sums = [0.0] * len(reference.counts)
            for b, c, s in zip(present["bin"], present["count"], present["sum"], strict=True):
                bins[int(b)], sums[int(b)] = int(c), float(s)
            if sum(bins) == 0:
                continue
            current = Histogram(
                bins, 0, float(present["minimum"].min()), float(present["maximum"].max()),
                None, sums,
            )  # fmt: skip
            method = self.settings.monitoring.numeric_method
            result = compute(
                "numeric", method, reference, current, edges=edges, column="the churn score"
            )
            total_ref, total_cur = sum(reference.counts), sum(bins)
            rows.append(
                {
                    "period": period if isinstance(period, date) else period.date(),
                    "column_name": SCORE,
                    "kind": "prediction",
                    "segment_column": ALL,
                    "segment_value": ALL,
                    "reference_version": model["version"],
                    "reference_from": model["holdout_from"],  # its holdout scores
                    "reference_to": model["holdout_to"],
                    "method": result.method,
                    "statistic": result.statistic,
                    "threshold": result.threshold,
                    "p_value": result.p_value,
                    "drifted": result.drifted,
                    "severity": severity_of(result),
                    "rows_reference": total_ref,
                    "rows_current": total_cur,
                    "histogram": {
                        "labels": labels,
                        "reference": [c / total_ref for c in reference.counts],
                        "current": [c / total_cur for c in bins],
                    },
                    "sentence": result.detail,
                }
            )
        return rows


def _new_model_top_features(state: RunState) -> list[str]:
    """Top features of a model trained in this run (its importance is not published yet)."""
    for meta in state.pub.model.info.get("explanations", []):
        frame = pd.read_parquet(meta["importance"])
        return frame.sort_values("mean_abs", ascending=False)["feature"].tolist()
    return []


def deliver(settings: Settings, wh: Warehouse, state: RunState) -> None:
    """After the run is published: post the alerts it raised to the webhook, if one is set.

    Never raises: a failing webhook is logged and recorded on the alerts, and the run stands.
    """
    record = state.pub.monitoring if state.pub is not None else None
    url = settings.monitoring.webhook_url
    if record is None or not record.raised or url is None:
        return
    try:
        raised = alerts.list_alerts(wh, statuses=("open",))
        raised = raised[raised["alert_id"].isin(record.raised)]
        payload = webhook.payload(raised, state.run_id)
        outcome = webhook.post(str(url), payload, settings.monitoring.webhook_timeout_seconds)
        alerts.set_delivery(wh, record.raised, outcome)
    except Exception:  # the run is published: delivery trouble is logged, never raised
        log.exception("alert webhook delivery failed")
