"""Named reads behind the Explain page and the Overview's drivers; the only SQL they run.

Global explanations are stored per model version and scope: ``holdout`` (computed when the
version was trained) or ``period:YYYY-MM`` (the champion on the latest batch it scored).
Column names reach SQL only from the data contract, through ``quote_ident``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from pipeline.contract import Contract
from pipeline.warehouse.connection import Warehouse, quote_ident


def scopes(wh: Warehouse, version: int) -> list[str]:
    """Scopes explained for ``version``: "holdout" first, then periods newest first."""
    rows = wh.rows(
        "SELECT scope FROM explain_meta WHERE model_version = ? "
        "ORDER BY scope = 'holdout' DESC, scope DESC",
        [version],
    )
    return [r[0] for r in rows]


def meta(wh: Warehouse, version: int, scope: str) -> dict[str, Any] | None:
    """``{"base_value", "base_proba", "rows", "seconds", "computed_at"}`` or None."""
    rows = wh.rows(
        "SELECT base_value, base_proba, rows, seconds, computed_at FROM explain_meta "
        "WHERE model_version = ? AND scope = ?",
        [version, scope],
    )
    if not rows:
        return None
    keys = ("base_value", "base_proba", "rows", "seconds", "computed_at")
    return dict(zip(keys, rows[0], strict=True))


def importance(wh: Warehouse, version: int, scope: str) -> pd.DataFrame:
    """Mean |SHAP| per feature, strongest first.

    Columns: feature, mean_abs, mean_abs_points, share, rank, direction.
    """
    return wh.read(
        "SELECT feature, mean_abs, mean_abs_points, share, rank, direction "
        "FROM explain_importance WHERE model_version = ? AND scope = ? ORDER BY rank",
        [version, scope],
    )


def points(wh: Warehouse, version: int, scope: str, feature: str | None = None) -> pd.DataFrame:
    """Explained sample rows for the summary and dependence plots (one feature, or all).

    Columns: feature, row, value_num, value_text, shap, points, colour, interaction_feature,
    interaction_value_text, interaction_colour.
    """
    where, params = "model_version = ? AND scope = ?", [version, scope]
    if feature is not None:
        where += " AND feature = ?"
        params.append(feature)
    return wh.read(
        "SELECT feature, row, value_num, value_text, shap, points, colour, interaction_feature, "
        f"interaction_value_text, interaction_colour FROM explain_points WHERE {where} "
        "ORDER BY feature, row",
        params,
    )


def champion_drivers(wh: Warehouse, limit: int) -> dict[str, Any] | None:
    """The champion's strongest drivers on the latest batch it explained (else its holdout).

    ``{"version", "scope", "drivers": DataFrame(feature, share, direction, rank)}`` or None.
    """
    rows = wh.rows(
        "SELECT e.model_version, e.scope FROM explain_meta e "
        "JOIN model_aliases a ON a.version = e.model_version AND a.alias = 'champion' "
        "ORDER BY e.scope = 'holdout', e.scope DESC LIMIT 1"
    )
    if not rows:
        return None
    version, scope = int(rows[0][0]), rows[0][1]
    drivers = wh.read(
        "SELECT feature, share, direction, rank FROM explain_importance "
        "WHERE model_version = ? AND scope = ? ORDER BY rank LIMIT ?",
        [version, scope, limit],
    )
    return {"version": version, "scope": scope, "drivers": drivers}


def riskiest(wh: Warehouse, limit: int = 20) -> pd.DataFrame:
    """Highest-risk customers of the latest scored month.

    Columns: entity_id, period, probability, model_version.
    """
    if not wh.table_exists("serving_facts"):
        return pd.DataFrame(columns=["entity_id", "period", "probability", "model_version"])
    return wh.read(
        "SELECT entity_id, period, probability, model_version FROM serving_facts "
        "WHERE period = (SELECT max(period) FROM serving_facts) "
        "ORDER BY probability DESC, entity_id LIMIT ?",
        [limit],
    )


def find_entities(wh: Warehouse, prefix: str, limit: int = 20) -> list[str]:
    """Scored entity ids of the latest month starting with ``prefix`` (for the search box)."""
    if not wh.table_exists("serving_facts"):
        return []
    rows = wh.rows(
        "SELECT DISTINCT entity_id FROM serving_facts "
        "WHERE period = (SELECT max(period) FROM serving_facts) AND starts_with(entity_id, ?) "
        "ORDER BY entity_id LIMIT ?",
        [prefix, limit],
    )
    return [r[0] for r in rows]


def served(wh: Warehouse, entity_id: str) -> dict[str, Any] | None:
    """One entity's latest served prediction: ``{"period", "probability", "model_version"}``."""
    if not wh.table_exists("serving_facts"):
        return None
    rows = wh.rows(
        "SELECT period, probability, model_version FROM serving_facts WHERE entity_id = ? "
        "ORDER BY period DESC LIMIT 1",
        [entity_id],
    )
    if not rows:
        return None
    return dict(zip(("period", "probability", "model_version"), rows[0], strict=True))


def entity_features(
    wh: Warehouse, contract: Contract, entity_id: str, period: date
) -> pd.DataFrame:
    """The entity's latest clean row in ``period``: the contract's feature columns (0 or 1 row)."""
    if not wh.table_exists("clean_rows"):
        return pd.DataFrame(columns=contract.features)
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    cols = ", ".join(quote_ident(f) for f in contract.features)
    return wh.read(
        f"SELECT {cols} FROM clean_rows WHERE CAST({e} AS VARCHAR) = ? AND _period = ? "
        f"ORDER BY {t} DESC LIMIT 1",
        [entity_id, period],
    )


def background(wh: Warehouse, contract: Contract, period: date, rows: int = 500) -> pd.DataFrame:
    """A seeded sample of clean rows of ``period`` (the feature columns), for linear SHAP."""
    if not wh.table_exists("clean_rows"):
        return pd.DataFrame(columns=contract.features)
    cols = ", ".join(quote_ident(f) for f in contract.features)
    return wh.read(
        f"SELECT {cols} FROM (SELECT * FROM clean_rows WHERE _period = ?) "
        f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (42)",
        [period],
    )


def fairness_groups(wh: Warehouse, version: int) -> pd.DataFrame:
    """Per group metrics of ``version`` on its holdout.

    Columns: column_name, value, rows, positives, selection_rate, tpr, fpr, precision,
    mean_predicted, observed_rate, small.
    """
    return wh.read(
        "SELECT column_name, value, rows, positives, selection_rate, tpr, fpr, precision, "
        "mean_predicted, observed_rate, small FROM fairness_groups WHERE model_version = ? "
        "ORDER BY column_name, value",
        [version],
    )


def fairness_summary(wh: Warehouse, version: int) -> pd.DataFrame:
    """Per column differences of ``version``.

    Columns: column_name, dpd, eod, dpd_limit, eod_limit, breach, sentence.
    """
    return wh.read(
        "SELECT column_name, dpd, eod, dpd_limit, eod_limit, breach, sentence "
        "FROM fairness_summary WHERE model_version = ? ORDER BY column_name",
        [version],
    )
