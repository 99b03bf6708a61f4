"""Publish a run's results in one transaction: a reader sees all of a run or none of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline import faults
from pipeline.contract import Contract
from pipeline.settings import DatasetSettings
from pipeline.warehouse import aliases, monitor_store
from pipeline.warehouse.aliases import AliasChange
from pipeline.warehouse.cleaning import CleanReport
from pipeline.warehouse.connection import Warehouse, quote_ident, utcnow
from pipeline.warehouse.datasets import _path_literal, _table_exists, _temp_exists


@dataclass
class BatchOutcome:
    """What happened to one raw batch in this run."""

    batch_id: int
    status: str  # accepted | rejected
    message: str | None
    report: CleanReport | None = None


@dataclass
class ModelRecord:
    """A newly trained model version: what the training task returned, its lineage and the
    gate's decision."""

    version: int
    info: dict[str, Any]
    features: dict[str, list[str]]
    lineage: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    champion_version: int | None = None  # the champion it was measured against


@dataclass
class Publication:
    """Everything one run writes when it succeeds."""

    run_id: int
    contract: Contract | None = None
    contract_is_new: bool = False
    batches: list[BatchOutcome] = field(default_factory=list)
    model: ModelRecord | None = None
    predictions_path: Path | None = None
    predictions_version: int | None = None
    replace_periods: list[Any] = field(default_factory=list)  # re-scored by a new champion
    alias_changes: list[AliasChange] = field(default_factory=list)
    explanations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    closing: list[tuple[str, list[Any]]] = field(default_factory=list)
    estimates: list[dict[str, Any]] = field(default_factory=list)  # estimated performance
    monitoring: monitor_store.MonitorRecord | None = None
    decision: monitor_store.Decision | None = None


def publish(
    wh: Warehouse, cur: duckdb.DuckDBPyConnection, pub: Publication, dataset: DatasetSettings
) -> None:
    """Write ``pub`` on the run's cursor (which holds the staging tables) in one transaction."""
    with wh.transaction(cur):
        if pub.contract is not None and pub.contract_is_new:
            version = cur.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM data_contract"
            ).fetchone()[0]
            first_batch = next((b.batch_id for b in pub.batches if b.status == "accepted"), None)
            cur.execute(
                "INSERT INTO data_contract VALUES (?, ?, ?, ?)",
                [version, utcnow(), first_batch, pub.contract.to_json()],
            )
        _publish_clean(cur)
        _publish_batches(cur, pub)
        if pub.model is not None:
            _publish_model(cur, pub.run_id, pub.model)
            faults.point("publish.model_written")
        explanations = list(pub.explanations)
        if pub.model is not None:
            explanations += [(pub.model.version, e) for e in pub.model.info.get("explanations", [])]
        for version, meta in explanations:
            publish_explanation(cur, version, meta)
        aliases.apply(cur, pub.alias_changes, pub.run_id)
        if pub.alias_changes:
            faults.point("publish.aliases_written")
        if pub.replace_periods:
            cur.execute(
                "DELETE FROM predictions WHERE period IN "
                f"({', '.join('?' for _ in pub.replace_periods)})",
                list(pub.replace_periods),
            )
        if pub.predictions_path is not None:
            cur.execute(
                "INSERT INTO predictions SELECT CAST(period AS DATE), entity_id, probability, "
                f"?, ?, ? FROM read_parquet({_path_literal(pub.predictions_path)})",
                [pub.predictions_version, pub.run_id, utcnow()],
            )
        if pub.contract is not None and _table_exists(cur, "clean_rows"):
            rebuild_serving_facts(cur, pub.contract, dataset)
        _publish_monitoring(cur, pub)
        for sql, params in pub.closing:
            cur.execute(sql, params)
        faults.point("publish.before_commit")
    faults.point("publish.committed")


def _publish_monitoring(cur: duckdb.DuckDBPyConnection, pub: Publication) -> None:
    if pub.model is not None and pub.model.info.get("score_reference"):
        monitor_store.set_score_reference(cur, pub.model.version, pub.model.info["score_reference"])
    if pub.estimates:
        periods = sorted({r["period"] for r in pub.estimates})
        rows = [{**r, "model_version": pub.predictions_version} for r in pub.estimates]
        monitor_store.write_performance(cur, "estimated", rows, periods, pub.run_id)
    if pub.monitoring is not None:
        monitor_store.publish_monitoring(cur, pub.monitoring, pub.run_id)
    if pub.decision is not None:
        monitor_store.write_decision(cur, pub.decision, pub.run_id)


def _publish_clean(cur: duckdb.DuckDBPyConnection) -> None:
    if _temp_exists(cur, "stage_clean"):
        if _table_exists(cur, "clean_rows"):
            cur.execute("INSERT INTO clean_rows BY NAME SELECT * FROM stage_clean")
        else:
            cur.execute("CREATE TABLE clean_rows AS SELECT * FROM stage_clean")
        cur.execute("DROP TABLE stage_clean")
    if _temp_exists(cur, "stage_labels"):
        cur.execute(
            "INSERT OR REPLACE INTO labels SELECT entity_id, event_time, period, label, batch_id "
            "FROM stage_labels QUALIFY row_number() OVER (PARTITION BY entity_id, event_time "
            "ORDER BY batch_id DESC, row_number DESC) = 1"
        )
        cur.execute("DELETE FROM stage_labels")
    if _temp_exists(cur, "stage_quarantine"):
        cur.execute("INSERT INTO quarantine SELECT * FROM stage_quarantine")
        cur.execute("DELETE FROM stage_quarantine")
    for stage, table, verb in (
        ("stage_column_stats", "batch_column_stats", "INSERT OR REPLACE"),
        ("stage_clean_steps", "clean_step_stats", "INSERT OR REPLACE"),
        ("stage_schema_changes", "schema_changes", "INSERT"),
    ):
        if _temp_exists(cur, stage):
            cur.execute(f"{verb} INTO {table} BY NAME SELECT * FROM {stage}")
            cur.execute(f"DELETE FROM {stage}")
    if _temp_exists(cur, "stage_pii"):
        cur.execute(
            "INSERT OR REPLACE INTO pii_suspects BY NAME SELECT * FROM stage_pii "
            "QUALIFY row_number() OVER (PARTITION BY column_name ORDER BY batch_id DESC) = 1"
        )
        cur.execute("DELETE FROM stage_pii")


def _publish_batches(cur: duckdb.DuckDBPyConnection, pub: Publication) -> None:
    for b in pub.batches:
        cur.execute(
            "UPDATE raw_batches SET status = ?, message = ?, row_count = ? WHERE batch_id = ?",
            [b.status, b.message, b.report.rows_in if b.report else None, b.batch_id],
        )
        if b.report is None:
            continue
        r = b.report
        cur.execute(
            "INSERT OR REPLACE INTO batch_stats (batch_id, period_min, period_max, rows_in, "
            "rows_accepted, rows_quarantined, duplicates_removed, text_normalised, nulls_found, "
            "labels_applied, missing_imputed, outliers_handled) SELECT ?, "
            "(SELECT min(_period) FROM clean_rows WHERE _batch_id = ?), "
            "(SELECT max(_period) FROM clean_rows WHERE _batch_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?",
            [
                b.batch_id,
                b.batch_id,
                b.batch_id,
                r.rows_in,
                r.rows_accepted,
                r.rows_quarantined,
                r.duplicates_removed,
                r.text_normalised,
                r.nulls_found,
                r.labels_applied,
                r.missing_imputed,
                r.outliers_nulled,
            ],
        )


def _publish_model(cur: duckdb.DuckDBPyConnection, run_id: int, m: ModelRecord) -> None:
    i = m.info
    metrics = i["metrics"]
    cur.execute(
        "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, sha256, "
        "size_bytes, train_rows, holdout_rows, train_from, train_to, holdout_from, holdout_to, "
        "roc_auc, pr_auc, brier, log_loss, features, params, fit_seconds, calibration, "
        "threshold, f1_threshold, seed, metrics, search, lineage, gate) "
        f"VALUES ({', '.join(['?'] * 28)})",
        [
            m.version,
            run_id,
            utcnow(),
            i["algorithm"],
            i["artefact_path"],
            i["sha256"],
            i["size_bytes"],
            i["train_rows"],
            i["holdout_rows"],
            i["train_from"],
            i["train_to"],
            i["holdout_from"],
            i["holdout_to"],
            metrics["roc_auc"],
            metrics["pr_auc"],
            metrics["brier"],
            metrics["log_loss"],
            json.dumps(m.features),
            json.dumps(i["params"]),
            i["fit_seconds"],
            i["calibration"],
            i["threshold"],
            i["f1_threshold"],
            i["seed"],
            json.dumps(metrics),
            json.dumps(
                {
                    "trials": i["search"],
                    "calibration_brier": i["calibration_brier"],
                    "durations": i["durations"],
                }
            ),
            json.dumps(m.lineage, default=str),
            json.dumps(m.gate),
        ],
    )
    _publish_fairness(cur, m.version, i.get("fairness") or {})
    evaluations = [(m.version, i["evaluation"])]
    if i.get("champion_evaluation") is not None and m.champion_version is not None:
        evaluations.append((m.champion_version, i["champion_evaluation"]))
    for evaluated, ev in evaluations:
        cur.execute(
            "INSERT OR REPLACE INTO model_evaluations VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                m.version,
                evaluated,
                i["holdout_from"],
                i["holdout_to"],
                ev["threshold"],
                json.dumps(ev["metrics"]),
                json.dumps(ev["curves"]),
            ],
        )
        for seg in ev["segments"]:
            cur.execute(
                "INSERT OR REPLACE INTO model_segment_metrics VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    m.version,
                    evaluated,
                    seg["column"],
                    str(seg["value"]),
                    seg["rows"],
                    seg["positives"],
                    seg["roc_auc"],
                    seg["pr_auc"],
                    seg["brier"],
                    seg["precision"],
                    seg["recall"],
                    seg["flag_rate"],
                ],
            )


def publish_explanation(cur: duckdb.DuckDBPyConnection, version: int, meta: dict) -> None:
    """Store one global explanation (replacing an earlier one of the same version and scope)."""
    key = [version, meta["scope"]]
    for table in ("explain_meta", "explain_importance", "explain_points"):
        cur.execute(f"DELETE FROM {table} WHERE model_version = ? AND scope = ?", key)
    cur.execute(
        "INSERT INTO explain_meta VALUES (?, ?, ?, ?, ?, ?, ?)",
        [*key, meta["base_value"], meta["base_proba"], meta["rows"], meta["seconds"], utcnow()],
    )
    cur.execute(
        "INSERT INTO explain_importance SELECT ?, ?, feature, mean_abs, mean_abs_points, share, "
        f"rank, direction FROM read_parquet({_path_literal(Path(meta['importance']))})",
        key,
    )
    cur.execute(
        "INSERT INTO explain_points SELECT ?, ?, feature, row, value_num, value_text, shap, "
        "points, colour, interaction_feature, interaction_value_text, interaction_colour "
        f"FROM read_parquet({_path_literal(Path(meta['points']))})",
        key,
    )


def _publish_fairness(cur: duckdb.DuckDBPyConnection, version: int, fairness: dict) -> None:
    for g in fairness.get("groups", []):
        cur.execute(
            "INSERT OR REPLACE INTO fairness_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [version, g["column"], "(missing)" if g["value"] is None else str(g["value"])]
            + [g["rows"], g["positives"]]
            + [g[k] for k in ("selection_rate", "tpr", "fpr", "precision")]
            + [g["mean_predicted"], g["observed_rate"], bool(g["small"])],
        )
    for f in fairness.get("summary", []):
        cur.execute(
            "INSERT OR REPLACE INTO fairness_summary VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [version, f["column"], f["demographic_parity_difference"]]
            + [f["equalised_odds_difference"], f["dpd_limit"], f["eod_limit"]]
            + [bool(f["breach"]), f["sentence"]],
        )


def rebuild_serving_facts(
    cur: duckdb.DuckDBPyConnection, contract: Contract, dataset: DatasetSettings
) -> None:
    """Rebuild ``serving_facts``: served predictions with value, realised label and segments."""
    e = quote_ident(contract.entity_id)
    t = quote_ident(contract.event_time)
    value = (
        f"CAST(c.{quote_ident(dataset.value)} AS DOUBLE)"
        if dataset.value and dataset.value in contract.numeric
        else "CAST(NULL AS DOUBLE)"
    )
    segments = [s for s in dataset.segments if s in contract.categorical]
    seg_sql = "".join(
        f", CAST(c.{quote_ident(s)} AS VARCHAR) AS {quote_ident(s)}" for s in segments
    )
    cur.execute(
        "CREATE OR REPLACE TABLE serving_facts AS "
        "WITH c AS (SELECT * FROM clean_rows "
        f"  QUALIFY row_number() OVER (PARTITION BY {e}, _period ORDER BY {t} DESC) = 1), "
        "l AS (SELECT entity_id, period, max(label) AS label FROM labels GROUP BY ALL) "
        "SELECT p.period, p.entity_id, p.probability, p.model_version, "
        f"{value} AS value, l.label{seg_sql} "
        "FROM predictions p "
        f"LEFT JOIN c ON CAST(c.{e} AS VARCHAR) = p.entity_id AND c._period = p.period "
        "LEFT JOIN l ON l.entity_id = p.entity_id AND l.period = p.period "
        "ORDER BY p.period"
    )
