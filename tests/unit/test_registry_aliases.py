"""Aliases, their history, alerts and the model card, against a temporary warehouse."""

from __future__ import annotations

import json

import pandas as pd

from pipeline import lineage, model_card
from pipeline.settings import Settings
from pipeline.warehouse import alerts, aliases, models, reads_models
from pipeline.warehouse.aliases import AliasChange, challenger_changes, promotion_changes


def _add_model(wh, version: int, auc: float) -> None:
    wh.execute(
        "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, sha256, "
        "size_bytes, train_rows, holdout_rows, holdout_from, holdout_to, roc_auc, features, "
        "params, threshold, gate) VALUES (?, 1, now(), 'hist_gradient_boosting', ?, 'abc', 10, "
        "100, 10, DATE '2025-01-01', DATE '2025-01-01', ?, ?, '{}', 0.2, ?)",
        [
            version,
            f"/m/v{version}.skops",
            auc,
            json.dumps({"categorical": ["region"], "numeric": ["tenure"]}),
            json.dumps({"summary": f"v{version} decision"}),
        ],
    )


def _apply(wh, changes) -> None:
    with wh.transaction() as cur:
        aliases.apply(cur, changes, run_id=1)


def test_promotion_archives_the_old_champion_and_moves_the_pointer(warehouse) -> None:
    for v in (1, 2):
        _add_model(warehouse, v, 0.7 + v / 100)
    _apply(warehouse, promotion_changes(1, {}, "first"))
    _apply(warehouse, promotion_changes(2, models.current_aliases(warehouse), "better"))
    assert models.current_aliases(warehouse) == {"champion": 2}
    history = reads_models.alias_history(warehouse)
    assert list(history["alias"]) == ["champion", "archived", "champion"]
    assert history.iloc[1]["reason"] == "replaced by v2 as champion"
    table = reads_models.versions(warehouse)
    held = dict(zip(table["version"], table["alias"], strict=True))
    assert held == {2: "champion", 1: "archived"}


def test_a_challenger_promoted_by_hand_loses_its_challenger_alias(warehouse) -> None:
    for v in (1, 2):
        _add_model(warehouse, v, 0.7)
    _apply(warehouse, promotion_changes(1, {}, "first"))
    _apply(warehouse, challenger_changes(2, models.current_aliases(warehouse), "not better"))
    assert models.current_aliases(warehouse) == {"champion": 1, "challenger": 2}
    _apply(
        warehouse,
        promotion_changes(2, models.current_aliases(warehouse), "by hand", "ana", "checked"),
    )
    assert models.current_aliases(warehouse) == {"champion": 2}
    last = reads_models.alias_history(warehouse).iloc[0]
    assert (last["actor"], last["comment"]) == ("ana", "checked")
    assert models.former_champions(warehouse) == [2, 1]


def test_a_new_challenger_supersedes_the_previous_one(warehouse) -> None:
    for v in (1, 2, 3):
        _add_model(warehouse, v, 0.7)
    _apply(warehouse, [AliasChange("champion", 1, "first")])
    _apply(warehouse, challenger_changes(2, models.current_aliases(warehouse), "worse"))
    _apply(warehouse, challenger_changes(3, models.current_aliases(warehouse), "worse"))
    assert models.current_aliases(warehouse) == {"champion": 1, "challenger": 3}
    reason = reads_models.alias_history(warehouse).iloc[1]["reason"]
    assert reason == "superseded by v3 as challenger"


def test_the_same_open_alert_is_raised_once(warehouse) -> None:
    first = alerts.raise_alert(warehouse, "critical", "artefact_refused", "v2", "tampered")
    again = alerts.raise_alert(warehouse, "critical", "artefact_refused", "v2", "tampered")
    assert first == again
    assert len(alerts.open_alerts(warehouse, ("artefact_refused",))) == 1
    alerts.resolve(warehouse, "artefact_refused", "v2", "admin", "file restored")
    assert alerts.open_alerts(warehouse).empty


def test_model_card_names_use_metrics_segments_and_lineage(warehouse) -> None:
    _add_model(warehouse, 1, 0.8)
    _apply(warehouse, promotion_changes(1, {}, "v1 is the first usable model"))
    record = reads_models.model_detail(warehouse, 1)
    record["lineage"] = {
        "code_version": "git abc",
        "settings_hash": "f00",
        "libraries": {"scikit-learn": "1.9.1"},
        "durations": {"search": 1.5},
        "data": {
            "batches": [{"batch_id": 3, "format": "csv", "file": "m.csv", "sha256": "9" * 64}]
        },
    }
    segments = pd.DataFrame(
        [
            {
                "column_name": "region",
                "value": "South",
                "rows": 100,
                "positives": 7,
                "roc_auc": 0.75,
                "recall": 0.5,
                "flag_rate": 0.1,
            }
        ]
    )
    history = reads_models.alias_history(warehouse)
    text = model_card.render(record, segments, history, "churned")
    for expected in (
        "# Model card: churn model v1",
        "## Intended use",
        "| ROC AUC | 0.800 |",
        "region = South",
        "v1 is the first usable model",
        "scikit-learn 1.9.1",
        "batch 3: m.csv",
        "## Limits",
    ):
        assert expected in text


def test_settings_hash_ignores_key_order_and_diff_names_leaves() -> None:
    values = lineage.training_settings(Settings())
    assert lineage.settings_hash(values) == lineage.settings_hash(dict(reversed(values.items())))
    changed = Settings(training={"search_trials": 9})
    diff = lineage.settings_diff(values, lineage.training_settings(changed))
    assert diff == [{"setting": "training.search_trials", "before": 4, "after": 9}]
