"""A small monitored world written straight into a warehouse, for the Monitor page's tests.

Six months (Jan-Jun 2024) scored by v1 then v2 (promoted by a drift retrain in April), four
features, the whole batch and region North/South. ``monthly_charges`` drifts in region South
from May and is on watch for the whole batch in June; the score drifts in June. Realised
performance exists up to May (June's labels have not arrived). Every number a test checks is
a constant here.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from pipeline.warehouse import Warehouse

PERIODS = [date(2024, m, 1) for m in range(1, 7)]
FEATURES = ["tenure_months", "monthly_charges", "region", "plan"]
NUMERIC = {"tenure_months", "monthly_charges"}
# The champion's (v2) holdout importance: plan has none, so it sorts last, alphabetically.
IMPORTANCE = {"region": 1, "monthly_charges": 2, "tenure_months": 3}
SEGMENTS = [("(all)", "(all)"), ("region", "North"), ("region", "South")]
HOLDOUT_AUC = {1: 0.80, 2: 0.82}
T0 = datetime(2024, 7, 1, 9, 0)
PROMOTED_AT_RUN = 4  # v2 became champion in the run that monitored April


def severity_of(period: date, column: str, segment: tuple[str, str]) -> str:
    """The severity this world gives one cell."""
    if column == "monthly_charges" and segment == ("region", "South") and period.month >= 5:
        return "drift"
    if column == "monthly_charges" and segment == ("(all)", "(all)") and period.month == 6:
        return "watch"
    if column == "__score__" and period.month == 6:
        return "drift"
    return "ok"


STATISTIC = {"ok": 0.03, "watch": 0.07, "drift": 0.31}


def _histogram(column: str, severity: str) -> dict:
    if column in NUMERIC or column == "__score__":
        labels = ["≤ 20", "(20, 50]", "(50, 80]", "> 80"]
        reference = [0.25, 0.25, 0.25, 0.25]
    else:
        labels = ["North", "South", "missing"]
        reference = [0.5, 0.45, 0.05]
    shift = {"ok": 0.0, "watch": 0.05, "drift": 0.15}[severity]
    current = list(reference)
    current[0] -= shift
    current[-2] += shift
    return {"labels": labels, "reference": reference, "current": current}


def _sentence(period: date, column: str, segment: tuple[str, str], severity: str) -> str:
    where = "" if segment[0] == "(all)" else f" in {segment[0]} {segment[1]}"
    verb = "moved" if severity == "drift" else "is stable"
    sign = ">" if severity == "drift" else "<="
    return f"Wasserstein {STATISTIC[severity]} std {sign} 0.1: {column} {verb}{where}"


def write_monitor_world(wh: Warehouse) -> None:
    """Runs 1-6 (one per month), models v1/v2 with v2 champion, drift, quality, performance,
    retrain decisions and three alerts (see the module docstring)."""
    with wh.transaction() as cur:
        for run in range(1, len(PERIODS) + 1):
            at = T0 + timedelta(hours=run)
            cur.execute(
                "INSERT INTO runs (run_id, trigger, status, started_at, finished_at) "
                "VALUES (?, 'schedule', 'succeeded', ?, ?)",
                [run, at, at + timedelta(minutes=1)],
            )
        for version, auc in HOLDOUT_AUC.items():
            metrics = {"roc_auc": auc, "precision": 0.5 + version / 100, "recall": 0.6, "f1": 0.55}
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, train_from, train_to, "
                "holdout_from, holdout_to, roc_auc, pr_auc, brier, log_loss, features, params, "
                "fit_seconds, threshold, metrics) VALUES (?, ?, ?, 'logistic', ?, 'sha', 1, "
                "1000, 200, '2023-01-01', '2023-11-01', '2023-12-01', '2023-12-01', ?, 0.4, "
                "0.1, 0.3, '[]', '{}', 1.0, 0.3, ?)",
                [
                    version,
                    1 if version == 1 else PROMOTED_AT_RUN,
                    T0,
                    f"models/v{version}.skops",
                    auc,
                    json.dumps(metrics),
                ],
            )
        cur.execute("INSERT INTO model_aliases VALUES ('champion', 2, ?, 'drift retrain')", [T0])
        cur.execute(
            "INSERT INTO alias_history (alias, version, set_at, reason, run_id) VALUES "
            "('champion', 1, ?, 'first usable model', 1), "
            "('champion', 2, ?, 'v2 beat v1 by 0.02 after drift in region South', ?)",
            [T0 + timedelta(hours=1, minutes=1), T0 + timedelta(hours=4, minutes=1), 4],
        )
        for feature, rank in IMPORTANCE.items():
            cur.execute(
                "INSERT INTO explain_importance VALUES (2, 'holdout', ?, 0.1, 5.0, 0.2, ?, NULL)",
                [feature, rank],
            )
        drift = []
        for run, period in enumerate(PERIODS, start=1):
            for segment in SEGMENTS:
                for column in [*FEATURES, "__score__"]:
                    if column == "__score__" and segment[0] != "(all)":
                        continue
                    severity = severity_of(period, column, segment)
                    kind = (
                        "prediction"
                        if column == "__score__"
                        else "numeric"
                        if column in NUMERIC
                        else "categorical"
                    )
                    drift.append(
                        [
                            period,
                            column,
                            kind,
                            *segment,
                            1 if run < PROMOTED_AT_RUN else 2,
                            # scores compare with the holdout month, features with the window
                            date(2023, 12 if column == "__score__" else 1, 1),
                            date(2023, 12, 1),
                            "wasserstein",
                            STATISTIC[severity],
                            0.1,
                            None,
                            severity == "drift",
                            severity,
                            12000,
                            2000 if segment[0] == "(all)" else 1000,
                            json.dumps(_histogram(column, severity)),
                            _sentence(period, column, segment, severity),
                            run,
                        ]
                    )
        cur.executemany(f"INSERT INTO drift_results VALUES ({', '.join(['?'] * 19)})", drift)
        quality = []
        for run, period in enumerate(PERIODS, start=1):
            for column in FEATURES:
                missing = 0.12 if column == "tenure_months" and period.month == 3 else 0.01
                quality.append([period, column, "missing_rate", missing, 2000, run])
            quality.append([period, "region", "new_category_rate", 0.0, 2000, run])
            quality.append([period, "(all)", "duplicate_rate", 0.002 * run, 2000, run])
            quality.append([period, "(all)", "quarantine_rate", 0.001, 2000, run])
        cur.executemany("INSERT INTO data_quality VALUES (?, ?, ?, ?, ?, ?)", quality)
        perf = []
        for run, period in enumerate(PERIODS, start=1):
            version = 1 if run < PROMOTED_AT_RUN else 2
            for segment in SEGMENTS:
                for metric, base in (("roc_auc", 0.80), ("f1", 0.5)):
                    value = base - (0.01 * run if version == 1 else 0.0)
                    perf.append(
                        [period, "estimated", *segment, metric, value, value - 0.02, value + 0.02]
                        + [2000, version, run]
                    )
                    if run < len(PERIODS):  # June's labels have not arrived
                        perf.append(
                            [period, "realised", *segment, metric, value - 0.005, None, None]
                            + [1900, version, run + 1]
                        )
        cur.executemany(
            f"INSERT INTO performance VALUES ({', '.join(['?'] * 11)})",
            perf,
        )
        cur.execute(
            "INSERT INTO retrain_decisions VALUES "
            "(1, ?, 4, '2024-04-01', 'drift', 'retrain', "
            "'monthly_charges drifted in region South (Wasserstein 0.31 > 0.1)', 2, TRUE, "
            "'v2 beat v1 on the holdout; promoted'), "
            "(2, ?, 5, '2024-05-01', 'drift', 'cooldown', "
            "'drift again, but the last retrain was 1 period ago (cooldown 2)', NULL, NULL, NULL), "
            "(3, ?, 6, '2024-06-01', 'schedule', 'none', 'nothing to do', NULL, NULL, NULL)",
            [T0 + timedelta(hours=4), T0 + timedelta(hours=5), T0 + timedelta(hours=6)],
        )
        alerts = [
            (1, "warning", "feature_drift", "monthly_charges (region=South)",
             "monthly_charges moved in region South: Wasserstein 0.31 > 0.1", date(2024, 5, 1)),
            (2, "info", "duplicate_rate", "(all)",
             "Duplicates 1.2% of rows in Jun 2024", date(2024, 6, 1)),
            (3, "warning", "prediction_drift", "__score__",
             "The score distribution moved in Jun 2024", date(2024, 6, 1)),
        ]  # fmt: skip
        for alert_id, severity, kind, subject, message, period in alerts:
            cur.execute(
                "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, "
                "status, run_id, period) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
                [
                    alert_id,
                    T0 + timedelta(hours=4 + alert_id),
                    severity,
                    kind,
                    subject,
                    message,
                    period.month,
                    period,
                ],
            )
