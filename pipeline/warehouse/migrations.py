"""Versioned schema migrations, applied in order at start.

A migration is never edited once released: add a new one. Tables whose columns depend on the
user's dataset (``clean_rows``, ``serving_facts``) are created by the flow from the validated
data contract, not here.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "runs, steps, raw batches, quarantine, models, predictions",
        [
            """CREATE TABLE runs (
                run_id       BIGINT PRIMARY KEY,
                trigger      VARCHAR NOT NULL,
                triggered_by VARCHAR,
                status       VARCHAR NOT NULL,
                started_at   TIMESTAMP NOT NULL,
                finished_at  TIMESTAMP,
                duration_s   DOUBLE,
                current_step VARCHAR,
                error        VARCHAR,
                summary      VARCHAR
            )""",
            """CREATE TABLE run_steps (
                run_id      BIGINT NOT NULL,
                position    INTEGER NOT NULL,
                step        VARCHAR NOT NULL,
                status      VARCHAR NOT NULL,
                started_at  TIMESTAMP NOT NULL,
                finished_at TIMESTAMP,
                duration_s  DOUBLE,
                rows_in     BIGINT,
                rows_out    BIGINT,
                detail      VARCHAR,
                error       VARCHAR,
                PRIMARY KEY (run_id, step)
            )""",
            """CREATE TABLE raw_batches (
                batch_id     BIGINT PRIMARY KEY,
                run_id       BIGINT,
                kind         VARCHAR NOT NULL,
                file_name    VARCHAR NOT NULL,
                stored_path  VARCHAR NOT NULL,
                size_bytes   BIGINT NOT NULL,
                content_hash VARCHAR NOT NULL UNIQUE,
                row_count    BIGINT,
                arrived_at   TIMESTAMP NOT NULL,
                status       VARCHAR NOT NULL,
                message      VARCHAR
            )""",
            """CREATE TABLE batch_stats (
                batch_id           BIGINT PRIMARY KEY,
                period_min         DATE,
                period_max         DATE,
                rows_in            BIGINT NOT NULL,
                rows_accepted      BIGINT NOT NULL,
                rows_quarantined   BIGINT NOT NULL,
                duplicates_removed BIGINT NOT NULL,
                text_normalised    BIGINT NOT NULL,
                nulls_found        BIGINT NOT NULL,
                labels_applied     BIGINT NOT NULL
            )""",
            """CREATE TABLE quarantine (
                batch_id   BIGINT NOT NULL,
                row_number BIGINT,
                rule       VARCHAR NOT NULL,
                reason     VARCHAR NOT NULL,
                record     VARCHAR
            )""",
            """CREATE TABLE models (
                version       INTEGER PRIMARY KEY,
                run_id        BIGINT NOT NULL,
                created_at    TIMESTAMP NOT NULL,
                algorithm     VARCHAR NOT NULL,
                artefact_path VARCHAR NOT NULL,
                sha256        VARCHAR NOT NULL,
                size_bytes    BIGINT NOT NULL,
                train_rows    BIGINT NOT NULL,
                holdout_rows  BIGINT NOT NULL,
                train_from    DATE,
                train_to      DATE,
                holdout_from  DATE,
                holdout_to    DATE,
                roc_auc       DOUBLE,
                pr_auc        DOUBLE,
                brier         DOUBLE,
                log_loss      DOUBLE,
                features      VARCHAR NOT NULL,
                params        VARCHAR NOT NULL,
                fit_seconds   DOUBLE
            )""",
            """CREATE TABLE model_aliases (
                alias   VARCHAR PRIMARY KEY,
                version INTEGER NOT NULL,
                set_at  TIMESTAMP NOT NULL,
                reason  VARCHAR
            )""",
            """CREATE TABLE alias_history (
                alias   VARCHAR NOT NULL,
                version INTEGER NOT NULL,
                set_at  TIMESTAMP NOT NULL,
                reason  VARCHAR
            )""",
            """CREATE TABLE predictions (
                period        DATE NOT NULL,
                entity_id     VARCHAR NOT NULL,
                probability   DOUBLE NOT NULL,
                model_version INTEGER NOT NULL,
                run_id        BIGINT NOT NULL,
                scored_at     TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE labels (
                entity_id  VARCHAR NOT NULL,
                event_time TIMESTAMP NOT NULL,
                period     DATE NOT NULL,
                label      INTEGER NOT NULL,
                batch_id   BIGINT NOT NULL,
                PRIMARY KEY (entity_id, event_time)
            )""",
            """CREATE TABLE data_contract (
                version    INTEGER PRIMARY KEY,
                created_at TIMESTAMP NOT NULL,
                batch_id   BIGINT,
                contract   VARCHAR NOT NULL
            )""",
            """CREATE TABLE demo_clock (
                id              INTEGER PRIMARY KEY,
                months_released INTEGER NOT NULL,
                updated_at      TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        2,
        "data layer: per-column batch stats, schema changes, PII suspects, cleaning step stats",
        [
            "ALTER TABLE batch_stats ADD COLUMN missing_imputed BIGINT DEFAULT 0",
            "ALTER TABLE batch_stats ADD COLUMN outliers_handled BIGINT DEFAULT 0",
            """CREATE TABLE batch_column_stats (
                batch_id    BIGINT NOT NULL,
                column_name VARCHAR NOT NULL,
                rows        BIGINT NOT NULL,
                missing     BIGINT NOT NULL,
                imputed     BIGINT NOT NULL,
                outliers    BIGINT NOT NULL,
                PRIMARY KEY (batch_id, column_name)
            )""",
            """CREATE TABLE schema_changes (
                batch_id    BIGINT NOT NULL,
                detected_at TIMESTAMP NOT NULL,
                kind        VARCHAR NOT NULL,
                column_name VARCHAR,
                message     VARCHAR NOT NULL,
                action      VARCHAR NOT NULL
            )""",
            """CREATE TABLE pii_suspects (
                column_name VARCHAR PRIMARY KEY,
                kind        VARCHAR NOT NULL,
                share       DOUBLE NOT NULL,
                batch_id    BIGINT NOT NULL,
                detected_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE clean_step_stats (
                batch_id     BIGINT NOT NULL,
                position     INTEGER NOT NULL,
                step         VARCHAR NOT NULL,
                rows_in      BIGINT NOT NULL,
                rows_out     BIGINT NOT NULL,
                rows_changed BIGINT NOT NULL,
                PRIMARY KEY (batch_id, step)
            )""",
        ],
    ),
    (
        3,
        "model tracking: evaluations, segment metrics, lineage, gate decisions, alerts",
        [
            "ALTER TABLE models ADD COLUMN calibration VARCHAR",
            "ALTER TABLE models ADD COLUMN threshold DOUBLE",
            "ALTER TABLE models ADD COLUMN f1_threshold DOUBLE",
            "ALTER TABLE models ADD COLUMN seed INTEGER",
            "ALTER TABLE models ADD COLUMN metrics VARCHAR",
            "ALTER TABLE models ADD COLUMN search VARCHAR",
            "ALTER TABLE models ADD COLUMN lineage VARCHAR",
            "ALTER TABLE models ADD COLUMN gate VARCHAR",
            "ALTER TABLE alias_history ADD COLUMN actor VARCHAR",
            "ALTER TABLE alias_history ADD COLUMN comment VARCHAR",
            "ALTER TABLE alias_history ADD COLUMN run_id BIGINT",
            """CREATE TABLE model_evaluations (
                model_version     INTEGER NOT NULL,
                evaluated_version INTEGER NOT NULL,
                window_from       DATE,
                window_to         DATE,
                threshold         DOUBLE,
                metrics           VARCHAR NOT NULL,
                curves            VARCHAR NOT NULL,
                PRIMARY KEY (model_version, evaluated_version)
            )""",
            """CREATE TABLE model_segment_metrics (
                model_version     INTEGER NOT NULL,
                evaluated_version INTEGER NOT NULL,
                column_name       VARCHAR NOT NULL,
                value             VARCHAR NOT NULL,
                rows              BIGINT NOT NULL,
                positives         BIGINT NOT NULL,
                roc_auc           DOUBLE,
                pr_auc            DOUBLE,
                brier             DOUBLE,
                precision         DOUBLE,
                recall            DOUBLE,
                flag_rate         DOUBLE,
                PRIMARY KEY (model_version, evaluated_version, column_name, value)
            )""",
            """CREATE TABLE alerts (
                alert_id        BIGINT PRIMARY KEY,
                raised_at       TIMESTAMP NOT NULL,
                severity        VARCHAR NOT NULL,
                kind            VARCHAR NOT NULL,
                subject         VARCHAR,
                message         VARCHAR NOT NULL,
                status          VARCHAR NOT NULL,
                run_id          BIGINT,
                handled_by      VARCHAR,
                handled_at      TIMESTAMP,
                comment         VARCHAR
            )""",
        ],
    ),
    (
        4,
        "explanations (importance, summary points) and fairness by group",
        [
            """CREATE TABLE explain_meta (
                model_version INTEGER NOT NULL,
                scope         VARCHAR NOT NULL,
                base_value    DOUBLE NOT NULL,
                base_proba    DOUBLE NOT NULL,
                rows          BIGINT NOT NULL,
                seconds       DOUBLE,
                computed_at   TIMESTAMP NOT NULL,
                PRIMARY KEY (model_version, scope)
            )""",
            """CREATE TABLE explain_importance (
                model_version   INTEGER NOT NULL,
                scope           VARCHAR NOT NULL,
                feature         VARCHAR NOT NULL,
                mean_abs        DOUBLE NOT NULL,
                mean_abs_points DOUBLE NOT NULL,
                share           DOUBLE NOT NULL,
                rank            INTEGER NOT NULL,
                direction       VARCHAR,
                PRIMARY KEY (model_version, scope, feature)
            )""",
            """CREATE TABLE explain_points (
                model_version          INTEGER NOT NULL,
                scope                  VARCHAR NOT NULL,
                feature                VARCHAR NOT NULL,
                row                    INTEGER NOT NULL,
                value_num              DOUBLE,
                value_text             VARCHAR,
                shap                   DOUBLE NOT NULL,
                points                 DOUBLE NOT NULL,
                colour                 DOUBLE,
                interaction_feature    VARCHAR,
                interaction_value_text VARCHAR,
                interaction_colour     DOUBLE
            )""",
            """CREATE TABLE fairness_groups (
                model_version  INTEGER NOT NULL,
                column_name    VARCHAR NOT NULL,
                value          VARCHAR NOT NULL,
                rows           BIGINT NOT NULL,
                positives      BIGINT NOT NULL,
                selection_rate DOUBLE,
                tpr            DOUBLE,
                fpr            DOUBLE,
                precision      DOUBLE,
                mean_predicted DOUBLE,
                observed_rate  DOUBLE,
                small          BOOLEAN NOT NULL,
                PRIMARY KEY (model_version, column_name, value)
            )""",
            """CREATE TABLE fairness_summary (
                model_version INTEGER NOT NULL,
                column_name   VARCHAR NOT NULL,
                dpd           DOUBLE,
                eod           DOUBLE,
                dpd_limit     DOUBLE NOT NULL,
                eod_limit     DOUBLE NOT NULL,
                breach        BOOLEAN NOT NULL,
                sentence      VARCHAR NOT NULL,
                PRIMARY KEY (model_version, column_name)
            )""",
        ],
    ),
    (
        5,
        "monitoring: drift, quality and performance per period, retrain decisions, alert handling",
        [
            """CREATE TABLE drift_results (
                period            DATE NOT NULL,
                column_name       VARCHAR NOT NULL,
                kind              VARCHAR NOT NULL,
                segment_column    VARCHAR NOT NULL,
                segment_value     VARCHAR NOT NULL,
                reference_version INTEGER,
                reference_from    DATE,
                reference_to      DATE,
                method            VARCHAR NOT NULL,
                statistic         DOUBLE,
                threshold         DOUBLE NOT NULL,
                p_value           DOUBLE,
                drifted           BOOLEAN NOT NULL,
                severity          VARCHAR NOT NULL,
                rows_reference    BIGINT,
                rows_current      BIGINT,
                histogram         VARCHAR NOT NULL,
                sentence          VARCHAR NOT NULL,
                run_id            BIGINT NOT NULL,
                PRIMARY KEY (period, column_name, segment_column, segment_value)
            )""",
            """CREATE TABLE data_quality (
                period      DATE NOT NULL,
                column_name VARCHAR NOT NULL,
                metric      VARCHAR NOT NULL,
                value       DOUBLE,
                rows        BIGINT NOT NULL,
                run_id      BIGINT NOT NULL,
                PRIMARY KEY (period, column_name, metric)
            )""",
            """CREATE TABLE performance (
                period         DATE NOT NULL,
                kind           VARCHAR NOT NULL,
                segment_column VARCHAR NOT NULL,
                segment_value  VARCHAR NOT NULL,
                metric         VARCHAR NOT NULL,
                value          DOUBLE,
                low            DOUBLE,
                high           DOUBLE,
                rows           BIGINT NOT NULL,
                model_version  INTEGER NOT NULL,
                run_id         BIGINT NOT NULL,
                PRIMARY KEY (period, kind, segment_column, segment_value, metric)
            )""",
            """CREATE TABLE retrain_decisions (
                decision_id   BIGINT PRIMARY KEY,
                decided_at    TIMESTAMP NOT NULL,
                run_id        BIGINT NOT NULL,
                period        DATE,
                trigger       VARCHAR NOT NULL,
                action        VARCHAR NOT NULL,
                reason        VARCHAR NOT NULL,
                model_version INTEGER,
                promoted      BOOLEAN,
                outcome       VARCHAR
            )""",
            """CREATE TABLE monitor_references (
                cache_key     VARCHAR PRIMARY KEY,
                created_at    TIMESTAMP NOT NULL,
                model_version INTEGER,
                payload       VARCHAR NOT NULL
            )""",
            "ALTER TABLE alerts ADD COLUMN period DATE",
            "ALTER TABLE alerts ADD COLUMN muted_until TIMESTAMP",
            "ALTER TABLE alerts ADD COLUMN delivery VARCHAR",
            "ALTER TABLE models ADD COLUMN score_reference VARCHAR",
        ],
    ),
    (
        6,
        "accounts and the audit trail",
        [
            """CREATE TABLE users (
                username      VARCHAR PRIMARY KEY,
                role          VARCHAR NOT NULL,
                password_hash VARCHAR NOT NULL,
                disabled      BOOLEAN NOT NULL DEFAULT FALSE,
                auth_version  INTEGER NOT NULL DEFAULT 1,
                created_at    TIMESTAMP NOT NULL,
                created_by    VARCHAR NOT NULL,
                updated_at    TIMESTAMP NOT NULL,
                last_login_at TIMESTAMP
            )""",
            """CREATE TABLE audit_log (
                event_id   BIGINT PRIMARY KEY,
                occurred_at TIMESTAMP NOT NULL,
                actor      VARCHAR NOT NULL,
                role       VARCHAR,
                address    VARCHAR,
                action     VARCHAR NOT NULL,
                target     VARCHAR,
                outcome    VARCHAR NOT NULL,
                detail     VARCHAR,
                prev_hash  VARCHAR NOT NULL,
                row_hash   VARCHAR NOT NULL
            )""",
            "ALTER TABLE runs ADD COLUMN cancel_requested_by VARCHAR",
        ],
    ),
]
