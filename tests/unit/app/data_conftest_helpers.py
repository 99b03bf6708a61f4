"""A small known data world for the Data page tests: batches, stats, contract, clean rows.

Four monthly customer files (Jan-Apr 2024, 60 customers each), three labels files and one
rejected file. The champion (v1) trained on Jan-Feb, so that is the reference window and April
the latest period. ``contact`` holds e-mail addresses: it is a categorical feature of the
contract and a PII suspect, so its values must be masked wherever quarantined rows are shown.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from pipeline.contract import Contract
from pipeline.warehouse import Warehouse

PERIODS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
LABELLED = 3  # April's labels have not arrived
CUSTOMERS = 60
ARRIVED = datetime(2024, 5, 2, 9, 0)
REJECTION = "the file has no column 'customer_id' (setting dataset.entity_id); rename it"
FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE = {
    "formula": FORMULA,
    "plus": "+1-555-0100",
    "minus": "-42",
    "at": "@SUM(A1:A9)",
}

CONTRACT = Contract(
    entity_id="customer_id",
    event_time="snapshot_month",
    target="churned",
    numeric=["tenure_months", "monthly_charges"],
    categorical=["plan", "region", "contact"],
    ranges={"tenure_months": [0.0, 200.0], "monthly_charges": [0.0, 400.0]},
    categories={
        "plan": ["Basic", "Premium"],
        "region": ["North", "South", "<b>East</b>"],
        "contact": ["a@example.com"],
    },
    dropped=["name", "email", "phone"],
)


def clean_frame() -> pd.DataFrame:
    """The cleaned rows as the pipeline would have stored them, plus their labels."""
    rng = np.random.default_rng(11)
    rows = []
    for p, period in enumerate(PERIODS):
        for i in range(CUSTOMERS):
            charges = float(np.round(rng.uniform(20, 120) + 15 * p, 2))
            rows.append(
                {
                    "customer_id": f"C{i:03d}",
                    "snapshot_month": period,
                    "_period": period.date(),
                    "_batch_id": [1, 2, 4, 6][p],
                    "plan": ("Basic", "Premium", None)[i % 3] if i % 17 else None,
                    "region": ("North", "South", "<b>East</b>")[i % 3],
                    "contact": f"c{i}@example.com",
                    "tenure_months": float(i % 24) if i % 13 else None,
                    "monthly_charges": charges,
                    "churned": int(rng.uniform() < 0.1 + 0.004 * charges) if p < LABELLED else None,
                }
            )
    return pd.DataFrame(rows)


def _insert_batches(cur, now: datetime) -> None:
    files = [
        (1, "customers_2024-01.csv", "accepted", None),
        (2, "customers_2024-02.csv", "accepted", None),
        (3, "labels_2024-01.csv", "accepted", None),
        (4, "customers_2024-03.csv", "accepted", None),
        (5, "broken.csv", "rejected", REJECTION),
        (6, "customers_2024-04.csv", "accepted", None),
    ]
    for batch_id, name, status, message in files:
        cur.execute(
            "INSERT INTO raw_batches VALUES (?, 1, 'csv', ?, ?, 100, ?, 62, ?, ?, ?)",
            [batch_id, name, f"raw/{batch_id}.csv", f"h{batch_id}", now, status, message],
        )
    # batch_id, period, rows_in, accepted, quarantined, dups, text, nulls, labels, imputed, outl
    stats = [
        (1, "2024-01-01", 64, 60, 4, 3, 7, 9, 0, 5, 1),
        (2, "2024-02-01", 63, 60, 3, 2, 5, 8, 0, 4, 0),
        (3, None, 60, 60, 0, 0, 0, 0, 60, 0, 0),
        (4, "2024-03-01", 61, 60, 1, 1, 2, 7, 0, 3, 2),
        (6, "2024-04-01", 62, 60, 2, 2, 4, 6, 0, 2, 0),
    ]
    for b, period, *counts in stats:
        cur.execute(
            "INSERT INTO batch_stats (batch_id, period_min, period_max, rows_in, rows_accepted, "
            "rows_quarantined, duplicates_removed, text_normalised, nulls_found, labels_applied, "
            "missing_imputed, outliers_handled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [b, period, period, *counts],
        )
    for b in (1, 2, 4, 6):
        for column, missing in (("plan", b), ("tenure_months", 2 * b), ("monthly_charges", 0)):
            cur.execute(
                "INSERT INTO batch_column_stats VALUES (?, ?, 60, ?, ?, 0)",
                [b, column, missing, missing],
            )


def _insert_quarantine(cur) -> None:
    def record(i: int, **values: str) -> str:
        base = {
            "customer_id": f"Q{i:03d}",
            "snapshot_month": "2024-02-01",
            "plan": "Basic",
            "region": "North",
            "contact": f"secret{i}@example.com",
            "tenure_months": "12",
            "monthly_charges": "55.5",
        }
        return json.dumps(base | values)

    rows = [
        (1, 10, "exact_duplicate", "an identical row appears earlier in the file", record(1)),
        (1, 11, "exact_duplicate", "an identical row appears earlier in the file", record(2)),
        (1, 12, "invalid_number", "a numeric column holds text", record(3, tenure_months="ten")),
        (1, 13, "invalid_number", "a numeric column holds text", record(4, plan=HOSTILE["at"])),
        (
            2,
            5,
            "missing_key",
            "the entity id is missing",
            record(5, customer_id=HOSTILE["formula"]),
        ),
        (2, 6, "invalid_number", "a numeric column holds text", record(6, region=HOSTILE["plus"])),
        (2, 7, "exact_duplicate", "an identical row appears earlier", record(7, region="n_e")),
        (4, 1, "invalid_number", "=cmd|' /C calc'!A0", record(8, monthly_charges=HOSTILE["minus"])),
        (6, 3, "exact_duplicate", "an identical row appears earlier in the file", record(9)),
        (6, 4, "duplicate_key", "a later row has the same key", record(10)),
    ]
    for row in rows:
        cur.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?)", list(row))


def write_data_world(wh: Warehouse, *, champion: bool = True) -> pd.DataFrame:
    """Fill ``wh`` with the data world; returns the clean rows (with a ``churned`` column)."""
    frame = clean_frame()
    now = ARRIVED
    with wh.transaction() as cur:
        _insert_batches(cur, now)
        _insert_quarantine(cur)
        cur.execute(
            "INSERT INTO data_contract VALUES (1, ?, 1, ?)",
            [now - timedelta(days=90), CONTRACT.to_json()],
        )
        cur.execute(
            "INSERT INTO schema_changes VALUES (4, ?, 'new_column', 'contact', ?, 'warned')",
            [now - timedelta(days=30), "Column 'contact' is new in customers_2024-03.csv."],
        )
        cur.execute(
            "INSERT INTO schema_changes VALUES (5, ?, 'missing_column', 'customer_id', ?, "
            "'batch_rejected')",
            [now - timedelta(days=1), "broken.csv has no column 'customer_id'."],
        )
        cur.execute("INSERT INTO pii_suspects VALUES ('contact', 'email', 0.98, 4, ?)", [now])
        cur.register("clean_frame", frame.drop(columns="churned"))
        cur.execute(
            "CREATE TABLE clean_rows AS SELECT CAST(customer_id AS VARCHAR) AS customer_id, "
            "CAST(snapshot_month AS TIMESTAMP) AS snapshot_month, "
            "CAST(_period AS DATE) AS _period, "
            "CAST(_batch_id AS BIGINT) AS _batch_id, CAST(plan AS VARCHAR) AS plan, "
            "CAST(region AS VARCHAR) AS region, CAST(contact AS VARCHAR) AS contact, "
            "CAST(tenure_months AS DOUBLE) AS tenure_months, "
            "CAST(monthly_charges AS DOUBLE) AS monthly_charges FROM clean_frame"
        )
        cur.unregister("clean_frame")
        cur.register("label_frame", frame[frame["churned"].notna()])
        cur.execute(
            "INSERT INTO labels SELECT customer_id, snapshot_month, _period, churned, 3 "
            "FROM label_frame"
        )
        cur.unregister("label_frame")
        if champion:
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, train_from, train_to, features, "
                "params) "
                "VALUES (1, 1, ?, 'hgb', 'm/v1.skops', 'x', 1, 120, 60, '2024-01-01', "
                "'2024-02-01', '[]', '{}')",
                [now],
            )
            cur.execute("INSERT INTO model_aliases VALUES ('champion', 1, ?, 'first')", [now])
    return frame


def reference(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the reference window (Jan-Feb 2024)."""
    return frame[frame["snapshot_month"] <= pd.Timestamp("2024-02-01")]


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest period (Apr 2024)."""
    return frame[frame["snapshot_month"] == pd.Timestamp("2024-04-01")]
