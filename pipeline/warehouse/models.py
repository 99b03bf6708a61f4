"""Model registry records and the data contract, as the flow reads them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pipeline.contract import Contract
from pipeline.warehouse.connection import Warehouse, utcnow

_MODEL_COLUMNS = (
    "version, artefact_path, sha256, holdout_from, holdout_to, features, roc_auc, pr_auc, "
    "brier, log_loss, created_at"
)


def _as_dict(row: tuple) -> dict[str, Any]:
    keys = [k.strip() for k in _MODEL_COLUMNS.split(",")]
    out = dict(zip(keys, row, strict=True))
    out["features"] = json.loads(out["features"])
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
