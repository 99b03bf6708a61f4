"""Model registry records and the data contract, as the flow reads them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pipeline.contract import Contract
from pipeline.warehouse.connection import Warehouse, utcnow

_MODEL_COLUMNS = (
    "version, artefact_path, sha256, holdout_from, holdout_to, features, roc_auc, pr_auc, "
    "brier, log_loss, created_at, algorithm, threshold, lineage, train_from"
)


def _as_dict(row: tuple) -> dict[str, Any]:
    keys = [k.strip() for k in _MODEL_COLUMNS.split(",")]
    out = dict(zip(keys, row, strict=True))
    out["features"] = json.loads(out["features"])
    out["lineage"] = json.loads(out["lineage"]) if out["lineage"] else {}
    return out


def latest_contract(wh: Warehouse) -> Contract | None:
    """The newest data contract, or None before the first data batch."""
    text = wh.scalar("SELECT contract FROM data_contract ORDER BY version DESC LIMIT 1")
    return Contract.from_json(text) if text else None


def latest_model(wh: Warehouse) -> dict[str, Any] | None:
    """The newest registered model version, or None."""
    rows = wh.rows(f"SELECT {_MODEL_COLUMNS} FROM models ORDER BY version DESC LIMIT 1")
    return _as_dict(rows[0]) if rows else None


def champion(wh: Warehouse) -> dict[str, Any] | None:
    """The model the ``champion`` alias points at, or None."""
    rows = wh.rows(
        f"SELECT {', '.join('m.' + c.strip() for c in _MODEL_COLUMNS.split(','))} "
        "FROM model_aliases a JOIN models m USING (version) WHERE a.alias = 'champion'"
    )
    return _as_dict(rows[0]) if rows else None


def model(wh: Warehouse, version: int) -> dict[str, Any] | None:
    """One registered model version, or None."""
    rows = wh.rows(f"SELECT {_MODEL_COLUMNS} FROM models WHERE version = ?", [version])
    return _as_dict(rows[0]) if rows else None


def current_aliases(wh: Warehouse) -> dict[str, int]:
    """Alias -> version, as the registry holds them now."""
    return {a: int(v) for a, v in wh.rows("SELECT alias, version FROM model_aliases")}


def former_champions(wh: Warehouse) -> list[int]:
    """Versions that were champion before, most recently made champion first (no repeats)."""
    rows = wh.rows(
        "SELECT version FROM alias_history WHERE alias = 'champion' "
        "GROUP BY version ORDER BY max(set_at) DESC"
    )
    return [int(r[0]) for r in rows]


def data_snapshot(wh: Warehouse, also: set[int]) -> list[dict[str, Any]]:
    """Batches accepted so far plus ``also`` (accepted by the running run, not yet published):
    ``{"batch_id", "format", "file", "sha256"}``, oldest first."""
    rows = wh.rows(
        "SELECT batch_id, kind, file_name, content_hash FROM raw_batches "
        "WHERE status = 'accepted' OR list_contains(?, batch_id) ORDER BY batch_id",
        [sorted(also)],
    )
    return [{"batch_id": int(b), "format": k, "file": f, "sha256": h} for b, k, f, h in rows]


def next_version(wh: Warehouse) -> int:
    """The version number the next model gets."""
    return int(wh.scalar("SELECT coalesce(max(version), 0) + 1 FROM models"))


def first_holdout(wh: Warehouse) -> date | None:
    """Start of the first model's holdout: predictions are made from there on (out of sample)."""
    return wh.scalar("SELECT min(holdout_from) FROM models")


def latest_contract_version(wh: Warehouse) -> tuple[int, Any] | None:
    """(version, created_at) of the newest data contract, or None."""
    rows = wh.rows("SELECT version, created_at FROM data_contract ORDER BY version DESC LIMIT 1")
    return rows[0] if rows else None


def store_contract(wh: Warehouse, contract: Contract) -> int:
    """Store an edited contract as the next version; returns that version."""
    with wh.transaction() as cur:
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM data_contract").fetchone()[
            0
        ]
        cur.execute(
            "INSERT INTO data_contract VALUES (?, ?, NULL, ?)",
            [version, utcnow(), contract.to_json()],
        )
    return int(version)
